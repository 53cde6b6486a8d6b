"""map_async(concurrency=1) between a source and its one worker: what broke the eager path, and the rest.

Every case runs twice: straight from a bridge source (``fused``: the worker
pulls the source's iterator itself) and with a plain RxPY operator in
between (``pumped``: the pump task hands items to the worker). The calls run
in a real task of their own, so cancellation, ``asyncio.timeout``, dispose
and the end of the source behave as with a task per call.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any

import pytest
from reactivex import Observable
from reactivex import operators as ops
from support import outcome, wait_until

import rxasync
from rxasync.operators import map_async

Shape = Callable[[Observable[int]], Observable[int]]
SHAPES: dict[str, Shape] = {"fused": lambda s: s, "pumped": lambda s: s.pipe(ops.map(lambda x: x))}
shapes = pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))


def numbers(n: int, pulled: list[int] | None = None, closed: list[bool] | None = None) -> Observable[int]:
    async def gen() -> AsyncIterator[int]:
        try:
            for i in range(n):
                if pulled is not None:
                    pulled.append(i)
                yield i
        finally:
            if closed is not None:
                closed.append(True)

    return rxasync.from_async_iterable(gen)


class Resource:
    """An ``async with`` that records how it was left, awaiting in its cleanup."""

    def __init__(self, log: list[Any]) -> None:
        self.log = log

    async def __aenter__(self) -> Resource:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.sleep(0)  # an await in cleanup: raises RuntimeError if closed with GeneratorExit
        self.log.append(exc_type)


def loop_errors() -> list[dict[str, Any]]:
    """Collect what reaches the loop's exception handler (a lost error, a task never retrieved)."""
    errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: errors.append(ctx))
    return errors


# -- (a) a cancellation scheduled during a call ---------------------------------------
@shapes
async def test_map_async_one_timeout_zero_inside_a_call_does_not_hang_the_stage(shape: Shape) -> None:
    async def bounded(x: int) -> str:
        try:
            async with asyncio.timeout(0):
                await asyncio.sleep(1)
        except TimeoutError:
            return f"late {x}"
        return "ok"

    got = await asyncio.wait_for(rxasync.to_list(shape(numbers(4)).pipe(map_async(bounded))), 5)
    assert got == ["late 0", "late 1", "late 2", "late 3"]


@shapes
async def test_map_async_one_timeout_error_escaping_a_call_is_delivered_once(shape: Shape) -> None:
    closed: list[bool] = []

    async def bounded(x: int) -> int:
        async with asyncio.timeout(0 if x == 2 else 5):
            await asyncio.sleep(0.001)
        return x

    items, error = await asyncio.wait_for(
        outcome(shape(numbers(6, closed=closed)).pipe(map_async(bounded))), 5
    )
    assert items == [0, 1]
    assert isinstance(error, TimeoutError)
    assert closed == [True]


@shapes
async def test_map_async_one_call_cancelling_its_own_task_ends_the_stage_with_an_error(shape: Shape) -> None:
    closed: list[bool] = []

    async def cancels(x: int) -> int:
        if x == 1:
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
        await asyncio.sleep(0)
        return x

    items, error = await asyncio.wait_for(
        outcome(shape(numbers(5, closed=closed)).pipe(map_async(cancels))), 5
    )
    assert items == [0]
    assert isinstance(error, rxasync.RxAsyncError)
    assert isinstance(error.__cause__, asyncio.CancelledError)
    assert "cancelled" in str(error)
    await wait_until(lambda: closed == [True])


@shapes
async def test_map_async_one_call_that_cancels_itself_and_catches_it_goes_on(shape: Shape) -> None:
    async def shrugs(x: int) -> int:
        if x == 1:
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
            try:
                await asyncio.sleep(0)
            except asyncio.CancelledError:
                task.uncancel()
        return x

    got = await asyncio.wait_for(rxasync.to_list(shape(numbers(4)).pipe(map_async(shrugs))), 5)
    assert got == [0, 1, 2, 3]


