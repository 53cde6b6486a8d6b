"""to_async_iterable fused with a plain from_iterable (rxasync/_fused_iterable.py), and threads feeding it."""

from __future__ import annotations

import asyncio
import random
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import reactivex
from reactivex import abc
from reactivex import operators as ops
from reactivex.disposable import Disposable
from reactivex.scheduler import CurrentThreadScheduler, NewThreadScheduler
from reactivex.subject import Subject

import rxasync
from rxasync._fused_iterable import plain_iterable


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Switch threads every few bytecodes: races get their chance."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def test_only_a_plain_from_iterable_is_fused(monkeypatch: pytest.MonkeyPatch) -> None:
    data = [1, 2]
    assert plain_iterable(reactivex.from_iterable(data)) is data
    assert plain_iterable(reactivex.of(1, 2)) == (1, 2)
    assert plain_iterable(reactivex.from_iterable(data, CurrentThreadScheduler.singleton())) is None
    assert plain_iterable(reactivex.range(3)) is None
    assert plain_iterable(Subject()) is None
    assert plain_iterable(reactivex.from_iterable(data).pipe(ops.map(lambda x: x))) is None
    assert plain_iterable(reactivex.create(lambda observer, scheduler=None: Disposable())) is None
    assert plain_iterable(rxasync.from_async_iterable(lambda: _agen())) is None

    class Sub(reactivex.Observable[int]):
        pass

    plain = reactivex.from_iterable(data)
    assert plain_iterable(Sub(plain._subscribe)) is None  # a subclass may subscribe its own way
    overridden = reactivex.from_iterable(data)
    overridden._subscribe_core = lambda observer, scheduler=None: Disposable()  # type: ignore[method-assign]
    assert plain_iterable(overridden) is None
    original = reactivex.Observable.subscribe
    monkeypatch.setattr(reactivex.Observable, "subscribe", lambda *a, **k: original(*a, **k))  # a spy
    assert plain_iterable(reactivex.from_iterable(data)) is None


async def _agen() -> Any:
    yield 1


async def test_from_iterable_is_pulled_as_async_for_asks_max_buffer_at_a_time() -> None:
    pulled: list[int] = []

    def items() -> Iterator[int]:
        for i in range(10):
            pulled.append(i)
            yield i

    it = rxasync.to_async_iterable(reactivex.from_iterable(items()), max_buffer=4)
    await it.__aenter__()
    assert pulled == []  # subscribed (iter() called), nothing pulled yet
    assert await it.__anext__() == 0
    assert pulled == [0, 1, 2, 3]  # one pull: max_buffer items, with deque.extend
    assert list(it._buffer) == [1, 2, 3]
    assert [x async for x in it] == list(range(1, 10))
    assert it._channel.stats.items_in == it._channel.stats.items_out == 10
    assert it._channel.stats.state == "completed"


async def test_an_endless_iterable_stays_within_max_buffer_and_is_closed_by_break() -> None:
    closed: list[int] = []

    def endless() -> Iterator[int]:
        i = 0
        try:
            while True:
                yield i
                i += 1
        finally:
            closed.append(i)

    got: list[int] = []
    async with rxasync.to_async_iterable(reactivex.from_iterable(endless()), max_buffer=16) as it:
        async for x in it:
            got.append(x)
            assert len(it._buffer) < 16
            if x == 1000:
                break
    assert got == list(range(1001))
    assert closed  # the generator was closed at the break
    assert closed[0] < 1001 + 16  # having run at most a buffer ahead


async def test_source_that_keeps_on_next_from_subscribe_still_wakes_the_consumer(
    fast_switching: None,
) -> None:
    # A source that reads observer.on_next once, at subscribe (as the bridge's
    # pump and much user code do), and emits later from a thread, one item at
    # a time, each while the consumer waits (ping-pong). Handed `append`, it
    # would never wake the consumer: such a source must keep the channel's own
    # on_next (a stalled item fails the test).
    started, ack = threading.Event(), threading.Event()
    stalled: list[int] = []
    worker: list[threading.Thread] = []

    def subscribe(observer: abc.ObserverBase[int], scheduler: abc.SchedulerBase | None = None) -> Disposable:
        emit, done = observer.on_next, observer.on_completed

        def produce() -> None:
            started.wait(5)
            for i in range(200):
                ack.clear()
                emit(i)
                if not ack.wait(2):
                    stalled.append(i)
                    break
            done()

        worker.append(threading.Thread(target=produce))
        worker[0].start()
        return Disposable()

    got: list[int] = []
    try:
        async with asyncio.timeout(10):
            async with rxasync.to_async_iterable(reactivex.create(subscribe)) as it:
                started.set()
                async for x in it:
                    got.append(x)
                    ack.set()
    finally:
        started.set()
        await asyncio.to_thread(worker[0].join)
    assert stalled == []
    assert got == list(range(200))


async def test_from_iterable_on_a_thread_wakes_a_waiting_consumer_every_time(fast_switching: None) -> None:
    # Ping-pong: the thread's from_iterable emits one item and waits until the
    # consumer has it, so every item arrives while the consumer waits and
    # must wake it (no lost wake-up across the thread).
    n = 2_000
    ack = threading.Event()
    stalled: list[int] = []

    def items() -> Iterator[int]:
        for i in range(n):
            ack.clear()
            yield i
            deadline = time.monotonic() + 5
            while not ack.is_set():
                if time.monotonic() > deadline:
                    stalled.append(i)
                    return

    got: list[int] = []
    async with asyncio.timeout(30):
        async with rxasync.to_async_iterable(reactivex.from_iterable(items(), NewThreadScheduler())) as it:
            async for x in it:
                got.append(x)
                ack.set()
    assert stalled == []
    assert got == list(range(n))


