"""to_async_iterable, first, last, to_list."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import reactivex
from reactivex import operators as ops
from reactivex.subject import Subject

import rxasync


class Tracker:
    """An endless async source that records whether it was closed."""

    def __init__(self) -> None:
        self.closed = asyncio.Event()
        self.produced = 0

    async def gen(self) -> AsyncIterator[int]:
        try:
            while True:
                await asyncio.sleep(0)
                yield self.produced
                self.produced += 1
        finally:
            self.closed.set()

    def source(self) -> reactivex.Observable[int]:
        return rxasync.from_async_iterable(self.gen)


async def test_to_async_iterable_yields_all_items() -> None:
    out = [x async for x in rxasync.to_async_iterable(reactivex.range(100))]
    assert out == list(range(100))


async def test_to_async_iterable_break_disposes_subscription() -> None:
    t = Tracker()
    async for x in rxasync.to_async_iterable(t.source()):
        if x == 3:
            break
    await asyncio.wait_for(t.closed.wait(), 1)


async def test_to_async_iterable_aclose_disposes_subscription() -> None:
    t = Tracker()
    it = rxasync.to_async_iterable(t.source())
    await it.__anext__()
    await it.aclose()
    await asyncio.wait_for(t.closed.wait(), 1)
    with pytest.raises(StopAsyncIteration):
        await it.__anext__()


async def test_to_async_iterable_async_with_disposes_on_exit() -> None:
    t = Tracker()
    async with rxasync.to_async_iterable(t.source()) as it:
        await it.__anext__()
    await asyncio.wait_for(t.closed.wait(), 1)


async def test_to_async_iterable_cancelling_consumer_disposes_subscription() -> None:
    subject: Subject[int] = Subject()
    t = Tracker()
    got_one = asyncio.Event()

    async def consume() -> None:
        async for _ in rxasync.to_async_iterable(reactivex.merge(subject, t.source().pipe(ops.take(1)))):
            got_one.set()

    task = asyncio.create_task(consume())
    await got_one.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not subject.observers  # the subscription to the subject was disposed


async def test_to_async_iterable_cancel_while_waiting_disposes_source() -> None:
    closed = asyncio.Event()

    async def silent() -> AsyncIterator[int]:
        try:
            await asyncio.sleep(100)
            yield 1
        finally:
            closed.set()

    async def consume() -> None:
        async for _ in rxasync.to_async_iterable(rxasync.from_async_iterable(silent)):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(closed.wait(), 1)


async def test_to_async_iterable_error_raised_after_buffered_items() -> None:
    source = reactivex.concat(reactivex.of(1, 2), reactivex.throw(LookupError("gone")))
    got: list[int] = []
    with pytest.raises(LookupError, match="gone"):
        async for x in rxasync.to_async_iterable(source):
            got.append(x)
    assert got == [1, 2]


@pytest.mark.parametrize(
    ("overflow", "kept"), [("drop_newest", [0, 1, 2]), ("drop_oldest", [7, 8, 9])], ids=["newest", "oldest"]
)
async def test_to_async_iterable_drop_policies_keep_max_buffer_items(overflow: str, kept: list[int]) -> None:
    subject: Subject[int] = Subject()
    it = rxasync.to_async_iterable(subject, max_buffer=3, overflow=overflow)  # type: ignore[arg-type]
    async with it:
        for i in range(10):
            subject.on_next(i)
        subject.on_completed()
        assert [x async for x in it] == kept


async def test_to_async_iterable_overflow_error_after_buffered_items() -> None:
    subject: Subject[int] = Subject()
    it = rxasync.to_async_iterable(subject, max_buffer=3, overflow="error")
    got: list[int] = []
    async with it:
        for i in range(10):
            subject.on_next(i)
        with pytest.raises(rxasync.BufferOverflowError, match="max_buffer=3"):
            async for x in it:
                got.append(x)
    assert got == [0, 1, 2]
    assert not subject.observers


async def test_to_async_iterable_block_pauses_bridge_source() -> None:
    t = Tracker()
    async with rxasync.to_async_iterable(t.source(), max_buffer=4) as it:
        await it.__anext__()
        await asyncio.sleep(0.05)  # the consumer sleeps: the source must wait for it
        assert t.produced <= 1 + 4
    await t.closed.wait()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"max_buffer": 0}, "max_buffer"), ({"overflow": "explode"}, "overflow")],
)
def test_to_async_iterable_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rxasync.to_async_iterable(reactivex.empty(), **kwargs)  # type: ignore[arg-type]


async def test_first_last_to_list_values() -> None:
    assert await rxasync.first(reactivex.of(1, 2, 3)) == 1
    assert await rxasync.last(reactivex.of(1, 2, 3)) == 3
    assert await rxasync.to_list(reactivex.of(1, 2, 3)) == [1, 2, 3]
    assert await rxasync.to_list(reactivex.empty()) == []


@pytest.mark.parametrize("fn", [rxasync.first, rxasync.last])
async def test_first_last_empty_source_raises(fn: object) -> None:
    with pytest.raises(rxasync.EmptySourceError, match="without any item"):
        await fn(reactivex.empty())  # type: ignore[operator]


async def test_first_disposes_source_after_first_item() -> None:
    t = Tracker()
    assert await rxasync.first(t.source()) == 0
    await asyncio.wait_for(t.closed.wait(), 1)


@pytest.mark.parametrize("fn", [rxasync.first, rxasync.last, rxasync.to_list])
async def test_cancelling_await_disposes_subscription(fn: object) -> None:
    closed = asyncio.Event()

    async def silent() -> AsyncIterator[int]:
        try:
            await asyncio.sleep(100)
            yield 1
        finally:
            closed.set()

    task = asyncio.create_task(fn(rxasync.from_async_iterable(silent)))  # type: ignore[operator]
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(closed.wait(), 1)


async def test_to_list_error_keeps_type() -> None:
    with pytest.raises(ZeroDivisionError):
        await rxasync.to_list(reactivex.of(1, 0).pipe(ops.map(lambda x: 1 // x)))


async def test_first_on_bare_bridge_pulls_one_item_in_the_awaiting_task() -> None:
    pulled: list[int] = []
    tasks: set[asyncio.Task[object] | None] = set()
    closed = asyncio.Event()

    async def gen() -> AsyncIterator[int]:
        try:
            for i in range(10):
                pulled.append(i)
                tasks.add(asyncio.current_task())
                yield i
        finally:
            closed.set()

    assert await rxasync.first(rxasync.from_async_iterable(gen)) == 0
    assert closed.is_set()  # closed before first() returned
    assert pulled == [0]
    assert tasks == {asyncio.current_task()}  # no pump task: pulled by the awaiting task


async def test_to_list_and_last_on_bare_bridge_and_batches() -> None:
    async def gen() -> AsyncIterator[int]:
        for i in range(5):
            yield i

    async def batches() -> AsyncIterator[list[int]]:
        yield [0, 1]
        yield []
        yield [2]

    assert await rxasync.to_list(rxasync.from_async_iterable(gen)) == [0, 1, 2, 3, 4]
    assert await rxasync.last(rxasync.from_async_iterable(gen)) == 4
    assert await rxasync.first(rxasync.from_async_batches(batches)) == 0
    assert await rxasync.last(rxasync.from_async_batches(batches)) == 2
    assert await rxasync.to_list(rxasync.from_async_batches(batches)) == [0, 1, 2]
    with pytest.raises(rxasync.EmptySourceError):
        await rxasync.first(rxasync.from_async_batches(lambda: _empty_batches()))


async def _empty_batches() -> AsyncIterator[list[int]]:
    yield []
