"""``map_async``'s counters while it runs and when it is cut short: a result that went out while the stage
then waited for room is counted out, and a fused one-worker stage shows its source's stall while it lasts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import reactivex.operators as ops
from support import recorded

import rxasync
from rxasync.operators import map_async


async def echo(x: int) -> int:
    return x


async def numbers(n: int) -> AsyncIterator[int]:
    for i in range(n):
        yield i


@pytest.mark.parametrize("concurrency", [1, 2, 64])
async def test_a_result_out_before_a_dispose_that_lands_in_the_wait_for_room_is_counted(
    concurrency: int,
) -> None:
    # to_async_iterable holds 2: the stage emits the 3rd and waits for room below, and the consumer
    # leaves then. Its items out were counted after that wait, so the one it had sent was lost.
    with recorded() as stages:
        source = rxasync.from_async_iterable(lambda: numbers(100)).pipe(
            ops.map(lambda x: x), map_async(echo, concurrency=concurrency, name="m")
        )
        got = []
        async with rxasync.to_async_iterable(source, max_buffer=2) as items:
            async for x in items:
                got.append(x)
                if len(got) == 3:
                    for _ in range(20):
                        await asyncio.sleep(0)
                    break
        for _ in range(10):
            await asyncio.sleep(0)
    stage = stages["m"].snapshot()
    (channel,) = [s.snapshot() for name, s in stages.items() if name.startswith("to_async_iterable")]
    assert stage["state"] == "disposed"
    assert stage["items_out"] == channel["items_in"], (stage, channel)
    assert stage["in_flight"] == 0


async def test_a_fused_stage_shows_its_sources_stall_while_it_lasts() -> None:
    # A one-worker map_async pulls its source itself: its waits for upstream are the source's pulls.
    # It took the source's figure at the source's reads only, so a stall read as no wait until it ended.
    async def stalls() -> AsyncIterator[int]:
        for i in range(50):
            yield i
        await asyncio.sleep(0.6)
        yield 50

    with recorded() as stages:
        source = rxasync.from_async_iterable(stalls, name="src").pipe(map_async(echo, name="m"))
        task = asyncio.ensure_future(rxasync.to_list(source))
        await asyncio.sleep(0.1)
        before = stages["m"].snapshot()
        await asyncio.sleep(0.3)
        after = stages["m"].snapshot()
        assert await task == list(range(51))
        final = stages["m"].snapshot()
    waited = after["wait_upstream_s"] - before["wait_upstream_s"]
    assert waited > 0.5 * (after["age_s"] - before["age_s"]), (before, after)
    assert 0.5 < final["wait_upstream_s"] <= final["age_s"], final
