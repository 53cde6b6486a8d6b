"""first, last, to_list (rxasync/_terminals.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import reactivex
from reactivex import operators as ops
from support import Tracker

import rxasync


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


async def test_first_on_bare_from_awaitable_awaits_it_in_the_awaiting_task() -> None:
    tasks: list[asyncio.Task[object] | None] = []
    started = asyncio.Event()

    saw_cancel: list[bool] = []

    async def answer(x: int) -> int:
        tasks.append(asyncio.current_task())
        started.set()
        try:
            await asyncio.sleep(0 if x else 10)
        except asyncio.CancelledError:
            saw_cancel.append(True)
            raise
        return x

    source = rxasync.from_awaitable(lambda: answer(len(tasks) + 1))
    assert await rxasync.first(source) == 1
    assert await rxasync.last(source) == 2  # a factory: each await calls it afresh
    assert await rxasync.to_list(source) == [3]
    assert tasks == [asyncio.current_task()] * 3  # no pump task

    cancelled = rxasync.from_awaitable(lambda: answer(0))
    started.clear()
    waiter = asyncio.create_task(rxasync.first(cancelled))
    await started.wait()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert saw_cancel == [True]  # cancelling the await cancelled the coroutine

    async def fail() -> int:
        raise KeyError("nope")

    with pytest.raises(KeyError, match="nope"):
        await rxasync.first(rxasync.from_awaitable(fail))
    # through an operator it is subscribed as before: the pump delivers the same
    assert await rxasync.first(rxasync.from_awaitable(lambda: answer(7)).pipe(ops.map(lambda v: v * 2))) == 14


async def _empty_batches() -> AsyncIterator[list[int]]:
    yield []
