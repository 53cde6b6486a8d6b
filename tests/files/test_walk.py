"""glob and walk: folder trees as observables of paths."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from reactivex import operators as ops

import rxasync
from rxasync.files import glob, read_lines, walk
from rxasync.testing import assert_run


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name in ("a.log", "b.txt", "sub/c.log", "sub/deeper/d.log", "other/e.txt", ".hidden.log"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{name}\n")
    return tmp_path


async def test_glob_matches_a_pattern(tree: Path) -> None:
    paths = await rxasync.to_list(glob(tree / "*.log"))
    assert sorted(paths) == [tree / "a.log"]
    assert all(isinstance(p, Path) for p in paths)


async def test_glob_double_star_matches_any_depth(tree: Path) -> None:
    paths = await rxasync.to_list(glob(f"{tree}/**/*.log"))
    assert sorted(p.relative_to(tree).as_posix() for p in paths) == ["a.log", "sub/c.log", "sub/deeper/d.log"]


async def test_glob_no_match_is_empty(tree: Path) -> None:
    await assert_run(lambda: glob(tree / "nothing" / "*.csv"), [])


async def test_walk_lists_every_file_in_order(tree: Path) -> None:
    paths = await assert_run(lambda: walk(tree))
    assert [p.relative_to(tree).as_posix() for p in paths] == [
        ".hidden.log",
        "a.log",
        "b.txt",
        "other/e.txt",
        "sub/c.log",
        "sub/deeper/d.log",
    ]


async def test_walk_pattern_filters_names(tree: Path) -> None:
    paths = await rxasync.to_list(walk(tree, pattern="*.txt"))
    assert [p.name for p in paths] == ["b.txt", "e.txt"]


async def test_walk_many_files_come_in_several_batches(tmp_path: Path) -> None:
    for i in range(1000):
        (tmp_path / f"{i:04}.txt").touch()
    paths = await rxasync.to_list(walk(tmp_path))
    assert [p.name for p in paths] == [f"{i:04}.txt" for i in range(1000)]


async def test_walk_every_log_line_under_a_folder_is_one_pipeline(tree: Path) -> None:
    lines = walk(tree, pattern="*.log").pipe(ops.concat_map(read_lines))
    assert await rxasync.to_list(lines) == [".hidden.log", "a.log", "sub/c.log", "sub/deeper/d.log"]


async def test_walk_dispose_midway_closes_the_listing(tmp_path: Path) -> None:
    for i in range(600):
        (tmp_path / f"{i:04}.txt").touch()
    assert (await rxasync.first(walk(tmp_path))).name == "0000.txt"


async def test_walk_missing_folder_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(rxasync.FileNotFoundSourceError) as info:
        await rxasync.to_list(walk(tmp_path / "missing"))
    assert info.value.filename == str(tmp_path / "missing")


async def test_walk_a_file_is_not_a_directory(tree: Path) -> None:
    with pytest.raises(rxasync.FileSourceError) as info:
        await rxasync.to_list(walk(tree / "a.log"))
    assert info.value.errno == errno.ENOTDIR


async def test_walk_and_glob_count_under_their_name(tree: Path) -> None:
    from rxasync.stats import watch

    async with watch(view=False) as watcher:
        await rxasync.to_list(walk(tree, pattern="*.log", name="list"))
        await rxasync.to_list(glob(tree / "**" / "*.txt", name="globbed"))
    rows = {row["name"]: row["items_out"] for row in watcher.rows}
    assert rows["list"] == 4  # a, .hidden, sub/c, sub/deeper/d
    assert rows["globbed"] == 2
