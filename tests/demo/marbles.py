"""Marble diagrams in virtual time, for pipelines whose async stages run on the asyncio loop.

``switch_map_async`` runs each search as an asyncio task, so the
``TestScheduler`` cannot run the whole pipeline by itself: :func:`run_virtual`
advances virtual time one tick at a time and lets the loop run the tasks in
between. Everything a tick schedules (debounce timers, cold observables'
emissions) happens at that tick.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from reactivex import Observable
from reactivex.observable.marbles import parse
from reactivex.testing import TestScheduler
from reactivex.testing.recorded import Recorded


def hot(scheduler: TestScheduler, diagram: str, values: Mapping[str | float, Any]) -> Observable[Any]:
    """A hot observable from a marble diagram, one character per tick from tick 0."""
    messages = [Recorded(int(t), n) for t, n in parse(diagram, timespan=1, lookup=values)]
    return scheduler.create_hot_observable(messages)


async def run_virtual(scheduler: TestScheduler, ticks: int, loop_steps: int = 6) -> None:
    """Advance ``scheduler`` to ``ticks``, running the asyncio loop after every tick."""
    for tick in range(1, ticks + 1):
        scheduler.advance_to(float(tick))
        for _ in range(loop_steps):
            await asyncio.sleep(0)


def record(source: Observable[Any], scheduler: TestScheduler) -> list[tuple[int, Any]]:
    """Subscribe now; return the list that fills with ``(tick, item)`` and ``(tick, "|")``."""
    out: list[tuple[int, Any]] = []
    source.subscribe(
        lambda item: out.append((int(scheduler.clock), item)),
        lambda error: out.append((int(scheduler.clock), error)),
        lambda: out.append((int(scheduler.clock), "|")),
        scheduler=scheduler,
    )
    return out
