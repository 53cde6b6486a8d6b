"""``serve`` in a child process, so a load test does not share the service's event loop."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

__all__ = ["ROOT", "child_service"]

ROOT = Path(__file__).resolve().parents[3]
_URL = re.compile(r"service on (http://127\.0\.0\.1:\d+)")


@contextmanager
def child_service(options: Sequence[str] = ()) -> Iterator[str]:
    """Run ``python -m examples.pipelines.web serve --port 0 OPTIONS`` until the block ends; yield its URL.

    The child is stopped by its PID (SIGTERM, then SIGKILL after 10 s). A child that
    cannot start prints why and exits, which ends the wait for its URL.
    """
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    command = [sys.executable, "-m", "examples.pipelines.web", "serve", "--port", "0", "--report", "0"]
    proc = subprocess.Popen(
        [*command, *options], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    drain: threading.Thread | None = None
    try:
        seen: list[str] = []
        while not (found := _URL.search(seen[-1] if seen else "")):
            line = proc.stdout.readline()
            if not line or len(seen) > 20:
                raise SystemExit(f"the service did not start: {''.join(seen)!r}")
            seen.append(line)
        # keep reading what it prints (aiohttp's warnings...), so a full pipe never blocks it
        drain = threading.Thread(target=proc.stdout.read, name="child-service-output", daemon=True)
        drain.start()
        yield found.group(1)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if drain is not None:
            drain.join(5)  # the pipe is at its end once the child is gone
        proc.stdout.close()
