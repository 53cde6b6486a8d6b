"""Two of the demo's pipeline marble tests (tests/demo/test_pipeline_marbles.py) on the virtual clock.

There they run on RxPY's TestScheduler, stepped one tick at a time with a
few loop iterations between (``tests/demo/marbles.run_virtual``); here the
pipeline runs on the real asyncio loop, its debounce on
``rxasync.schedulers.loop()``, with the same diagrams and the same expected
ticks.
"""

from __future__ import annotations

import asyncio
from typing import Any

from reactivex import Observable

import rxasync
from examples.search_as_you_type import Keystroke, Query, queries, search_pipeline
from rxasync.testing import VirtualClock, cold, hot, record

TICK = 0.01
DEBOUNCE = 3 * TICK


def keys(*texts: str) -> dict[str, Any]:
    return {chr(ord("a") + i): Keystroke(i + 1, t) for i, t in enumerate(texts)}


async def test_demo_queries_debounce_waits_for_a_pause_in_typing(virtual_clock: VirtualClock) -> None:
    keystrokes = hot("-a-b-c--------d-|", keys("L", "Lo", "Lon", "Lond"), tick=TICK)
    out = await record(queries(keystrokes, debounce=DEBOUNCE, scheduler=rxasync.schedulers.loop()), tick=TICK)
    assert out == [(8, Query(3, "lon")), (16, Query(4, "lond")), (16, "|")]


async def test_demo_pipeline_fast_typing_makes_one_search(virtual_clock: VirtualClock) -> None:
    calls: list[tuple[float, str]] = []
    loop = asyncio.get_running_loop()

    def search(q: str) -> Observable[Any]:
        calls.append((round(loop.time() / TICK), q))
        return cold("--(r,|)", {"r": {"results": [q.upper()]}}, tick=TICK)

    start = round(loop.time() / TICK)
    keystrokes = hot("-a-b-c-d------", keys("l", "lo", "lon", "lond"), tick=TICK)
    out = await record(
        search_pipeline(keystrokes, search, debounce=DEBOUNCE, scheduler=rxasync.schedulers.loop()),
        tick=TICK,
        ticks=14,
    )
    assert [(t - start, q) for t, q in calls] == [(10, "lond")]
    acks = [(t, m["seq"], m["q"]) for t, m in out if isinstance(m, dict) and m["type"] == "query"]
    found = [(t, m["q"], m["results"]) for t, m in out if isinstance(m, dict) and m["type"] == "results"]
    assert acks == [(10, 4, "lond")]
    assert found == [(12, "lond", ["LOND"])]
