"""No permission: the process runs as root here, which reads anything, so these
tests run the source in a child process that first drops to the ``nobody`` user
(the modules are imported before, as root); as any other user they run as is."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

NOBODY = 65534

CHILD = f"""
import asyncio, os, sys
import reactivex, rxasync
from rxasync.files import read_chunks, read_lines, tail, walk, write

if os.geteuid() == 0:
    os.setgroups([])
    os.setresgid({NOBODY}, {NOBODY}, {NOBODY})
    os.setresuid({NOBODY}, {NOBODY}, {NOBODY})

async def main(kind: str, path: str) -> None:
    source = {{
        "read_chunks": lambda: read_chunks(path),
        "read_lines": lambda: read_lines(path),
        "tail": lambda: tail(path, from_start=True),
        "walk": lambda: walk(path),
        "write": lambda: reactivex.of(b"x").pipe(write(path)),
    }}[kind]()
    try:
        await rxasync.first(source)
    except Exception as exc:
        print(type(exc).__name__, isinstance(exc, PermissionError), exc.filename == path or exc.filename)
    else:
        print("no error")

asyncio.run(main(sys.argv[1], sys.argv[2]))
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


def run_child(kind: str, path: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(path)],
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


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_permission_child_really_runs_unprivileged(shared_dir: Path) -> None:
    path = shared_dir / "open.txt"
    path.write_text("hello\n")
    assert run_child("read_lines", path) == "no error"
