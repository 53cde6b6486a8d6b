"""Per-stage counters, the registry, the bottleneck rule, the live view, JSON lines and the chart."""

from __future__ import annotations

import asyncio
import gc
import io
import itertools
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import reactivex
from PIL import Image
from rich.console import Console

import rxasync
from examples.pipelines import observed
from rxasync.operators import map_async
from rxasync.stats import StageSnapshot, live_stages, load, rates, render, snapshot, stage_stats, watch


def snap(i: int, name: str, *, out: int = 100, demand: float = 0.0, up: float = 0.0, age: float = 1.0,
         passive: bool = False) -> StageSnapshot:  # fmt: skip
    return {
        "id": i, "name": name, "kind": "demo", "state": "running", "items_in": out, "items_out": out,
        "in_flight": 0, "errors": 0, "wait_demand_s": demand, "wait_upstream_s": up, "age_s": age,
        "passive": passive,
    }  # fmt: skip


def test_stats_counters_and_waits_accumulate() -> None:
    stats = stage_stats("demo", "parse")
    stats.idle()
    time.sleep(0.02)
    stats.took()  # ends the wait for upstream
    with stats.wait_demand():
        time.sleep(0.02)
    stats.gave()
    stats.failed()
    stats.finished("error")
    stats.finished("completed")  # only the first end counts
    s = stats.snapshot()
    assert (s["items_in"], s["items_out"], s["errors"], s["state"]) == (1, 1, 1, "error")
    assert 0.015 < s["wait_upstream_s"] < 0.5
    assert 0.015 < s["wait_demand_s"] < 0.5
    assert json.loads(json.dumps(s)) == s  # plain data


def test_stats_registry_holds_stages_weakly() -> None:
    stats = stage_stats("demo", "temporary")
    ident = stats.id
    assert ident in [s["id"] for s in snapshot()]
    del stats
    gc.collect()
    assert ident not in [s.id for s in live_stages()]


def test_stats_default_name_is_kind_and_id() -> None:
    stats = stage_stats("map_async")
    assert stats.name == f"map_async#{stats.id}"


def test_bottleneck_is_the_stage_that_does_not_wait() -> None:
    rows = rates([], [snap(1, "read", demand=0.9), snap(2, "score", up=0.02), snap(3, "write", up=0.8)])
    assert [r["name"] for r in rows if r["bottleneck"]] == ["score"]
    assert rows[1]["busy"] == pytest.approx(0.98)


def test_bottleneck_none_when_every_stage_waits_or_only_one_is_measured() -> None:
    assert not any(r["bottleneck"] for r in rates([], [snap(1, "a", up=0.7), snap(2, "b", up=0.6)]))
    assert not any(r["bottleneck"] for r in rates([], [snap(1, "only")]))


def test_bottleneck_never_a_pass_through_and_rates_are_per_interval() -> None:
    before = [snap(1, "bar", out=100, passive=True), snap(2, "a", out=100, demand=0.5, age=1.0),
              snap(3, "b", out=100, up=0.1, age=1.0)]  # fmt: skip
    now = [snap(1, "bar", out=300, age=2.0, passive=True), snap(2, "a", out=300, demand=1.4, age=2.0),
           snap(3, "b", out=300, up=0.2, age=2.0)]  # fmt: skip
    rows = rates(before, now)
    assert [r["bottleneck"] for r in rows] == [False, False, True]
    assert rows[0]["rate"] == pytest.approx(200.0)
    assert rows[1]["wait_demand"] == pytest.approx(0.9)


async def test_stats_live_view_marks_the_slow_stage_of_a_real_pipeline(tmp_path: Path) -> None:
    console = Console(width=100, record=True, file=io.StringIO(), force_terminal=True)
    path = tmp_path / "run.jsonl"
    args = {"interval": 0.2, "jsonl": path, "console": console}
    watcher = await observed.run(400, 1.5, args)
    assert [r["name"] for r in watcher.rows if r["bottleneck"]] == ["score"]
    frame = render(watcher.rows)
    console.print(frame)
    text = console.export_text()
    assert "bottleneck: score" in text
    assert "score ◀" in text
    samples = load(path)
    assert len(samples) >= 3
    assert {s["name"] for s in samples[-1][1]} == {"read", "parse", "score", "write"}
    marked = [r["name"] for (_, a), (_, b) in itertools.pairwise(samples) for r in rates(a, b)
              if r["bottleneck"]]  # fmt: skip
    assert marked.count("score") >= len(marked) * 0.7  # the slow stage, nearly every interval


async def test_stats_bottleneck_follows_the_slow_stage() -> None:
    costs = {"parse": 0.004, "score": 0.0005, "write": 0.0005}
    watcher = await observed.run(300, 1.5, {"interval": 0.2, "view": False}, costs)
    assert [r["name"] for r in watcher.rows if r["bottleneck"]] == ["parse"]


async def test_stats_watch_validates_interval() -> None:
    with pytest.raises(ValueError):
        async with watch(interval=0):
            pass


