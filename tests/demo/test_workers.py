"""``--workers N``: N forked server processes on one port, stopped together (a real demo process)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import urllib.request
from pathlib import Path

import aiohttp

from tests.demo._process import demo_process


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


def test_workers_share_the_port_and_answer_alike() -> None:
    with demo_process("--workers", "2") as (proc, url, lines):
        assert "(2 worker processes)" in lines[-1]
        workers = _children(proc.pid)
        assert len(workers) == 2
        answers = [_get(f"{url}/api/search?q=lond&limit=3") for _ in range(20)]
        assert all(a["results"] == answers[0]["results"] for a in answers)
        assert [r["name"] for r in answers[0]["results"]][:2] == ["London", "Londrina"]  # type: ignore[index]
        # each worker counts its own searches (its pid in /api/stats): together, the 20
        seen = [_get(f"{url}/api/stats") for _ in range(40)]
        assert all(s["index_ready"] for s in seen)
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


async def _ws_search(url: str, q: str) -> dict[str, object]:
    async with aiohttp.ClientSession() as session, session.ws_connect(url + "/ws") as ws:
        await ws.send_str(json.dumps({"seq": 1, "q": q}))
        while True:
            message: dict[str, object] = json.loads((await ws.receive(timeout=10)).data)
            if message["type"] == "results":
                return message


def test_websocket_searches_go_through_the_shared_port() -> None:
    # a worker's pipeline searches through http://127.0.0.1:PORT/api/search: any worker answers
    with demo_process("--workers", "2") as (_proc, url, _lines):
        message = asyncio.run(asyncio.wait_for(_ws_search(url, "lond"), 20))
        assert message["q"] == "lond"
        assert [r["name"] for r in message["results"]][:2] == ["London", "Londrina"]  # type: ignore[attr-defined]
