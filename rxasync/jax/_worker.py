"""One subscription's JAX thread: stack, dispatch and fetch batches in order, ``depth`` at a time.

The classic JAX input pipeline, off the event loop: the worker dispatches
batch ``k + 1`` (JAX returns at once and the device queues it) *before* it
waits for batch ``k``'s result, so the device always has the next batch while
the host waits for one; it waits for the oldest when ``depth`` are
dispatched or nothing else is queued. Batches run in the order submitted, so
``scan`` can chain its state from one to the next.

The loop submits with :meth:`Worker.submit` (a non-blocking queue put) and
gets an ``asyncio.Future``; results come back with one
``call_soon_threadsafe`` each. :meth:`Worker.close` drops what is queued and
what is in flight: the thread finishes the call it is in and exits.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import deque
from typing import Any, Protocol

__all__ = ["Runner", "Worker"]


class Runner(Protocol):
    """What a worker runs for one subscription; see :mod:`rxasync.jax._kernels`."""

    def dispatch(self, start: int, items: list[Any]) -> Any: ...
    def fetch(self, handle: Any, start: int, count: int) -> list[Any]: ...


_Job = tuple["asyncio.Future[list[Any]]", int, list[Any]]


def _settle(fut: asyncio.Future[list[Any]], value: list[Any] | None, error: BaseException | None) -> None:
    if fut.done():
        return  # cancelled: the stage dropped it
    if error is not None:
        fut.set_exception(error)
    else:
        fut.set_result(value if value is not None else [])


class Worker:
    """The thread that runs one subscription's batches (started at the first submit)."""

    def __init__(self, runner: Runner, loop: asyncio.AbstractEventLoop, depth: int, name: str) -> None:
        self.runner = runner
        self.loop = loop
        self.depth = depth
        self.name = name
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.thread: threading.Thread | None = None
        self.closed = False

    def submit(self, start: int, items: list[Any]) -> asyncio.Future[list[Any]]:
        """Queue a batch; the future gets its outputs (or its error)."""
        fut: asyncio.Future[list[Any]] = self.loop.create_future()
        self.jobs.put((fut, start, items))
        if self.thread is None:
            self.thread = threading.Thread(target=self.main, name=f"rxasync-jax-{self.name}", daemon=True)
            self.thread.start()
        return fut

    def close(self) -> None:
        """Drop everything; the thread exits after the call it is in."""
        self.closed = True
        self.jobs.put(None)

    def main(self) -> None:
        pending: deque[tuple[asyncio.Future[list[Any]], Any, int, int]] = deque()
        jobs = self.jobs
        while not self.closed:
            if pending and (len(pending) >= self.depth or jobs.empty()):
                fut, handle, start, count = pending.popleft()
                try:
                    self.post(fut, self.runner.fetch(handle, start, count), None)
                except Exception as exc:
                    self.post(fut, None, exc)
                continue
            job = jobs.get()
            if job is None:
                break
            fut, start, items = job
            try:
                pending.append((fut, self.runner.dispatch(start, items), start, len(items)))
            except Exception as exc:
                self.post(fut, None, exc)

    def post(
        self, fut: asyncio.Future[list[Any]], value: list[Any] | None, error: BaseException | None
    ) -> None:
        if self.closed:
            return
        try:
            self.loop.call_soon_threadsafe(_settle, fut, value, error)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            self.closed = True