def test_stats_chart_command_draws_a_png(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    lines = [{"t": t, "stages": [snap(1, "read", out=50 * t, demand=0.8 * t, age=t),
                                 snap(2, "score", out=50 * t, age=t)]} for t in range(1, 6)]  # fmt: skip
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "chart.png"
    done = subprocess.run(
        [sys.executable, "-m", "rxasync.stats", "chart", str(path), "-o", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with Image.open(out) as image:
        assert image.size[0] > 600


def test_stats_chart_command_reports_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"t": 1}\n')
    done = subprocess.run(
        [sys.executable, "-m", "rxasync.stats", "chart", str(path)], capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "bad.jsonl:1: not a snapshot line" in done.stderr


@pytest.mark.parametrize(("blocked", "call"), [
    ("rich", "import asyncio, rxasync.stats as s\nasync def m():\n    async with s.watch(): pass\nasyncio.run(m())"),
    ("matplotlib", "import rxasync.stats as s; s.chart('x.jsonl', 'x.png')"),
])  # fmt: skip
def test_stats_without_the_extra_names_it(blocked: str, call: str, tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text("")
    code = (
        f"import sys; sys.modules[{blocked!r}] = None\ntry:\n"
        + "".join(f"    {line}\n" for line in call.splitlines())
        + "except ImportError as exc:\n    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path, check=True)  # fmt: skip
    assert "install rxasync[progress]" in out.stdout


def test_stats_blocked_and_idle_count_while_in_progress_and_end_at_finish() -> None:
    stats = stage_stats("demo", "callbacks")
    stats.blocked()
    stats.blocked()  # a second call does not restart the wait
    time.sleep(0.02)
    assert stats.snapshot()["wait_demand_s"] >= 0.015  # counted up to now while still blocked
    stats.unblocked()
    stats.idle()
    time.sleep(0.02)
    assert stats.snapshot()["wait_upstream_s"] >= 0.015
    stats.blocked()
    stats.finished("disposed")  # ends both waits
    s = stats.snapshot()
    time.sleep(0.01)
    assert stats.snapshot() == s  # nothing grows after the end
    assert s["state"] == "disposed"


def test_stats_example_command_prints_the_bottleneck_and_records(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "examples.pipelines.observed", "--seconds", "1", "--interval", "0.2",
         "--jsonl", str(path)],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert done.stdout.strip().endswith("bottleneck: score")
    assert "score ◀" in done.stdout  # the live table, drawn on stdout
    assert len(load(path)) >= 3


async def test_stats_watch_folds_stages_built_per_item_into_one_row(tmp_path: Path) -> None:
    # a first() per item inside map_async: 60 short-lived stages, one row (and one snapshot per line)
    path = tmp_path / "run.jsonl"

    async def one(i: int) -> int:
        return await rxasync.first(reactivex.just(i))

    async with watch(interval=0.01, view=False, jsonl=path) as watcher:
        got = await rxasync.to_list(reactivex.range(60).pipe(map_async(one, concurrency=4, name="fan")))
    assert sorted(got) == list(range(60))
    firsts = [r for r in watcher.rows if r["kind"] == "first"]
    assert len(firsts) == 1
    assert firsts[0]["name"] == "first (60 stages)"
    assert firsts[0]["items_out"] == 60
    assert [r["items_out"] for r in watcher.rows if r["name"] == "fan"] == [60]
    last = json.loads(path.read_text().splitlines()[-1])["stages"]
    assert len([s for s in last if s["kind"] == "first"]) == 1
    assert not any(s.kind == "first" for s in watcher._seen.values())  # summed, not kept one by one


async def test_stats_a_terminal_is_passive_never_the_bottleneck() -> None:
    # to_list does not time its waits for the next item: counted as work it looked 100% busy
    async def slow() -> AsyncIterator[int]:
        for i in range(20):
            await asyncio.sleep(0.005)
            yield i

    async def fast(i: int) -> int:
        return i

    async with watch(interval=0.02, view=False) as watcher:
        got = await rxasync.to_list(
            rxasync.from_async_iterable(slow, name="slow").pipe(map_async(fast, name="work"))
        )
    assert got == list(range(20))
    (terminal,) = [r for r in watcher.rows if r["kind"] == "to_list"]
    assert terminal["passive"]
    assert not terminal["bottleneck"]


async def test_stats_watch_keeps_a_row_per_stage_of_a_chain_even_unnamed() -> None:
    # two unnamed map_async in one chain, a slow one and a fast one: two rows, the slow one marked
    async def slow(i: int) -> int:
        await asyncio.sleep(0.005)
        return i

    async def fast(i: int) -> int:
        return i

    async def numbers() -> AsyncIterator[int]:
        for i in range(60):
            yield i

    async with watch(interval=0.05, view=False) as watcher:
        await rxasync.to_list(rxasync.from_async_iterable(numbers).pipe(map_async(slow), map_async(fast)))
    rows = [r for r in watcher.rows if r["kind"] == "map_async"]
    assert [r["items_out"] for r in rows] == [60, 60]
    (marked,) = [r for r in rows if r["bottleneck"]]
    (other,) = [r for r in rows if not r["bottleneck"]]
    assert other["wait_upstream"] > 0.5  # the fast one waits on the slow one
    assert marked["wait_upstream"] < 0.2
