"""Demand flows upstream from async stages to bridge sources, through plain RxPY operators.

The documented bound: with ``map_async(..., concurrency=c)`` downstream, a bridge
source is at most ``2 * c`` items ahead of what the stage finished (items a
``filter`` dropped hold no credit); with ``to_async_iterable(max_buffer=n)``
at most ``n + 1`` items ahead of the consumer (``n`` buffered, one in the
``async for`` body).
"""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import AsyncIterator

import pytest
import reactivex
from reactivex import operators as ops

import rxasync
from rxasync.operators import batch, map_async, map_on

MIB = 1 << 20
N = 2000


class Counts:
    def __init__(self) -> None:
        self.produced = 0
        self.dropped = 0
        self.consumed = 0
        self.max_ahead = 0

    def note(self) -> None:
        self.max_ahead = max(self.max_ahead, self.produced - self.dropped - self.consumed)

    async def big_items(self) -> AsyncIterator[bytes]:
        for i in range(N):
            self.produced += 1
            self.note()
            yield bytes(MIB) if i % 10 else b""  # every tenth is empty and gets filtered out

    def keep(self, item: tuple[int, bytes]) -> bool:
        if not item[1]:
            self.dropped += 1
            return False
        return True


@pytest.mark.virtual_time  # the stages' sleeps pass at once; the bound is the same
async def test_demand_map_async_bounds_memory_and_lead() -> None:
    counts = Counts()

    async def slow(item: tuple[int, bytes]) -> int:
        await asyncio.sleep(0.0005)
        counts.consumed += 1
        return len(item[1])

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        total = await rxasync.last(
            rxasync.from_async_iterable(counts.big_items).pipe(
                ops.map(lambda b: (len(b), b)),
                ops.filter(counts.keep),
                map_async(slow, concurrency=2),
                ops.scan(lambda acc, n: acc + n, 0),
            )
        )
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert total == (N - N // 10) * MIB
    assert counts.max_ahead <= 2 * 2
    assert peak < 32 * MIB, f"peak {peak / MIB:.1f} MiB"


@pytest.mark.virtual_time  # the stages' sleeps pass at once; the bound is the same
async def test_demand_to_async_iterable_bounds_memory_and_lead() -> None:
    counts = Counts()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        source = rxasync.from_async_iterable(counts.big_items).pipe(
            ops.map(lambda b: (len(b), b)), ops.filter(counts.keep)
        )
        async with rxasync.to_async_iterable(source, max_buffer=4) as items:
            async for _item in items:
                await asyncio.sleep(0.0002)
                counts.consumed += 1
                del _item
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert counts.consumed == N - N // 10
    assert counts.max_ahead <= 4 + 1  # the buffer, plus the item the loop body holds
    assert peak < 32 * MIB, f"peak {peak / MIB:.1f} MiB"


async def test_demand_filter_dropping_everything_never_blocks_source() -> None:
    async def many() -> AsyncIterator[int]:
        for i in range(10_000):
            yield i

    async def never_called(x: int) -> int:
        raise AssertionError("filtered items must not reach the stage")

    out = await rxasync.to_list(
        rxasync.from_async_iterable(many).pipe(ops.filter(lambda x: x < 0), map_async(never_called))
    )
    assert out == []


async def test_demand_through_buffer_with_count_and_take() -> None:
    produced = 0

    async def gen() -> AsyncIterator[int]:
        nonlocal produced
        for i in range(1_000_000):
            produced += 1
            yield i

    async def slow(chunk: list[int]) -> int:
        await asyncio.sleep(0.001)
        return sum(chunk)

    out = await rxasync.to_list(
        rxasync.from_async_iterable(gen).pipe(batch(10), map_async(slow, concurrency=1), ops.take(5))
    )
    assert out == [sum(range(i * 10, i * 10 + 10)) for i in range(5)]
    # 5 batches taken, at most 2 more batches' worth held by the stage, plus one in the making
    assert produced <= (5 + 2 + 1) * 10


@pytest.mark.virtual_time  # the stages' sleeps pass at once; the bound is the same
async def test_demand_chains_through_two_stages() -> None:
    produced = 0
    gate = asyncio.Event()

    async def gen() -> AsyncIterator[int]:
        nonlocal produced
        for i in range(1000):
            produced += 1
            yield i

    async def fast(x: int) -> int:
        return x

    async def blocked(x: int) -> int:
        await gate.wait()
        return x

    task = asyncio.ensure_future(
        rxasync.to_list(
            rxasync.from_async_iterable(gen).pipe(
                map_async(fast, concurrency=4), ops.map(lambda x: x), map_async(blocked, concurrency=1)
            )
        )
    )
    await asyncio.sleep(0.05)
    # second stage holds 2, the first stage 8 more, the source one in between
    assert produced <= 2 + 8 + 2
    gate.set()
    assert await task == list(range(1000))


async def test_demand_map_on_bounds_lead() -> None:
    from concurrent.futures import ThreadPoolExecutor

    produced = 0
    done = 0

    async def gen() -> AsyncIterator[int]:
        nonlocal produced
        for i in range(200):
            produced += 1
            assert produced - done <= 2 * 2 + 1
            yield i

    def work(x: int) -> int:
        nonlocal done
        import time

        time.sleep(0.001)
        return x

    async def count(x: int) -> int:
        nonlocal done
        done += 1
        return x

    with ThreadPoolExecutor(2) as pool:
        out = await rxasync.to_list(
            rxasync.from_async_iterable(gen).pipe(map_on(work, pool, concurrency=2), map_async(count))
        )
    assert out == list(range(200))


async def test_demand_plain_rx_source_is_buffered_not_lost() -> None:
    out = [x async for x in rxasync.to_async_iterable(reactivex.range(1000), max_buffer=2)]
    assert out == list(range(1000))
