"""A batching sink (``copy_records``, ``write_stream``, ``ack``) waiting for items is waiting for upstream."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from support import recorded

import rxasync
from rxasync._batching import batch_stage


async def spaced(n: int, gap: float) -> AsyncIterator[int]:
    for i in range(n):
        await asyncio.sleep(gap)
        yield i


async def send(_: object, batch: list[Any], _handed: Callable[[], None]) -> list[Any]:
    await asyncio.sleep(0)
    return batch


async def test_batch_stage_counts_its_waits_between_items_as_waiting_upstream() -> None:
    with recorded() as stages:
        source = rxasync.from_async_iterable(lambda: spaced(6, 0.05), name="read")
        sink = batch_stage(source, "sink", 10, contextlib.nullcontext, send, "sink")
        assert await rxasync.to_list(sink) == list(range(6))
    sink_stats = stages["sink"].snapshot()
    # ~0.3 s of its life is spent waiting for the next item (before the fix: only the first 0.05 s)
    assert sink_stats["wait_upstream_s"] > 0.6 * sink_stats["age_s"]
