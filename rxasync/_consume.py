"""The bridge back from RxPY to asyncio: ``async for`` and ``await`` over observables."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from threading import get_ident as _get_ident
from types import TracebackType
from typing import Any, Literal, TypeVar

from reactivex import Observable, abc
from reactivex.disposable import SingleAssignmentDisposable
from reactivex.observer import Observer

from ._bridge import Direct, direct
from ._errors import BufferOverflowError, EmptySourceError
from ._flow import BufferDemand, resolve_loop, subscribe_with_demand

__all__ = ["AsyncObservableIterator", "Overflow", "first", "last", "to_async_iterable", "to_list"]

_T = TypeVar("_T")

Overflow = Literal["block", "drop_oldest", "drop_newest", "error"]
_OVERFLOWS = ("block", "drop_oldest", "drop_newest", "error")


def to_async_iterable(
    source: Observable[_T], *, max_buffer: int = 64, overflow: Overflow = "block"
) -> AsyncObservableIterator[_T]:
    """Iterate an observable with ``async for``.

    The subscription starts at the first ``__anext__`` (or ``async with``) and
    is disposed when the iteration ends, when you ``break`` out of it, when
    you call ``aclose()`` or leave the ``async with``, or when the consuming
    task is cancelled. An upstream error is raised at the ``async for`` with
    its original type, after the items that came before it.

    ``break`` behaves as with an async generator: an iterator nothing else
    refers to (``async for x in to_async_iterable(...)``) is disposed when
    asyncio finalises it, a loop turn or two later (a ``block`` source
    meanwhile fills at most ``max_buffer``); one you still hold in a
    variable keeps its place, and a later ``async for`` over it goes on from
    there, until you close it or drop it (``async with`` closes it at once).
    Iterate it from one task at a time: a second task waiting for the next
    item while another waits gets a ``RuntimeError``.

    Up to ``max_buffer`` items wait for the consumer. What happens when the
    consumer is slower is ``overflow``:

    * ``"block"`` (default): demand flows upstream, so an rxasync source
      (``from_async_iterable``, HTTP, files) pauses until the consumer takes an
      item. A plain RxPY source that cannot pause (``reactivex.from_iterable``
      emits everything inside ``subscribe``) is buffered in full instead.
    * ``"drop_oldest"`` / ``"drop_newest"``: the oldest buffered item, or the
      arriving one, is dropped; the source runs free.
    * ``"error"``: the iteration fails with :class:`BufferOverflowError`.

    If in doubt, keep ``"block"`` and a small ``max_buffer``: 64 covers the
    gap between bursts without holding much.

    Example:
        >>> import asyncio, reactivex, rxasync
        >>> async def main() -> list[int]:
        ...     out = []
        ...     async with rxasync.to_async_iterable(reactivex.of(1, 2, 3)) as items:
        ...         async for x in items:
        ...             out.append(x * 10)
        ...     return out
        >>> asyncio.run(main())
        [10, 20, 30]
    """
    if not isinstance(max_buffer, int) or max_buffer < 1:
        raise ValueError(f"max_buffer must be an int >= 1, got {max_buffer!r}")
    if overflow not in _OVERFLOWS:
        raise ValueError(f"overflow must be one of {_OVERFLOWS}, got {overflow!r}")
    return AsyncObservableIterator(source, max_buffer, overflow)


class AsyncObservableIterator(AsyncIterator[_T]):
    """What :func:`to_async_iterable` returns: an async iterator and async context manager."""

    __slots__ = ("_buffer", "_channel", "_closer", "_steps", "_waiters")

    def __init__(self, source: Observable[_T], max_buffer: int, overflow: Overflow) -> None:
        channel = (_BlockingChannel if overflow == "block" else _Channel)(source, max_buffer, overflow)
        self._channel = channel
        # The channel's own deque, and the list of producers waiting for a
        # credit (empty, and always the same object): taking a buffered item
        # costs a pop and one truth test, with no call into the channel.
        self._buffer = channel.buffer
        self._waiters: list[Any] | tuple[()] = channel.demand.waiters if channel.demand else ()
        self._closer = _Closer(channel)
        self._steps: AsyncGenerator[_T, None] | None = None

    def __aiter__(self) -> AsyncGenerator[_T, None]:
        """The async generator that ``async for`` steps (one per iterator, made at the first call).

        Stepping a native async generator costs about 25 ns an item less
        than a coroutine per ``__anext__``. Closing it (``aclose()``, as
        ``contextlib.aclosing(aiter(it))`` and aiostream do) disposes the
        subscription; a ``break`` does not, so a held iterator resumes where
        it stopped; once the iterator and the generator are both dropped, the
        subscription is disposed (the generator's finaliser closes it).
        """
        if self._steps is None:
            self._steps = _iterate(self._channel, self._buffer, self._waiters, self._closer)
        return self._steps

    async def __anext__(self) -> _T:
        buf = self._buffer
        if not buf:  # not started, nothing buffered, or the end: the channel waits or raises
            return await self._channel.next()
        item: _T = buf.popleft()
        if self._waiters:  # a producer waits for a credit: one may be free now
            self._channel.relieve()
        return item

    async def aclose(self) -> None:
        """Dispose the subscription; the iteration ends."""
        self._channel.close()

    async def __aenter__(self) -> AsyncObservableIterator[_T]:
        if not self._channel.started:
            self._channel.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._channel.close()


class _Closer:
    """Disposes a channel when the last of its holders is dropped.

    The iterator and its generator both hold it (the generator does not hold
    the iterator: ``async for x in to_async_iterable(...)`` keeps only the
    generator, and a cycle between the two would leave a dropped pair to the
    cyclic garbage collector). Only this is freed by reference counting
    alone, at once: ``break`` out of an iterator nothing else holds, or
    dropping an iterator iterated by hand, disposes the subscription.
    """

    __slots__ = ("channel",)

    def __init__(self, channel: _Channel[Any]) -> None:
        self.channel = channel

    def __del__(self) -> None:
        # No wake-up: a task still waiting is being destroyed with us, and
        # this may run on another thread (the cyclic GC) or after the loop closed.
        if self.channel.started:
            self.channel.close(wake=False)


async def _iterate(
    channel: _Channel[_T], buf: deque[_T], waiters: list[Any] | tuple[()], closer: _Closer
) -> AsyncGenerator[_T, None]:
    """What ``async for`` steps: buffered items straight from the deque, else the channel."""
    try:
        while True:
            while buf:
                item: _T = buf.popleft()
                if waiters:
                    channel.relieve()
                yield item
            try:
                item = await channel.next()
            except StopAsyncIteration:
                return
            yield item
    finally:
        # Closed (aclose, or the finaliser of a dropped generator), ended or
        # failed: the subscription goes. `closer` is held until here.
        del closer
        channel.close()


class _Channel(abc.ObserverBase[_T]):
    """The state behind an iterator. Only this is referenced by the observer, so
    dropping the iterator (``break``) frees it and its ``__del__`` can dispose.

    It is itself the observer RxPY calls (through its ``AutoDetachObserver``,
    which already enforces the on_next*/terminal grammar), so an item costs
    one call here rather than three through ``reactivex.observer.Observer``.
    """

    def __init__(self, source: Observable[_T], max_buffer: int, overflow: Overflow) -> None:
        self._source = source
        self._max = max_buffer
        self._overflow = overflow
        self._bounded = overflow != "block"  # drops or errors when full; "block" buffers on
        self.buffer: deque[Any] = deque()
        self.demand = BufferDemand(max_buffer, self.buffer) if overflow == "block" else None
        self._waiter: asyncio.Future[None] | None = None
        self._subscription: abc.DisposableBase | None = None
        self._error: BaseException | None = None
        self.started = False
        self._finished = False  # upstream terminated (completed or errored)
        self._closed = False  # the consumer is done
        self._disposed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None  # the loop's; notifications from others hop to it

    # -- observer side: on the loop thread (others hop there) ---------------
    def on_next(self, value: _T) -> None:
        if _get_ident() != self._thread:
            self._hop(self.on_next, value)
            return
        if self._closed:  # hopped here from a thread that raced the close
            return
        buf = self.buffer
        if self._bounded and len(buf) >= self._max:
            if self._overflow == "drop_newest":
                return
            if self._overflow == "drop_oldest":
                buf.popleft()
            else:
                self._terminate(
                    BufferOverflowError(f"more than max_buffer={self._max} items waited for the consumer")
                )
                return
        buf.append(value)
        if self._waiter is not None:
            self._wake()

    def on_error(self, error: Exception) -> None:
        if _get_ident() != self._thread:
            self._hop(self.on_error, error)
            return
        self._terminate(error)

    def on_completed(self) -> None:
        if _get_ident() != self._thread:
            self._hop(self.on_completed)
            return
        self._terminate(None)

    def _hop(self, notify: Callable[..., None], *args: Any) -> None:
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(notify, *args)
        except RuntimeError:  # the loop is closed: nobody is left to deliver to
            pass

    def _terminate(self, error: BaseException | None) -> None:
        if self._finished:
            return
        self._finished = True
        self._error = error
        self._dispose()
        self._wake()

    def _wake(self) -> None:
        w = self._waiter
        if w is not None:
            self._waiter = None
            if not w.done():
                w.set_result(None)

    # -- consumer side -----------------------------------------------------
    def start(self) -> None:
        self.started = True
        self._loop = resolve_loop(None, "to_async_iterable")
        self._thread = _get_ident()
        subscription = subscribe_with_demand(self._source, self, self.demand)
        if self._disposed:  # the source terminated inside subscribe
            subscription.dispose()
        else:
            self._subscription = subscription

    async def next(self) -> _T:
        if not self.started:
            self.start()
        buf = self.buffer
        while not buf:
            if self._finished or self._closed:
                self._closed = True
                if self._error is not None:
                    error, self._error = self._error, None
                    raise error
                raise StopAsyncIteration
            if self._waiter is not None and not self._waiter.done():
                # As with an async generator: one consumer at a time. A second
                # waiter would replace the first, which would then never wake.
                raise RuntimeError(
                    "to_async_iterable: another task is already waiting for the next item of this "
                    "iterator; iterate it from one task at a time"
                )
            self._waiter = waiter = asyncio.get_running_loop().create_future()
            if buf:  # an item came from another thread meanwhile (see _BlockingChannel.on_next)
                self._waiter = None
                break
            try:
                await waiter
            except asyncio.CancelledError:
                self.close()
                raise
        item: _T = buf.popleft()
        self.relieve()
        return item

    def relieve(self) -> None:
        """An item left the buffer: wake producers waiting for a credit, if one is free."""
        if self.demand is not None:
            self.demand.release()

    def close(self, wake: bool = True) -> None:
        """The consumer is done: drop what is buffered, dispose, and end a pending wait.

        ``_closed`` is set before the buffer is cleared, and a producer on
        another thread tests it after it appends, so an item
        racing the close is dropped by one side or the other.
        """
        self._closed = True
        self.buffer.clear()
        self._dispose()
        if wake:
            self._wake()  # an `async for` waiting in another task ends (StopAsyncIteration)

    def _dispose(self) -> None:
        self._disposed = True
        sub, self._subscription = self._subscription, None
        if sub is not None:
            sub.dispose()


class _BlockingChannel(_Channel[_T]):
    """``overflow="block"``: every item is buffered (its credit is its place in the buffer).

    ``on_next`` appends from whatever thread calls it (``deque.append`` is
    atomic) and touches the loop only to wake a waiting consumer, so an item
    costs an append and one test. No wake-up is lost to a thread: the
    consumer publishes its waiter *before* its last look at the buffer, the
    producer appends *before* it looks for a waiter, so one of them sees the
    other. Closing works the same way (see :meth:`close`).
    """

    def on_next(self, value: _T) -> None:
        self.buffer.append(value)
        if self._waiter is not None or self._closed:
            self._after_append()

    def _after_append(self) -> None:
        if self._closed:
            self.buffer.clear()  # the consumer is gone: nobody will take it
        elif self._waiter is not None:
            if _get_ident() == self._thread:
                self._wake()
            else:
                self._hop(self._wake)


async def _single(source: Observable[_T], which: Literal["first", "last", "list"]) -> Any:
    loop = resolve_loop(None, which)
    path = direct(source)
    if path is not None and path.usable(loop):
        return await _single_direct(path, which)
    fut: asyncio.Future[Any] = loop.create_future()
    items: list[Any] = []
    subscription = SingleAssignmentDisposable()
    thread = _get_ident()

    def on_next(value: Any) -> None:
        if _get_ident() != thread:
            loop.call_soon_threadsafe(on_next, value)
            return
        if fut.done():
            return
        if which == "first":
            fut.set_result(value)
            subscription.dispose()  # at once: the source must not run on (or ever, if it never awaits)
        elif which == "last":
            items[:] = [value]
        else:
            items.append(value)

    def on_error(error: Exception) -> None:
        if _get_ident() != thread:
            loop.call_soon_threadsafe(on_error, error)
        elif not fut.done():
            fut.set_exception(error)

    def on_completed() -> None:
        if _get_ident() != thread:
            loop.call_soon_threadsafe(on_completed)
            return
        if fut.done():
            return
        if which == "list":
            fut.set_result(items)
        elif items:
            fut.set_result(items[0])
        else:
            fut.set_exception(EmptySourceError(f"{which}(): the source completed without any item"))

    subscription.disposable = subscribe_with_demand(source, Observer(on_next, on_error, on_completed), None)
    try:
        return await fut
    finally:
        subscription.dispose()


async def _single_direct(path: Direct, which: Literal["first", "last", "list"]) -> Any:
    items = await path.consume(which)
    if which == "list":
        return items
    if not items:
        raise EmptySourceError(f"{which}(): the source completed without any item")
    return items[0]


async def first(source: Observable[_T]) -> _T:
    """Await the first item of ``source``, then dispose the subscription.

    Cancelling the ``await`` disposes the subscription.

    Raises:
        EmptySourceError: the source completed without an item.

    Example:
        >>> import asyncio, reactivex, rxasync
        >>> asyncio.run(rxasync.first(reactivex.of("a", "b")))
        'a'
    """
    result: _T = await _single(source, "first")
    return result


async def last(source: Observable[_T]) -> _T:
    """Await the last item of ``source`` (waits for completion).

    Cancelling the ``await`` disposes the subscription.

    Raises:
        EmptySourceError: the source completed without an item.

    Example:
        >>> import asyncio, reactivex, rxasync
        >>> asyncio.run(rxasync.last(reactivex.of("a", "b")))
        'b'
    """
    result: _T = await _single(source, "last")
    return result


async def to_list(source: Observable[_T]) -> list[_T]:
    """Await all items of ``source`` as a list (``[]`` for an empty source).

    Cancelling the ``await`` disposes the subscription.

    Example:
        >>> import asyncio, reactivex, rxasync
        >>> asyncio.run(rxasync.to_list(reactivex.range(3)))
        [0, 1, 2]
    """
    result: list[_T] = await _single(source, "list")
    return result