async def test_hammer_producers_on_several_threads_against_a_waiting_consumer(fast_switching: None) -> None:
    # Several threads emit into one Subject with random pauses; the consumer
    # takes items as they come and so runs dry and waits often. Many rounds:
    # every item arrives once, in order per producer, and nothing hangs.
    rounds, producers, per = 20, 4, 1_500
    waits = 0
    async with asyncio.timeout(60):
        for r in range(rounds):
            subject: Subject[tuple[int, int]] = Subject()
            rng = random.Random(r)
            pauses = [[rng.random() < 0.02 for _ in range(per)] for _ in range(producers)]

            def produce(p: int, subject: Subject[tuple[int, int]] = subject, pauses: Any = pauses) -> None:
                for i in range(per):
                    if pauses[p][i]:
                        time.sleep(0.0002)
                    subject.on_next((p, i))

            it = rxasync.to_async_iterable(subject)
            await it.__aenter__()
            threads = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
            for t in threads:
                t.start()
            seen = [0] * producers
            try:
                while sum(seen) < producers * per:
                    if not it._buffer:
                        waits += 1  # the buffer is empty: this step waits
                    p, i = await it.__anext__()
                    assert i == seen[p], f"round {r}: producer {p} sent {i}, expected {seen[p]}"
                    seen[p] += 1
            finally:
                for t in threads:
                    await asyncio.to_thread(t.join)
            subject.on_completed()
            with pytest.raises(StopAsyncIteration):
                await it.__anext__()
            stats = it._channel.stats
            assert stats.items_in == stats.items_out == producers * per
    assert waits > rounds * 10  # the consumer did wait, often


async def test_closing_while_a_thread_emits_into_the_buffer_keeps_nothing(fast_switching: None) -> None:
    # After aclose the observer drops: a thread still emitting (its from_iterable
    # sees the dispose only between items) leaves nothing in the buffer.
    stop = threading.Event()

    def endless() -> Iterator[int]:
        i = 0
        while not stop.is_set():
            yield i
            i += 1

    for _ in range(20):
        stop.clear()
        it = rxasync.to_async_iterable(reactivex.from_iterable(endless(), NewThreadScheduler()))
        try:
            await it.__anext__()
            await it.aclose()
            await asyncio.sleep(0.002)
            assert len(it._buffer) == 0
            with pytest.raises(StopAsyncIteration):
                await it.__anext__()
        finally:
            stop.set()


@pytest.mark.parametrize("scheduled", [False, True], ids=["fused", "rxpy"])
async def test_from_iterable_error_comes_after_the_items_before_it(scheduled: bool) -> None:
    # Fused (deque.extend) or item by item through RxPY's subscribe:
    # the same items, then the iterable's own exception, as RxPY delivers them.
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise KeyError("third")

    scheduler = CurrentThreadScheduler.singleton() if scheduled else None
    source = reactivex.from_iterable(items(), scheduler)
    assert (plain_iterable(source) is None) is scheduled
    got: list[int] = []
    it = rxasync.to_async_iterable(source)
    with pytest.raises(KeyError, match="third"):
        async for x in it:
            got.append(x)
    assert got == [1, 2]
    assert it._channel.stats.items_in == it._channel.stats.items_out == 2
    assert it._channel.stats.errors == 1


@pytest.mark.parametrize("scheduled", [False, True], ids=["fused", "rxpy"])
async def test_from_iterable_that_cannot_start_fails_at_async_for(scheduled: bool) -> None:
    class Unopenable:
        def __iter__(self) -> Iterator[int]:
            raise OSError("cannot open")

    source = reactivex.from_iterable(Unopenable(), CurrentThreadScheduler.singleton() if scheduled else None)
    with pytest.raises(OSError, match="cannot open"):
        async for _ in rxasync.to_async_iterable(source):
            pass


async def test_fused_and_scheduled_from_iterable_give_the_same_as_rxpy() -> None:
    data = ["a", None, 3, ("t",)]
    fused = [x async for x in rxasync.to_async_iterable(reactivex.from_iterable(data))]
    scheduled_source = reactivex.from_iterable(data, CurrentThreadScheduler.singleton())
    scheduled = [x async for x in rxasync.to_async_iterable(scheduled_source)]
    rx: list[object] = []
    reactivex.from_iterable(data).subscribe(rx.append)
    assert fused == scheduled == rx == data


async def test_a_fused_iterable_longer_than_the_buffer_and_an_error_past_it() -> None:
    n = 5 * 64 + 7

    def items() -> Iterator[int]:
        yield from range(n)
        raise ValueError("past the pulls")

    got: list[int] = []
    it = rxasync.to_async_iterable(reactivex.from_iterable(items()))
    with pytest.raises(ValueError, match="past the pulls"):
        async for x in it:
            got.append(x)
    assert got == list(range(n))
    assert it._channel.stats.items_in == it._channel.stats.items_out == n
    assert [x async for x in rxasync.to_async_iterable(reactivex.from_iterable(range(n)))] == list(range(n))
