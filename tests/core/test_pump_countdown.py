"""The pump's countdown, with the test of ``disposed`` folded in: a dispose inside ``on_next`` ends the
loop before the iterator is pulled again (at a timed item, at the item before one, at any item), the
counts stay exact, a disposed pump never waits on demand, a dispose from another thread stops it within
a countdown, and an ``on_next`` that raises counts its item."""

from __future__ import annotations

import asyncio
import operator
import pickle
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
import reactivex.operators as ops
from support import recorded

import rxasync
from rxasync import _pump


class Counted:
    """An async generator factory that counts its pulls and its closes."""

    def __init__(self, n: int) -> None:
        self.n, self.pulls, self.closed = n, 0, 0

    def __call__(self) -> AsyncIterator[int]:
        return self.gen()

    async def gen(self) -> AsyncIterator[int]:
        try:
            for i in range(self.n):
                self.pulls += 1
                yield i
        finally:
            self.closed += 1


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


def exact(s: dict[str, Any], n: int, state: str) -> None:
    assert (s["items_in"], s["items_out"], s["in_flight"], s["state"]) == (n, n, 0, state), s


@pytest.fixture(params=[0.0, 1e9], ids=["every-other-item-timed", "sampled"])
def sampling(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> float:
    # 0.0: every read is late, the meter's mask stays 0: items 1, 3, 5... are timed, 2, 4, 6... come
    # before a timed one. 1e9: no read is late, the runs grow to their longest (_pump._TOP, 1024).
    monkeypatch.setattr(_pump, "SAMPLE_EVERY", request.param)
    return float(request.param)


async def test_take_n_pulls_exactly_n_and_counts_n(sampling: float) -> None:
    for n in [*range(1, 601), 1023, 1024, 1025, 1026, 2100] if sampling else range(1, 41):
        source = Counted(5000)
        with recorded() as stages:
            out = await rxasync.to_list(rxasync.from_async_iterable(source, name="src").pipe(ops.take(n)))
            await settle()
        assert out == list(range(n))
        assert (source.pulls, source.closed) == (n, 1), n  # nothing pulled after the dispose in on_next
        exact(stages["src"].snapshot(), n, "disposed")


TOP = _pump._TOP  # the longest run of items between two reads of the clock (and tests of `disposed`)


@pytest.mark.parametrize("n", [1, 2, 3, 4, TOP - 1, TOP, TOP + 1, TOP + 2, 2 * TOP + 50])
async def test_dispose_inside_a_subscribers_on_next(sampling: float, n: int) -> None:
    source = Counted(5000)
    seen: list[int] = []
    done = asyncio.Event()
    with recorded() as stages:
        subscription: list[Any] = []

        def on_next(i: int) -> None:
            seen.append(i)
            if len(seen) == n:
                subscription[0].dispose()
                done.set()

        subscription.append(rxasync.from_async_iterable(source, name="src").subscribe(on_next))
        await asyncio.wait_for(done.wait(), 5)
        await settle()
    assert seen == list(range(n))  # none after the dispose
    assert (source.pulls, source.closed) == (n, 1)
    exact(stages["src"].snapshot(), n, "disposed")


async def test_disposed_inside_on_next_with_demand_full_does_not_wait(sampling: float) -> None:
    # to_async_iterable's buffer of n is full with the n-th item, the one take(n) disposes at: a pump
    # that went on to its demand test would wait there (nobody reads yet), its source never closed.
    for n in (1, 2, 3, 4, TOP - 1, TOP, TOP + 1, TOP + 2):
        source = Counted(5000)
        with recorded() as stages:
            items = rxasync.to_async_iterable(
                rxasync.from_async_iterable(source, name="src").pipe(ops.take(n)), max_buffer=n
            )
            async with items as it:
                for _ in range(200):
                    if source.closed:
                        break
                    await asyncio.sleep(0)
                assert (source.pulls, source.closed) == (n, 1), n
                assert stages["src"].snapshot()["state"] == "disposed"
                assert [i async for i in it] == list(range(n))
        exact(stages["src"].snapshot(), n, "disposed")


async def test_an_on_next_that_raises_counts_its_item(sampling: float) -> None:
    for at in (0, 1, 2, 3, 300, TOP - 1, TOP, TOP + 1):
        source = Counted(5000)
        with recorded() as stages:
            outcome = await raising_at(rxasync.from_async_iterable(source, name="src"), at)
        assert str(outcome) == "bad"
        assert (source.pulls, source.closed) == (at + 1, 1)
        s = stages["src"].snapshot()
        assert (s["items_out"], s["errors"], s["state"]) == (at + 1, 1, "error"), s


async def raising_at(source: Any, at: int) -> Exception:
    """Subscribe with an on_next that raises at item ``at``; the error delivered."""
    done: asyncio.Future[Exception] = asyncio.get_running_loop().create_future()

    def on_next(i: int) -> None:
        if i == at:
            raise ValueError("bad")

    source.subscribe(on_next, done.set_result)
    return await asyncio.wait_for(done, 5)


async def test_dispose_from_another_thread_stops_within_a_countdown() -> None:
    # The loop tests `disposed` at the end of each run (at most TOP items): a dispose from another
    # thread cannot end the run safely, so up to TOP items may still go out after it.
    source = Counted(10**7)
    seen: list[int] = []
    gate = threading.Event()
    at: list[int] = []

    def on_next(i: int) -> None:
        seen.append(i)
        if i == 1000:
            gate.set()

    with recorded() as stages:
        subscription = rxasync.from_async_iterable(source, name="src").subscribe(on_next)

        def dispose() -> None:
            gate.wait(5)
            subscription.dispose()
            at.append(len(seen))

        thread = threading.Thread(target=dispose)
        thread.start()
        # the source never suspends: the loop turns only when the pump sees `disposed`
        for _ in range(1000):
            await asyncio.sleep(0)
            if source.closed:
                break
        thread.join(5)
        await settle()
    assert source.closed == 1
    assert at
    assert len(seen) - at[0] <= TOP, (len(seen), at)
    exact(stages["src"].snapshot(), len(seen), "disposed")


def test_each_endpoint_class_has_its_own_per_item_code() -> None:
    # (a shared code object would be specialized for one class and miss for the other, every item)
    from rxasync._stage import Endpoint
    from rxasync._terminals import _ToList
    from rxasync.operators._map_async import _MapStage

    assert _ToList.on_next.__code__ is not _MapStage.on_next.__code__
    assert _ToList.on_next.__code__ is not Endpoint.on_next.__code__
    assert _ToList.finish.__code__ is not _MapStage.finish.__code__
    # each copy is named as its class's, so pickle (by reference) finds it where it is
    assert _ToList.on_next.__qualname__ == "_ToList.on_next"
    assert pickle.loads(pickle.dumps(_ToList.on_next)) is _ToList.on_next
    assert pickle.loads(pickle.dumps(_MapStage.finish)) is _MapStage.finish


async def test_batched_take_n_pulls_no_batch_after_and_counts_n(sampling: float) -> None:
    pulls = 0

    async def batches() -> AsyncIterator[list[int]]:
        nonlocal pulls
        for start in range(0, 7000, 7):
            pulls += 1
            yield list(range(start, start + 7))

    for n in (*range(1, 30), 255, 600, TOP - 1, TOP, TOP + 1, TOP + 2, 2 * TOP + 50):
        pulls = 0
        with recorded() as stages:
            out = await rxasync.to_list(rxasync.from_async_batches(batches, name="b").pipe(ops.take(n)))
            await settle()
        assert out == list(range(n))
        assert pulls == -(-n // 7), n  # the batch of the n-th item is the last one pulled
        exact(stages["b"].snapshot(), n, "disposed")


async def test_counts_are_final_when_the_cancel_lands_in_the_sources_cleanup() -> None:
    # Disposed from another thread, the pump returns at its countdown's end and closes the source;
    # the cancellation queued by that dispose then lands in the source's awaiting cleanup. The
    # counts were written after aclose(), so they were lost there (items_out hundreds short).
    seen: list[int] = []
    gate = threading.Event()
    cleanup: list[str] = []

    async def gen() -> AsyncIterator[int]:
        try:
            for i in range(10**7):
                yield i
        finally:
            cleanup.append("begun")
            await asyncio.sleep(0.01)  # closing a connection, say

    def on_next(i: int) -> None:
        seen.append(i)
        if i == 1000:
            gate.set()

    with recorded() as stages:
        subscription = rxasync.from_async_iterable(gen, name="src").subscribe(on_next)
        thread = threading.Thread(target=lambda: (gate.wait(5), subscription.dispose()))
        thread.start()
        for _ in range(1000):
            await asyncio.sleep(0.001)
            if not thread.is_alive() and cleanup:
                break
        thread.join(5)
        await asyncio.sleep(0.05)
        await settle()
    assert cleanup == ["begun"]
    exact(stages["src"].snapshot(), len(seen), "disposed")


@pytest.mark.parametrize("batched", [False, True], ids=["items", "batches"])
@pytest.mark.parametrize("error", [IndexError, StopAsyncIteration, KeyError])
async def test_an_index_error_of_on_next_or_of_the_source_is_delivered_not_taken_for_the_runs_end(
    sampling: float, batched: bool, error: type[Exception]
) -> None:
    # The run's end is the IndexError of the pump's own lookup, and a batch's end the StopAsyncIteration
    # of its pull: the same errors raised by on_next or by the source, at any item (at a run's end too),
    # are the pipeline's error, with exact counts.
    for at in (0, 1, 2, TOP - 2, TOP - 1, TOP, TOP + 1):
        for where in ("on_next", "source"):
            await raise_and_check(batched, error, at, where)


async def raise_and_check(batched: bool, error: type[Exception], at: int, where: str) -> None:
    async def gen() -> AsyncIterator[Any]:
        for i in range(3 * TOP):
            if where == "source" and i == at:
                raise error("bad")
            yield [i] if batched else i

    make = rxasync.from_async_batches if batched else rxasync.from_async_iterable
    seen: list[int] = []

    def on_next(i: int) -> None:
        seen.append(i)
        if where == "on_next" and i == at:
            raise error("bad")

    with recorded() as stages:
        done: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
        make(gen, name="src").subscribe(on_next, done.set_result, lambda: done.set_result(None))  # type: ignore[arg-type]
        outcome = await asyncio.wait_for(done, 5)
    # (an async generator's StopAsyncIteration comes out as a RuntimeError, PEP 479)
    expected = RuntimeError if (where, error) == ("source", StopAsyncIteration) else error
    assert type(outcome) is expected, (at, where, outcome)
    out = at + 1 if where == "on_next" else at
    assert seen == list(range(out)), (at, where)
    s = stages["src"].snapshot()
    assert (s["items_out"], s["errors"], s["state"]) == (out, 1, "error"), (at, where, s)


class Rewinding:
    """A class async iterator whose ``__aiter__`` rewinds it (``rewinds``: after the first call, a fresh one)."""

    def __init__(self, n: int, fresh: bool = False) -> None:
        self.n, self.i, self.aiters, self.fresh = n, 0, 0, fresh

    def __aiter__(self) -> Any:
        self.aiters += 1
        if self.fresh and self.aiters > 1:
            return Rewinding(self.n)
        self.i = 0
        return self

    async def __anext__(self) -> int:
        if self.i >= self.n:
            raise StopAsyncIteration
        self.i += 1
        return self.i - 1


@pytest.mark.parametrize("fresh", [False, True], ids=["rewinds", "fresh-one"])
async def test_a_class_iterators_aiter_is_called_once_however_many_runs(sampling: float, fresh: bool) -> None:
    # The loop is entered again at each run's end: an `async for` over the iterator called its
    # __aiter__ each time, and these repeated their items (without end: take() bounds it here).
    n = 3 * TOP + 5
    source = Rewinding(n, fresh)
    out = await rxasync.to_list(rxasync.from_async_iterable(lambda: source).pipe(ops.take(n + 10)))
    assert out == list(range(n))
    assert source.aiters == 1  # the bridge's aiter(), nothing more


@pytest.mark.parametrize("make", [operator.itemgetter(5), list.pop], ids=["itemgetter", "list.pop"])
async def test_a_c_on_next_raising_index_error_is_delivered(sampling: float, make: Any) -> None:
    # A C function as on_next: its IndexError leaves run() at the emit line with no frame of its own.
    for at in (0, 1, TOP - 1, TOP, TOP + 1):

        async def gen(at: int = at) -> AsyncIterator[list[int]]:
            for i in range(2 * TOP):
                yield [] if i == at else [0, 1, 2, 3, 4, 5]

        done: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
        with recorded() as stages:
            rxasync.from_async_iterable(gen, name="src").subscribe(
                make, done.set_result, lambda done=done: done.set_result(None)
            )
            outcome = await asyncio.wait_for(done, 5)
        assert type(outcome) is IndexError, (at, outcome)
        s = stages["src"].snapshot()
        assert (s["items_out"], s["errors"], s["state"]) == (at + 1, 1, "error"), (at, s)


async def test_a_lazy_batch_that_raises_is_the_error_and_the_source_is_closed() -> None:
    # A batch that is not a list or a tuple is made one first; when that raises, it is the error.
    closed: list[bool] = []

    def lazy() -> Any:
        yield 1
        raise KeyError("in the batch")

    async def gen() -> AsyncIterator[Any]:
        try:
            yield [0]
            yield lazy()
        finally:
            closed.append(True)

    with recorded() as stages:
        done: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
        rxasync.from_async_batches(gen, name="src").subscribe(
            lambda _: None, done.set_result, lambda: done.set_result(None)
        )
        outcome = await asyncio.wait_for(done, 5)
    assert type(outcome) is KeyError, outcome
    assert closed == [True]
    s = stages["src"].snapshot()
    assert (s["items_out"], s["errors"], s["state"]) == (1, 1, "error"), s
