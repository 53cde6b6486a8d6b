"""Marble helpers on the loop clock: cold and hot sources, recording, and the readable diff."""

from __future__ import annotations

import asyncio

import pytest
from reactivex import operators as ops

import rxasync
from rxasync.operators import batch, map_async, switch_map_async
from rxasync.testing import VirtualClock, assert_marbles, cold, draw, hot, record


async def test_marbles_cold_replays_for_each_subscriber(virtual_clock: VirtualClock) -> None:
    source = cold("-a-b|")
    assert await record(source) == [(1, "a"), (3, "b"), (4, "|")]
    assert await record(source) == [(1, "a"), (3, "b"), (4, "|")]


async def test_marbles_hot_is_shared_and_missed_items_are_gone(virtual_clock: VirtualClock) -> None:
    source = hot("-a-b-c|")
    await asyncio.sleep(0.02)
    assert await record(source) == [(1, "b"), (3, "c"), (4, "|")]  # ticks counted from subscription


async def test_marbles_values_errors_and_groups(virtual_clock: VirtualClock) -> None:
    source = cold("-x-(y,z)-#", {"x": 1, "y": 2, "z": 3}, error=ValueError("boom"))
    with pytest.raises(ValueError, match="boom"):
        await rxasync.to_list(source)
    await assert_marbles(source, "-1-(2,3)-#")


async def test_marbles_debounce_and_async_stages_on_the_clock(virtual_clock: VirtualClock) -> None:
    sched = rxasync.schedulers.loop()

    async def slow_upper(s: str) -> str:
        await asyncio.sleep(0.02)  # two ticks
        return s.upper()

    typed = cold("-a-b-----c---d|")
    await assert_marbles(typed.pipe(ops.debounce(0.03, scheduler=sched)), "------b-----c-(d,|)")
    await assert_marbles(typed.pipe(map_async(slow_upper)), "---A-B-----C---(D,|)")
    await assert_marbles(typed.pipe(switch_map_async(slow_upper)), "-----B-----C---(D,|)")


async def test_marbles_batch_max_latency_in_ticks(virtual_clock: VirtualClock) -> None:
    source = cold("a-b---c-----|")
    await assert_marbles(source.pipe(batch(5, max_latency=0.04), ops.map(len)), "----2-----1-|")


async def test_marbles_mismatch_shows_both_diagrams_and_the_difference(virtual_clock: VirtualClock) -> None:
    with pytest.raises(AssertionError) as info:
        await assert_marbles(cold("-a-b|"), "-a--b|")
    message = str(info.value)
    assert "expected: -a--b|" in message
    assert "actual:   -a-b|" in message
    assert "- (4, 'b')" in message
    assert "+ (3, 'b')" in message


async def test_marbles_ticks_stop_a_source_that_never_ends(virtual_clock: VirtualClock) -> None:
    await assert_marbles(cold("-a-b---"), "-a-b", ticks=50)


def test_marbles_draw_groups_items_at_one_tick() -> None:
    assert draw([(0, "a"), (2, "b"), (2, "|")]) == "a-(b,|)"
    assert draw([]) == ""