# -- (b) dispose while a call runs --------------------------------------------------------
@shapes
async def test_map_async_one_dispose_while_a_resumed_call_runs_cancels_it_with_cleanup(shape: Shape) -> None:
    errors = loop_errors()
    log: list[Any] = []
    resumed = asyncio.Event()
    closed: list[bool] = []

    async def works(x: int) -> int:
        try:
            async with Resource(log):
                await asyncio.sleep(0)  # suspended once, resumed by the worker...
                resumed.set()
                await asyncio.sleep(3600)  # ...and suspended again when disposed
        finally:
            log.append("finally")
        return x

    sub = shape(numbers(3, closed=closed)).pipe(map_async(works)).subscribe(lambda _: None)
    await asyncio.wait_for(resumed.wait(), 5)
    sub.dispose()
    await wait_until(lambda: len(log) == 2 and closed == [True])
    assert log == [asyncio.CancelledError, "finally"]
    assert errors == []


@shapes
async def test_map_async_one_dispose_from_inside_the_running_call_lets_it_finish_cleanly(
    shape: Shape,
) -> None:
    errors = loop_errors()
    log: list[Any] = []
    got: list[int] = []
    closed: list[bool] = []
    holder: list[Any] = []

    async def disposes(x: int) -> int:
        async with Resource(log):
            if x == 1:
                holder[0].dispose()  # the consumer goes while this call runs on the stack
            await asyncio.sleep(0)
        return x

    holder.append(shape(numbers(5, closed=closed)).pipe(map_async(disposes)).subscribe(got.append))
    await wait_until(lambda: closed == [True] and len(log) >= 2)
    await asyncio.sleep(0.01)
    assert got == [0]  # nothing delivered after dispose
    assert log == [None, None]  # the running call was not closed under itself: it ran to its end
    assert errors == []


# -- (c) dispose while a call waits -----------------------------------------------------------
@shapes
async def test_map_async_one_dispose_while_a_call_waits_cancels_it_cleanly(shape: Shape) -> None:
    errors = loop_errors()
    log: list[Any] = []
    waiting = asyncio.Event()
    never = asyncio.Event()
    closed: list[bool] = []

    async def waits(x: int) -> int:
        try:
            async with Resource(log):
                waiting.set()
                await never.wait()
        except asyncio.CancelledError:
            log.append("cancelled")
            raise
        return x

    sub = shape(numbers(3, closed=closed)).pipe(map_async(waits)).subscribe(lambda _: None)
    await asyncio.wait_for(waiting.wait(), 5)
    sub.dispose()
    await wait_until(lambda: len(log) == 2 and closed == [True])
    assert log == [asyncio.CancelledError, "cancelled"]
    assert errors == []


# -- (d) the source ends while the first call runs ---------------------------------------------
@shapes
async def test_map_async_one_source_ending_during_the_first_call_completes_after_it(shape: Shape) -> None:
    events: list[str] = []

    async def slow(x: int) -> int:
        events.append(f"start {x}")
        await asyncio.sleep(0.01)
        events.append(f"end {x}")
        return x

    async def one() -> AsyncIterator[int]:
        yield 7
        events.append("source done")

    done = asyncio.Event()
    got: list[int] = []
    source = shape(rxasync.from_async_iterable(one)).pipe(map_async(slow))
    source.subscribe(got.append, on_completed=lambda: (events.append("completed"), done.set()))
    await asyncio.wait_for(done.wait(), 5)
    assert got == [7]
    assert events.index("end 7") < events.index("completed")  # the end waits for the call
    assert "source done" in events  # and the leak check finds no worker left pending


async def test_map_async_one_subject_completing_during_the_first_call_leaves_no_task() -> None:
    from reactivex.subject import Subject

    subject: Subject[int] = Subject()
    done = asyncio.Event()
    got: list[int] = []

    async def slow(x: int) -> int:
        subject.on_completed()  # the source ends while its first call is still running
        await asyncio.sleep(0.01)
        return x

    subject.pipe(map_async(slow)).subscribe(got.append, on_completed=done.set)
    subject.on_next(3)
    await asyncio.wait_for(done.wait(), 5)
    assert got == [3]


# -- ordering, errors, backpressure --------------------------------------------------------
@shapes
async def test_map_async_one_mixes_calls_that_finish_and_calls_that_suspend_in_order(shape: Shape) -> None:
    async def sometimes(x: int) -> int:
        if x % 3 == 0:
            await asyncio.sleep(0)
        if x % 7 == 0:
            await asyncio.sleep(0.001)
        return 2 * x

    for ordered in (True, False):
        got = await rxasync.to_list(shape(numbers(60)).pipe(map_async(sometimes, ordered=ordered)))
        assert got == [2 * i for i in range(60)]


