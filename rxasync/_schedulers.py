"""Where work runs, and how to choose.

======================  =====================================================
work                    where it runs
======================  =====================================================
I/O (HTTP, files,       the event loop: rxasync sources run there already;
sockets, timers)        nothing to choose.
a coroutine per item    ``map_async(fn, concurrency=n)`` on the loop.
blocking call that      ``map_on(fn, ThreadPoolExecutor(n))``; ``threads(n)``
releases the GIL        when an RxPY operator needs a scheduler
                        (``subscribe_on``).
pure-Python CPU work    ``map_on(fn, ProcessPoolExecutor())``: fn and items
                        must pickle.
more than one machine   ``map_on(fn, distributed.Client(...).get_executor())``.
back to the loop        ``observe_on_loop()`` (O(1) per item), or RxPY's
                        ``observe_on(loop())`` for occasional notifications.
======================  =====================================================
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from reactivex.internal.basic import default_now
from reactivex.scheduler import ThreadPoolScheduler
from reactivex.scheduler.eventloop import AsyncIOThreadSafeScheduler

from ._flow import resolve_loop

__all__ = ["loop", "threads"]


class _LoopScheduler(AsyncIOThreadSafeScheduler):
    """RxPY's thread-safe loop scheduler whose ``now`` follows the loop's clock.

    RxPY's reports the wall clock, so ``throttle_first`` or ``timestamp`` on
    it would not follow a virtual clock (``rxasync.testing.virtual_time``).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self._epoch = default_now() - timedelta(seconds=loop.time())

    @property
    def now(self) -> datetime:
        return self._epoch + timedelta(seconds=self._loop.time())


def loop(event_loop: asyncio.AbstractEventLoop | None = None) -> AsyncIOThreadSafeScheduler:
    """A thread-safe RxPY scheduler for an asyncio loop (default: the running one).

    Use it to name the loop for sources subscribed from another thread
    (``from_async_iterable(..., scheduler=loop(l))``) and with RxPY's time
    operators; its ``now`` is the loop's clock (so virtual time in tests
    applies to all of them). To move a busy stream from worker threads back to the loop,
    prefer ``rxasync.operators.observe_on_loop()``, which costs O(1) per item.

    Raises:
        NoRunningLoopError: no loop given and none running.

    Example:
        >>> import asyncio, rxasync
        >>> async def main() -> bool:
        ...     return rxasync.schedulers.loop()._loop is asyncio.get_running_loop()
        >>> asyncio.run(main())
        True
    """
    return _LoopScheduler(event_loop or resolve_loop(None, "schedulers.loop()"))


def threads(max_workers: int | None = None) -> ThreadPoolScheduler:
    """An RxPY scheduler on a pool of ``max_workers`` threads, for ``subscribe_on``.

    For per-item blocking functions, ``map_on(fn, ThreadPoolExecutor(n))``
    is simpler and gives demand; use this where an RxPY operator asks for a
    scheduler.

    Example:
        >>> import rxasync
        >>> type(rxasync.schedulers.threads(2)).__name__
        'ThreadPoolScheduler'
    """
    if max_workers is not None and max_workers < 1:
        raise ValueError(f"max_workers must be >= 1, got {max_workers!r}")
    return ThreadPoolScheduler(max_workers)
