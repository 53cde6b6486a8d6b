"""``switch_map_async``: only the latest item's coroutine counts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from reactivex import Observable, abc

from .._stage import Stage, stage_observable

__all__ = ["switch_map_async"]

_T = TypeVar("_T")
_R = TypeVar("_R")


def switch_map_async(
    fn: Callable[[_T], Coroutine[Any, Any, _R]],
    *,
    name: str | None = None,
) -> Callable[[Observable[_T]], Observable[_R]]:
    """Run ``fn`` for the latest item only; a newer item cancels the call in flight.

    The cancelled coroutine sees ``asyncio.CancelledError`` at its current
    ``await`` (so an HTTP request inside it is aborted), and the result of a
    call that is no longer the latest is never emitted, even if it finished
    in the same loop iteration the newer item arrived. This is the operator
    behind search-as-you-type: a stale answer can never overwrite a newer one.

    The stream completes when the source has completed and the latest call
    has finished. An error from the latest call is delivered once and
    disposes upstream; an error raised by a superseded call is dropped.

    Marble::

        source:  -a---b-c-------|
        f(a):     ----x                (finished before b)
        f(b):         --X              (cancelled by c)
        f(c):           -----z
        result:  -----x----------z|

    Args:
        fn: ``async def fn(item) -> result``.
        name: the name its counters have in :mod:`rxasync.stats` (default
            ``switch_map_async#<id>``); in flight is 1 while a call runs.

    Example:
        >>> import asyncio, reactivex, rxasync
        >>> from rxasync.operators import switch_map_async
        >>> async def search(q: str) -> str:
        ...     await asyncio.sleep(0.01)
        ...     return q.upper()
        >>> asyncio.run(rxasync.to_list(reactivex.of("l", "lo", "lon").pipe(switch_map_async(search))))
        ['LON']
    """

    def operator(source: Observable[_T]) -> Observable[_R]:
        return stage_observable(
            source, "switch_map_async", lambda observer, loop: _Switch(fn, observer, loop, name)
        )

    return operator


class _Switch(Stage):
    """One subscription: at most one call in flight, the latest item's."""

    publish_demand = False  # it holds no items: a newer one cancels the call instead
    kind = "switch_map_async"

    def __init__(
        self,
        fn: Callable[[Any], Coroutine[Any, Any, Any]],
        observer: abc.ObserverBase[Any],
        loop: asyncio.AbstractEventLoop,
        name: str | None = None,
    ) -> None:
        super().__init__(observer, loop, 1, name)
        self.stats.held = False  # superseded items are neither out nor in flight: in_flight is set here
        self.fn = fn
        self.current: asyncio.Task[Any] | None = None

    weighted = True

    def weight(self, item: Any) -> int:
        return 0  # not counted: it holds no items

    def on_item(self, item: Any) -> None:
        if self.current is not None:
            self.current.cancel()
        task = self.loop.create_task(self.fn(item), context=self.context)
        self.current = task
        self.stats.in_flight = 1
        task.add_done_callback(self.done)

    def done(self, task: asyncio.Task[Any]) -> None:
        if task is not self.current or self.terminated:
            if not task.cancelled():
                task.exception()  # retrieved: a superseded call's error is stale, not "never retrieved"
            return  # superseded: its result (or error) is stale
        self.current = None
        self.stats.in_flight = 0
        if not self.upstream_done:
            self.stats.idle()  # the inner call ended: waiting for the next outer item
        if task.cancelled():
            # cancelled by something other than a newer item (a shared future it awaited):
            # no result for this item; the stream goes on, and ends if the source has
            self.check_done()
            return
        error = task.exception()
        if error is not None:
            self.fail(error if isinstance(error, Exception) else RuntimeError(repr(error)))
            return
        self.stats.items_out += 1
        self.observer.on_next(task.result())
        self.check_done()

    def idle(self) -> bool:
        return self.current is None

    def cleanup(self) -> None:
        self.stats.in_flight = 0
        if self.current is not None:
            self.current.cancel()
            self.current = None
