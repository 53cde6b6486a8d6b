"""The demo as its own process on a free port of 127.0.0.1, as a user starts it."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
URL = re.compile(r"http://127\.0\.0\.1:\d+")
# argv: the soft limit, then the command to exec with it (same PID, so signals reach the demo)
_WITH_FD_LIMIT = (
    "import os, resource, sys; "
    "resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[1]), resource.getrlimit(resource.RLIMIT_NOFILE)[1])); "
    "os.execv(sys.argv[2], sys.argv[2:])"
)


def wait_for_url(proc: subprocess.Popen[str], lines: list[str], max_lines: int = 10) -> str:
    """Read the demo's output until it says where it listens; keep the lines read."""
    assert proc.stdout is not None
    for _ in range(max_lines):
        line = proc.stdout.readline()
        lines.append(line)
        found = URL.search(line)
        if found:
            return found.group(0)
        if not line:
            break
    raise AssertionError(f"the demo did not print its address: {lines!r}")


def stop(proc: subprocess.Popen[str]) -> None:
    """Terminate the process (by its PID), kill it if it lingers, close its pipes."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


@contextmanager
def demo_process(
    *args: str, fd_limit: int | None = None, stderr_apart: bool = False
) -> Iterator[tuple[subprocess.Popen[str], str, list[str]]]:
    """Start the demo with ``--port 0``; yield the process, its URL and the lines it printed first.

    One process (``--workers 1``) unless ``args`` name ``--workers``.

    ``fd_limit``: the demo's soft limit of open files, set in the child before
    it runs the demo (not with ``preexec_fn``, whose fork runs the at-fork
    hooks of this process: JAX's warns, and the warning fails the test).
    """
    if "--workers" not in args:  # one process, whose counts and caps the tests read (`make demo`: auto)
        args = (*args, "--workers", "1")
    command = [sys.executable, "-m", "examples.search_as_you_type", "--port", "0", *args]
    if fd_limit is not None:
        command = [sys.executable, "-c", _WITH_FD_LIMIT, str(fd_limit), *command]
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if stderr_apart else subprocess.STDOUT,
        text=True,
    )
    try:
        lines: list[str] = []
        url = wait_for_url(proc, lines)
        yield proc, url, lines
    finally:
        stop(proc)
