"""The per-connection pipeline on the virtual clock: debounce, distinct, min length, stale results.

The pipeline runs on the real asyncio loop, its debounce on
``rxasync.schedulers.loop()`` and its searches as asyncio tasks
(``switch_map_async``), under ``rxasync.testing``'s virtual clock: every
diagram runs at once. One character per tick (10 ms of loop time); the
debounce is 3 ticks. A search's duration is the number of ticks its cold
observable waits before answering.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import reactivex
from reactivex import Observable, abc
from reactivex.disposable import Disposable
from reactivex.subject import Subject

import rxasync
from examples.search_as_you_type import Keystroke, Query, queries, search_pipeline
from rxasync.testing import cold, hot, record

pytestmark = pytest.mark.virtual_time

TICK = 0.01
DEBOUNCE = 3 * TICK

Events = list[tuple[int, Any]]


class Ticks:
    """The loop's time in ticks since this was made (the same instant as the test's diagrams)."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.start = self.loop.time()

    def now(self) -> int:
        return round((self.loop.time() - self.start) / TICK)


class FakeSearch:
    """A search whose answers arrive after a set number of ticks; records every call and subscription."""

    def __init__(self, ticks: dict[str, int], fail: frozenset[str] = frozenset()) -> None:
        self.clock = Ticks()
        self.ticks = ticks
        self.fail = fail
        self.calls: list[tuple[int, str]] = []
        self.subscriptions: dict[str, list[list[int]]] = {}  # q -> [[subscribed, disposed], ...]

    def __call__(self, q: str) -> Observable[Any]:
        self.calls.append((self.clock.now(), q))
        wait = "-" * self.ticks.get(q, 1)
        if q in self.fail:
            answer = cold(wait + "#", error=RuntimeError("backend down"), tick=TICK)
        else:
            answer = cold(wait + "(r,|)", {"r": {"results": [q.upper()]}}, tick=TICK)
        return self._logged(q, answer)

    def _logged(self, q: str, source: Observable[Any]) -> Observable[Any]:
        def subscribe(
            observer: abc.ObserverBase[Any], scheduler: abc.SchedulerBase | None = None
        ) -> Disposable:
            span = [self.clock.now(), -1]
            self.subscriptions.setdefault(q, []).append(span)
            inner = source.subscribe(observer, scheduler=scheduler)

            def dispose() -> None:
                span[1] = self.clock.now()
                inner.dispose()

            return Disposable(dispose)

        return reactivex.create(subscribe)


def keys(*texts: str) -> dict[str, Any]:
    """Marble values: ``a``, ``b``, ... are keystrokes 1, 2, ... with these texts."""
    return {chr(ord("a") + i): Keystroke(i + 1, t) for i, t in enumerate(texts)}


def typed(diagram: str, *texts: str) -> Observable[Keystroke]:
    return hot(diagram, keys(*texts), tick=TICK)


async def run(keystrokes: Observable[Keystroke], search: FakeSearch, ticks: int) -> Events:
    pipeline = search_pipeline(keystrokes, search, debounce=DEBOUNCE, scheduler=rxasync.schedulers.loop())
    return await record(pipeline, tick=TICK, ticks=ticks)


def results(out: Events) -> list[tuple[int, str, Any]]:
    return [(t, m["q"], m.get("results")) for t, m in out if isinstance(m, dict) and m["type"] == "results"]


def acks(out: Events) -> list[tuple[int, int, str]]:
    return [(t, m["seq"], m["q"]) for t, m in out if isinstance(m, dict) and m["type"] == "query"]


async def test_queries_debounce_waits_for_a_pause_in_typing() -> None:
    keystrokes = typed("-a-b-c--------d-|", "L", "Lo", "Lon", "Lond")
    out = await record(queries(keystrokes, debounce=DEBOUNCE, scheduler=rxasync.schedulers.loop()), tick=TICK)
    # a and b are swallowed; c is out 3 ticks after it; completion flushes d at once
    assert out == [(8, Query(3, "lon")), (16, Query(4, "lond")), (16, "|")]


