"""The pump: one subscription of a bridge observable, as a task on the loop.

:class:`Pump` pulls the async iterator in its own task and pushes each item
to the observer; it waits on the consumer's :class:`~rxasync._flow.Demand`
after each item, closes the iterator (``aclose``) before it delivers the
end, and is cancelled by dispose. ``_bridge`` makes the observables.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from reactivex import abc
from reactivex.disposable import Disposable
from reactivex.observer import AutoDetachObserver

from ._flow import Demand

__all__ = ["Pump"]


class Pump:
    """One subscription's task: pulls the iterator, pushes to the observer."""

    __slots__ = (
        "batched",
        "demand",
        "disposed",
        "loop",
        "observer",
        "on_loop_start",
        "on_unstarted",
        "open",
        "started",
        "task",
    )

    def __init__(
        self,
        open_iterator: Callable[[], AsyncIterator[Any]],
        observer: abc.ObserverBase[Any],
        demand: Demand | None,
        batched: bool = False,
        on_unstarted: Callable[[], None] | None = None,
    ) -> None:
        self.open = open_iterator
        self.batched = batched
        self.on_unstarted = on_unstarted
        self.started = False
        self.on_loop_start = False
        self.observer = observer
        self.demand = demand
        self.disposed = False
        self.task: asyncio.Task[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> abc.DisposableBase:
        self.loop = loop
        if _on_loop(loop):
            self.on_loop_start = True
            self.task = loop.create_task(self.run())
        else:
            loop.call_soon_threadsafe(self._start_threadsafe)
        return Disposable(self.dispose)

    def _start_threadsafe(self) -> None:
        if not self.disposed:
            assert self.loop is not None
            self.task = self.loop.create_task(self.run())

    def dispose(self) -> None:
        self.disposed = True
        loop = self.loop
        if loop is None:
            return
        if not _on_loop(loop):
            # self.task is created and read on the loop thread only: look at it there.
            try:
                loop.call_soon_threadsafe(self._cancel)
            except RuntimeError:  # the loop is closed: nothing runs any more
                pass
            return
        self._cancel()

    def _gone(self) -> bool:
        return self.disposed

    def _cancel(self) -> None:
        task = self.task
        if task is None or task.done():
            return
        if asyncio.current_task(self.loop) is task:
            # Disposed from inside our own on_next (take(n), first()): run()
            # sees `disposed` and closes the iterator itself. Cancelling
            # here would cut the generator's async cleanup at its first await.
            return
        if not self.started and self.on_unstarted is not None:
            self.on_unstarted()  # the source never ran: release what it holds
        task.cancel()

    async def run(self) -> None:
        self.started = True
        if self._gone():  # disposed from another thread while the task was being created
            return
        observer, demand = self.observer, self.demand
        # Subscribed from another thread, RxPY may still be wiring the
        # subscription there when this task starts: call the observer as is.
        emit = _emitter(observer) if self.on_loop_start else observer.on_next
        error: Exception | None = None
        iterator: AsyncIterator[Any] | None = None
        try:
            iterator = self.open()
            if self.batched:
                async for batch in iterator:
                    for item in batch:
                        emit(item)
                        if self.disposed:
                            return
                        if demand is not None and demand.full:
                            await demand.wait()
            else:
                async for item in iterator:
                    emit(item)
                    if self.disposed:
                        return
                    if demand is not None and demand.full:
                        await demand.wait()
        except Exception as exc:  # delivered as on_error, after the iterator is closed
            error = exc
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except Exception as exc:  # the generator's cleanup failed: that is the error
                    error = error or exc
        if self.disposed:
            return
        if error is not None:
            observer.on_error(error)
        else:
            observer.on_completed()


def _emitter(observer: abc.ObserverBase[Any]) -> Callable[[Any], None]:
    """The cheapest correct ``on_next`` for the pump.

    RxPY hands ``reactivex.create``'s subscribe function an
    ``AutoDetachObserver``, whose ``on_next`` only tests ``is_stopped`` and
    calls the next ``on_next``. It is stopped by its own ``on_error`` /
    ``on_completed``, which only the pump calls, after its last item, and by
    ``dispose``, which also disposes the pump's subscription in the same call,
    so the pump's own ``disposed`` test after every item covers it (the pump
    starts after ``subscribe`` has returned and RxPY has wired that
    subscription: on the loop's thread, which is when this is used). Calling
    the inner ``on_next`` saves a Python call per item (about a quarter of
    the bridge's cost). Any other observer is called as it is.
    """
    if type(observer) is AutoDetachObserver and not observer.is_stopped:
        inner = getattr(observer, "_on_next", None)
        if callable(inner):
            return inner  # type: ignore[no-any-return]
    return observer.on_next


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
