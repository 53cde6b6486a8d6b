"""No permission: the process runs as root here, which reads and writes anything,
so these tests run the source in a child process that first drops to the
``nobody`` user (the modules are imported before, as root); as any other user
they run as is. One test runs in this process, as its own user, and checks
that atomic and in-place writes agree."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import reactivex

import rxasync
from rxasync.files import write

NOBODY = 65534

CHILD = f"""
import asyncio, os, sys
import reactivex, rxasync
from rxasync.files import read_chunks, read_lines, tail, walk, write, write_lines

if os.geteuid() == 0:
    os.setgroups([])
    os.setresgid({NOBODY}, {NOBODY}, {NOBODY})
    os.setresuid({NOBODY}, {NOBODY}, {NOBODY})

async def main(kind: str, path: str, mode: str = "wb", atomic: str = "True") -> None:
    sink = {{"mode": mode, "atomic": atomic == "True"}}
    source = {{
        "read_chunks": lambda: read_chunks(path),
        "read_lines": lambda: read_lines(path),
        "tail": lambda: tail(path, from_start=True),
        "walk": lambda: walk(path),
        "write": lambda: reactivex.of(b"x" if "b" in mode else "x").pipe(write(path, **sink)),
        "write_lines": lambda: reactivex.of("x").pipe(write_lines(path, **sink)),
    }}[kind]()
    try:
        await rxasync.first(source)
    except Exception as exc:
        print(type(exc).__name__, isinstance(exc, PermissionError), exc.filename == path or exc.filename)
    else:
        print("no error")

asyncio.run(main(*sys.argv[1:]))
"""


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    # tmp_path lives under a folder only root may enter: make one anybody may
    folder = Path(tempfile.mkdtemp(prefix="rxasync-perm-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for path in folder.rglob("*"):
            path.chmod(0o755)
        subprocess.run(["rm", "-rf", str(folder)], check=True)


def run_child(kind: str, path: Path, *options: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(path), *options],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[2],
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("kind", ["read_chunks", "read_lines", "tail"])
def test_read_unreadable_file_is_permission_error(shared_dir: Path, kind: str) -> None:
    path = shared_dir / "secret.txt"
    path.write_text("secret\n")
    path.chmod(0o000)
    assert run_child(kind, path) == "PermissionSourceError True True"


def test_walk_unreadable_folder_is_permission_error(shared_dir: Path) -> None:
    folder = shared_dir / "locked"
    folder.mkdir()
    folder.chmod(0o000)
    assert run_child("walk", folder) == "PermissionSourceError True True"


def test_write_into_a_read_only_folder_is_permission_error(shared_dir: Path) -> None:
    folder = shared_dir / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    assert run_child("write", folder / "out.bin") == "PermissionSourceError True True"
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("owner", ["root", "nobody"])
@pytest.mark.parametrize(
    ("kind", "mode", "atomic"),
    [
        (k, m, a)
        for k, m in [("write", "wb"), ("write", "ab"), ("write", "w"), ("write_lines", "a")]
        for a in (True, False)
    ],
)
def test_write_over_a_read_only_file_is_permission_error(
    shared_dir: Path, owner: str, kind: str, mode: str, atomic: bool
) -> None:
    # issue 11 item 13: atomic or not, a file the user may not write is not replaced
    folder = shared_dir / "writable"
    folder.mkdir()
    folder.chmod(0o777)  # the user may create and rename files here...
    path = folder / "readonly.txt"
    path.write_text("keep me\n")
    if owner == "nobody" and os.geteuid() == 0:
        os.chown(path, NOBODY, NOBODY)
    path.chmod(0o444)  # ...but not write this one
    assert run_child(kind, path, mode, str(atomic)) == "PermissionSourceError True True"
    assert path.read_text() == "keep me\n"
    assert path.stat().st_mode & 0o777 == 0o444
    assert [p.name for p in folder.iterdir()] == ["readonly.txt"]  # no temporary file left


@pytest.mark.parametrize("mode", ["wb", "ab"])
async def test_write_read_only_file_same_outcome_atomic_or_not(tmp_path: Path, mode: str) -> None:
    # as this process's own user (root here: it may write anything, so both replace)
    outcomes = []
    for atomic in (True, False):
        path = tmp_path / f"readonly-{atomic}.bin"
        path.write_bytes(b"old")
        path.chmod(0o444)
        try:
            await rxasync.to_list(reactivex.of(b"new").pipe(write(path, mode=mode, atomic=atomic)))
        except rxasync.PermissionSourceError:
            outcomes.append(("refused", path.read_bytes()))
        else:
            outcomes.append(("written", path.read_bytes()))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == ("written" if os.geteuid() == 0 else "refused")


def test_write_atomic_over_a_writable_file_as_the_user_replaces_it(shared_dir: Path) -> None:
    folder = shared_dir / "writable"
    folder.mkdir()
    folder.chmod(0o777)
    path = folder / "mine.txt"
    path.write_text("old\n")
    path.chmod(0o666)
    assert run_child("write", path, "wb", "True") == "no error"
    assert path.read_bytes() == b"x"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_permission_child_really_runs_unprivileged(shared_dir: Path) -> None:
    path = shared_dir / "open.txt"
    path.write_text("hello\n")
    assert run_child("read_lines", path) == "no error"
