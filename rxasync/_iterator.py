"""``to_async_iterable``: ``async for`` over an observable.

The iterator is a thin endpoint over :class:`_Channel`, the one state object
(a buffer, a waiter, the end), which is the stage protocol's
:class:`~rxasync._stage.Endpoint` subscribed upstream: the hop to the loop and
the single end are the protocol's; the channel says what it does with an item
(buffer it, or drop it, by ``overflow``).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from types import TracebackType
from typing import Any, Generic, Literal, TypeVar

from reactivex import Observable

from ._checks import check_int, check_observable
from ._errors import BufferOverflowError
from ._flow import BufferDemand, resolve_loop
from ._fused_iterable import close_quietly, fuse_from_iterable, pull
from ._stage import Endpoint

__all__ = ["AsyncObservableIterator", "Overflow", "to_async_iterable"]

_T = TypeVar("_T")

Overflow = Literal["block", "drop_oldest", "drop_newest", "error"]
_OVERFLOWS = ("block", "drop_oldest", "drop_newest", "error")


def to_async_iterable(
    source: Observable[_T],
    *,
    max_buffer: int = 64,
    overflow: Overflow = "block",
    name: str | None = None,
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
      (``from_async_iterable``, HTTP, files) pauses once ``max_buffer`` items
      wait, and goes on when the consumer has taken half of them (it refills
      in bursts, not one wake-up per item). A plain ``reactivex.from_iterable``
      (no scheduler; also ``of``) is pulled as you iterate, ``max_buffer``
      items at a time. Another RxPY source that cannot pause is buffered in
      full instead.
    * ``"drop_oldest"`` / ``"drop_newest"``: the oldest buffered item, or the
      arriving one, is dropped; the source runs free.
    * ``"error"``: the iteration fails with :class:`BufferOverflowError`.

    If in doubt, keep ``"block"`` and a small ``max_buffer``: 64 covers the
    gap between bursts without holding much.

    Its counters in :mod:`rxasync.stats` (kind ``to_async_iterable``, under
    ``name=``) count items buffered in, items handed to ``async for`` out,
    and the time ``async for`` waits on an empty buffer as waiting upstream.

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
    check_observable("to_async_iterable", source)
    check_int("max_buffer", max_buffer)
    if overflow not in _OVERFLOWS:
        raise ValueError(f"overflow must be one of {_OVERFLOWS}, got {overflow!r}")
    return AsyncObservableIterator(source, max_buffer, overflow, name)


class AsyncObservableIterator(AsyncIterator[_T]):
    """What :func:`to_async_iterable` returns: an async iterator and async context manager."""

    __slots__ = ("_buffer", "_channel", "_closer", "_stats", "_steps", "_waiters")

    def __init__(
        self, source: Observable[_T], max_buffer: int, overflow: Overflow, name: str | None = None
    ) -> None:
        channel = (_BlockingChannel if overflow == "block" else _Channel)(source, max_buffer, overflow, name)
        self._channel = channel
        # The channel's own deque, and the list of producers waiting for a
        # credit (empty, and always the same object): taking a buffered item
        # costs a pop and one truth test, with no call into the channel.
        self._buffer = channel.buffer
        self._waiters: list[Any] | tuple[()] = channel.demand.waiters if channel.publish_demand else ()
        self._closer = _Closer(channel)
        self._stats = channel.stats
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
        self._stats.items_out += 1
        if self._waiters:  # a producer waits for a credit: one may be free now
            self._channel.relieve()
        return item

    async def aclose(self) -> None:
        """Dispose the subscription; the iteration ends."""
        steps = self._steps
        if steps is not None and not getattr(steps, "ag_running", True):  # stopped at an item: finally counts
            await steps.aclose()  # cut short, then closes the channel (waiting elsewhere: no run is open)
        self._channel.close()

    async def __aenter__(self) -> AsyncObservableIterator[_T]:
        if not self._channel.started:
            self._channel.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


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
    """What ``async for`` steps: buffered items straight from the deque, else the channel.

    Items out are counted per run of up to :data:`_RUN` buffered items, once
    the run is handed out (a snapshot lags by less than a run; a run cut
    short by ``break`` or ``aclose`` is counted up to the item handed out).
    """
    stats, pop, low = channel.stats, buf.popleft, channel.demand.limit >> 1
    i = run = 0
    try:
        while True:
            while buf:
                run = len(buf) if len(buf) < _RUN else _RUN
                for i in range(run):  # noqa: B007 - the finally reads where a cut-short run stopped
                    item: _T = pop()
                    if waiters and len(buf) <= low:  # a producer waits: wake it at half full
                        channel.relieve()
                    yield item
                stats.items_out += run
                run = 0
            try:
                item = await channel.next()
            except StopAsyncIteration:
                return
            yield item
    finally:
        if run:  # a run cut short at its item i (handed out)
            stats.items_out += i + 1
        # Closed (aclose, or the finaliser of a dropped generator), ended or
        # failed: the subscription goes. `closer` is held until here.
        del closer
        channel.close()


_RUN = 64  # items out are counted once per this many buffered items handed to async for


class _Channel(Endpoint, Generic[_T]):
    """The state behind an iterator. Only this is referenced by the observer, so
    dropping the iterator (``break``) frees it and its ``__del__`` can dispose.

    It is itself the observer RxPY calls (through its ``AutoDetachObserver``,
    which already enforces the on_next*/terminal grammar). Its demand is the
    buffer (:class:`~rxasync._flow.BufferDemand`), published upstream only
    for ``overflow="block"``.
    """

    publish_demand = False  # drops or errors when full; _BlockingChannel buffers on
    kind = "to_async_iterable"
    demand: BufferDemand
    _pull: Iterator[Any] | None = None  # a fused from_iterable's iterator (_BlockingChannel.attach)

    def __init__(
        self, source: Observable[_T], max_buffer: int, overflow: Overflow, name: str | None = None
    ) -> None:
        self.buffer: deque[Any] = deque()
        super().__init__(BufferDemand(max_buffer, self.buffer), None, name)
        self._source = source
        self._max = max_buffer
        self._overflow = overflow
        self._waiter: asyncio.Future[None] | None = None
        self._error: BaseException | None = None
        self.started = False
        self._closed = False  # the consumer is done

    # -- observer side: on the loop thread (the protocol hops there) -------------
    def on_item(self, value: _T) -> None:
        buf = self.buffer
        if len(buf) >= self._max:
            if self._overflow == "drop_newest":
                self.stats.dropped += 1  # counted in (items in = out + dropped + buffered), never out
                return
            if self._overflow == "drop_oldest":
                buf.popleft()
                self.stats.dropped += 1
            else:
                self.fail(
                    BufferOverflowError(f"more than max_buffer={self._max} items waited for the consumer")
                )
                return
        buf.append(value)
        if self._waiter is not None:
            self._wake()

    def idle(self) -> bool:
        return True  # what is buffered stays for the consumer

    def cleanup(self) -> None:
        pass

    def send_error(self, error: Exception) -> None:
        self._error = error
        self._wake()

    def send_completed(self) -> None:
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
        self.bind(resolve_loop(None, "to_async_iterable"))
        self.attach(self._source)

    async def next(self) -> _T:
        if not self.started:
            self.start()
        buf = self.buffer
        pulled = self._pull  # a fused from_iterable (_BlockingChannel.attach): pull it, or its end
        if not buf and pulled is not None and pull(buf, pulled, self._max, self.on_error, self.on_completed):
            self._pull = None
        while not buf:
            if self.terminated:
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
            self.stats.idle()  # an empty buffer: ``async for`` waits for upstream
            try:
                await waiter
            except asyncio.CancelledError:
                self.close()
                raise
            if self.stats.idle_since is not None:
                self.stats.end_idle()
        item: _T = buf.popleft()
        self.stats.items_out += 1
        self.relieve()
        return item

    def relieve(self) -> None:
        """An item left the buffer: wake producers waiting for a credit, if one is free."""
        self.demand.release()

    def close(self, wake: bool = True) -> None:
        """The consumer is done: drop what is buffered, dispose, and end a pending wait.

        ``_closed`` is set before the buffer is cleared, and a producer on
        another thread tests it after it appends, so an item
        racing the close is dropped by one side or the other.
        """
        self._closed = True
        iterator, self._pull = self._pull, None
        if iterator is not None:  # a fused from_iterable cut short: a generator's finally runs now
            close_quietly(iterator)
        stats = self.stats  # items out are exact now (see _iterate): so are items in, frozen at the end
        stats.items_in = max(stats.items_in, stats.items_out + stats.dropped + len(self.buffer))
        self.buffer.clear()
        if self.started:
            self.dispose()
        else:
            self.terminated = True
        if wake:
            self._wake()  # an `async for` waiting in another task ends (StopAsyncIteration)


class _BlockingChannel(_Channel[_T]):
    """``overflow="block"``: every item is buffered (its credit is its place in the buffer).

    ``on_next`` appends from whatever thread calls it (``deque.append`` is
    atomic) and touches the loop only to wake a waiting consumer, so an item
    costs an append and one test: the one endpoint that skips the protocol's
    hop for items, because its ``on_item`` is safe on any thread. No wake-up is
    lost to a thread: the consumer publishes its waiter *before* its last look
    at the buffer, the producer appends *before* it looks for a waiter, so one
    of them sees the other. Closing works the same way (see :meth:`close`).
    """

    publish_demand = True

    def attach(self, source: Observable[Any], scheduler: Any = None) -> None:
        """Subscribe; a plain ``reactivex.from_iterable`` is pulled instead, as ``async for`` asks
        (:mod:`._fused_iterable`: the same items and end, ``max_buffer`` at a time)."""
        if scheduler is None:
            pulled = fuse_from_iterable(source, self.on_error)
            if pulled is not None:
                self._pull = None if self.terminated else pulled  # iter() failed: that error is the end
                return
        super().attach(source, scheduler)

    def on_next(self, value: _T) -> None:
        self.buffer.append(value)
        if self._waiter is not None or self._closed:
            self._after_append()

    def _after_append(self) -> None:
        if self._closed:
            self.buffer.clear()  # the consumer is gone: nobody will take it
        elif self._waiter is not None:
            if self.on_loop():
                self._wake()
            else:
                self.hop(self._wake)
