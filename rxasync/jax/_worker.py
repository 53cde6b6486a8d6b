"""One subscription's JAX thread: stack, dispatch and fetch batches in order, ``depth`` at a time.

The classic JAX input pipeline, off the event loop: the worker dispatches
batch ``k + 1`` (JAX returns at once and the device queues it) *before* it
waits for batch ``k``'s result, so the device always has the next batch while
the host waits for one; it waits for the oldest when ``depth`` are
dispatched or nothing else is queued. Batches run in the order submitted, so
``scan`` can chain its state from one to the next.

The loop submits with :meth:`Worker.submit` (a non-blocking queue put);
each result comes back as one ``call_soon_threadsafe(done, job, outputs,
error)``. :meth:`Worker.close` drops what is queued and what is in flight:
the thread finishes the call it is in and exits.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["Done", "Job", "Runner", "Worker"]


class Runner(Protocol):
    """What a worker runs for one subscription; see :mod:`rxasync.jax._kernels`."""

    def dispatch(self, start: int, items: list[Any]) -> Any: ...
    def fetch(self, handle: Any, start: int, count: int) -> list[Any]: ...


class Job(Protocol):
    """A batch as the worker sees it."""

    start: int
    count: int
    items: list[Any]


Done = Callable[[Any, list[Any], Exception | None], None]


class Worker:
    """The thread that runs one subscription's batches (started at the first submit)."""

    def __init__(self, runner: Runner, loop: asyncio.AbstractEventLoop, depth: int, name: str) -> None:
        self.runner = runner
        self.loop = loop
        self.depth = depth
        self.name = name
        self.jobs: queue.SimpleQueue[tuple[Job, Done] | None] = queue.SimpleQueue()
        self.thread: threading.Thread | None = None
        self.closed = False

    def submit(self, job: Job, done: Done) -> None:
        """Queue a batch; ``done(job, outputs, error)`` is called on the loop when it has run."""
        self.jobs.put((job, done))
        if self.thread is None:
            self.thread = threading.Thread(target=self.main, name=f"rxasync-jax-{self.name}", daemon=True)
            self.thread.start()

    def close(self) -> None:
        """Drop everything; the thread exits after the call it is in."""
        self.closed = True
        self.jobs.put(None)

    def main(self) -> None:
        pending: deque[tuple[Job, Done, Any]] = deque()
        jobs, runner = self.jobs, self.runner
        while not self.closed:
            if pending and (len(pending) >= self.depth or jobs.empty()):
                job, done, handle = pending.popleft()
                try:
                    self.post(done, job, runner.fetch(handle, job.start, job.count), None)
                except Exception as exc:
                    self.post(done, job, [], exc)
                continue
            entry = jobs.get()
            if entry is None:
                break
            job, done = entry
            try:
                pending.append((job, done, runner.dispatch(job.start, job.items)))
            except Exception as exc:
                self.post(done, job, [], exc)

    def post(self, done: Done, job: Job, outputs: list[Any], error: Exception | None) -> None:
        if self.closed:
            return
        try:
            self.loop.call_soon_threadsafe(done, job, outputs, error)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            self.closed = True
