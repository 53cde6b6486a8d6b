"""rxasync's and RxPY's timers on the virtual clock: the times real time gives, in a fraction of it.

Each scenario records ``(loop seconds since start, item)``. The short ones run
both in real time and in virtual time and the two recordings are compared;
the long ones (minutes) run in virtual time only, against the times worked out
by hand. Real time is checked only loosely (a tenth of the virtual time), to
show that the waits were skipped without asserting speed; the real durations
are in the testing guide.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import reactivex
from aiohttp import web
from reactivex import Observable
from reactivex import operators as ops

import rxasync
from rxasync.files import tail
from rxasync.http import sse
from rxasync.http._examples import serve
from rxasync.operators import batch, retry_with_backoff
from rxasync.testing import VirtualClock, virtual_time


async def timeline(source: Observable[Any]) -> list[tuple[float, Any]]:
    """Every item with the loop time it arrived at, from subscription; ``"|"`` at completion."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    out: list[tuple[float, Any]] = []
    async with rxasync.to_async_iterable(source) as items:
        async for item in items:
            out.append((round(loop.time() - start, 3), item))
    out.append((round(loop.time() - start, 3), "|"))
    return out


def emit_at(*timed: tuple[float, Any]) -> Observable[Any]:
    """A bridge source that sleeps on the loop until each ``(time, item)`` (from its start: no drift)."""

    async def gen() -> AsyncIterator[Any]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for at, item in timed:
            await asyncio.sleep(max(0.0, start + at - loop.time()))
            yield item

    return rxasync.from_async_iterable(gen)


async def both_ways(
    scenario: Callable[[], Awaitable[list[tuple[float, Any]]]],
) -> tuple[list[Any], list[Any]]:
    """The scenario's recording in real time, then in virtual time; the virtual run must be fast."""
    started = time.monotonic()
    real = await scenario()
    real_run = time.monotonic() - started
    started = time.monotonic()
    with virtual_time():
        virtual = await scenario()
    assert time.monotonic() - started < real_run / 2  # the virtual run skipped the waits
    return real, virtual


def assert_same_times(real: list[tuple[float, Any]], virtual: list[tuple[float, Any]], slack: float) -> None:
    assert [item for _, item in real] == [item for _, item in virtual]
    for (t_real, item), (t_virtual, _) in zip(real, virtual, strict=True):
        assert t_virtual == pytest.approx(t_real, abs=slack), item


async def test_debounce_150ms_same_times_real_and_virtual() -> None:
    def pipeline() -> Observable[Any]:
        source = emit_at((0.0, "a"), (0.05, "b"), (0.1, "c"), (0.4, "d"), (0.6, "e"))
        return source.pipe(ops.debounce(0.15, scheduler=rxasync.schedulers.loop()))

    real, virtual = await both_ways(lambda: timeline(pipeline()))
    assert [item for _, item in virtual] == ["c", "d", "e", "|"]
    assert [t for t, _ in virtual] == pytest.approx([0.25, 0.55, 0.6, 0.6], abs=0.002)
    assert_same_times(real, virtual, slack=0.08)


async def test_batch_max_latency_same_times_real_and_virtual() -> None:
    def pipeline(scale: float) -> Observable[Any]:
        source = emit_at((0.0, 1), (0.5 * scale, 2), (3.0 * scale, 3), (3.1 * scale, 4), (4.0 * scale, 5))
        return source.pipe(batch(10, max_latency=2 * scale))

    real, virtual = await both_ways(lambda: timeline(pipeline(0.1)))
    assert_same_times(real, virtual, slack=0.08)
    with virtual_time():
        full = await timeline(pipeline(1.0))  # max_latency=2 seconds, as the issue asks
    assert full == [(2.0, [1, 2]), (4.0, [3, 4, 5]), (4.0, "|")]
    assert [t for t, _ in real] == pytest.approx([0.2, 0.4, 0.4], abs=0.05)


