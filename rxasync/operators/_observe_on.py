"""``observe_on_loop``: bring notifications from worker threads back to the loop, O(1) each."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, Disposable

from .._flow import loop_thread, resolve_loop, thread_id

__all__ = ["observe_on_loop"]

_T = TypeVar("_T")


def observe_on_loop(
    loop: asyncio.AbstractEventLoop | None = None,
) -> Callable[[Observable[_T]], Observable[_T]]:
    """Deliver every notification on the event loop's thread, in order.

    Use it after work that emits from other threads (``subscribe_on`` a
    thread pool, a callback API, a blocking reader) and before anything that
    touches asyncio. Notifications from other threads go into a queue, and
    one ``call_soon_threadsafe`` drains everything queued since the last
    drain, so a hand-off costs O(1) per item however long the stream is.
    (RxPY's ``observe_on(AsyncIOThreadSafeScheduler)`` schedules one callback
    per item and pops the front of a list, O(n); it slows as queues grow.)
    Notifications already on the loop thread pass straight through while
    nothing is queued.

    Marble::

        worker thread:  -a-b-c-|
        loop thread:    ---(abc)|

    Args:
        loop: the loop to deliver on; default the loop running at subscribe.

    Example:
        >>> import asyncio, reactivex, rxasync
        >>> from reactivex import operators as ops
        >>> from rxasync.operators import observe_on_loop
        >>> src = reactivex.range(3).pipe(
        ...     ops.subscribe_on(rxasync.schedulers.threads(1)), observe_on_loop())
        >>> asyncio.run(rxasync.to_list(src))
        [0, 1, 2]
    """

    def operator(source: Observable[_T]) -> Observable[_T]:
        def subscribe(
            observer: abc.ObserverBase[_T], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            target = loop or resolve_loop(scheduler, "observe_on_loop")
            hop = _Hop(observer, target)
            upstream = source.subscribe(hop.on_next, hop.on_error, hop.on_completed, scheduler=scheduler)
            return CompositeDisposable(upstream, Disposable(hop.dispose))

        return reactivex.create(subscribe)

    return operator


class _Terminal:
    """``on_error`` (``error`` set) or ``on_completed`` (``None``) waiting in the queue.

    Items go into the queue as themselves, so a hand-off allocates nothing
    per item; ``type(x) is _Terminal`` tells the two apart (no user value
    can be an instance of this private class).
    """

    __slots__ = ("error",)

    def __init__(self, error: Exception | None) -> None:
        self.error = error


class _Hop:
    __slots__ = ("disposed", "loop", "observer", "queue", "scheduled", "thread")

    def __init__(self, observer: abc.ObserverBase[Any], loop: asyncio.AbstractEventLoop) -> None:
        self.observer = observer
        self.loop = loop
        self.queue: deque[Any] = deque()  # items as themselves, then maybe a _Terminal
        self.scheduled = False
        self.disposed = False
        self.thread = loop_thread(loop)

    def on_next(self, value: Any) -> None:
        queue = self.queue
        if not queue and thread_id() == self.thread:
            self.observer.on_next(value)
            return
        queue.append(value)  # deque.append is atomic under the GIL
        if not self.scheduled:
            self.schedule()

    def on_error(self, error: Exception) -> None:
        self.queue.append(_Terminal(error))
        if not self.scheduled:
            self.schedule()

    def on_completed(self) -> None:
        self.queue.append(_Terminal(None))
        if not self.scheduled:
            self.schedule()

    def schedule(self) -> None:
        self.scheduled = True
        try:
            self.loop.call_soon_threadsafe(self.drain)
        except RuntimeError:  # the loop is closed: nobody is left to deliver to
            self.queue.clear()

    def drain(self) -> None:
        self.scheduled = False  # before draining: a push from now on schedules again
        queue, observer = self.queue, self.observer
        popleft, on_next = queue.popleft, observer.on_next
        while queue and not self.disposed:
            item = popleft()
            if type(item) is _Terminal:
                if item.error is not None:
                    observer.on_error(item.error)
                else:
                    observer.on_completed()
            else:
                on_next(item)

    def dispose(self) -> None:
        self.disposed = True
        self.queue.clear()
