"""retry_with_backoff and batch, in virtual time with RxPY's TestScheduler."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import reactivex
from reactivex import Observable, abc
from reactivex.testing import ReactiveTest, TestScheduler

import rxasync
from rxasync.operators import batch, retry_with_backoff
from rxasync.operators._timing import backoff_delay

on_next, on_completed, on_error = ReactiveTest.on_next, ReactiveTest.on_completed, ReactiveTest.on_error


def flaky(fail_times: int, error: Exception, log: list[float], scheduler: TestScheduler) -> Observable[str]:
    def subscribe(observer: abc.ObserverBase[str], _: abc.SchedulerBase | None = None) -> abc.DisposableBase:
        log.append(scheduler.clock)
        if len(log) <= fail_times:
            observer.on_next(f"attempt {len(log)}")
            observer.on_error(error)
        else:
            observer.on_next("ok")
            observer.on_completed()
        return reactivex.disposable.Disposable()

    return reactivex.create(subscribe)


def test_retry_with_backoff_waits_exponentially() -> None:
    scheduler = TestScheduler()
    log: list[float] = []
    source = flaky(3, ConnectionError("reset"), log, scheduler).pipe(
        retry_with_backoff(
            max_attempts=5, initial_delay=10, max_delay=1000, multiplier=2, jitter=0, scheduler=scheduler
        )
    )
    result = scheduler.start(lambda: source, created=0, subscribed=100, disposed=10_000)
    assert log == [100, 110, 130, 170]
    assert [m.value.value for m in result.messages if m.value.kind == "N"] == [
        "attempt 1",
        "attempt 2",
        "attempt 3",
        "ok",
    ]
    assert result.messages[-1] == on_completed(170)


def test_retry_with_backoff_caps_delay_and_gives_up_with_note() -> None:
    scheduler = TestScheduler()
    log: list[float] = []
    error = ConnectionError("down")
    source = flaky(10, error, log, scheduler).pipe(
        retry_with_backoff(
            max_attempts=4, initial_delay=10, max_delay=15, multiplier=3, jitter=0, scheduler=scheduler
        )
    )
    result = scheduler.start(lambda: source, created=0, subscribed=100, disposed=10_000)
    assert log == [100, 110, 125, 140]
    assert result.messages[-1] == on_error(140, error)
    assert any("gave up after 4 attempts" in n for n in error.__notes__)


def test_retry_with_backoff_transient_an_item_starts_the_count_and_backoff_again() -> None:
    # every attempt delivers an item before it fails: ten separate outages, none past the budget
    scheduler = TestScheduler()
    log: list[float] = []
    source = flaky(10, ConnectionError("down"), log, scheduler).pipe(
        retry_with_backoff(
            max_attempts=4, initial_delay=10, max_delay=1000, multiplier=3, jitter=0, scheduler=scheduler,
            transient=True,
        )
    )  # fmt: skip
    result = scheduler.start(lambda: source, created=0, subscribed=100, disposed=10_000)
    assert log == [100 + 10 * i for i in range(11)]  # the first retry's wait each time
    assert result.messages[-1] == on_completed(200)


def test_retry_with_backoff_without_transient_counts_attempts_over_the_whole_run() -> None:
    scheduler = TestScheduler()
    log: list[float] = []
    error = ConnectionError("down")
    source = flaky(10, error, log, scheduler).pipe(
        retry_with_backoff(max_attempts=4, initial_delay=10, multiplier=1, jitter=0, scheduler=scheduler)
    )
    result = scheduler.start(lambda: source, created=0, subscribed=100, disposed=10_000)
    assert len(log) == 4
    assert result.messages[-1] == on_error(130, error)


def test_retry_with_backoff_does_not_retry_unselected_errors() -> None:
    scheduler = TestScheduler()
    log: list[float] = []
    error = ValueError("bad input")
    source = flaky(1, error, log, scheduler).pipe(
        retry_with_backoff(max_attempts=5, retry_on=ConnectionError, scheduler=scheduler)
    )
    result = scheduler.start(lambda: source, created=0, subscribed=100, disposed=10_000)
    assert log == [100]
    assert result.messages[-1] == on_error(100, error)


def test_retry_with_backoff_predicate_and_retry_after_hint() -> None:
    scheduler = TestScheduler()
    log: list[float] = []
    error = ConnectionError("busy")
    error.retry_after = 50  # type: ignore[attr-defined]
    source = flaky(1, error, log, scheduler).pipe(
        retry_with_backoff(
            max_attempts=3,
            initial_delay=1,
            max_delay=100,
            jitter=0,
            retry_on=lambda e: "busy" in str(e),
            scheduler=scheduler,
        )
    )
    scheduler.start(lambda: source, created=0, subscribed=100, disposed=10_000)
    assert log == [100, 150]


def test_backoff_delay_jitter_stays_in_range() -> None:
    for attempt in range(1, 8):
        full = min(5.0, 0.1 * 2 ** (attempt - 1))
        for _ in range(50):
            d = backoff_delay(attempt, 0.1, 5.0, 2.0, 0.5)
            assert full * 0.5 <= d <= full
    assert backoff_delay(1, 0.1, 5.0, 2.0, 0.5, rng=lambda: 1.0) == pytest.approx(0.05)


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"multiplier": 0.5}, {"jitter": 2}, {"initial_delay": -1}, {"retry_on": 3}],
)
def test_retry_with_backoff_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises((ValueError, TypeError)):
        retry_with_backoff(**kwargs)


async def test_retry_with_backoff_on_loop_resubscribes_async_source() -> None:
    attempts = 0

    async def fetch() -> str:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise ConnectionError("try again")
        return "ok"

    source = rxasync.from_awaitable(fetch).pipe(retry_with_backoff(initial_delay=0.001))
    assert await rxasync.first(source) == "ok"
    assert attempts == 3


@pytest.mark.virtual_time
async def test_retry_with_backoff_dispose_cancels_pending_retry() -> None:
    attempts = 0

    async def fetch() -> str:
        nonlocal attempts
        attempts += 1
        raise ConnectionError("down")

    sub = rxasync.from_awaitable(fetch).pipe(retry_with_backoff(initial_delay=0.05)).subscribe(on_error=print)
    await asyncio.sleep(0.01)
    sub.dispose()
    await asyncio.sleep(0.1)
    assert attempts == 1


def test_batch_flushes_when_full_late_and_at_completion() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(210, "a"),
        on_next(220, "b"),
        on_next(230, "c"),
        on_next(240, "d"),
        on_next(400, "e"),
        on_completed(410),
    )
    result = scheduler.start(lambda: source.pipe(batch(3, max_latency=50, scheduler=scheduler)))
    assert result.messages == [
        on_next(230, ["a", "b", "c"]),
        on_next(290, ["d"]),  # 50 after its first item
        on_next(410, ["e"]),  # flushed at completion, before its timer
        on_completed(410),
    ]


def test_batch_never_emits_empty_lists() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(on_next(210, 1), on_next(211, 2), on_completed(1000))
    result = scheduler.start(lambda: source.pipe(batch(2, max_latency=5, scheduler=scheduler)))
    assert result.messages == [on_next(211, [1, 2]), on_completed(1000)]


def test_batch_error_drops_partial_batch() -> None:
    scheduler = TestScheduler()
    error = RuntimeError("x")
    source = scheduler.create_hot_observable(on_next(210, 1), on_error(220, error))
    result = scheduler.start(lambda: source.pipe(batch(5, scheduler=scheduler)))
    assert result.messages == [on_error(220, error)]


async def test_batch_on_the_loop() -> None:
    assert await rxasync.to_list(reactivex.range(7).pipe(batch(3, 0.01))) == [[0, 1, 2], [3, 4, 5], [6]]


@pytest.mark.parametrize(("size", "latency"), [(0, None), (2, 0), (2, -1.0)])
def test_batch_bad_arguments(size: int, latency: float | None) -> None:
    with pytest.raises(ValueError):
        batch(size, latency)
