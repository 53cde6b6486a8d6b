"""A one-worker ``map_async`` times one wait for upstream in several: the estimate stays near the truth."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import reactivex
from support import recorded

import rxasync
from rxasync.operators import map_async


async def echo(x: int) -> int:
    return x


async def test_one_worker_sampled_waits_add_up_to_the_gaps_of_a_source() -> None:
    # gaps of ~1 ms, under the pump's 2 ms: past its first 8, the stage times one wait in 8, counted 8 times
    gaps: list[float] = []

    async def spaced() -> AsyncIterator[int]:
        for i in range(120):
            began = time.perf_counter()
            await asyncio.sleep(0.001)
            gaps.append(time.perf_counter() - began)
            yield i

    with recorded() as stages:
        source = rxasync.from_async_iterable(spaced).pipe(map_async(echo, name="stage"))
        assert await rxasync.to_list(source) == list(range(120))
    stage = stages["stage"].snapshot()
    # an estimate: the timed waits stand for the ones skipped, so it may pass the truth by a little
    assert 0.5 * sum(gaps) < stage["wait_upstream_s"] < 1.5 * sum(gaps)


async def test_one_worker_on_a_source_that_never_waits_counts_little_waiting() -> None:
    # reactivex.from_iterable pushes everything at once: the stage's waits for upstream are short
    with recorded() as stages:
        source = reactivex.from_iterable(range(2000)).pipe(map_async(echo, name="stage"))
        assert await rxasync.to_list(source) == list(range(2000))
    stage = stages["stage"].snapshot()
    assert stage["items_in"] == stage["items_out"] == 2000
    assert 0.0 <= stage["wait_upstream_s"] <= stage["age_s"]
