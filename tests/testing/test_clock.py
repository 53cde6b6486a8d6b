"""The virtual clock: what follows it, what keeps working for real, and install/uninstall."""

from __future__ import annotations

import asyncio
import time

import pytest
import reactivex
from aiohttp import web
from reactivex import operators as ops

import rxasync
from rxasync.http._examples import serve
from rxasync.testing import VirtualClock, run_in_virtual_time, virtual_time


async def test_clock_sleep_call_later_and_timeout_follow_it(virtual_clock: VirtualClock) -> None:
    loop = asyncio.get_running_loop()
    start, real = loop.time(), time.monotonic()
    fired: list[float] = []
    loop.call_later(50.0, lambda: fired.append(loop.time() - start))
    await asyncio.sleep(100.0)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(30.0):
            await asyncio.sleep(3600)
    assert fired == [pytest.approx(50.0)]
    assert loop.time() - start == pytest.approx(130.0)
    assert virtual_clock.jumped == pytest.approx(130.0, abs=0.01)
    assert time.monotonic() - real < 13.0  # a tenth of the virtual 130 s: it jumped (generous under load)


@pytest.mark.virtual_time
async def test_clock_marker_runs_rxpy_time_operators_on_loop_scheduler() -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    sched = rxasync.schedulers.loop()
    ticks = await rxasync.to_list(
        reactivex.interval(10.0, scheduler=sched).pipe(ops.throttle_first(25.0, scheduler=sched), ops.take(3))
    )
    assert ticks == [0, 3, 6]  # throttle_first reads scheduler.now: it follows loop time too
    assert loop.time() - start == pytest.approx(70.0)
    start = loop.time()
    with pytest.raises(Exception, match="Timeout"):  # RxPY's timeout raises a plain Exception
        await rxasync.to_list(reactivex.never().pipe(ops.timeout(5.0, scheduler=sched)))
    assert loop.time() - start == pytest.approx(5.0)


async def test_clock_does_not_jump_while_a_loopback_server_answers(virtual_clock: VirtualClock) -> None:
    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(10.0)  # a virtual wait inside the server
        return web.Response(text="late")

    async def fast(_: web.Request) -> web.Response:
        return web.Response(text="now")

    loop = asyncio.get_running_loop()
    async with serve(fast) as base:
        for _ in range(20):  # a client timeout far below any jump: never hit
            assert await rxasync.first(rxasync.http.get(base + "/", timeout=0.5)) is not None
    async with serve(slow) as base:
        start = loop.time()
        body = await rxasync.first(rxasync.http.get(base + "/", timeout=60))
        assert body.body == b"late"
        assert loop.time() - start == pytest.approx(10.0, abs=0.2)


async def test_clock_does_not_jump_while_an_executor_call_runs(virtual_clock: VirtualClock) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with asyncio.timeout(5.0):  # would fire at once if time jumped during the call
        await asyncio.to_thread(time.sleep, 0.2)
    assert virtual_clock.busy == 0
    assert 0.15 < loop.time() - start < 2.0  # waited for real: real time passed


async def test_clock_uninstall_gives_pending_timers_their_remaining_delay() -> None:
    loop = asyncio.get_running_loop()
    with virtual_time() as clock:
        await asyncio.sleep(1000.0)
        handle = loop.call_later(0.05, lambda: None)
    assert "time" not in vars(loop)
    assert 0 < handle.when() - loop.time() <= 0.05
    handle.cancel()
    assert clock.jumped == pytest.approx(1000.0, abs=0.01)


async def test_clock_refuses_a_second_install(virtual_clock: VirtualClock) -> None:
    with pytest.raises(RuntimeError, match="already"):
        VirtualClock().install()
    with pytest.raises(RuntimeError, match="already"):
        virtual_clock.install()


def test_clock_validates_arguments() -> None:
    with pytest.raises(ValueError):
        VirtualClock(autojump_threshold=-1)
    with pytest.raises(ValueError):
        VirtualClock().advance(-1)


def test_clock_advance_and_threshold() -> None:
    async def main() -> float:
        clock = VirtualClock(autojump_threshold=0.01)
        clock.install()
        loop = asyncio.get_running_loop()
        start = loop.time()
        clock.advance(5.0)
        await asyncio.sleep(2.0)
        clock.uninstall()
        return clock.time() - start

    assert asyncio.run(main()) == pytest.approx(7.0, abs=0.05)


def test_clock_run_in_virtual_time_returns_the_result() -> None:
    async def day() -> int:
        await asyncio.sleep(86400)
        return 1

    started = time.monotonic()
    assert run_in_virtual_time(day()) == 1
    assert time.monotonic() - started < 8640  # a tenth of the virtual day


@pytest.mark.virtual_time(autojump_threshold=0.02)
async def test_clock_marker_arguments_configure_the_clock(virtual_clock: VirtualClock) -> None:
    assert virtual_clock.autojump_threshold == 0.02
    loop = asyncio.get_running_loop()
    start = loop.time()
    await asyncio.sleep(60.0)
    assert loop.time() - start == pytest.approx(60.0, abs=0.1)


async def test_clock_loop_scheduler_now_follows_loop_time(virtual_clock: VirtualClock) -> None:
    sched = rxasync.schedulers.loop()
    before = sched.now
    await asyncio.sleep(3600.0)
    assert (sched.now - before).total_seconds() == pytest.approx(3600.0, abs=0.01)  # RxPY's: the wall clock
