"""Sampled counters stay near the truth: a one-worker ``map_async``'s timed waits, a running pump's count."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import reactivex
from support import recorded

import rxasync
from rxasync._pump import _TOP
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


async def test_a_running_bridge_sources_count_lags_by_at_most_a_run() -> None:
    # the pump writes its counts at each timed item, at least one in _TOP (1,024; it was 256 for a while)
    lags: list[int] = []

    async def numbers() -> AsyncIterator[int]:
        for i in range(20_000):
            yield i

    with recorded() as stages:
        source = rxasync.from_async_iterable(numbers, name="read")

        def on_next(i: int) -> None:
            if i % 97 == 0:  # i items have gone out before this one
                lags.append(i - stages["read"].snapshot()["items_out"])

        done = asyncio.get_running_loop().create_future()
        source.subscribe(on_next, done.set_exception, lambda: done.set_result(None))
        await done
    assert stages["read"].snapshot()["items_out"] == 20_000  # exact at the end
    assert min(lags) >= 0
    assert max(lags) <= _TOP - 1
