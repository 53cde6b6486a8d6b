"""The shared command line of the example pipelines."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import reactivex

import rxasync
from examples.pipelines._cli import bar, finish, observing, parser


async def test_observing_records_the_named_stages(tmp_path: Path) -> None:
    jsonl, png = tmp_path / "run.jsonl", tmp_path / "run.png"
    args = parser("doc").parse_args(
        ["--no-progress", "--no-view", "--interval", "0.01", "--jsonl", str(jsonl), "--chart", str(png)]
    )
    async with observing(args, title="t"):
        items = await rxasync.to_list(reactivex.range(5).pipe(bar(args, "count", total=5)))
    assert items == [0, 1, 2, 3, 4]
    names = {stage["name"] for line in jsonl.read_text().splitlines() for stage in json.loads(line)["stages"]}
    assert "count" in names


@pytest.mark.allow_leaks  # matplotlib keeps its font files open for the process's life
def test_finish_draws_the_chart_from_the_record(tmp_path: Path) -> None:
    jsonl, png = tmp_path / "run.jsonl", tmp_path / "run.png"
    args = parser("doc").parse_args(
        ["--no-progress", "--no-view", "--interval", "0.01", "--jsonl", str(jsonl), "--chart", str(png)]
    )

    async def run() -> None:
        async with observing(args, title="t"):
            await rxasync.to_list(reactivex.range(5).pipe(bar(args, "count", total=5)))

    asyncio.run(run())
    assert finish(args) == png
    assert png.stat().st_size > 1000


def test_chart_without_jsonl_is_refused() -> None:
    args = parser("doc").parse_args(["--chart", "x.png"])
    with pytest.raises(SystemExit, match="--chart needs --jsonl"):
        finish(args)