async def test_pipeline_fast_typing_makes_one_search() -> None:
    search = FakeSearch({"lond": 2})
    out = await run(typed("-a-b-c-d------", "l", "lo", "lon", "lond"), search, 14)
    assert search.calls == [(10, "lond")]
    assert acks(out) == [(10, 4, "lond")]
    assert results(out) == [(12, "lond", ["LOND"])]


async def test_pipeline_distinct_does_not_search_the_same_query_twice() -> None:
    search = FakeSearch({"lond": 1})
    # "Lond" then, after a pause, "londo" and back to "lond ": both normalise to "lond"
    out = await run(typed("-a------b-c------", "Lond", "londo", "lond "), search, 16)
    assert search.calls == [(4, "lond")]
    # every debounced keystroke is acknowledged, so the page knows its results still stand
    assert acks(out) == [(4, 1, "lond"), (13, 3, "lond")]
    assert results(out) == [(5, "lond", ["LOND"])]


async def test_pipeline_slow_earlier_search_never_overwrites_a_later_one() -> None:
    # "lo" is searched at 4 and would answer at 24; "lon" is searched at 11 and answers at 13
    search = FakeSearch({"lo": 20, "lon": 2})
    out = await run(typed("-a------b---------------------", "lo", "lon"), search, 30)
    assert search.calls == [(4, "lo"), (11, "lon")]
    assert results(out) == [(13, "lon", ["LON"])]
    # the slow search was disposed (its HTTP request aborted) when "lon" arrived
    assert search.subscriptions["lo"] == [[4, 11]]


async def test_pipeline_answer_arriving_with_the_newer_query_is_dropped() -> None:
    # "lo" answers at tick 4 + 7 = 11, the very tick "lon" comes out of the debounce
    search = FakeSearch({"lo": 7, "lon": 1})
    out = await run(typed("-a------b------", "lo", "lon"), search, 15)
    assert results(out) == [(12, "lon", ["LON"])]


async def test_pipeline_short_query_answers_at_once_and_cancels_the_search_in_flight() -> None:
    search = FakeSearch({"lon": 10})
    out = await run(typed("-a----b--------", "lon", "l"), search, 15)
    assert search.calls == [(4, "lon")]
    assert [(t, m["q"], m.get("too_short")) for t, m in out if m["type"] == "results"] == [(9, "l", True)]
    [[_, disposed]] = search.subscriptions["lon"]
    assert disposed == 9


async def test_pipeline_failed_search_is_a_message_and_the_pipeline_lives_on() -> None:
    search = FakeSearch({"lon": 1, "lond": 1}, fail=frozenset({"lon"}))
    out = await run(typed("-a------b------", "lon", "lond"), search, 15)
    errors = [(t, m["q"], m["message"]) for t, m in out if m["type"] == "error"]
    assert errors == [(5, "lon", "search failed: backend down")]
    assert results(out) == [(12, "lond", ["LOND"])]


@pytest.mark.parametrize(
    ("text", "expected"), [("São Paulo", "sao paulo"), ("  LONDON!", "london"), ("北京", "北京")]
)
async def test_queries_normalise_what_was_typed(text: str, expected: str) -> None:
    keystrokes = typed("-a---", text)
    out = await record(
        queries(keystrokes, debounce=DEBOUNCE, scheduler=rxasync.schedulers.loop()), tick=TICK, ticks=5
    )
    assert out == [(4, Query(1, expected))]


async def test_pipeline_keystroke_sent_right_after_subscribing_is_not_lost() -> None:
    scheduler = rxasync.schedulers.loop()
    keystrokes: Subject[Keystroke] = Subject()

    async def search(q: str) -> dict[str, list[str]]:
        await asyncio.sleep(0)
        return {"results": [q]}

    out: list[Any] = []
    subscription = search_pipeline(
        keystrokes, lambda q: rxasync.from_awaitable(lambda: search(q)), debounce=0.01, scheduler=scheduler
    ).subscribe(out.append, scheduler=scheduler)
    keystrokes.on_next(Keystroke(1, "lond"))
    for _ in range(100):
        if len(out) == 2:
            break
        await asyncio.sleep(0.01)
    subscription.dispose()
    assert [(m["type"], m["q"]) for m in out] == [("query", "lond"), ("results", "lond")]
