"""from_async_iterable and from_awaitable: items, errors, dispose, loops."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import pytest
import reactivex
from reactivex import operators as ops

import rxasync
from rxasync.testing import assert_run


async def numbers(n: int = 5) -> AsyncIterator[int]:
    for i in range(n):
        await asyncio.sleep(0)
        yield i


async def test_from_async_iterable_emits_items_then_completes() -> None:
    await assert_run(lambda: rxasync.from_async_iterable(numbers), [0, 1, 2, 3, 4])


async def test_from_async_iterable_factory_can_be_subscribed_twice() -> None:
    source = rxasync.from_async_iterable(numbers)
    assert await rxasync.to_list(source) == await rxasync.to_list(source) == [0, 1, 2, 3, 4]


async def test_from_async_iterable_generator_object_second_subscribe_errors() -> None:
    source = rxasync.from_async_iterable(numbers(2))
    assert await rxasync.to_list(source) == [0, 1]
    with pytest.raises(rxasync.RxAsyncError, match="already subscribed once"):
        await rxasync.to_list(source)


async def test_from_async_iterable_error_keeps_type_and_items_before() -> None:
    async def failing() -> AsyncIterator[int]:
        yield 1
        yield 2
        raise KeyError("boom")

    seen: list[int] = []
    errors: list[Exception] = []
    done = asyncio.Event()

    def on_error(e: Exception) -> None:
        errors.append(e)
        done.set()

    rxasync.from_async_iterable(failing).subscribe(seen.append, on_error)
    await done.wait()
    assert seen == [1, 2]
    assert isinstance(errors[0], KeyError)
    await assert_run(lambda: rxasync.from_async_iterable(failing), error=KeyError)


async def test_from_async_iterable_dispose_runs_generator_finally() -> None:
    started = asyncio.Event()
    closed = asyncio.Event()
    cancelled: list[bool] = []

    async def endless() -> AsyncIterator[int]:
        try:
            started.set()
            i = 0
            while True:
                await asyncio.sleep(0.01)
                yield i
                i += 1
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        finally:
            closed.set()

    sub = rxasync.from_async_iterable(endless).subscribe(lambda _: None)
    await started.wait()
    sub.dispose()
    await asyncio.wait_for(closed.wait(), 1)
    assert cancelled == [True]


async def test_from_async_iterable_dispose_while_waiting_for_demand_closes_generator() -> None:
    closed = asyncio.Event()

    async def gen() -> AsyncIterator[int]:
        try:
            i = 0
            while True:
                yield i  # never awaits: only the demand wait suspends the pump
                i += 1
        finally:
            closed.set()

    it = rxasync.to_async_iterable(rxasync.from_async_iterable(gen), max_buffer=2)
    assert await it.__anext__() == 0
    await it.aclose()
    await asyncio.wait_for(closed.wait(), 1)


async def test_from_async_iterable_take_stops_a_generator_that_never_awaits() -> None:
    closed: list[bool] = []

    async def tight() -> AsyncIterator[int]:
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.append(True)

    assert await rxasync.to_list(rxasync.from_async_iterable(tight).pipe(ops.take(3))) == [0, 1, 2]
    await asyncio.sleep(0)
    assert closed == [True]


def test_from_async_iterable_without_loop_says_what_to_do() -> None:
    errors: list[Exception] = []
    rxasync.from_async_iterable(numbers).subscribe(on_error=errors.append)
    assert isinstance(errors[0], rxasync.NoRunningLoopError)
    assert isinstance(errors[0], RuntimeError)
    assert "asyncio.run" in str(errors[0])
    assert "scheduler=" in str(errors[0])


async def test_from_async_iterable_subscribed_from_another_thread_with_scheduler() -> None:
    loop = asyncio.get_running_loop()
    scheduler = rxasync.schedulers.loop()
    items: list[int] = []
    threads: set[int] = set()
    done = asyncio.Event()

    def on_next(x: int) -> None:
        items.append(x)
        threads.add(threading.get_ident())

    def subscribe_in_thread() -> None:
        rxasync.from_async_iterable(numbers, scheduler=scheduler).subscribe(
            on_next, on_completed=lambda: loop.call_soon_threadsafe(done.set)
        )

    await asyncio.to_thread(subscribe_in_thread)
    await asyncio.wait_for(done.wait(), 2)
    assert items == [0, 1, 2, 3, 4]
    assert threads == {threading.get_ident()}


async def test_from_async_iterable_no_demand_downstream_runs_free() -> None:
    produced = 0

    async def gen() -> AsyncIterator[int]:
        nonlocal produced
        for i in range(1000):
            produced += 1
            yield i

    got: list[int] = []
    done = asyncio.Event()
    rxasync.from_async_iterable(gen).subscribe(got.append, on_completed=done.set)
    await asyncio.sleep(0)  # one loop iteration: the pump never waits without a consumer's demand
    assert produced == 1000
    await done.wait()
    assert len(got) == 1000


async def test_from_awaitable_emits_result() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    await assert_run(lambda: rxasync.from_awaitable(answer), [42])
    assert await rxasync.first(rxasync.from_awaitable(answer())) == 42


async def test_from_awaitable_dispose_cancels_the_coroutine() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def slow() -> int:
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return 1

    sub = rxasync.from_awaitable(slow).subscribe(lambda _: None)
    await started.wait()
    sub.dispose()
    await asyncio.wait_for(cancelled.wait(), 1)


async def test_from_awaitable_error_keeps_type() -> None:
    async def bad() -> int:
        raise ValueError("nope")

    with pytest.raises(ValueError, match="nope"):
        await rxasync.first(rxasync.from_awaitable(bad))


async def test_from_awaitable_future_result() -> None:
    fut: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_later(0.01, fut.set_result, "done")
    assert await rxasync.last(rxasync.from_awaitable(fut)) == "done"


async def test_from_async_iterable_concat_subscribes_in_order() -> None:
    source = reactivex.concat(rxasync.from_async_iterable(numbers), rxasync.from_async_iterable(numbers))
    await assert_run(lambda: source, [0, 1, 2, 3, 4, 0, 1, 2, 3, 4])


async def test_from_async_iterable_dispose_from_on_next_lets_async_cleanup_finish() -> None:
    cleaned: list[str] = []

    async def gen() -> AsyncIterator[int]:
        try:
            yield 1
            yield 2
        finally:
            await asyncio.sleep(0.01)  # async cleanup (closing a socket, flushing a file)
            cleaned.append("done")

    assert await rxasync.to_list(rxasync.from_async_iterable(gen).pipe(ops.take(1))) == [1]
    for _ in range(50):
        if cleaned:
            break
        await asyncio.sleep(0.005)
    assert cleaned == ["done"]


async def test_from_async_batches_emits_items_in_order_both_ways() -> None:
    async def rows() -> AsyncIterator[list[int]]:
        yield [1, 2, 3]
        yield []
        await asyncio.sleep(0)
        yield [4]

    await assert_run(lambda: rxasync.from_async_batches(rows), [1, 2, 3, 4])


async def test_from_async_batches_demand_is_per_item_mid_batch() -> None:
    emitted = 0

    async def one_big_batch() -> AsyncIterator[range]:
        yield range(1000)

    async with rxasync.to_async_iterable(
        rxasync.from_async_batches(one_big_batch).pipe(ops.do_action(lambda _: _count())), max_buffer=3
    ) as it:

        def _count() -> None:
            nonlocal emitted
            emitted += 1

        assert await it.__anext__() == 0
        await asyncio.sleep(0.02)
        assert emitted <= 1 + 3  # paused in the middle of the list
        rest = [x async for x in it]
    assert rest == list(range(1, 1000))


async def test_from_async_batches_dispose_mid_batch_closes_generator() -> None:
    closed = asyncio.Event()

    async def batches() -> AsyncIterator[list[int]]:
        try:
            while True:
                yield list(range(100))
        finally:
            closed.set()

    assert await rxasync.to_list(rxasync.from_async_batches(batches).pipe(ops.take(150))) == [
        *range(100),
        *range(50),
    ]
    await asyncio.wait_for(closed.wait(), 1)


async def test_from_async_batches_error_after_items() -> None:
    async def broken() -> AsyncIterator[list[int]]:
        yield [1, 2]
        raise OSError("device gone")

    got: list[int] = []
    with pytest.raises(OSError, match="device gone"):
        async for x in rxasync.to_async_iterable(rxasync.from_async_batches(broken)):
            got.append(x)
    assert got == [1, 2]
