"""to_async_iterable: async for over an observable (rxasync/_iterator.py)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import threading
import time
from collections.abc import AsyncIterator

import aiostream
import pytest
import reactivex
from reactivex import operators as ops
from reactivex.subject import Subject
from support import Tracker, collect

import rxasync


async def test_to_async_iterable_yields_all_items() -> None:
    out = [x async for x in rxasync.to_async_iterable(reactivex.range(100))]
    assert out == list(range(100))


async def test_to_async_iterable_break_disposes_subscription() -> None:
    t = Tracker()
    async for x in rxasync.to_async_iterable(t.source()):
        if x == 3:
            break
    await asyncio.wait_for(t.closed.wait(), 1)


async def test_to_async_iterable_aclose_disposes_subscription() -> None:
    t = Tracker()
    it = rxasync.to_async_iterable(t.source())
    await it.__anext__()
    await it.aclose()
    await asyncio.wait_for(t.closed.wait(), 1)
    with pytest.raises(StopAsyncIteration):
        await it.__anext__()


async def test_to_async_iterable_async_with_disposes_on_exit() -> None:
    t = Tracker()
    async with rxasync.to_async_iterable(t.source()) as it:
        await it.__anext__()
    await asyncio.wait_for(t.closed.wait(), 1)


async def test_to_async_iterable_cancelling_consumer_disposes_subscription() -> None:
    subject: Subject[int] = Subject()
    t = Tracker()
    got_one = asyncio.Event()

    async def consume() -> None:
        async for _ in rxasync.to_async_iterable(reactivex.merge(subject, t.source().pipe(ops.take(1)))):
            got_one.set()

    task = asyncio.create_task(consume())
    await got_one.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not subject.observers  # the subscription to the subject was disposed


async def test_to_async_iterable_cancel_while_waiting_disposes_source() -> None:
    closed = asyncio.Event()

    async def silent() -> AsyncIterator[int]:
        try:
            await asyncio.sleep(100)
            yield 1
        finally:
            closed.set()

    async def consume() -> None:
        async for _ in rxasync.to_async_iterable(rxasync.from_async_iterable(silent)):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(closed.wait(), 1)


async def test_to_async_iterable_error_raised_after_buffered_items() -> None:
    source = reactivex.concat(reactivex.of(1, 2), reactivex.throw(LookupError("gone")))
    got: list[int] = []
    with pytest.raises(LookupError, match="gone"):
        async for x in rxasync.to_async_iterable(source):
            got.append(x)
    assert got == [1, 2]


@pytest.mark.parametrize(
    ("overflow", "kept"), [("drop_newest", [0, 1, 2]), ("drop_oldest", [7, 8, 9])], ids=["newest", "oldest"]
)
async def test_to_async_iterable_drop_policies_keep_max_buffer_items(overflow: str, kept: list[int]) -> None:
    subject: Subject[int] = Subject()
    it = rxasync.to_async_iterable(subject, max_buffer=3, overflow=overflow)  # type: ignore[arg-type]
    async with it:
        for i in range(10):
            subject.on_next(i)
        subject.on_completed()
        assert [x async for x in it] == kept


async def test_to_async_iterable_overflow_error_after_buffered_items() -> None:
    subject: Subject[int] = Subject()
    it = rxasync.to_async_iterable(subject, max_buffer=3, overflow="error")
    got: list[int] = []
    async with it:
        for i in range(10):
            subject.on_next(i)
        with pytest.raises(rxasync.BufferOverflowError, match="max_buffer=3"):
            async for x in it:
                got.append(x)
    assert got == [0, 1, 2]
    assert not subject.observers


async def test_to_async_iterable_block_pauses_bridge_source() -> None:
    t = Tracker()
    async with rxasync.to_async_iterable(t.source(), max_buffer=4) as it:
        await it.__anext__()
        await asyncio.sleep(0.05)  # the consumer sleeps: the source must wait for it
        assert t.produced <= 1 + 4
    await t.closed.wait()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"max_buffer": 0}, "max_buffer"), ({"overflow": "explode"}, "overflow")],
)
def test_to_async_iterable_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rxasync.to_async_iterable(reactivex.empty(), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("overflow", ["block", "drop_newest"])
async def test_to_async_iterable_items_from_a_thread_arrive_in_order(overflow: str) -> None:
    # The thread emits in bursts with pauses while the consumer keeps running
    # dry and waiting: every item arrives, once, in order. (A lost wake-up
    # would only delay this test; the ping-pong test below catches that.)
    n = 20_000
    subject: Subject[int] = Subject()

    def produce() -> None:
        for i in range(n):
            subject.on_next(i)
            if i % 7 == 0:
                time.sleep(0)  # give the GIL away mid-burst
        subject.on_completed()

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads every few bytecodes: races get their chance
    max_buffer = n if overflow == "drop_newest" else 64
    it = rxasync.to_async_iterable(subject, max_buffer=max_buffer, overflow=overflow)  # type: ignore[arg-type]
    await it.__aenter__()
    worker = threading.Thread(target=produce)
    worker.start()
    try:
        got = await asyncio.wait_for(collect(it), 20)
    finally:
        sys.setswitchinterval(old_interval)
        await asyncio.to_thread(worker.join)
        await it.aclose()
    assert got == list(range(n))


async def test_to_async_iterable_iterated_again_after_break_continues() -> None:
    # Like an async generator: `break` leaves the iterator where it stopped
    # while you hold it; only dropping it (or aclose) disposes.
    t = Tracker()
    it = rxasync.to_async_iterable(t.source())
    async for x in it:
        if x == 3:
            break
    await asyncio.sleep(0.01)  # the dropped loop's generator is finalised meanwhile
    assert not t.closed.is_set()
    assert await it.__anext__() == 4
    async for x in it:
        assert x == 5
        break
    await it.aclose()
    await asyncio.wait_for(t.closed.wait(), 1)


async def test_to_async_iterable_block_buffer_is_the_demand() -> None:
    # The credit of an item is its place in the buffer: a paused bridge source
    # resumes as the consumer takes items, and pending never drifts.
    t = Tracker()
    async with rxasync.to_async_iterable(t.source(), max_buffer=3) as it:
        await asyncio.sleep(0.02)
        assert t.produced == 2  # 0, 1, 2 buffered; the generator is held at `yield 2`
        channel = it._channel
        assert channel.demand is not None
        assert channel.demand.pending == 3
        with pytest.raises(AttributeError, match="length of its buffer"):
            channel.demand.pending = 0
        assert [await it.__anext__() for _ in range(2)] == [0, 1]
        await asyncio.sleep(0.02)
        assert t.produced == 4
        assert channel.demand.pending == 3
    assert channel.demand.pending == 0  # closed: buffer cleared


async def test_to_async_iterable_item_from_a_thread_wakes_a_waiting_consumer_every_time() -> None:
    # Ping-pong: the thread emits one item and waits until the consumer has it,
    # so every item lands while the consumer waits on an empty buffer. A
    # wake-up that is lost, or set from the thread without reaching the loop,
    # leaves the consumer asleep: the producer's 5 s deadline fails the test.
    n = 3_000
    subject: Subject[int] = Subject()
    ack = threading.Event()
    stalled: list[int] = []

    def produce() -> None:
        for i in range(n):
            ack.clear()
            subject.on_next(i)
            deadline = time.monotonic() + 5
            while not ack.is_set():  # spin: always ready to take the GIL at the worst moment
                if time.monotonic() > deadline:
                    stalled.append(i)
                    break
            if stalled:
                break
        subject.on_completed()

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    got: list[int] = []
    worker = threading.Thread(target=produce)
    try:
        async with rxasync.to_async_iterable(subject) as it:
            worker.start()
            async for x in it:
                got.append(x)
                ack.set()
    finally:
        sys.setswitchinterval(old_interval)
        await asyncio.to_thread(worker.join)
    assert stalled == []
    assert got == list(range(n))


async def test_to_async_iterable_closing_what_aiter_returns_disposes() -> None:
    # contextlib.aclosing(aiter(it)) and aiostream close the object aiter() gave them.
    subject: Subject[int] = Subject()
    it = rxasync.to_async_iterable(subject)
    await it.__aenter__()  # subscribed now (not closed: no __aexit__)
    async with contextlib.aclosing(aiter(it)) as steps:
        subject.on_next(1)
        assert await anext(steps) == 1
        assert subject.observers
    assert not subject.observers
    t = Tracker()
    first3 = aiostream.stream.iterate(rxasync.to_async_iterable(t.source())) | aiostream.pipe.take(3)
    async with first3.stream() as s:
        got = [x async for x in s]
    assert got == [0, 1, 2]
    await asyncio.wait_for(t.closed.wait(), 1)


async def test_to_async_iterable_aclose_from_another_task_ends_a_waiting_loop() -> None:
    subject: Subject[int] = Subject()
    it = rxasync.to_async_iterable(subject)
    got: list[int] = []

    async def consume() -> None:
        async for x in it:
            got.append(x)

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0.01)
    subject.on_next(1)
    await asyncio.sleep(0.01)
    await it.aclose()  # the consumer is waiting for the next item
    await asyncio.wait_for(consumer, 1)
    assert got == [1]
    assert not subject.observers


async def test_to_async_iterable_no_item_after_aclose_while_a_thread_emits() -> None:
    # An on_next from a thread that raced the close must not be handed out after it.
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(50):
            subject: Subject[int] = Subject()
            stop = threading.Event()

            def produce(subject: Subject[int] = subject, stop: threading.Event = stop) -> None:
                i = 0
                while not stop.is_set():
                    subject.on_next(i)
                    i += 1

            it = rxasync.to_async_iterable(subject, max_buffer=10**9)
            await it.__aenter__()
            worker = threading.Thread(target=produce)
            worker.start()
            try:
                await it.__anext__()
                await it.aclose()
                await asyncio.sleep(0.001)
                with pytest.raises(StopAsyncIteration):
                    await it.__anext__()
            finally:
                stop.set()
                await asyncio.to_thread(worker.join)
    finally:
        sys.setswitchinterval(old_interval)


async def test_to_async_iterable_second_concurrent_waiter_is_refused() -> None:
    # One consumer at a time, as with an async generator: a second waiter would
    # otherwise replace the first, which would never wake again.
    subject: Subject[int] = Subject()
    it = rxasync.to_async_iterable(subject)
    first_waiter = asyncio.create_task(it.__anext__())
    await asyncio.sleep(0.01)
    with pytest.raises(RuntimeError, match="another task is already waiting"):
        await it.__anext__()
    subject.on_next(1)
    assert await asyncio.wait_for(first_waiter, 1) == 1
    await it.aclose()


@pytest.mark.parametrize("overflow", ["block", "drop_oldest", "drop_newest", "error"])
async def test_to_async_iterable_item_hopped_from_a_thread_after_aclose_is_dropped(overflow: str) -> None:
    subject: Subject[str] = Subject()
    it = rxasync.to_async_iterable(subject, overflow=overflow)  # type: ignore[arg-type]
    await it.__aenter__()
    emitter = threading.Thread(target=subject.on_next, args=("late",))
    emitter.start()
    emitter.join()  # its hop to the loop is queued (or, in block mode, it is buffered)
    await it.aclose()
    await asyncio.sleep(0)  # the hop runs
    with pytest.raises(StopAsyncIteration):
        await it.__anext__()


def test_to_async_iterable_dropped_after_its_loop_closed_reports_nothing() -> None:
    # A consumer left waiting when its loop closes is collected later: disposing
    # then must not touch the closed loop (no "Exception ignored in __del__").
    unraisable: list[object] = []
    old_hook = sys.unraisablehook
    sys.unraisablehook = unraisable.append
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lambda loop, context: None)  # "Task was destroyed but it is pending"
    try:
        subject: Subject[int] = Subject()

        async def consume(it: rxasync.AsyncObservableIterator[int]) -> int:
            return await it.__anext__()

        async def start(source: Subject[int]) -> asyncio.Task[int]:
            return asyncio.get_running_loop().create_task(consume(rxasync.to_async_iterable(source)))

        task = loop.run_until_complete(start(subject))
        loop.run_until_complete(asyncio.sleep(0.01))
        loop.close()
        del task, subject  # all of it is garbage now (the subject held the subscription)
        gc.collect()
    finally:
        sys.unraisablehook = old_hook
    assert unraisable == []