@shapes
async def test_map_async_one_error_is_delivered_once_and_the_source_closed(shape: Shape) -> None:
    closed: list[bool] = []
    calls: list[int] = []

    async def fails(x: int) -> int:
        calls.append(x)
        await asyncio.sleep(0)
        if x == 4:
            raise ValueError(f"bad {x}")
        return x

    errors: list[Exception] = []
    got: list[int] = []
    finished = asyncio.Event()
    shape(numbers(100, closed=closed)).pipe(map_async(fails)).subscribe(
        got.append, lambda e: (errors.append(e), finished.set()), finished.set
    )
    await asyncio.wait_for(finished.wait(), 5)
    await wait_until(lambda: closed == [True])
    assert got == [0, 1, 2, 3]
    assert [str(e) for e in errors] == ["bad 4"]
    assert calls == [0, 1, 2, 3, 4]  # nothing called after the failure


@shapes
async def test_map_async_one_holds_at_most_two_items_ahead_of_the_call(shape: Shape) -> None:
    pulled: list[int] = []

    async def slow(x: int) -> int:
        await asyncio.sleep(0.0005)
        assert len(pulled) - x <= 3  # two credits (this one and one ahead), and the one being pulled
        return x

    got = await rxasync.to_list(shape(numbers(50, pulled)).pipe(map_async(slow)))
    assert got == list(range(50))


@shapes
async def test_map_async_one_waits_for_a_slow_consumer_below(shape: Shape) -> None:
    pulled: list[int] = []

    async def echo(x: int) -> int:
        return x

    got: list[int] = []
    async with rxasync.to_async_iterable(
        shape(numbers(40, pulled)).pipe(map_async(echo)), max_buffer=2
    ) as it:
        async for x in it:
            got.append(x)
            await asyncio.sleep(0.001)
            assert len(pulled) - len(got) <= 2 + 2 + 1  # the buffer, the stage's two credits, one pulled
    assert got == list(range(40))


# -- the fused path itself -------------------------------------------------------------------
@pytest.mark.parametrize(("shape", "tasks"), [(SHAPES["fused"], 2), (SHAPES["pumped"], 3)], ids=list(SHAPES))
async def test_map_async_one_straight_on_a_bridge_source_is_one_task(shape: Shape, tasks: int) -> None:
    seen: set[int] = set()
    workers: set[asyncio.Task[Any] | None] = set()

    async def where(x: int) -> int:
        seen.add(len(asyncio.all_tasks()))
        workers.add(asyncio.current_task())
        return x

    assert await rxasync.to_list(shape(numbers(20)).pipe(map_async(where))) == list(range(20))
    assert seen == {tasks}  # this test's task and the worker (and the pump, when it hands over)
    assert len(workers) == 1
    assert asyncio.current_task() not in workers


async def test_map_async_one_fused_source_keeps_exact_counters() -> None:
    from support import recorded

    async def gen() -> AsyncIterator[int]:
        for i in range(500):
            yield i

    async def echo(x: int) -> int:
        return x

    with recorded() as stages:
        source = rxasync.from_async_iterable(gen, name="read").pipe(map_async(echo, name="score"))
        assert await rxasync.to_list(source) == list(range(500))
        sub = rxasync.from_async_iterable(gen, name="cut").pipe(map_async(echo, name="cut:score"))
        got: list[int] = []
        subscription = sub.pipe(ops.take(3)).subscribe(got.append)
        await wait_until(lambda: stages["cut"].snapshot()["state"] != "running")
        subscription.dispose()
    read, score, cut = (stages[n].snapshot() for n in ("read", "score", "cut"))
    assert (read["kind"], read["items_out"], read["state"]) == ("from_async_iterable", 500, "completed")
    assert (score["items_in"], score["items_out"], score["state"]) == (500, 500, "completed")
    assert got == [0, 1, 2]
    assert (cut["state"], cut["items_out"]) == ("disposed", 3)


async def test_map_async_one_fused_generator_sees_the_stages_demand_and_fn_does_not() -> None:
    from rxasync._flow import current_demand, demand_room

    rooms: list[int] = []
    inside: list[object] = []

    async def gen() -> AsyncIterator[int]:
        for i in range(5):
            rooms.append(demand_room(100))
            yield i

    async def probe(x: int) -> int:
        inside.append(current_demand())
        return x

    assert await rxasync.to_list(rxasync.from_async_iterable(gen).pipe(map_async(probe))) == list(range(5))
    assert set(rooms) <= {1, 2}  # the stage's two credits, as with the pump
    assert inside == [None] * 5  # fn runs with what is published below (to_list: nothing)
