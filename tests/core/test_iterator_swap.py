"""to_async_iterable's swapping observer: items straight into the buffer (rxasync/_fastobserver.py)."""

from __future__ import annotations

import asyncio
import random
import sys
import threading
import time
from collections import deque
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
from rxasync._fastobserver import SwappingObserver, looks_up_per_item, plain_iterable


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Switch threads every few bytecodes: races get their chance."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def test_only_sources_known_to_look_on_next_up_per_item_get_it() -> None:
    assert looks_up_per_item(reactivex.from_iterable([1]))
    assert looks_up_per_item(reactivex.of(1, 2))
    assert looks_up_per_item(reactivex.range(3))
    assert looks_up_per_item(Subject())
    assert not looks_up_per_item(reactivex.from_iterable([1]).pipe(ops.map(lambda x: x)))
    assert not looks_up_per_item(reactivex.create(lambda observer, scheduler=None: Disposable()))
    assert not looks_up_per_item(rxasync.from_async_iterable(lambda: _agen()))


async def _agen() -> Any:
    yield 1


async def test_from_iterable_items_go_straight_into_the_buffer() -> None:
    it = rxasync.to_async_iterable(reactivex.from_iterable(range(5)))
    await it.__aenter__()
    observer = it._channel._observer
    assert observer is not None  # the swapping observer, not RxPY's AutoDetachObserver
    assert list(it._buffer) == [0, 1, 2, 3, 4]  # emitted inside subscribe, appended with no frame
    assert [x async for x in it] == [0, 1, 2, 3, 4]
    assert it._channel.stats.items_in == it._channel.stats.items_out == 5


def test_a_stopped_observer_is_not_revived_by_a_swap_back() -> None:
    buf: deque[int] = deque()
    ends: list[str] = []

    class Ends:
        def on_error(self, error: Exception) -> None:
            ends.append(f"error {error}")

        def on_completed(self) -> None:
            ends.append("completed")

    observer = SwappingObserver(buf, buf.append, Ends())
    observer.on_next(1)
    observer.on_completed()
    observer.awake()  # the consumer's swap back, racing the end: the dropper stays
    observer.on_next(2)
    observer.waiting()
    observer.on_next(3)
    observer.on_error(ValueError("late"))
    observer.on_completed()
    assert list(buf) == [1]
    assert ends == ["completed"]


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
    # Ping-pong through the swap: the thread's from_iterable emits one item and
    # waits until the consumer has it, so every item arrives while the
    # consumer waits (on_next swapped to the waking one) and the swap back to
    # `append` happens between every two items.
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
            assert it._channel._observer is not None
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
            assert it._channel._observer is not None
            threads = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
            for t in threads:
                t.start()
            seen = [0] * producers
            try:
                while sum(seen) < producers * per:
                    if not it._buffer:
                        waits += 1  # the buffer is empty: this step waits (swapped to the waking on_next)
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


async def test_an_append_just_before_the_swap_is_seen_by_the_last_look(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The ordering the no-lost-wake-up argument rests on, made deterministic:
    # a thread appends (no wake-up: on_next is still `append`) right before
    # the consumer swaps in the waking on_next. The consumer's look at the
    # buffer after the swap must see it; a look before the swap would wait
    # forever (the timeout fails the test).
    subject: Subject[int] = Subject()
    original = SwappingObserver.waiting

    def waiting(self: SwappingObserver) -> None:
        emitter = threading.Thread(target=subject.on_next, args=(42,))
        emitter.start()
        emitter.join()
        original(self)

    monkeypatch.setattr(SwappingObserver, "waiting", waiting)
    async with rxasync.to_async_iterable(subject) as it:
        async with asyncio.timeout(5):
            assert await it.__anext__() == 42


@pytest.mark.parametrize("scheduled", [False, True], ids=["extend", "swapped"])
async def test_from_iterable_error_comes_after_the_items_before_it(scheduled: bool) -> None:
    # Fused (one deque.extend) or item by item through the swapping observer:
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


@pytest.mark.parametrize("scheduled", [False, True], ids=["extend", "swapped"])
async def test_from_iterable_that_cannot_start_fails_at_async_for(scheduled: bool) -> None:
    class Unopenable:
        def __iter__(self) -> Iterator[int]:
            raise OSError("cannot open")

    source = reactivex.from_iterable(Unopenable(), CurrentThreadScheduler.singleton() if scheduled else None)
    with pytest.raises(OSError, match="cannot open"):
        async for _ in rxasync.to_async_iterable(source):
            pass


async def test_fused_and_swapped_from_iterable_give_the_same_as_rxpy() -> None:
    data = ["a", None, 3, ("t",)]
    fused = [x async for x in rxasync.to_async_iterable(reactivex.from_iterable(data))]
    swapped_source = reactivex.from_iterable(data, CurrentThreadScheduler.singleton())
    swapped = [x async for x in rxasync.to_async_iterable(swapped_source)]
    rx: list[object] = []
    reactivex.from_iterable(data).subscribe(rx.append)
    assert fused == swapped == rx == data
