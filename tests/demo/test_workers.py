"""``--workers N``: N forked server processes on one port, stopped together (a real demo process)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from examples.search_as_you_type._workers import AUTO_MOST, MAX_WORKERS, worker_count
from tests.demo._process import ROOT, demo_process


def _get(url: str) -> dict[str, object]:
    # urllib opens a new connection per request, so the kernel spreads them among the workers
    with urllib.request.urlopen(url, timeout=10) as response:
        answer: dict[str, object] = json.load(response)
        return answer


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":  # exited; only its parent's wait is left
            return True
        time.sleep(0.05)
    return False


def _every_worker(url: str, workers: int, within: float = 30.0) -> dict[object, dict[str, object]]:
    """``/api/stats`` of each worker (by pid), once each says its index is complete."""
    deadline, seen = time.monotonic() + within, {}
    while time.monotonic() < deadline:
        stats = _get(f"{url}/api/stats")  # a new connection each time: any worker
        if stats["index_ready"]:
            seen[stats["pid"]] = stats
            if len(seen) == workers:
                return seen
        else:
            time.sleep(0.05)
    raise AssertionError(f"not every worker was ready within {within} s: {seen!r}")


def test_workers_share_the_port_and_answer_alike() -> None:
    with demo_process("--workers", "2") as (proc, url, lines):
        assert "(2 worker processes)" in lines[-1]
        workers = _children(proc.pid)
        assert len(workers) == 2
        _every_worker(url, 2)  # each worker finishes its own index on a thread, after the fork
        answers = [_get(f"{url}/api/search?q=lond&limit=3") for _ in range(20)]
        assert all(a["results"] == answers[0]["results"] for a in answers)
        assert [r["name"] for r in answers[0]["results"]][:2] == ["London", "Londrina"]  # type: ignore[index]
        # each worker counts its own searches (its pid in /api/stats): together, the 20
        seen = [_get(f"{url}/api/stats") for _ in range(40)]
        started = {s["pid"]: s["searches_started"] for s in seen}
        assert sorted(started) == sorted(workers)  # 40 new connections reached both
        assert sum(started.values()) == 20  # type: ignore[arg-type]
        # a worker's page and WebSocket route are the same app
        with urllib.request.urlopen(url + "/", timeout=10) as response:
            assert response.status == 200


def test_sigterm_stops_every_worker() -> None:
    with demo_process("--workers", "2") as (proc, _url, _lines):
        workers = _children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        assert proc.stdout is not None
        assert "stopped" in proc.stdout.read()
        assert all(_gone(pid) for pid in workers)


def test_a_dead_worker_stops_the_demo() -> None:
    with demo_process("--workers", "2") as (proc, _url, _lines):
        first, second = _children(proc.pid)
        os.kill(first, signal.SIGKILL)
        assert proc.wait(15) == 1
        assert _gone(second)


async def _ws_searches(url: str, queries: list[str]) -> list[dict[str, object]]:
    """Type each query into one WebSocket and wait for its results before the next."""
    out = []
    async with aiohttp.ClientSession() as session, session.ws_connect(url + "/ws") as ws:
        for seq, q in enumerate(queries, 1):
            await ws.send_str(json.dumps({"seq": seq, "q": q}))
            while True:
                message: dict[str, object] = json.loads((await ws.receive(timeout=10)).data)
                if message["type"] == "results" and message["seq"] == seq:
                    out.append(message)
                    break
    return out


def test_a_websockets_searches_stay_in_its_worker() -> None:
    # Each worker also listens on a port of its own, and its WebSockets search through it: the
    # worker that holds the WebSocket answers every one of its searches (its answer cache, its
    # counts), as one process does. Through the shared port, ten searches would all land on
    # that worker once in 512 runs.
    queries = ["lond", "pari", "berl", "madr", "tokyo", "osak", "seoul", "lima", "quito", "bogo"]
    with demo_process("--workers", "2") as (_proc, url, _lines):
        messages = asyncio.run(asyncio.wait_for(_ws_searches(url, queries), 60))
        assert [m["q"] for m in messages] == queries
        assert [r["name"] for r in messages[0]["results"]][:2] == ["London", "Londrina"]  # type: ignore[attr-defined]
        stats = _every_worker(url, 2)
        holder = [s for s in stats.values() if s["messages_received"] == len(queries)]
        other = [s for s in stats.values() if s["messages_received"] == 0]
        assert len(holder) == 1, stats
        assert len(other) == 1, stats
        assert holder[0]["searches_started"] == len(queries)
        assert other[0]["searches_started"] == 0


_OWN_PAGES = """
import os, sys
from examples.search_as_you_type._workers import own_pages

def private_dirty_mib():
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            if line.startswith("Private_Dirty:"):
                return int(line.split()[1]) // 1024

data = [str(i) for i in range(2_000_000)]  # about 110 MiB of small objects, as the index is
for own in (False, True):
    pid = os.fork()
    if pid == 0:
        before = private_dirty_mib()
        asked = own_pages() if own else 0
        print(own, before, private_dirty_mib(), asked >> 20, flush=True)
        os._exit(0)
    os.waitpid(pid, 0)
"""


def test_a_worker_makes_the_pages_it_shares_its_own() -> None:
    # A forked child shares its parent's pages until it writes them; own_pages copies them all
    # at once (MADV_POPULATE_WRITE), so a search's reference counts later cost no page fault.
    done = subprocess.run(
        [sys.executable, "-c", _OWN_PAGES], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    (_, before_plain, after_plain, _), (_, before, after, asked) = (
        line.split() for line in done.stdout.splitlines()
    )
    assert int(after_plain) - int(before_plain) < 20  # without it: shared, nothing copied
    assert int(asked) >= 100  # with it: all of the data copied
    assert int(after) - int(before) >= 100


def test_workers_is_a_count_or_auto() -> None:
    assert worker_count("auto") == max(1, min(AUTO_MOST, len(os.sched_getaffinity(0))))
    assert worker_count("2") == 2
    for bad in ("0", "-1", str(MAX_WORKERS + 1), "two", ""):
        with pytest.raises(ValueError):
            worker_count(bad)
    done = subprocess.run(
        [sys.executable, "-m", "examples.search_as_you_type", "--workers", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--workers: invalid worker_count value: '0'" in done.stderr
