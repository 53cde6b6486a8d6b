"""A file truncated or renamed over while ``read_chunks``/``read_lines`` read it (issue 11 item 14)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from reactivex import Observable
from reactivex import operators as ops

import rxasync
from rxasync.files import _pagecache, read_chunks, read_line_batches, read_lines

LINES = 200_000  # as in the issue: about 1.3 MiB, ten 128 KiB blocks


def line_file(path: Path) -> list[str]:
    lines = [f"line {i}" for i in range(LINES)]
    path.write_text("".join(f"{line}\n" for line in lines))
    return lines


SOURCES: dict[str, Callable[[Path], Observable[object]]] = {
    "read_lines": lambda path: read_lines(path),
    "read_line_batches": lambda path: read_line_batches(path).pipe(ops.flat_map(lambda batch: batch)),
}


@pytest.mark.parametrize("nowait", [True, False], ids=["page-cache", "thread"])
@pytest.mark.parametrize("kind", sorted(SOURCES))
async def test_read_lines_truncated_while_read_is_file_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, nowait: bool
) -> None:
    if not nowait:
        monkeypatch.setattr(_pagecache, "_NOWAIT", None)  # every block read on the worker thread
    path = tmp_path / "shrinks.log"
    lines = line_file(path)
    got: list[object] = []

    def take(line: object) -> None:
        got.append(line)
        if len(got) == 1000:
            os.truncate(path, 5000)  # shorter than what was read already: the rest is gone

    with pytest.raises(rxasync.FileChangedError, match="truncated while read") as info:
        await rxasync.to_list(SOURCES[kind](path).pipe(ops.do_action(take)))
    assert info.value.filename == str(path)
    assert isinstance(info.value, OSError)
    assert got == lines[: len(got)]  # what came is right, and it did not end silently
    assert len(got) < LINES


async def test_read_lines_truncated_ahead_of_the_reader_is_file_changed(tmp_path: Path) -> None:
    # cut past what was read so far but before the end it had: the end comes early, not silently
    path = tmp_path / "shrinks.log"
    lines = line_file(path)
    size = path.stat().st_size
    got: list[str] = []

    def take(line: str) -> None:
        got.append(line)
        if len(got) == 1:
            os.truncate(path, size - 1000)

    with pytest.raises(rxasync.FileChangedError, match=f"had {size} bytes when opened"):
        await rxasync.to_list(read_lines(path).pipe(ops.do_action(take)))
    assert got == lines[: len(got)]


async def test_read_lines_grown_while_read_includes_the_new_lines(tmp_path: Path) -> None:
    path = tmp_path / "grows.log"
    lines = line_file(path)
    got: list[str] = []

    def take(line: str) -> None:
        got.append(line)
        if len(got) == 1:
            with path.open("a") as f:
                f.write("appended\n")

    await rxasync.to_list(read_lines(path).pipe(ops.do_action(take)))
    assert got == [*lines, "appended"]


@pytest.mark.parametrize("kind", ["read_chunks", "read_lines"])
async def test_read_renamed_over_while_read_gives_the_whole_old_file(tmp_path: Path, kind: str) -> None:
    # documented: the file opened is read to its end; the new file at the name is not looked at
    path = tmp_path / "replaced.log"
    lines = line_file(path)
    old = path.read_bytes()
    new = tmp_path / "new.log"
    new.write_text("the new file\n")
    got: list[object] = []

    def take(item: object) -> None:
        got.append(item)
        if len(got) == 1:
            os.replace(new, path)  # as logrotate or an atomic write does

    if kind == "read_chunks":
        await rxasync.to_list(read_chunks(path, chunk_size=65536).pipe(ops.do_action(take)))
        assert b"".join(got) == old  # type: ignore[arg-type]
    else:
        await rxasync.to_list(read_lines(path).pipe(ops.do_action(take)))
        assert got == lines
    assert path.read_text() == "the new file\n"


def sysfs_file() -> Path:
    """A sysfs attribute: ``stat`` says 4096 bytes (a page), whatever it holds (a few bytes)."""
    for name in ("/sys/devices/system/cpu/online", "/sys/devices/system/cpu/possible", "/sys/power/state"):
        path = Path(name)
        try:
            if len(path.read_bytes()) < path.stat().st_size:
                return path
        except OSError:
            continue
    pytest.skip("no sysfs file whose stat size exceeds what it holds")


@pytest.mark.parametrize("kind", ["read_chunks", *sorted(SOURCES)])
async def test_read_a_file_whose_size_says_more_than_it_holds_is_not_file_changed(kind: str) -> None:
    # the end before the size at open is a truncation only if the file is shorter now: a sysfs
    # file's size stays 4096 and nothing was cut, so its lines are read as cat reads them
    path = sysfs_file()
    want = path.read_bytes()
    if kind == "read_chunks":
        assert b"".join(await rxasync.to_list(read_chunks(path))) == want  # type: ignore[arg-type]
    else:
        assert await rxasync.to_list(SOURCES[kind](path)) == want.decode().splitlines()
