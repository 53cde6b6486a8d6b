"""Virtual time for an asyncio loop: when every task waits on a timer, time jumps to it.

:class:`VirtualClock` replaces a running loop's ``time()`` and wraps the
``select()`` call the loop makes when it has nothing ready to run. That call
is where a loop waits: for a socket, for a thread's wake-up, or for the next
timer. The clock first polls the sockets without waiting; if some have work,
they are served and time stands still. If none has, and no call made with
``loop.run_in_executor`` (``asyncio.to_thread``, ``map_on``, the file
sources) is still running, the clock jumps to the next timer at once
(trio's ``MockClock(autojump_threshold=0)``, the looptime plugin). While
such a call runs, the loop waits for real and virtual time moves with real
time, so a worker thread is never timed out by a jump.

Everything that takes its time from the loop follows: ``loop.time()``,
``asyncio.sleep``, ``call_later``, ``asyncio.timeout``, aiohttp's timeouts,
``rxasync.schedulers.loop()`` (and RxPY's ``debounce``, ``throttle_first``,
``interval``, ``timeout`` on it), ``batch``, ``retry_with_backoff``,
``tail``'s polling and SSE's reconnect delay. What does not follow:
``time.monotonic()``/``time.time()`` read directly, RxPY's thread-based
schedulers (``TimeoutScheduler``, ``NewThreadScheduler``, the default of
RxPY's time operators outside a loop: pass ``scheduler=rxasync.schedulers.loop()``),
and threads the library starts itself (the JAX worker), which are not seen
as busy.

Time stands still while callbacks run: a loop that spins on
``await asyncio.sleep(0)`` until ``loop.time()`` passes a deadline never
ends. Sleep for a positive time instead.
"""

from __future__ import annotations

import asyncio
import selectors
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["VirtualClock", "run_in_virtual_time", "virtual_time"]

_T = TypeVar("_T")
_Events = list[tuple[selectors.SelectorKey, int]]


