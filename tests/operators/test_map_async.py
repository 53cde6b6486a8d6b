"""map_async and map_on: concurrency, order, errors, dispose, executors."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest
import reactivex
from reactivex import operators as ops
from reactivex.scheduler import ThreadPoolScheduler
from reactivex.scheduler.eventloop import AsyncIOScheduler

import rxasync
from rxasync.operators import map_async, map_on
from rxasync.testing import assert_run


class Probe:
    def __init__(self) -> None:
        self.active = 0
        self.max_active = 0
        self.cancelled = 0

    async def slow(self, x: int) -> int:
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            await asyncio.sleep(random.uniform(0.001, 0.005))
            return x * 10
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.active -= 1


@pytest.mark.parametrize("concurrency", [1, 3, 8])
async def test_map_async_never_exceeds_concurrency(concurrency: int) -> None:
    probe = Probe()
    out = await rxasync.to_list(reactivex.range(60).pipe(map_async(probe.slow, concurrency=concurrency)))
    assert out == [x * 10 for x in range(60)]
    assert probe.max_active == concurrency


async def test_map_async_ordered_keeps_input_order_both_ways() -> None:
    probe = Probe()
    await assert_run(
        lambda: reactivex.range(40).pipe(map_async(probe.slow, concurrency=6)), [x * 10 for x in range(40)]
    )


async def test_map_async_unordered_emits_in_completion_order() -> None:
    async def delayed(x: int) -> int:
        await asyncio.sleep(0.01 * (5 - x))
        return x

    out = await rxasync.to_list(reactivex.range(5).pipe(map_async(delayed, concurrency=5, ordered=False)))
    assert out == [4, 3, 2, 1, 0]


async def test_map_async_error_cancels_in_flight_and_is_delivered_once() -> None:
    probe = Probe()
    closed = asyncio.Event()

    async def gen() -> AsyncIterator[int]:
        try:
            for i in range(100):
                yield i
        finally:
            closed.set()

    async def sometimes(x: int) -> int:
        if x == 5:
            await asyncio.sleep(0.002)
            raise ValueError("item 5 is bad")
        return await probe.slow(x) if x < 5 else await asyncio.sleep(10, x)  # type: ignore[func-returns-value]

    errors: list[Exception] = []
    done = asyncio.Event()

    def on_error(e: Exception) -> None:
        errors.append(e)
        done.set()

    rxasync.from_async_iterable(gen).pipe(map_async(sometimes, concurrency=4)).subscribe(
        on_error=on_error, on_completed=lambda: errors.append(AssertionError("completed"))
    )
    await done.wait()
    await asyncio.wait_for(closed.wait(), 1)  # upstream disposed
    await asyncio.sleep(0.05)
    assert len(errors) == 1
    assert isinstance(errors[0], ValueError)
    await assert_run(
        lambda: rxasync.from_async_iterable(gen).pipe(map_async(sometimes, concurrency=4)), error=ValueError
    )


async def test_map_async_dispose_cancels_in_flight() -> None:
    started = asyncio.Event()
    cancelled: list[int] = []

    async def forever(x: int) -> int:
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(x)
            raise
        return x

    sub = reactivex.range(3).pipe(map_async(forever, concurrency=3)).subscribe(lambda _: None)
    await started.wait()
    await asyncio.sleep(0)
    sub.dispose()
    await asyncio.sleep(0.01)
    assert sorted(cancelled) == [0, 1, 2]


async def test_map_async_upstream_error_is_forwarded() -> None:
    async def ident(x: int) -> int:
        return x

    source = reactivex.concat(reactivex.of(1), reactivex.throw(OSError("disk")))
    with pytest.raises(OSError, match="disk"):
        await rxasync.to_list(source.pipe(map_async(ident)))


async def test_map_async_items_from_worker_thread() -> None:
    async def ident(x: int) -> int:
        return x

    loop_thread = threading.get_ident()
    seen_threads: set[int] = set()

    async def record(x: int) -> int:
        seen_threads.add(threading.get_ident())
        return x

    source = reactivex.range(50).pipe(ops.subscribe_on(ThreadPoolScheduler(1)), map_async(record))
    assert await rxasync.to_list(source) == list(range(50))
    assert seen_threads == {loop_thread}


def test_map_async_bad_concurrency() -> None:
    async def f(x: int) -> int:
        return x

    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="concurrency"):
            map_async(f, concurrency=bad)  # type: ignore[arg-type]


def _square(x: int) -> int:
    return x * x


async def test_map_on_thread_pool_order_and_concurrency() -> None:
    lock = threading.Lock()
    active = 0
    peak = 0

    def work(x: int) -> int:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(random.uniform(0.001, 0.004))
        with lock:
            active -= 1
        return x * 2

    with ThreadPoolExecutor(8) as pool:
        await assert_run(
            lambda: reactivex.range(40).pipe(map_on(work, pool, concurrency=3)), list(range(0, 80, 2))
        )
    assert peak <= 3


@pytest.fixture(scope="session")
def resource_tracker() -> None:
    """multiprocessing's resource tracker lives as long as the test process (and
    keeps a pipe open): start it before the leak check takes its snapshot."""
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()


@pytest.mark.usefixtures("resource_tracker")
async def test_map_on_process_pool() -> None:
    # spawn: forking a process that has started JAX's threads is unsafe (and warns)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        out = await rxasync.to_list(reactivex.range(20).pipe(map_on(_square, pool)))
    assert out == [x * x for x in range(20)]


async def test_map_on_dispose_cancels_pending_futures() -> None:
    release = threading.Event()
    ran: list[int] = []

    def blocking(x: int) -> int:
        ran.append(x)
        release.wait(5)
        return x

    with ThreadPoolExecutor(1) as pool:
        sub = reactivex.range(10).pipe(map_on(blocking, pool, concurrency=4)).subscribe(lambda _: None)
        await asyncio.sleep(0.05)
        sub.dispose()
        await asyncio.sleep(0)
        release.set()
    assert ran == [0]  # the three queued futures were cancelled before they ran


async def test_map_on_error_is_delivered() -> None:
    def fail(x: int) -> int:
        raise ArithmeticError(f"bad {x}")

    with ThreadPoolExecutor(2) as pool, pytest.raises(ArithmeticError, match="bad 0"):
        await rxasync.to_list(reactivex.range(3).pipe(map_on(fail, pool)))


def test_map_on_rejects_non_executor() -> None:
    with pytest.raises(TypeError, match="Executor"):
        map_on(_square, object())  # type: ignore[arg-type]


async def test_map_on_dask_client_executor() -> None:
    distributed = pytest.importorskip("distributed")
    async with distributed.Client(processes=False, asynchronous=True, dashboard_address=None) as client:
        executor = client.get_executor()
        out = await rxasync.to_list(reactivex.range(10).pipe(map_on(_square, executor, concurrency=4)))
    assert out == [x * x for x in range(10)]


# -- moved from tests/core (test_messages.py, test_threads_and_edges.py) --------------------


async def test_map_async_given_a_plain_function_says_it_needs_a_coroutine_function() -> None:
    with pytest.raises(TypeError, match=r"coroutine function.*reactivex\.operators\.map.*map_on") as info:
        await rxasync.to_list(reactivex.of(1, 2).pipe(map_async(lambda x: x + 1)))
    assert "int" in str(info.value)


async def test_map_async_type_error_raised_inside_the_coroutine_is_unchanged() -> None:
    async def bad(x: int) -> int:
        raise TypeError("mine")

    with pytest.raises(TypeError, match=r"^mine$"):
        await rxasync.to_list(reactivex.of(1).pipe(map_async(bad)))


async def test_map_async_subscribed_from_a_worker_thread_with_loop_scheduler() -> None:
    loop = asyncio.get_running_loop()

    async def gen() -> AsyncIterator[int]:
        for i in range(3):
            await asyncio.sleep(0)
            yield i

    async def times_ten(x: int) -> int:
        return x * 10

    got: list[int] = []
    done = asyncio.Event()

    def subscribe() -> None:
        rxasync.from_async_iterable(gen).pipe(map_async(times_ten)).subscribe(
            got.append,
            on_completed=lambda: loop.call_soon_threadsafe(done.set),
            scheduler=AsyncIOScheduler(loop),
        )

    worker = threading.Thread(target=subscribe)
    worker.start()
    await asyncio.wait_for(done.wait(), 2)
    worker.join()
    assert got == [0, 10, 20]
