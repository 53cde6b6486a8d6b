"""The JAX worker's two threads, with a stand-in runner (the real one is tested through map_batched)."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import weakref
from typing import Any

from rxasync.jax._worker import Worker


class _Handle:
    """Stands for the device arrays a dispatch returns."""


class _Job:
    def __init__(self, start: int) -> None:
        self.start, self.count, self.items = start, 1, [start]


class _Runner:
    def __init__(self, fetch_s: float = 0.0) -> None:
        self.refs: list[weakref.ref[_Handle]] = []
        self.alive_at_dispatch: list[int] = []
        self.fetch_s = fetch_s

    def dispatch(self, start: int, items: list[Any]) -> _Handle:
        gc.collect()
        self.alive_at_dispatch.append(sum(r() is not None for r in self.refs))
        handle = _Handle()
        self.refs.append(weakref.ref(handle))
        return handle

    def fetch(self, handle: _Handle, start: int, count: int) -> list[Any]:
        time.sleep(self.fetch_s)
        return [start]


def _worker_threads(name: str) -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(f"rxasync-jax-{name}")]


async def test_worker_frees_a_batch_before_dispatching_the_next_at_depth_one() -> None:
    runner = _Runner()
    worker = Worker(runner, asyncio.get_running_loop(), depth=1, name="free")
    got: list[tuple[int, list[Any], Exception | None]] = []
    try:
        for k in range(3):
            worker.submit(_Job(k), lambda job, out, err: got.append((job.start, out, err)))
            for _ in range(200):
                if len(got) > k:
                    break
                await asyncio.sleep(0.005)
        await asyncio.sleep(0.05)
        gc.collect()
        assert got == [(0, [0], None), (1, [1], None), (2, [2], None)]
        assert runner.alive_at_dispatch == [0, 0, 0]  # depth 1: never two batches' buffers at once
        assert [r() is not None for r in runner.refs] == [False, False, False]  # idle: nothing held
    finally:
        worker.close()


def test_worker_threads_end_when_the_loop_closes_without_a_dispose() -> None:
    loop = asyncio.new_event_loop()
    worker = Worker(_Runner(fetch_s=0.2), loop, depth=2, name="orphan")

    async def submit() -> None:
        worker.submit(_Job(0), lambda *args: None)
        await asyncio.sleep(0.02)

    loop.run_until_complete(submit())
    loop.close()  # the fetch thread's post fails: nobody is listening any more
    for _ in range(100):
        if not _worker_threads("orphan"):
            break
        time.sleep(0.02)
    assert _worker_threads("orphan") == []


class _FailingFirstFetch(_Runner):
    def fetch(self, handle: _Handle, start: int, count: int) -> list[Any]:
        if start == 0:
            raise ValueError("device error")
        return [start]


async def test_worker_fetch_error_does_not_keep_the_batch_alive() -> None:
    # The error's traceback holds the fetch frame, which holds the handle:
    # its locals are cleared before the slot is released.
    runner = _FailingFirstFetch()
    worker = Worker(runner, asyncio.get_running_loop(), depth=1, name="err")
    got: list[tuple[int, list[Any], Exception | None]] = []
    try:
        for k in (0, 1):
            worker.submit(_Job(k), lambda job, out, err: got.append((job.start, out, err)))
        for _ in range(200):
            if len(got) == 2:
                break
            await asyncio.sleep(0.005)
        assert [(start, out) for start, out, _ in got] == [(0, []), (1, [1])]
        assert isinstance(got[0][2], ValueError)
        assert runner.alive_at_dispatch == [0, 0]
        gc.collect()
        assert runner.refs[0]() is None  # not kept by the error we still hold
    finally:
        worker.close()


def test_worker_idle_threads_end_when_the_loop_closes_without_a_dispose() -> None:
    loop = asyncio.new_event_loop()
    worker = Worker(_Runner(), loop, depth=2, name="idle")

    async def run_one() -> None:
        worker.submit(_Job(0), lambda *args: None)
        await asyncio.sleep(0.1)  # done and posted: both threads wait for more

    loop.run_until_complete(run_one())
    loop.close()
    for _ in range(150):
        if not _worker_threads("idle"):
            break
        time.sleep(0.02)
    assert _worker_threads("idle") == []
