"""switch_map_async: latest item only, cancellation, stale results never emitted."""

from __future__ import annotations

import asyncio

import pytest
import reactivex
from reactivex.subject import Subject

import rxasync
from rxasync.operators import switch_map_async


@pytest.mark.virtual_time
async def test_switch_map_async_new_item_cancels_call_in_flight() -> None:
    cancelled: list[str] = []
    subject: Subject[str] = Subject()

    async def search(q: str) -> str:
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            cancelled.append(q)
            raise
        return q.upper()

    results: list[str] = []
    done = asyncio.Event()
    subject.pipe(switch_map_async(search)).subscribe(results.append, on_completed=done.set)
    subject.on_next("l")
    await asyncio.sleep(0.01)
    subject.on_next("lo")
    await asyncio.sleep(0.01)
    subject.on_next("lon")
    subject.on_completed()
    await asyncio.wait_for(done.wait(), 1)
    assert cancelled == ["l", "lo"]
    assert results == ["LON"]


async def test_switch_map_async_stale_result_finished_same_tick_is_dropped() -> None:
    subject: Subject[int] = Subject()
    gates = {1: asyncio.get_running_loop().create_future(), 2: asyncio.get_running_loop().create_future()}

    async def answer(x: int) -> int:
        try:
            return await gates[x]
        except asyncio.CancelledError:
            return -1  # a coroutine that swallows cancellation still must not be emitted

    results: list[int] = []
    subject.pipe(switch_map_async(answer)).subscribe(results.append)
    subject.on_next(1)
    await asyncio.sleep(0)
    gates[1].set_result(100)  # finished, but its done-callback has not run yet
    subject.on_next(2)  # supersedes it in the same loop iteration
    await asyncio.sleep(0)
    gates[2].set_result(200)
    await asyncio.sleep(0.01)
    assert results == [200]


async def test_switch_map_async_completes_after_latest_finishes() -> None:
    async def later(x: int) -> int:
        await asyncio.sleep(0.01)
        return x

    assert await rxasync.to_list(reactivex.of(1, 2, 3).pipe(switch_map_async(later))) == [3]


async def test_switch_map_async_emits_each_when_not_superseded() -> None:
    async def quick(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    async def spaced():  # type: ignore[no-untyped-def]
        for i in range(3):
            yield i
            await asyncio.sleep(0.01)

    assert await rxasync.to_list(rxasync.from_async_iterable(spaced).pipe(switch_map_async(quick))) == [
        0,
        2,
        4,
    ]


async def test_switch_map_async_error_of_latest_is_delivered() -> None:
    async def bad(x: int) -> int:
        raise LookupError(f"no {x}")

    with pytest.raises(LookupError, match="no 3"):
        await rxasync.to_list(reactivex.of(1, 2, 3).pipe(switch_map_async(bad)))


async def test_switch_map_async_dispose_cancels_in_flight() -> None:
    cancelled = asyncio.Event()

    async def slow(x: int) -> int:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return x

    subject: Subject[int] = Subject()
    sub = subject.pipe(switch_map_async(slow)).subscribe(lambda _: None)
    subject.on_next(1)
    await asyncio.sleep(0.01)
    sub.dispose()
    await asyncio.wait_for(cancelled.wait(), 1)
    assert not subject.observers
