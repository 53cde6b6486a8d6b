"""The stage protocol (rxasync/_stage.py): the hop, demand and the end, written once for every stage."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
import reactivex
from reactivex import Observable, abc
from reactivex.subject import Subject
from support import wait_until

import rxasync
from rxasync._stage import Stage, stage_observable
from rxasync.operators import map_async, switch_map_async


class _Echo(Stage):
    """A minimal new-style stage: holds each item until ``release_all``."""

    def __init__(self, observer: abc.ObserverBase[Any], loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(observer, loop, 4)
        self.held: list[Any] = []
        self.threads: set[int] = set()
        self.cleanups = 0

    def on_item(self, item: Any) -> None:
        self.threads.add(threading.get_ident())
        self.held.append(item)

    def release_all(self) -> None:
        for item in self.held:
            self.observer.on_next(item)
        self.finish(len(self.held))
        self.held.clear()
        self.check_done()

    def idle(self) -> bool:
        return not self.held

    def cleanup(self) -> None:
        self.cleanups += 1


class _OldStyle(Stage):
    """A stage written against the API before ``on_item``: it overrides on_next itself."""

    def on_next(self, item: Any) -> None:
        if threading.get_ident() != self.thread:
            self.loop.call_soon_threadsafe(self.on_next, item)
            return
        if self.terminated:
            return
        self.demand.pending += 1
        self.observer.on_next(item * 10)
        self.demand.release()
        self.check_done()

    def idle(self) -> bool:
        return self.demand.pending == 0

    def cleanup(self) -> None:
        pass


def _with(stages: list[_Echo]) -> Any:
    def operator(source: Observable[Any]) -> Observable[Any]:
        def make(observer: abc.ObserverBase[Any], loop: asyncio.AbstractEventLoop) -> _Echo:
            stages.append(_Echo(observer, loop))
            return stages[-1]

        return stage_observable(source, "echo", make)

    return operator


async def test_stage_items_from_a_thread_are_taken_on_the_loop_and_counted() -> None:
    stages: list[_Echo] = []
    subject: Subject[int] = Subject()
    got: list[int] = []
    subject.pipe(_with(stages)).subscribe(got.append)
    worker = threading.Thread(target=lambda: [subject.on_next(i) for i in range(3)])
    worker.start()
    await asyncio.to_thread(worker.join)
    await asyncio.sleep(0.01)
    stage = stages[0]
    assert stage.threads == {threading.get_ident()}  # hopped to the loop
    assert stage.demand.pending == 3  # counted once each, by the protocol
    stage.release_all()
    assert got == [0, 1, 2]
    assert stage.demand.pending == 0


async def test_stage_completes_only_when_idle_and_cleans_up_once() -> None:
    stages: list[_Echo] = []
    events: list[str] = []
    reactivex.of(1, 2).pipe(_with(stages)).subscribe(
        lambda x: events.append(f"item {x}"), on_completed=lambda: events.append("done")
    )
    stage = stages[0]
    assert events == []  # upstream completed, but two items are held
    stage.release_all()
    assert events == ["item 1", "item 2", "done"]
    assert stage.cleanups == 1
    stage.dispose()
    assert stage.cleanups == 1


async def test_stage_error_is_delivered_once_and_disposes_upstream() -> None:
    stages: list[_Echo] = []
    errors: list[Exception] = []
    subject: Subject[int] = Subject()
    subject.pipe(_with(stages)).subscribe(on_error=errors.append)
    subject.on_next(1)
    stages[0].fail(ValueError("one"))
    stages[0].fail(ValueError("two"))
    subject.on_error(ValueError("three"))
    assert [str(e) for e in errors] == ["one"]
    assert stages[0].cleanups == 1
    assert not subject.observers  # upstream disposed


async def test_stage_written_against_the_old_api_still_works() -> None:
    def old(source: Observable[int]) -> Observable[int]:
        return stage_observable(source, "old", lambda observer, loop: _OldStyle(observer, loop, 2))

    assert await rxasync.to_list(rxasync.from_async_iterable(_numbers).pipe(old)) == [0, 10, 20]


async def _numbers() -> Any:
    for i in range(3):
        yield i


def test_stage_subscribed_with_no_loop_says_so() -> None:
    with pytest.raises(rxasync.NoRunningLoopError):
        reactivex.of(1).pipe(_with([])).subscribe()


# -- the review of issue 10 --------------------------------------------------------


class _Raising(_Echo):
    """Raises synchronously in ``on_item`` for the item 0."""

    def on_item(self, item: Any) -> None:
        if item == 0:
            raise ZeroDivisionError("raised in on_item")
        super().on_item(item)


def _raising(stages: list[_Echo]) -> Any:
    def operator(source: Observable[Any]) -> Observable[Any]:
        def make(observer: abc.ObserverBase[Any], loop: asyncio.AbstractEventLoop) -> _Echo:
            stages.append(_Raising(observer, loop))
            return stages[-1]

        return stage_observable(source, "raising", make)

    return operator


def _subscribe_raising(subject: Subject[int], stages: list[_Echo]) -> list[str]:
    events: list[str] = []
    subject.pipe(_raising(stages)).subscribe(
        lambda x: events.append(f"item {x}"), lambda e: events.append(repr(e)), lambda: events.append("done")
    )
    return events


async def test_stage_on_item_raising_from_a_subject_fails_the_stage_once() -> None:
    stages: list[_Echo] = []
    subject: Subject[int] = Subject()
    events = _subscribe_raising(subject, stages)
    for item in (1, 0, 2):
        subject.on_next(item)  # the raise is not handed back to the caller
    subject.on_completed()
    stage = stages[0]
    assert events == ["ZeroDivisionError('raised in on_item')"]
    assert stage.cleanups == 1
    assert stage.demand.pending == 1  # the item 1 it holds; the raising item's credit is given back
    assert not subject.observers  # upstream disposed


async def test_stage_on_item_raising_from_a_thread_fails_the_stage_once() -> None:
    stages: list[_Echo] = []
    subject: Subject[int] = Subject()
    events = _subscribe_raising(subject, stages)

    def push() -> None:
        for item in (1, 0, 2):
            subject.on_next(item)
        subject.on_completed()

    worker = threading.Thread(target=push)
    worker.start()
    await asyncio.to_thread(worker.join)
    await wait_until(lambda: events)
    await asyncio.sleep(0.01)  # anything else hopped after it is delivered too
    assert events == ["ZeroDivisionError('raised in on_item')"]  # not swallowed by the loop's handler
    assert stages[0].cleanups == 1
    assert stages[0].demand.pending == 1


async def test_switch_map_async_fn_raising_synchronously_fails_the_stream() -> None:
    def fn(x: int) -> Any:
        if x == 0:
            raise ZeroDivisionError("sync raise in fn")
        return asyncio.sleep(0, x)

    subject: Subject[int] = Subject()
    events: list[Any] = []
    subject.pipe(switch_map_async(fn)).subscribe(events.append, lambda e: events.append(repr(e)))
    subject.on_next(0)
    subject.on_next(2)
    await asyncio.sleep(0.01)
    assert events == ["ZeroDivisionError('sync raise in fn')"]
    assert not subject.observers


async def _ident(x: int) -> int:
    return x


def test_stage_subscribed_on_a_loop_scheduler_before_the_loop_runs_delivers() -> None:
    """The loop's thread is unknown at subscribe: the stage learns it when the loop runs (no livelock)."""
    loop = asyncio.new_event_loop()
    got: list[int] = []
    ends: list[str] = []
    try:
        reactivex.of(1, 2, 3).pipe(map_async(_ident)).subscribe(
            got.append, lambda e: ends.append(repr(e)), lambda: ends.append("completed"),
            scheduler=rxasync.schedulers.loop(loop),
        )  # fmt: skip
        loop.run_until_complete(wait_until(lambda: ends, within=2.0))
    finally:
        loop.close()
    assert got == [1, 2, 3]
    assert ends == ["completed"]


async def _forever(x: int) -> int:
    await asyncio.sleep(100)
    return x


def test_dispose_from_a_thread_after_the_loop_closed_with_a_call_in_flight() -> None:
    """Dispose releases what it can and always disposes upstream, even when the loop is gone."""
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lambda loop, context: None)  # "Task was destroyed but it is pending!"
    subject: Subject[int] = Subject()

    async def setup() -> abc.DisposableBase:
        subscription = subject.pipe(map_async(_forever)).subscribe(lambda x: None)
        subject.on_next(1)
        await asyncio.sleep(0.01)
        return subscription

    subscription = loop.run_until_complete(setup())
    loop.close()
    raised: list[BaseException] = []

    def dispose() -> None:
        try:
            subscription.dispose()
        except BaseException as exc:
            raised.append(exc)

    disposer = threading.Thread(target=dispose)
    disposer.start()
    disposer.join()
    assert raised == []
    assert not subject.observers  # upstream disposed