class VirtualClock:
    """A loop's clock that skips the time every task spends waiting on a timer.

    Args:
        autojump_threshold: real seconds the loop must have been idle (no
            socket ready, no executor call running) before time jumps. ``0``
            jumps at once; a few milliseconds lets a server in another
            thread or process answer first.

    Example:
        >>> import asyncio, time
        >>> from rxasync.testing import VirtualClock
        >>> async def main() -> tuple[float, bool]:
        ...     loop, clock = asyncio.get_running_loop(), VirtualClock()
        ...     clock.install(loop)
        ...     start, real = loop.time(), time.monotonic()
        ...     await asyncio.sleep(3600)
        ...     clock.uninstall()
        ...     return round(clock.time() - start, 6), time.monotonic() - real < 1
        >>> asyncio.run(main())
        (3600.0, True)
    """

    def __init__(self, *, autojump_threshold: float = 0.0) -> None:
        if not autojump_threshold >= 0:
            raise ValueError(f"autojump_threshold must be >= 0 seconds, got {autojump_threshold!r}")
        self.autojump_threshold = autojump_threshold
        self.jumped = 0.0  #: virtual seconds skipped so far
        self._now = time.monotonic()
        self._busy = 0
        self._loop: asyncio.BaseEventLoop | None = None
        self._select: Callable[[float | None], _Events] | None = None

    def time(self) -> float:
        """The loop's time now, in seconds (what ``loop.time()`` returns while installed)."""
        return self._now

    @property
    def busy(self) -> int:
        """``run_in_executor`` calls in flight; time does not jump while any runs."""
        return self._busy

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` now; timers due by then run at the next loop step."""
        if not seconds >= 0:
            raise ValueError(f"seconds must be >= 0, got {seconds!r}")
        self._now += seconds
        self.jumped += seconds

    def install(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Take over ``loop``'s time (default: the running loop), starting from its time now.

        Raises:
            TypeError: the loop is not an asyncio selector loop (uvloop, Windows' proactor).
            RuntimeError: this clock, or another, is already installed on it.
        """
        if self._loop is not None:
            raise RuntimeError("this VirtualClock is already installed")
        target = loop or asyncio.get_running_loop()
        selector = getattr(target, "_selector", None)
        if not isinstance(target, asyncio.BaseEventLoop) or selector is None:
            raise TypeError(f"VirtualClock needs an asyncio selector event loop, got {target!r}")
        if "time" in vars(target):
            raise RuntimeError("this loop already runs on a virtual clock")
        self._now = target.time()
        self._loop, self._select = target, selector.select
        real_run_in_executor = target.run_in_executor

        def run_in_executor(executor: Any, func: Callable[..., _T], *args: Any) -> asyncio.Future[_T]:
            fut = real_run_in_executor(executor, func, *args)
            self._busy += 1
            fut.add_done_callback(self._call_done)
            return fut

        target.time = self.time  # type: ignore[method-assign]
        target.run_in_executor = run_in_executor  # type: ignore[method-assign,assignment]
        selector.select = self._virtual_select

    def uninstall(self) -> None:
        """Give the loop its own clock back; timers still pending keep their delay."""
        loop, select = self._loop, self._select
        if loop is None or select is None:
            return
        self._loop = self._select = None
        del loop.time
        del loop.run_in_executor
        loop._selector.select = select  # type: ignore[attr-defined]
        shift = self._now - loop.time()
        for handle in loop._scheduled:  # type: ignore[attr-defined]
            handle._when -= shift  # the same shift for all: the heap stays ordered

    def _call_done(self, _: object) -> None:
        self._busy -= 1

    def _wait(self, timeout: float | None) -> _Events:
        assert self._select is not None
        start = time.monotonic()
        events = self._select(timeout)
        self._now += time.monotonic() - start  # real waiting is real time
        return events

    def _virtual_select(self, timeout: float | None = None) -> _Events:
        assert self._select is not None
        assert self._loop is not None
        if timeout is not None and timeout <= 0:
            return self._select(timeout)
        events = self._select(0)
        if events or timeout is None or self._busy:
            return events or self._wait(timeout)  # sockets first; nothing to jump to
        start = self._now
        if self.autojump_threshold > 0:
            events = self._wait(min(timeout, self.autojump_threshold))
            if events or self._busy:
                return events
        scheduled = self._loop._scheduled  # type: ignore[attr-defined]
        target = scheduled[0]._when if scheduled else start + timeout
        if target > self._now:
            self.jumped += target - self._now
            self._now = target
        return []


@contextmanager
def virtual_time(
    loop: asyncio.AbstractEventLoop | None = None, *, autojump_threshold: float = 0.0
) -> Iterator[VirtualClock]:
    """Run ``loop`` (default: the running one) on a :class:`VirtualClock` inside the block.

    Example:
        >>> import asyncio, reactivex, rxasync
        >>> from reactivex import operators as ops
        >>> from rxasync.testing import virtual_time
        >>> async def main() -> list[int]:
        ...     with virtual_time():
        ...         ticks = reactivex.interval(60.0, scheduler=rxasync.schedulers.loop())
        ...         return await rxasync.to_list(ticks.pipe(ops.take(3)))  # 3 minutes, at once
        >>> asyncio.run(main())
        [0, 1, 2]
    """
    clock = VirtualClock(autojump_threshold=autojump_threshold)
    clock.install(loop)
    try:
        yield clock
    finally:
        clock.uninstall()


def run_in_virtual_time(main: Coroutine[Any, Any, _T], *, autojump_threshold: float = 0.0) -> _T:
    """Like ``asyncio.run(main)``, with the new loop on a :class:`VirtualClock`.

    Example:
        >>> import asyncio
        >>> from rxasync.testing import run_in_virtual_time
        >>> async def main() -> float:
        ...     loop = asyncio.get_running_loop()
        ...     start = loop.time()
        ...     await asyncio.sleep(86400)
        ...     return round(loop.time() - start)
        >>> run_in_virtual_time(main())
        86400
    """

    async def wrapped() -> _T:
        with virtual_time(autojump_threshold=autojump_threshold):
            return await main

    return asyncio.run(wrapped())
