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

from examples.search_as_you_type._pages import supported
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


async def _many_websockets(url: str, sockets: int, queries: list[str]) -> list[list[dict[str, object]]]:
    return await asyncio.gather(*(_ws_searches(url, queries[i:] + queries[:i]) for i in range(sockets)))


def test_a_websockets_searches_stay_in_its_worker() -> None:
    # Each worker also listens on a port of its own, and its WebSockets search through it: the
    # worker that holds a WebSocket answers every one of its searches (its answer cache, its
    # counts), as one process does. Eight WebSockets search at once, so each worker's client
    # session opens several connections; through the shared port the kernel would spread those
    # between the workers, and a worker's searches answered would not be the searches its own
    # WebSockets asked for.
    queries = ["lond", "pari", "berl", "madr", "tokyo", "osak", "seoul", "lima"]
    with demo_process("--workers", "2") as (_proc, url, _lines):
        _every_worker(url, 2)
        answers = asyncio.run(asyncio.wait_for(_many_websockets(url, 8, queries), 60))
        assert all(len(messages) == len(queries) for messages in answers)
        assert [r["name"] for r in answers[0][0]["results"]][:2] == ["London", "Londrina"]  # type: ignore[attr-defined]
        stats = _every_worker(url, 2)
        received = {pid: s["messages_received"] for pid, s in stats.items()}
        started = {pid: s["searches_started"] for pid, s in stats.items()}
        assert sum(received.values()) == 8 * len(queries)  # type: ignore[arg-type]
        assert started == received  # each worker searched exactly what its WebSockets asked


_OWN_PAGES = """
import mmap, os
from examples.search_as_you_type._pages import own_pages

def private_dirty_mib():
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            if line.startswith("Private_Dirty:"):
                return int(line.split()[1]) // 1024

data = [str(i) for i in range(2_000_000)]  # about 110 MiB of small objects, as the index is
reserved = mmap.mmap(-1, 256 << 20)  # 256 MiB reserved and never touched
for own in (False, True):
    pid = os.fork()
    if pid == 0:
        before = private_dirty_mib()
        asked = own_pages() if own else 0
        print(own, before, private_dirty_mib(), asked >> 20, flush=True)
        os._exit(0)
    os.waitpid(pid, 0)
"""


@pytest.mark.skipif(not supported(), reason="the kernel lacks MADV_POPULATE_WRITE (Linux 5.14+)")
def test_a_worker_makes_the_pages_it_shares_its_own() -> None:
    # A forked child shares its parent's pages until it writes them; own_pages copies the ones
    # present at once (MADV_POPULATE_WRITE), so a search's reference counts later cost no page
    # fault, and leaves alone what the parent reserved and never touched.
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
    assert int(asked) < 250  # but not the 256 MiB never touched


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


def test_workers_die_with_a_killed_parent() -> None:
    # SIGKILL gives the parent no chance to stop them: each worker asked the kernel to SIGTERM it
    # when its parent dies, so none keeps serving (and sharing the port with the next demo)
    with demo_process("--workers", "2") as (proc, _url, _lines):
        workers = _children(proc.pid)
        proc.kill()
        proc.wait(10)
        assert all(_gone(pid) for pid in workers)


def test_a_closed_stdout_leaves_no_worker_behind() -> None:
    # the parent's "stopping..." fails on a pipe nobody reads any more: it still stops the workers
    with demo_process("--workers", "2") as (proc, _url, _lines):
        workers = _children(proc.pid)
        assert proc.stdout is not None
        proc.stdout.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        assert all(_gone(pid) for pid in workers)


def test_ctrl_c_twice_stops_cleanly() -> None:
    # a second SIGINT while it stops is taken, not raised as a KeyboardInterrupt traceback
    with demo_process("--workers", "2") as (proc, _url, _lines):
        workers = _children(proc.pid)
        for pid in (proc.pid, *workers):  # what Ctrl+C does: SIGINT to the whole process group
            os.kill(pid, signal.SIGINT)
        time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
        assert proc.stdout is not None
        rest = proc.stdout.read()
        assert "Traceback" not in rest
        assert "stopped" in rest
        assert all(_gone(pid) for pid in workers)


def test_the_rest_of_the_index_is_built_once_and_in_spite_of_a_failed_speed_up() -> None:
    from examples.search_as_you_type._cities import City
    from examples.search_as_you_type._ranking import CityIndex

    cities = [City(1, "London", "GB", "United Kingdom", 8_961_989), City(2, "Sondon", "XX", "X", 10)]
    index = CityIndex(cities, later=False)
    assert not index.later_started()

    def fails() -> None:
        raise OSError("no /proc here")

    index.build_later(fails)  # own_pages failing costs its speed-up only
    assert index._n.trigrams_ready.wait(30)
    assert [h.city.name for h in index.search("ondo")] == ["London", "Sondon"]
    with pytest.raises(RuntimeError, match="already"):
        index.build_later()  # a second build would have replaced the pieces with empty ones
    assert [h.city.name for h in index.search("ondon")] == ["London", "Sondon"]
