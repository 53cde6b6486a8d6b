"""Regressions found in review: sources on other threads, disposal edges, cleanup errors."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator

import reactivex
from reactivex import operators as ops
from reactivex.scheduler.eventloop import AsyncIOScheduler

import rxasync
from rxasync.operators import batch, switch_map_async


async def test_first_and_iteration_of_a_source_on_a_timer_thread() -> None:
    started = time.monotonic()
    assert await asyncio.wait_for(rxasync.first(reactivex.timer(0.05)), 2) == 0
    assert time.monotonic() - started < 1
    got = [x async for x in rxasync.to_async_iterable(reactivex.timer(0.05))]
    assert got == [0]
    assert await asyncio.wait_for(rxasync.to_list(reactivex.timer(0.01, 0.01).pipe(ops.take(3))), 2) == [
        0,
        1,
        2,
    ]


async def test_first_through_an_operator_stops_a_generator_that_never_awaits() -> None:
    pulled = 0

    async def tight() -> AsyncIterator[int]:
        nonlocal pulled
        while True:
            pulled += 1
            yield pulled

    assert (
        await asyncio.wait_for(rxasync.first(rxasync.from_async_iterable(tight).pipe(ops.map(str))), 2) == "1"
    )
    assert pulled == 1


async def test_switch_map_async_latest_call_cancelled_from_inside_still_completes() -> None:
    async def cancelled_by_someone_else(x: int) -> int:
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(0.01, fut.cancel)
        return await fut

    out = await asyncio.wait_for(
        rxasync.to_list(reactivex.of(1).pipe(switch_map_async(cancelled_by_someone_else))), 2
    )
    assert out == []


async def test_switch_map_async_after_a_timer_thread() -> None:
    async def echo(x: int) -> tuple[int, str]:
        return x, threading.current_thread().name

    out = await asyncio.wait_for(rxasync.to_list(reactivex.timer(0.02).pipe(switch_map_async(echo))), 2)
    assert out == [(0, threading.main_thread().name)]


async def test_batch_latency_timer_started_from_a_producer_thread() -> None:
    started = time.monotonic()
    out = await asyncio.wait_for(
        rxasync.first(reactivex.timer(0.02).pipe(ops.concat(reactivex.never()), batch(10, max_latency=0.05))),
        2,
    )
    assert out == [0]
    assert time.monotonic() - started < 1


async def test_from_async_iterable_cleanup_error_after_an_error_still_terminates() -> None:
    async def gen() -> AsyncIterator[int]:
        try:
            yield 1
            yield 2
        finally:
            raise OSError("close failed")  # runs in aclose(), after the observer's error

    def on_next(_: int) -> None:
        raise ValueError("observer bug")

    terminal: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    rxasync.from_async_iterable(gen).subscribe(
        on_next, lambda e: terminal.set_result(repr(e)), lambda: terminal.set_result("completed")
    )
    assert await asyncio.wait_for(terminal, 2) == "ValueError('observer bug')"


async def test_from_async_iterable_cleanup_error_is_the_error_after_dispose_by_take() -> None:
    async def gen() -> AsyncIterator[int]:
        try:
            yield 1
            yield 2
        finally:
            raise OSError("close failed")

    # take(1) disposes from inside on_next; the cleanup error then has nobody to go to,
    # and must not escape as "Task exception was never retrieved" (no_leaks checks the loop)
    assert await rxasync.to_list(rxasync.from_async_iterable(gen).pipe(ops.take(1))) == [1]


async def test_from_awaitable_disposed_before_it_ran_cancels_the_future() -> None:
    fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    rxasync.from_awaitable(fut).subscribe(lambda _: None).dispose()
    await asyncio.sleep(0.01)
    assert fut.cancelled()

    async def work() -> int:
        await asyncio.sleep(1)
        return 1

    rxasync.from_awaitable(work()).subscribe(lambda _: None).dispose()  # no "never awaited" warning
    await asyncio.sleep(0.01)


async def test_bridge_subscribed_and_disposed_from_a_worker_thread_delivers_nothing_after() -> None:
    # Subscribed from another thread, the pump calls the observer RxPY gave it
    # as it is (its stopped check included): nothing arrives after dispose.
    loop = asyncio.get_running_loop()
    closed = asyncio.Event()
    got: list[int] = []

    async def endless() -> AsyncIterator[int]:
        i = 0
        try:
            while True:
                yield i
                i += 1
                await asyncio.sleep(0)
        finally:
            closed.set()

    def subscribe_then_dispose() -> None:
        sub = rxasync.from_async_iterable(endless).subscribe(got.append, scheduler=AsyncIOScheduler(loop))
        sub.dispose()

    worker = threading.Thread(target=subscribe_then_dispose)
    worker.start()
    await asyncio.to_thread(worker.join)
    await asyncio.sleep(0.05)
    assert got == []

    five = asyncio.Event()

    def on_next(x: int) -> None:
        got.append(x)
        if len(got) == 5:
            five.set()

    sub = rxasync.from_async_iterable(endless).subscribe(on_next)  # on the loop: the direct path
    await asyncio.wait_for(five.wait(), 2)
    sub.dispose()
    count = len(got)
    await asyncio.wait_for(closed.wait(), 1)
    await asyncio.sleep(0.01)
    assert len(got) == count
    assert got == list(range(count))
