"""The terminals ``first``, ``last`` and ``to_list``: ``await`` an observable's items.

Each is one small :class:`~rxasync._stage.Endpoint` that says what it keeps
of an item and what it returns at the end; the thread hop and termination
are the protocol's. When the source is a bridge observable itself (nothing
between it and the terminal), the same endpoint pulls the bridge's iterator
in the awaiting task instead of subscribing (:meth:`_Terminal.pull`): the
same items, errors and cleanup, without a pump task and the hand-off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from time import perf_counter
from typing import Any, Generic, TypeVar

from reactivex import Observable

from ._bridge import Direct, direct
from ._checks import check_observable
from ._errors import EmptySourceError
from ._flow import resolve_loop
from ._pump import Meter
from ._stage import Endpoint
from ._stats import StageStats, State

__all__ = ["first", "last", "to_list"]

_T = TypeVar("_T")


class _Terminal(Endpoint, Generic[_T]):
    """One ``await`` of a terminal: the result is :attr:`future`'s."""

    name = kind = "terminal"
    publish_demand = False  # a terminal gives no demand: its source runs free

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(None, loop)  # holds no credit: its source runs free
        # it does no work of its own (it keeps items): never the bottleneck, which it would
        # look like, since it does not time its waits for the next item
        self.stats.passive = True
        self.future: asyncio.Future[Any] = loop.create_future()

    async def run(self, source: Observable[Any]) -> Any:
        path = direct(source)
        if path is not None and path.usable(self.loop):
            await self.pull(path)
        else:
            self.attach(source)
        try:
            return await self.future
        finally:
            self.dispose()

    async def pull(self, path: Direct) -> None:
        """Pull the bridge's items in this task; then end as if upstream completed.

        A named source is counted as the pump counts it (:meth:`pull_counted`).
        """
        stats = path.stats()
        if stats is not None:
            await self.pull_counted(path, stats)
        elif path.single is not None:
            self.on_item(await path.single())
        else:
            on_item = self.on_batch if path.batched else self.on_item
            iterator = path.open()
            try:
                async for item in iterator:  # items in: counted when it resolves
                    on_item(item)
                    if self.terminated:
                        break
            finally:
                aclose = getattr(iterator, "aclose", None)
                if aclose is not None:
                    await aclose()
        self.on_completed()

    async def pull_counted(self, path: Direct, stats: StageStats) -> None:
        """:meth:`pull`, counting the source in ``stats`` (items, waits, the end) with the pump's meter."""
        meter = Meter(stats)
        state: State = "completed"
        try:
            if path.single is not None:
                self.on_item(await path.single())
                meter.sync(1)
            elif await self._pull_items(path, meter):
                state = "disposed"  # first(): the terminal stopped the source, as its dispose would
        except asyncio.CancelledError:
            state = "disposed"
            raise
        except Exception:
            state, stats.errors = "error", stats.errors + 1
            raise
        finally:
            stats.finished(state)

    async def _pull_items(self, path: Direct, meter: Meter) -> bool:
        """Pull every item (counted in a local, timed one in many, written to the meter at the end).

        Returns whether the terminal stopped early (``first``).
        """
        n = mark = 0  # items pulled; the next one to time
        iterator = path.open()
        try:
            async for item in iterator:
                began = perf_counter() if n >= mark else 0.0
                if path.batched:
                    batch = item if isinstance(item, list | tuple) else list(item)
                    self.on_batch(batch)
                    n += len(batch)
                else:
                    self.on_item(item)
                    n += 1
                if began:
                    mark = n + meter.sample(n, began) - 1
                if self.terminated:
                    return True
        finally:
            meter.sync(n)
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()
        return False

    def on_batch(self, items: Iterable[Any]) -> None:
        """Take a batch's items (``from_async_batches`` on the direct path)."""
        for item in items:
            self.on_item(item)
            if self.terminated:
                return

    def idle(self) -> bool:
        return True

    def cleanup(self) -> None:
        pass

    def resolve(self, value: Any, items: int = 1) -> None:
        """Deliver ``value``, the result of ``items`` items (counted out).

        On the direct path (:meth:`pull`) items are not counted one by one:
        items in are then at least ``items``.
        """
        self.stats.items_out = items
        self.stats.items_in = max(self.stats.items_in, items)
        if not self.future.done():
            self.future.set_result(value)

    def send_error(self, error: Exception) -> None:
        if not self.future.done():
            self.future.set_exception(error)

    def empty(self) -> None:
        self.send_error(EmptySourceError(f"{self.name}(): the source completed without any item"))


