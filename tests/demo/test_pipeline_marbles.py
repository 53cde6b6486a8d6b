"""The per-connection pipeline in virtual time: debounce, distinct, min length, stale results.

Diagrams: one character per tick; debounce is 3 ticks. A search's duration is
the number of ticks its cold observable waits before answering.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from reactivex import Observable
from reactivex.scheduler.eventloop import AsyncIOScheduler
from reactivex.subject import Subject
from reactivex.testing import ReactiveTest, TestScheduler

import rxasync
from examples.search_as_you_type import Keystroke, Query, queries, search_pipeline

from .marbles import hot, record, run_virtual

DEBOUNCE = 3


class FakeSearch:
    """A search whose answers arrive after a set number of ticks; records every call."""

    def __init__(self, scheduler: TestScheduler, ticks: dict[str, int], fail: frozenset[str] = frozenset()):
        self.scheduler = scheduler
        self.ticks = ticks
        self.fail = fail
        self.calls: list[tuple[int, str]] = []
        self.observables: dict[str, Any] = {}

    def __call__(self, q: str) -> Observable[Any]:
        self.calls.append((int(self.scheduler.clock), q))
        delay = self.ticks.get(q, 1)
        if q in self.fail:
            cold = self.scheduler.create_cold_observable(
                ReactiveTest.on_error(delay, RuntimeError("backend down"))
            )
        else:
            cold = self.scheduler.create_cold_observable(
                ReactiveTest.on_next(delay, {"results": [q.upper()]}), ReactiveTest.on_completed(delay)
            )
        self.observables[q] = cold
        return cold


def keys(*texts: str) -> dict[str | float, Any]:
    """Marble values: ``a``, ``b``, ... are keystrokes 1, 2, ... with these texts."""
    return {chr(ord("a") + i): Keystroke(i + 1, t) for i, t in enumerate(texts)}


def results(out: list[tuple[int, Any]]) -> list[tuple[int, str, Any]]:
    return [(t, m["q"], m.get("results")) for t, m in out if isinstance(m, dict) and m["type"] == "results"]


def acks(out: list[tuple[int, Any]]) -> list[tuple[int, int, str]]:
    return [(t, m["seq"], m["q"]) for t, m in out if isinstance(m, dict) and m["type"] == "query"]


async def test_queries_debounce_waits_for_a_pause_in_typing() -> None:
    scheduler = TestScheduler()
    keystrokes = hot(scheduler, "-a-b-c--------d-|", keys("L", "Lo", "Lon", "Lond"))
    out = record(queries(keystrokes, debounce=DEBOUNCE, scheduler=scheduler), scheduler)
    await run_virtual(scheduler, 20)
    # a and b are swallowed; c is out 3 ticks after it; completion flushes d at once
    assert out == [(8, Query(3, "lon")), (16, Query(4, "lond")), (16, "|")]


async def test_pipeline_fast_typing_makes_one_search() -> None:
    scheduler = TestScheduler()
    search = FakeSearch(scheduler, {"lond": 2})
    keystrokes = hot(scheduler, "-a-b-c-d------", keys("l", "lo", "lon", "lond"))
    out = record(search_pipeline(keystrokes, search, debounce=DEBOUNCE, scheduler=scheduler), scheduler)
    await run_virtual(scheduler, 14)
    assert search.calls == [(10, "lond")]
    assert acks(out) == [(10, 4, "lond")]
    assert results(out) == [(12, "lond", ["LOND"])]


async def test_pipeline_distinct_does_not_search_the_same_query_twice() -> None:
    scheduler = TestScheduler()
    search = FakeSearch(scheduler, {"lond": 1})
    # "Lond" then, after a pause, "londo" and back to "lond ": both normalise to "lond"
    keystrokes = hot(scheduler, "-a------b-c------", keys("Lond", "londo", "lond "))
    out = record(search_pipeline(keystrokes, search, debounce=DEBOUNCE, scheduler=scheduler), scheduler)
    await run_virtual(scheduler, 16)
    assert search.calls == [(4, "lond")]
    # every debounced keystroke is acknowledged, so the page knows its results still stand
    assert acks(out) == [(4, 1, "lond"), (13, 3, "lond")]
    assert results(out) == [(5, "lond", ["LOND"])]


async def test_pipeline_slow_earlier_search_never_overwrites_a_later_one() -> None:
    scheduler = TestScheduler()
    # "lo" is searched at 4 and would answer at 24; "lon" is searched at 11 and answers at 13
    search = FakeSearch(scheduler, {"lo": 20, "lon": 2})
    keystrokes = hot(scheduler, "-a------b---------------------", keys("lo", "lon"))
    out = record(search_pipeline(keystrokes, search, debounce=DEBOUNCE, scheduler=scheduler), scheduler)
    await run_virtual(scheduler, 30)
    assert search.calls == [(4, "lo"), (11, "lon")]
    assert results(out) == [(13, "lon", ["LON"])]
    # the slow search was disposed (its HTTP request aborted) when "lon" arrived
    [subscription] = search.observables["lo"].subscriptions
    assert (subscription.subscribe, subscription.unsubscribe) == (4, 11)


async def test_pipeline_answer_arriving_with_the_newer_query_is_dropped() -> None:
    scheduler = TestScheduler()
    # "lo" answers at tick 4 + 7 = 11, the very tick "lon" comes out of the debounce
    search = FakeSearch(scheduler, {"lo": 7, "lon": 1})
    keystrokes = hot(scheduler, "-a------b------", keys("lo", "lon"))
    out = record(search_pipeline(keystrokes, search, debounce=DEBOUNCE, scheduler=scheduler), scheduler)
    await run_virtual(scheduler, 15)
    assert results(out) == [(12, "lon", ["LON"])]


async def test_pipeline_short_query_answers_at_once_and_cancels_the_search_in_flight() -> None:
    scheduler = TestScheduler()
    search = FakeSearch(scheduler, {"lon": 10})
    keystrokes = hot(scheduler, "-a----b--------", keys("lon", "l"))
    out = record(search_pipeline(keystrokes, search, debounce=DEBOUNCE, scheduler=scheduler), scheduler)
    await run_virtual(scheduler, 15)
    assert search.calls == [(4, "lon")]
    assert [(t, m["q"], m.get("too_short")) for t, m in out if m["type"] == "results"] == [(9, "l", True)]
    [subscription] = search.observables["lon"].subscriptions
    assert subscription.unsubscribe == 9


async def test_pipeline_failed_search_is_a_message_and_the_pipeline_lives_on() -> None:
    scheduler = TestScheduler()
    search = FakeSearch(scheduler, {"lon": 1, "lond": 1}, fail=frozenset({"lon"}))
    keystrokes = hot(scheduler, "-a------b------", keys("lon", "lond"))
    out = record(search_pipeline(keystrokes, search, debounce=DEBOUNCE, scheduler=scheduler), scheduler)
    await run_virtual(scheduler, 15)
    errors = [(t, m["q"], m["message"]) for t, m in out if m["type"] == "error"]
    assert errors == [(5, "lon", "search failed: backend down")]
    assert results(out) == [(12, "lond", ["LOND"])]


@pytest.mark.parametrize(
    ("typed", "expected"), [("São Paulo", "sao paulo"), ("  LONDON!", "london"), ("北京", "北京")]
)
async def test_queries_normalise_what_was_typed(typed: str, expected: str) -> None:
    scheduler = TestScheduler()
    keystrokes = hot(scheduler, "-a---", keys(typed))
    out = record(queries(keystrokes, debounce=DEBOUNCE, scheduler=scheduler), scheduler)
    await run_virtual(scheduler, 5)
    assert out == [(4, Query(1, expected))]


async def test_pipeline_keystroke_sent_right_after_subscribing_is_not_lost() -> None:
    scheduler = AsyncIOScheduler(asyncio.get_running_loop())
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
