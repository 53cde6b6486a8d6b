"""The counters every rxasync source and stage keeps through the stage protocol and the pump."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import reactivex
from reactivex import operators as ops
from reactivex.scheduler import ThreadPoolScheduler
from rich.console import Console
from support import recorded, wait_until

import rxasync
from rxasync.operators import map_async, map_on, switch_map_async
from rxasync.stats import StageRate, StageSnapshot, StageStats, rates, render, snapshot


def drawn(rows: list[StageRate]) -> str:
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(render(rows))
    return console.export_text()


def snap(stages: dict[str, StageStats], name: str) -> StageSnapshot:
    return stages[name].snapshot()


async def numbers(n: int, delay: float = 0.0) -> AsyncIterator[int]:
    for i in range(n):
        await asyncio.sleep(delay)
        yield i


async def slow_double(x: int) -> int:
    await asyncio.sleep(0.002)
    return 2 * x


async def test_stats_pipeline_counts_items_and_waits_through_to_list() -> None:
    with recorded() as stages:
        source = rxasync.from_async_iterable(lambda: numbers(40), name="read")
        out = await rxasync.to_list(source.pipe(map_async(slow_double, concurrency=2, name="score")))
    assert out == [2 * i for i in range(40)]
    read, score = snap(stages, "read"), snap(stages, "score")
    assert (read["kind"], read["items_out"], read["state"]) == ("from_async_iterable", 40, "completed")
    assert (score["kind"], score["items_in"], score["items_out"]) == ("map_async", 40, 40)
    assert (score["errors"], score["in_flight"], score["state"]) == (0, 0, "completed")
    # score holds at most 4 items: the source spends its time waiting for score's demand
    assert read["wait_demand_s"] > 0.5 * read["age_s"]
    assert score["wait_demand_s"] == 0.0  # to_list gives no demand: score never waits for it


async def test_stats_pipeline_counts_through_async_for() -> None:
    with recorded() as stages:
        source = rxasync.from_async_iterable(lambda: numbers(30), name="read")
        got = []
        async with rxasync.to_async_iterable(
            source.pipe(map_async(slow_double, name="score")), max_buffer=4, name="iter"
        ) as items:
            async for x in items:
                got.append(x)
                await asyncio.sleep(0.01)  # a slow consumer (0.3 s in all): score waits for its demand
    assert got == [2 * i for i in range(30)]
    score, it = snap(stages, "score"), snap(stages, "iter")
    assert (score["items_in"], score["items_out"], score["state"]) == (30, 30, "completed")
    assert (it["kind"], it["items_in"], it["items_out"]) == ("to_async_iterable", 30, 30)
    assert score["wait_demand_s"] > 0.1  # it works ~2 ms of every 10
    assert it["wait_upstream_s"] > 0.0  # async for waited on an empty buffer at least once


async def test_stats_error_is_counted_and_ends_the_stages() -> None:
    async def fails_on_3(x: int) -> int:
        if x == 3:
            raise ValueError("bad item")
        return x

    with recorded() as stages:
        source = rxasync.from_async_iterable(lambda: numbers(10), name="read")
        with pytest.raises(ValueError, match="bad item"):
            await rxasync.to_list(source.pipe(map_async(fails_on_3, name="score")))
    score, read = snap(stages, "score"), snap(stages, "read")
    assert (score["errors"], score["state"], score["in_flight"]) == (1, "error", 0)
    assert score["items_out"] == 3
    assert read["state"] == "disposed"  # the failing stage disposed its source


async def test_stats_in_flight_is_live_while_running() -> None:
    gate = asyncio.Event()

    async def held(x: int) -> int:
        await gate.wait()
        return x

    with recorded() as stages:
        source = rxasync.from_async_iterable(lambda: numbers(10), name="read")
        task = asyncio.ensure_future(
            rxasync.to_list(source.pipe(map_async(held, concurrency=3, name="score")))
        )
        await wait_until(lambda: "score" in stages and stages["score"].snapshot()["in_flight"] == 6)
        live = {s["name"]: s for s in snapshot()}
        assert live["score"]["items_in"] == 6
        assert live["score"]["items_out"] == 0
        assert live["read"]["state"] == "running"
        assert live["read"]["wait_demand_s"] > 0
        gate.set()
        assert await task == list(range(10))


async def test_stats_waits_for_upstream_of_a_slow_source() -> None:
    with recorded() as stages:
        source = rxasync.from_async_iterable(lambda: numbers(5, delay=0.02), name="read")
        await rxasync.to_list(source.pipe(map_async(slow_double, name="score")))
    read, score = snap(stages, "read"), snap(stages, "score")
    assert read["wait_upstream_s"] > 0.08  # its own sleeps: the source waits on its input
    assert score["wait_upstream_s"] > 0.05  # nothing in flight before and between items (~0.09 s)
    assert read["wait_demand_s"] < read["wait_upstream_s"]


async def test_stats_every_stage_reports_its_name_in_snapshot() -> None:
    async def batches() -> AsyncIterator[list[int]]:
        yield [1, 2]

    async def one() -> int:
        return 1

    async def echo(x: int) -> int:
        return x

    gate = asyncio.Event()

    async def held(x: int) -> int:
        await gate.wait()
        return x

    with ThreadPoolExecutor(1) as pool:
        merged = reactivex.merge(
            rxasync.from_async_iterable(lambda: numbers(2), name="n:iterable"),
            rxasync.from_async_batches(batches, name="n:batches"),
            rxasync.from_awaitable(one, name="n:awaitable"),
        ).pipe(
            map_on(lambda x: x, pool, name="n:map_on"),
            switch_map_async(echo, name="n:switch"),
            map_async(held, name="n:map_async"),
        )
        names = {"n:iterable", "n:batches", "n:awaitable", "n:map_on", "n:switch", "n:map_async", "n:iter"}
        async with rxasync.to_async_iterable(merged, name="n:iter") as items:
            step = asyncio.ensure_future(items.__anext__())
            await wait_until(lambda: names <= {s["name"] for s in snapshot()})
            gate.set()
            await step
            kinds = {s["name"]: s["kind"] for s in snapshot() if s["name"] in names}
    assert kinds == {
        "n:iterable": "from_async_iterable", "n:batches": "from_async_batches", "n:awaitable": "from_awaitable",
        "n:map_on": "map_on", "n:switch": "switch_map_async", "n:map_async": "map_async",
        "n:iter": "to_async_iterable",
    }  # fmt: skip


async def test_stats_count_items_that_arrive_from_worker_threads() -> None:
    scheduler = ThreadPoolScheduler(1)
    with recorded() as stages:
        source = reactivex.from_iterable(range(200)).pipe(ops.subscribe_on(scheduler))
        out = await rxasync.to_list(source.pipe(map_async(slow_double, concurrency=8, name="score")))
    scheduler.executor.shutdown()
    assert len(out) == 200
    score = snap(stages, "score")
    assert (score["items_in"], score["items_out"], score["state"]) == (200, 200, "completed")


async def test_stats_of_a_disposed_stage_end_as_disposed() -> None:
    with recorded() as stages:
        source = rxasync.from_async_iterable(lambda: numbers(1000, delay=0.001), name="read")
        got: list[int] = []
        sub = source.pipe(map_async(slow_double, name="score")).subscribe(got.append)
        await wait_until(lambda: len(got) >= 3)
        sub.dispose()
        await asyncio.sleep(0.01)
    assert snap(stages, "score")["state"] == "disposed"
    assert snap(stages, "read")["state"] == "disposed"
    assert snap(stages, "score")["in_flight"] == 0


async def test_stats_of_a_completed_stage_stay_completed_after_dispose() -> None:
    with recorded() as stages:
        done = asyncio.get_running_loop().create_future()
        sub = rxasync.from_async_iterable(lambda: numbers(3), name="read").subscribe(
            on_completed=lambda: done.set_result(None)
        )
        await done
        sub.dispose()
    assert snap(stages, "read")["state"] == "completed"
    assert snap(stages, "read")["items_out"] == 3


async def test_stats_http_sources_report_their_name_in_snapshot() -> None:
    from aiohttp import web

    from rxasync import http
    from rxasync.http._examples import serve

    gate = asyncio.Event()

    async def slow(req: web.Request) -> web.Response:
        await gate.wait()
        return web.json_response({"n": 1})

    async with serve(slow) as base:
        sources = reactivex.merge(
            http.get_json(base + "/", name="h:get_json"),
            http.stream(base + "/", name="h:stream"),
            http.lines(base + "/", name="h:lines"),
        )
        async with rxasync.to_async_iterable(sources) as items:
            step = asyncio.ensure_future(items.__anext__())
            names = {"h:get_json", "h:stream", "h:lines"}
            await wait_until(lambda: names <= {s["name"] for s in snapshot()})
            gate.set()
            await step
    with pytest.raises(TypeError, match="nmae"):
        http.get_json("http://127.0.0.1:1/", nmae="x")  # type: ignore[call-arg]


async def test_stats_named_source_into_a_terminal_is_pulled_directly_and_counted() -> None:
    pulled_by: set[asyncio.Task[object] | None] = set()

    async def gen() -> AsyncIterator[int]:
        for i in range(2000):
            pulled_by.add(asyncio.current_task())
            yield i

    with recorded() as stages:
        got = await rxasync.to_list(rxasync.from_async_iterable(gen, name="read"))
    assert got == list(range(2000))
    assert pulled_by == {asyncio.current_task()}  # the direct path: no pump task in between
    read = snap(stages, "read")
    assert (read["kind"], read["items_in"], read["items_out"], read["state"]) == (
        "from_async_iterable", 2000, 2000, "completed",
    )  # fmt: skip
    assert read["wait_upstream_s"] >= 0.0
    assert read["in_flight"] == 0


async def test_stats_named_direct_sources_count_batches_awaitables_first_and_errors() -> None:
    async def batches() -> AsyncIterator[list[int]]:
        yield [1, 2]
        yield [3]

    async def answer() -> int:
        return 42

    async def broken() -> AsyncIterator[int]:
        yield 1
        raise ValueError("boom")

    with recorded() as stages:
        assert await rxasync.last(rxasync.from_async_batches(batches, name="b")) == 3
        assert await rxasync.first(rxasync.from_awaitable(answer, name="a")) == 42
        assert await rxasync.first(rxasync.from_async_iterable(lambda: numbers(10), name="f")) == 0
        with pytest.raises(ValueError, match="boom"):
            await rxasync.to_list(rxasync.from_async_iterable(broken, name="e"))
    seen = {
        n: (s["kind"], s["items_out"], s["errors"], s["state"]) for n in "bafe" for s in [snap(stages, n)]
    }
    assert seen == {
        "b": ("from_async_batches", 3, 0, "completed"),
        "a": ("from_awaitable", 1, 0, "completed"),
        "f": ("from_async_iterable", 1, 0, "disposed"),  # first() stopped it, as its dispose does
        "e": ("from_async_iterable", 1, 1, "error"),
    }


@pytest.mark.parametrize(("overflow", "kept"), [("drop_oldest", [6, 7, 8, 9]), ("drop_newest", [0, 1, 2, 3])])
async def test_stats_items_dropped_by_the_overflow_are_counted(overflow: str, kept: list[int]) -> None:
    source = reactivex.concat(reactivex.from_iterable(range(10)), reactivex.never())  # ten, then it runs on
    with recorded() as stages:
        items = rxasync.to_async_iterable(source, max_buffer=4, overflow=overflow, name="iter")  # type: ignore[arg-type]
        got = [await items.__anext__()]  # the source emitted ten at subscribe: six were dropped
        live = snap(stages, "iter")
        assert (live["items_in"], live["items_out"], live["dropped"], live["in_flight"]) == (10, 1, 6, 3)
        assert rates([], [live])[0]["dropped"] == 6  # what the live view's "drop" column shows
        assert "drop" in drawn(rates([], [live]))
        assert "drop" not in drawn(rates([], [{**live, "dropped": 0}]))  # no drops, no column
        got += [await items.__anext__() for _ in range(3)]
        await items.aclose()
    assert got == kept
    end = snap(stages, "iter")
    assert (end["items_in"], end["items_out"], end["dropped"], end["in_flight"]) == (10, 4, 6, 0)


@pytest.mark.parametrize("fused", [False, True], ids=["in-full", "pulled"])
@pytest.mark.parametrize("stop_at", [10, 63, 64, 99, 199])
async def test_stats_async_for_counts_items_out_exactly_when_it_breaks(stop_at: int, fused: bool) -> None:
    # Buffered in full (a source on a scheduler), or a plain from_iterable pulled 64 at a time
    scheduler = None if fused else reactivex.scheduler.CurrentThreadScheduler.singleton()
    source = reactivex.from_iterable(range(200), scheduler)
    with recorded() as stages:
        async with rxasync.to_async_iterable(source, name="iter") as items:
            async for x in items:
                if x == stop_at:
                    break
    it = snap(stages, "iter")
    pulled = min(200, (stop_at // 64 + 1) * 64) if fused else 200
    assert (it["items_in"], it["items_out"], it["in_flight"]) == (pulled, stop_at + 1, 0)


@pytest.mark.parametrize("batched", [False, True])
async def test_stats_source_stopped_by_take_counts_every_item_it_sent(batched: bool) -> None:
    async def batches() -> AsyncIterator[list[int]]:
        for i in range(0, 1000, 10):
            yield list(range(i, i + 10))

    with recorded() as stages:
        source = (
            rxasync.from_async_batches(batches, name="read")
            if batched
            else rxasync.from_async_iterable(lambda: numbers(1000), name="read")
        )
        got = await rxasync.to_list(source.pipe(ops.take(37)))
    assert got == list(range(37))
    read = snap(stages, "read")
    assert (read["items_out"], read["state"]) == (37, "disposed")  # take(37) disposed it after the 37th


def test_stats_weighted_endpoint_finish_releases_without_counting_items() -> None:
    from rxasync._stage import Endpoint, _origin

    class Weighted(Endpoint):
        weighted = True

    class Plain(Weighted):  # an unweighted subclass of a weighted one counts again
        weighted = False

    class Own(Weighted):
        def finish(self, n: int = 1) -> None:
            pass

    # (each class has its own copy of the inherited one: _origin is the function it copies)
    assert _origin(Weighted.finish) is Endpoint.release
    assert _origin(Plain.finish) is Endpoint.finish
    assert _origin(Own.finish) is Own.__dict__["finish"]
