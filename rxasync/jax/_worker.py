"""One subscription's JAX threads: one dispatches batches in order, one fetches their results in order.

The classic JAX input pipeline, off the event loop. The *dispatch* thread
stacks batch ``k + 1`` and calls the compiled function (JAX returns at once,
the host-to-device copy and the computation are queued) while the *fetch*
thread waits for batch ``k``'s result and copies it back, so on a GPU the
two copies can run at once on the device's two copy engines instead of one
after the other (and on a CPU the stacking of the next batch overlaps the
wait). On an H100 this took per-element ``map_batched`` from a median 0.91x
(five runs) to 1.12x (four runs) a hand-written loop (benchmarks/jax_gpu.py).
At most ``depth`` batches are dispatched and not yet fetched. Batches are
dispatched in the order submitted, so ``scan`` can chain its state from one
to the next.

The loop submits with :meth:`Worker.submit` (a non-blocking queue put);
each result comes back as one ``call_soon_threadsafe(done, job, outputs,
error)``, in submission order (a dispatch error travels through the fetch
thread to keep it). :meth:`Worker.close` drops what is queued and what is in
flight: each thread finishes the call it is in and exits.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import traceback
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

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
_E = TypeVar("_E")
_IDLE_CHECK_S = 0.5  # how often an idle thread checks whether its loop has closed


def _drop_frames(exc: BaseException) -> None:
    """Clear the locals of the frames in ``exc``'s tracebacks (and its causes')."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        traceback.clear_frames(current.__traceback__)
        current = current.__cause__ or current.__context__


class Worker:
    """The two threads that run one subscription's batches (started at the first submit)."""

    def __init__(self, runner: Runner, loop: asyncio.AbstractEventLoop, depth: int, name: str) -> None:
        self.runner = runner
        self.loop = loop
        self.depth = depth
        self.name = name
        self.jobs: queue.SimpleQueue[tuple[Job, Done] | None] = queue.SimpleQueue()
        # (job, done, handle, dispatch error) in dispatch order; None ends the fetch thread
        self.fetches: queue.SimpleQueue[tuple[Job, Done, Any, Exception | None] | None] = queue.SimpleQueue()
        self.slots = threading.Semaphore(depth)  # dispatched and not yet fetched
        self.threads: list[threading.Thread] = []
        self.stopped = threading.Event()

    def submit(self, job: Job, done: Done) -> None:
        """Queue a batch; ``done(job, outputs, error)`` is called on the loop when it has run."""
        self.jobs.put((job, done))
        if not self.threads:
            self.threads = [
                threading.Thread(target=self.dispatching, name=f"rxasync-jax-{self.name}", daemon=True),
                threading.Thread(target=self.fetching, name=f"rxasync-jax-{self.name}-fetch", daemon=True),
            ]
            for thread in self.threads:
                thread.start()

    def close(self) -> None:
        """Drop everything; the threads exit after the call they are in."""
        self.stopped.set()
        self.jobs.put(None)
        self.fetches.put(None)
        self.slots.release()  # a dispatch thread waiting for a slot wakes and sees it stopped

    def next_entry(self, entries: queue.SimpleQueue[_E]) -> _E | None:
        """The next entry, or None when closed or when the loop closed with nobody disposing."""
        while True:
            try:
                return entries.get(timeout=_IDLE_CHECK_S)
            except queue.Empty:
                if self.loop.is_closed():
                    self.close()
                    return None

    def dispatching(self) -> None:
        jobs, fetches, runner, slots = self.jobs, self.fetches, self.runner, self.slots
        while True:
            entry = self.next_entry(jobs)
            if entry is None or self.stopped.is_set():
                return
            slots.acquire()
            if self.stopped.is_set():
                return
            job, done = entry
            try:
                fetches.put((job, done, runner.dispatch(job.start, job.items), None))
            except Exception as exc:
                fetches.put((job, done, None, exc))

    def fetching(self) -> None:
        fetches, runner, slots = self.fetches, self.runner, self.slots
        while True:
            entry = self.next_entry(fetches)
            if entry is None or self.stopped.is_set():
                return
            job, done, handle, error = entry
            # `entry`, `handle` and a fetch error's frames are all that hold the
            # device buffers: they go before the slot is freed (depth holds).
            entry = None
            outputs: list[Any] = []
            if error is None:
                try:
                    outputs = runner.fetch(handle, job.start, job.count)
                except Exception as exc:
                    _drop_frames(exc)
                    error = exc
            handle = None
            slots.release()
            self.post(done, job, outputs, error)

    def post(self, done: Done, job: Job, outputs: list[Any], error: Exception | None) -> None:
        if self.stopped.is_set():
            return
        try:
            self.loop.call_soon_threadsafe(done, job, outputs, error)
        except RuntimeError:  # the loop is closed: nobody is waiting any more; both threads end
            self.close()
