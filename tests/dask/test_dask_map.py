"""map_on_cluster on a real multi-process LocalCluster: results, order, errors, dispose, demand."""

from __future__ import annotations

import asyncio
import random
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import dask_funcs
import pytest
import reactivex
from distributed import Client
from reactivex import operators as ops
from support import recorded

import rxasync
from rxasync.dask import map_on_cluster
from rxasync.dask._window import CAP_MIN
from rxasync.testing import assert_run

INPUTS = random.Random(15).sample(range(1_000_000), 2_000)


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


async def stream_tasks(client: Client, prefix: str) -> int:
    count: int = await client.run_on_scheduler(dask_funcs.count_tasks, prefix)
    return count


async def until_no_tasks(client: Client, prefix: str, within: float = 1.0) -> int:
    """The stream's task count on the scheduler once it is 0, or after ``within`` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while (count := await stream_tasks(client, prefix)) and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110 - polls another process
        await asyncio.sleep(0.05)
    return count


async def test_dask_map_ordered_equals_local_map(client: Client) -> None:
    stage = map_on_cluster(dask_funcs.square, client, concurrency=200)
    out = await rxasync.to_list(reactivex.from_iterable(INPUTS).pipe(stage))
    assert out == [dask_funcs.square(x) for x in INPUTS]


async def test_dask_map_unordered_gives_every_result_once(client: Client) -> None:
    """Through ``async for`` this time (the ordered case goes through ``subscribe``)."""
    stage = map_on_cluster(dask_funcs.square, client, ordered=False, concurrency=200)
    async with rxasync.to_async_iterable(reactivex.from_iterable(INPUTS).pipe(stage)) as items:
        out = [value async for value in items]
    assert Counter(out) == Counter(dask_funcs.square(x) for x in INPUTS)


async def test_dask_map_unordered_emits_in_completion_order(client: Client) -> None:
    def run(ordered: bool) -> reactivex.Observable[int]:
        return reactivex.range(6).pipe(map_on_cluster(dask_funcs.late_zero, client, ordered=ordered))

    unordered = await rxasync.to_list(run(False))
    assert sorted(unordered) == list(range(6))
    assert unordered[0] != 0  # item 0 came in late
    assert await rxasync.to_list(run(True)) == list(range(6))


async def test_dask_map_failing_task_is_cluster_error_with_worker_traceback(client: Client) -> None:
    name = unique("fail")
    with pytest.raises(rxasync.ClusterError) as info:
        await rxasync.to_list(reactivex.range(20).pipe(map_on_cluster(dask_funcs.fail_on, client, name=name)))
    error = info.value
    assert isinstance(error.__cause__, ZeroDivisionError)
    assert str(error.__cause__) == "item 7 is bad"
    assert error.index == 7
    assert error.key.startswith(name)
    assert error.key.endswith("-7")
    assert "dask_funcs.py" in error.worker_traceback
    assert "in fail_on" in error.worker_traceback
    assert await until_no_tasks(client, name) == 0  # the stream's other tasks were released


async def test_dask_map_failing_task_through_async_for(client: Client) -> None:
    def make() -> reactivex.Observable[int]:
        return reactivex.range(20).pipe(map_on_cluster(dask_funcs.fail_on, client))

    await assert_run(make, error=rxasync.ClusterError)


async def test_dask_map_dispose_mid_stream_leaves_no_task_on_scheduler(client: Client) -> None:
    name = unique("dispose")
    got: list[int] = []
    first = asyncio.Event()
    stage = map_on_cluster(dask_funcs.slow_square, client, name=name, args=(0.2,), concurrency=4)
    sub = reactivex.range(1_000).pipe(stage, ops.do_action(lambda _: first.set())).subscribe(got.append)
    await first.wait()
    assert await stream_tasks(client, name) > 0  # tasks were on the cluster when we disposed
    sub.dispose()
    assert await until_no_tasks(client, name, within=1.0) == 0
    assert len(got) < 1_000


async def bounded_run(client: Client, concurrency: int | None, bound: int) -> int:
    """A 100,000-item source into a slow consumer; the peak of the stream's tasks on the scheduler.

    Every tenth item it checks that the scheduler holds at most ``bound`` of the stream's
    tasks and that the source has produced at most what the stage (``2 * bound``), the
    consumer's buffer and the item in hand hold.
    """
    name, produced = unique("bounded"), [0]

    async def numbers() -> AsyncIterator[int]:
        for i in range(100_000):
            produced[0] += 1
            yield i

    stage = map_on_cluster(dask_funcs.square, client, name=name, concurrency=concurrency)
    source = rxasync.from_async_iterable(numbers).pipe(stage)
    peak, received = 0, 0
    async with rxasync.to_async_iterable(source, max_buffer=4) as items:
        async for value in items:
            assert value == received * received
            received += 1
            if received % 10 == 0:
                tasks = await stream_tasks(client, name)
                assert tasks <= bound
                peak = max(peak, tasks)
                assert produced[0] <= received + 2 * bound + 4 + 1  # stage + buffer + one in hand
            await asyncio.sleep(0.002)  # the slow downstream
            if received == 400:
                break
    assert await until_no_tasks(client, name) == 0
    return peak


async def test_dask_map_never_more_than_concurrency_on_cluster(client: Client) -> None:
    """A given ``concurrency`` is an exact bound: the scheduler holds at most that many."""
    assert 0 < await bounded_run(client, 8, 8) <= 8


async def test_dask_map_default_never_more_than_the_documented_cap(client: Client) -> None:
    """The default window: at most max(64 x threads, 128) on the cluster (2 threads here), 2 x that in the stage.

    The consumer is slow, so the window does not grow (the stage waits for it): it stays near its floor, 4.
    """
    assert 0 < await bounded_run(client, None, CAP_MIN) <= 16  # at most two doublings before it shows


async def test_dask_map_default_starts_at_twice_the_threads(client: Client) -> None:
    """Before any task completed (nothing measured), the default window is its floor: 2 x threads."""
    name, produced = unique("default"), [0]
    gate = asyncio.Event()

    async def numbers() -> AsyncIterator[int]:
        for i in range(1_000):
            produced[0] += 1
            yield i

    sub = (
        rxasync.from_async_iterable(numbers)
        .pipe(map_on_cluster(dask_funcs.slow_square, client, name=name, args=(0.3,)))
        .subscribe(lambda _: gate.set())
    )
    try:
        await asyncio.sleep(0.2)
        # 2 workers x 1 thread: a window of 4, so the stage takes 8 items and puts 4 on the cluster
        assert await stream_tasks(client, name) == 4
        assert produced[0] <= 8 + 1
    finally:
        sub.dispose()
    assert await until_no_tasks(client, name) == 0


def map_sizes(client: Client, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of items of each ``client.map`` call made from now on (the list fills as they are made)."""
    sizes: list[int] = []
    real_map = client.map

    def counted(fn: object, *iterables: list[object], **kwargs: object) -> object:
        sizes.append(len(iterables[0]))
        return real_map(fn, *iterables, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(client, "map", counted)
    return sizes


async def test_dask_map_submits_in_chunks_not_one_map_per_result(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each client.map is one update-graph on the scheduler, its main cost per call: with tasks running,
    # the stage waits for a quarter of its concurrency to be free before it submits again.
    sizes = map_sizes(client, monkeypatch)
    stage = map_on_cluster(dask_funcs.square, client, concurrency=200)
    out = await rxasync.to_list(reactivex.from_iterable(INPUTS).pipe(stage))
    assert out == [dask_funcs.square(x) for x in INPUTS]
    assert sum(sizes) == len(INPUTS)
    assert len(sizes) <= len(INPUTS) // 50 + 1, sizes  # every call but the last carries >= 200 / 4
    assert min(sizes[:-1]) >= 50, sizes


async def test_dask_map_default_window_grows_for_short_tasks_from_a_source_that_pushes(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # reactivex.range pushes every item at once: they wait in the stage's queue, never at its demand
    # bound. The window must still see them held back and grow while the workers idle (it stayed at 4
    # for the whole stream: every client.map carried at most 4 items, at 0.4x Dask's own client.map).
    sizes = map_sizes(client, monkeypatch)
    out = await rxasync.to_list(reactivex.range(600).pipe(map_on_cluster(dask_funcs.square, client)))
    assert out == [dask_funcs.square(x) for x in range(600)]
    assert max(sizes) > 4, sizes  # the window grew past its floor (2 x threads)


async def test_dask_map_no_thread_per_call(client: Client) -> None:
    before = threading.active_count()
    peak = [before]

    def watch(_: int) -> None:
        peak[0] = max(peak[0], threading.active_count())

    await rxasync.to_list(
        reactivex.range(300).pipe(
            map_on_cluster(dask_funcs.square, client, concurrency=64), ops.do_action(watch)
        )
    )
    assert peak[0] <= before + 1  # at most Dask's own offload thread, not one per call


async def test_dask_map_shared_argument_is_scattered_once(client: Client) -> None:
    table = list(range(100_000))  # large: pickled per task it would arrive as a new object each time
    out = await rxasync.to_list(
        reactivex.range(200).pipe(map_on_cluster(dask_funcs.remember, client, args=(table,), concurrency=50))
    )
    assert [value for _, _, value in out] == list(range(200))
    copies = {(pid, ident) for pid, ident, _ in out}  # distinct table objects the tasks were given
    workers = {pid for pid, _ in copies}
    # Sent with every task, there would be 200. Scattered, each worker holds one, and Dask may
    # hand a worker a second while it replicates; never one per task.
    assert len(copies) <= 2 * len(workers), copies


async def test_dask_map_validates_arguments(client: Client) -> None:
    with pytest.raises(TypeError, match=r"distributed\.Client"):
        map_on_cluster(dask_funcs.square, object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="concurrency"):
        map_on_cluster(dask_funcs.square, client, concurrency=0)


async def test_dask_map_counts_in_the_stage_statistics(client: Client) -> None:
    """The stage protocol counts ``map_on_cluster`` (it writes ``on_item`` only): in, out, the end."""
    with recorded() as stages:
        stage = map_on_cluster(dask_funcs.square, client, concurrency=4, name="squares")
        out = await rxasync.to_list(
            rxasync.from_async_iterable(lambda: _numbers(30), name="read").pipe(stage)
        )
    assert out == [dask_funcs.square(x) for x in range(30)]
    squares = stages["squares"].snapshot()
    assert (squares["kind"], squares["items_in"], squares["items_out"]) == ("map_on_cluster", 30, 30)
    assert (squares["state"], squares["in_flight"], squares["errors"]) == ("completed", 0, 0)
    assert stages["read"].snapshot()["wait_demand_s"] > 0  # it holds 8 items: the source waited for it


async def _numbers(n: int) -> AsyncIterator[int]:
    for i in range(n):
        yield i