class _First(_Terminal[_T]):
    name = kind = "first"

    def on_item(self, item: Any) -> None:
        self.value = item
        self.on_completed()  # done at once: the source must not run on (or ever, if it never awaits)
        if self.upstream is not None:
            self.upstream.dispose()

    def send_completed(self) -> None:
        if hasattr(self, "value"):
            self.resolve(self.value)
        else:
            self.empty()


class _Last(_First[_T]):
    name = kind = "last"

    def on_item(self, item: Any) -> None:
        self.value = item


class _ToList(_Terminal[_T]):
    name = kind = "to_list"

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.items: list[Any] = []

    def on_item(self, item: Any) -> None:
        self.items.append(item)

    def on_batch(self, items: Iterable[Any]) -> None:
        self.items.extend(items)

    def send_completed(self) -> None:
        self.resolve(self.items, len(self.items))


async def _await(kind: type[_Terminal[Any]], source: Observable[Any]) -> Any:
    check_observable(kind.name, source)
    loop = resolve_loop(None, kind.name)
    path = direct(source)
    if path is not None and path.single is not None and path.name is None and path.usable(loop):
        # an unnamed from_awaitable: awaited as it is, no endpoint or counters (the common
        # ``first(get_json(url))`` per request; errors and cancellation are the await's own)
        value = await path.single()
        return [value] if kind is _ToList else value
    return await kind(loop).run(source)


async def first(source: Observable[_T]) -> _T:
    """Await the first item of ``source``, then dispose the subscription.

    Cancelling the ``await`` disposes the subscription.

    Raises:
        EmptySourceError: the source completed without an item.
        TypeError: ``source`` is not an observable (an async generator: wrap
            it in :func:`~rxasync.from_async_iterable`).

    Example:
        >>> import asyncio, reactivex, rxasync
        >>> asyncio.run(rxasync.first(reactivex.of("a", "b")))
        'a'
        >>> asyncio.run(rxasync.first(reactivex.interval(0.001)))  # endless: stopped after one
        0
    """
    result: _T = await _await(_First, source)
    return result


async def last(source: Observable[_T]) -> _T:
    """Await the last item of ``source`` (waits for completion).

    Cancelling the ``await`` disposes the subscription.

    Raises:
        EmptySourceError: the source completed without an item.
        TypeError: ``source`` is not an observable.

    Example:
        >>> import asyncio, reactivex, rxasync
        >>> asyncio.run(rxasync.last(reactivex.of("a", "b")))
        'b'
        >>> asyncio.run(rxasync.last(reactivex.empty()))
        Traceback (most recent call last):
        ...
        rxasync.EmptySourceError: last(): the source completed without any item
    """
    result: _T = await _await(_Last, source)
    return result


async def to_list(source: Observable[_T]) -> list[_T]:
    """Await all items of ``source`` as a list (``[]`` for an empty source).

    Cancelling the ``await`` disposes the subscription.

    Raises:
        TypeError: ``source`` is not an observable.

    Example:
        >>> import asyncio, reactivex, rxasync
        >>> asyncio.run(rxasync.to_list(reactivex.range(3)))
        [0, 1, 2]
    """
    result: list[_T] = await _await(_ToList, source)
    return result
