"""observe_on_loop and the schedulers: notifications from threads come back to the loop."""

from __future__ import annotations

import asyncio
import threading

import pytest
import reactivex
from reactivex import operators as ops
from reactivex.scheduler import ThreadPoolScheduler
from reactivex.subject import Subject

import rxasync
from rxasync.operators import observe_on_loop


async def test_observe_on_loop_delivers_on_loop_thread_in_order() -> None:
    threads: set[int] = set()

    def record(x: int) -> int:
        threads.add(threading.get_ident())
        return x

    source = reactivex.range(10_000).pipe(
        ops.subscribe_on(ThreadPoolScheduler(1)), observe_on_loop(), ops.map(record)
    )
    assert await rxasync.to_list(source) == list(range(10_000))
    assert threads == {threading.get_ident()}


async def test_observe_on_loop_many_producer_threads() -> None:
    subject: Subject[tuple[int, int]] = Subject()
    got: list[tuple[int, int]] = []
    done = asyncio.Event()
    subject.pipe(observe_on_loop(), ops.take(4 * 2000)).subscribe(got.append, on_completed=done.set)

    def produce(t: int) -> None:
        for i in range(2000):
            subject.on_next((t, i))

    workers = [threading.Thread(target=produce, args=(t,)) for t in range(4)]
    for w in workers:
        w.start()
    await asyncio.wait_for(done.wait(), 5)
    for w in workers:
        w.join()
    for t in range(4):
        assert [i for (tt, i) in got if tt == t] == list(range(2000))  # per-producer order kept


async def test_observe_on_loop_forwards_error_from_thread() -> None:
    source = reactivex.throw(KeyError("k")).pipe(ops.subscribe_on(ThreadPoolScheduler(1)), observe_on_loop())
    with pytest.raises(KeyError):
        await rxasync.to_list(source)


async def test_observe_on_loop_dispose_drops_queued_items() -> None:
    subject: Subject[int] = Subject()
    got: list[int] = []
    sub = subject.pipe(observe_on_loop()).subscribe(got.append)
    producer = threading.Thread(target=lambda: [subject.on_next(i) for i in range(100)])
    producer.start()
    producer.join()  # blocks the loop: the items wait in the queue, undelivered
    sub.dispose()
    await asyncio.sleep(0.01)
    assert got == []


async def test_schedulers_loop_is_bound_to_running_loop() -> None:
    scheduler = rxasync.schedulers.loop()
    fired = asyncio.Event()
    loop = asyncio.get_running_loop()

    def from_thread() -> None:
        scheduler.schedule(lambda *_: fired.set())

    await loop.run_in_executor(None, from_thread)
    await asyncio.wait_for(fired.wait(), 1)


def test_schedulers_loop_without_loop_raises() -> None:
    with pytest.raises(rxasync.NoRunningLoopError):
        rxasync.schedulers.loop()


def test_schedulers_threads_validates() -> None:
    assert rxasync.schedulers.threads(2) is not None
    with pytest.raises(ValueError, match="max_workers"):
        rxasync.schedulers.threads(0)
