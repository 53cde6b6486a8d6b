"""map_async(concurrency=1) starts a call where the item arrives (the parked worker's first step).

Every case runs from a bridge source, where the worker is parked when the
items come, so the eager path is the one taken; the results must be those
of a task per call: order, the task it runs in, timeouts, context
variables, cancellation, errors, and the demand bound.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator

import pytest
import reactivex
from reactivex import operators as ops

import rxasync
from rxasync.operators import map_async, map_on

VAR: contextvars.ContextVar[int] = contextvars.ContextVar("VAR", default=-1)


def numbers(n: int) -> reactivex.Observable[int]:
    async def gen() -> AsyncIterator[int]:
        for i in range(n):
            yield i

    return rxasync.from_async_iterable(gen)


async def test_map_async_eager_mixes_calls_that_finish_and_calls_that_suspend_in_order() -> None:
    async def sometimes(x: int) -> int:
        if x % 3 == 0:
            await asyncio.sleep(0)
        if x % 5 == 0:
            await asyncio.sleep(0.001)
        return 2 * x

    for ordered in (True, False):
        got = await rxasync.to_list(numbers(60).pipe(map_async(sometimes, ordered=ordered)))
        assert got == [2 * i for i in range(60)]  # one at a time: completion order is input order


async def test_map_async_eager_runs_every_call_in_one_worker_task_not_the_sources() -> None:
    tasks: list[asyncio.Task[object] | None] = []

    async def where(x: int) -> int:
        tasks.append(asyncio.current_task())
        return x

    await rxasync.to_list(numbers(20).pipe(map_async(where)))
    assert len(set(tasks)) == 1
    assert tasks[0] is not asyncio.current_task()  # not the awaiting task, not the pump: the worker


async def test_map_async_eager_timeout_inside_the_call_cancels_only_that_call() -> None:
    async def bounded(x: int) -> str:
        try:
            async with asyncio.timeout(0.01):
                await asyncio.sleep(1 if x == 3 else 0)
        except TimeoutError:
            return "late"
        return "ok"

    got = await rxasync.to_list(numbers(6).pipe(map_async(bounded)))
    assert got == ["ok", "ok", "ok", "late", "ok", "ok"]


async def test_map_async_eager_context_variable_set_before_a_suspension_is_seen_after_it() -> None:
    async def keeps(x: int) -> int:
        VAR.set(x)
        await asyncio.sleep(0)
        return VAR.get()

    assert await rxasync.to_list(numbers(10).pipe(map_async(keeps))) == list(range(10))
    assert VAR.get() == -1  # the calls' context is the stage's, not the caller's


async def test_map_async_eager_dispose_cancels_a_suspended_call_and_runs_its_finally() -> None:
    started, cleaned = asyncio.Event(), []

    async def forever(x: int) -> int:
        try:
            if x == 2:
                started.set()
                await asyncio.sleep(3600)
            return x
        finally:
            cleaned.append(x)

    got: list[int] = []
    sub = numbers(10).pipe(map_async(forever)).subscribe(got.append)
    await asyncio.wait_for(started.wait(), 5)
    sub.dispose()
    await asyncio.sleep(0.01)
    assert got == [0, 1]
    assert cleaned == [0, 1, 2]


@pytest.mark.parametrize("at_once", [True, False])
async def test_map_async_eager_error_raised_before_and_after_a_suspension_is_delivered_once(
    at_once: bool,
) -> None:
    async def fails(x: int) -> int:
        if not at_once:
            await asyncio.sleep(0)
        if x == 4:
            raise ValueError(f"bad {x}")
        return x

    errors: list[Exception] = []
    got: list[int] = []
    done = asyncio.Event()
    numbers(10).pipe(map_async(fails)).subscribe(got.append, lambda e: (errors.append(e), done.set()))
    await asyncio.wait_for(done.wait(), 5)
    assert got == [0, 1, 2, 3]
    assert [str(e) for e in errors] == ["bad 4"]


async def test_map_async_eager_keeps_the_demand_bound_of_two_items() -> None:
    pulled = []

    async def gen() -> AsyncIterator[int]:
        for i in range(50):
            pulled.append(i)
            yield i

    async def slow(x: int) -> int:
        await asyncio.sleep(0.001)
        assert len(pulled) - x <= 3  # taken at most two ahead of the call running (and the one pulled)
        return x

    got = await rxasync.to_list(rxasync.from_async_iterable(gen).pipe(map_async(slow)))
    assert got == list(range(50))


async def test_map_async_eager_waits_for_a_full_consumer_below() -> None:
    async def echo(x: int) -> int:
        return x

    source = numbers(30).pipe(map_async(echo), ops.map(lambda x: x))
    got = []
    async with rxasync.to_async_iterable(source, max_buffer=2) as items:
        async for x in items:
            got.append(x)
            await asyncio.sleep(0)
    assert got == list(range(30))


async def test_map_on_with_one_worker_still_awaits_its_futures() -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        got = await rxasync.to_list(numbers(20).pipe(map_on(lambda x: -x, pool)))
    assert got == [-i for i in range(20)]


async def test_map_async_eager_plain_function_still_says_it_needs_a_coroutine_function() -> None:
    with pytest.raises(TypeError, match="needs a coroutine function"):
        await rxasync.to_list(numbers(5).pipe(map_async(lambda x: x)))  # type: ignore[arg-type,return-value]


async def test_map_async_eager_call_that_feeds_its_own_source_then_suspends() -> None:
    from reactivex.subject import Subject

    subject: Subject[int] = Subject()

    async def feeds(x: int) -> int:
        if x < 5:
            subject.on_next(x + 10)  # arrives while this call runs: queued, the worker woken
        await asyncio.sleep(0)  # then this call suspends: handed to the (already woken) worker
        return x

    got: list[int] = []
    errors: list[Exception] = []
    done = asyncio.Event()
    subject.pipe(map_async(feeds)).subscribe(got.append, errors.append, done.set)
    subject.on_next(0)
    await asyncio.sleep(0.01)
    subject.on_next(1)  # the worker is parked now: this call starts at once
    await asyncio.sleep(0.01)
    subject.on_completed()
    await asyncio.wait_for(done.wait(), 5)
    assert errors == []
    assert got == [0, 10, 1, 11]