def flaky(failures: int, calls: list[float]) -> Observable[str]:
    def subscribe(observer: Any, _: Any = None) -> Any:
        calls.append(asyncio.get_running_loop().time())
        if len(calls) <= failures:
            observer.on_error(ConnectionError(f"attempt {len(calls)}"))
        else:
            observer.on_next("ok")
            observer.on_completed()

    return reactivex.create(subscribe)


async def test_retry_with_backoff_10_attempts_max_delay_60(virtual_clock: VirtualClock) -> None:
    calls: list[float] = []
    retrying = retry_with_backoff(max_attempts=10, initial_delay=1.0, max_delay=60.0, jitter=0.0)
    started = time.monotonic()
    assert await rxasync.to_list(flaky(9, calls).pipe(retrying)) == ["ok"]
    waits = [round(b - a, 6) for a, b in itertools.pairwise(calls)]
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]  # doubled, then capped at max_delay
    assert time.monotonic() - started < 24.3  # a tenth of the 243 virtual seconds: it jumped

    calls.clear()
    with pytest.raises(ConnectionError, match="attempt 10") as info:
        await rxasync.to_list(flaky(99, calls).pipe(retrying))
    assert "gave up after 10 attempts" in str(info.value.__notes__)
    assert calls[-1] - calls[0] == pytest.approx(243.0)


async def test_retry_with_backoff_same_times_real_and_virtual() -> None:
    async def scenario() -> list[tuple[float, Any]]:
        calls: list[float] = []
        retrying = retry_with_backoff(max_attempts=5, initial_delay=0.02, multiplier=2.0, jitter=0.0)
        await rxasync.to_list(flaky(4, calls).pipe(retrying))
        return [(round(t - calls[0], 3), n) for n, t in enumerate(calls)]

    real, virtual = await both_ways(scenario)
    assert [t for t, _ in virtual] == pytest.approx([0, 0.02, 0.06, 0.14, 0.3], abs=0.002)
    assert_same_times(real, virtual, slack=0.08)


async def test_sse_reconnects_after_server_retry_30000(virtual_clock: VirtualClock) -> None:
    connects: list[float] = []
    loop = asyncio.get_running_loop()

    async def events(request: web.Request) -> web.Response:
        connects.append(loop.time())
        if len(connects) == 1:  # ask for 30 s between reconnections, then end the stream
            body = "retry: 30000\nid: 1\ndata: one\n\n"
        else:
            assert request.headers["Last-Event-ID"] == "1"
            body = "id: 2\ndata: two\n\n"
        return web.Response(text=body, content_type="text/event-stream")

    started = time.monotonic()
    async with serve(events) as base:
        got = await timeline(sse(base + "/").pipe(ops.map(lambda e: e.data), ops.take(2)))
    assert [item for _, item in got] == ["one", "two", "|"]
    assert connects[1] - connects[0] == pytest.approx(30.0, abs=0.1)
    assert got[1][0] == pytest.approx(30.0, abs=0.1)
    assert time.monotonic() - started < 3.0  # a tenth of the 30 virtual seconds


async def test_tail_polls_a_file_for_10_minutes(virtual_clock: VirtualClock, tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("")

    async def writer() -> None:
        for minute, wait in ((3, 180.0), (10, 420.0)):
            await asyncio.sleep(wait)
            with log.open("a") as f:
                f.write(f"at {minute} min\n")

    started = time.monotonic()
    task = asyncio.create_task(writer())
    got = await timeline(tail(log, poll_interval=1.0).pipe(ops.take(2)))
    await task
    assert [item for _, item in got] == ["at 3 min", "at 10 min", "|"]
    assert got[0][0] == pytest.approx(180.0, abs=1.1)  # seen at the next poll
    assert got[1][0] == pytest.approx(600.0, abs=1.1)
    assert time.monotonic() - started < 60.0  # a tenth of 10 minutes (600 polls, each a real thread trip)
