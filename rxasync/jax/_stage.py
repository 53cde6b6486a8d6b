"""The event-loop side of ``map_batched`` and ``scan``: batch, keep ``depth`` in flight, emit in order.

One :class:`BatchStage` per subscription. On the loop it only moves lists:
items go into a buffer, a full buffer (or one older than ``max_latency``, or
the rest at completion) is sealed into a batch and handed to the
JAX threads (see :class:`Runner`); an emitter task awaits the batches in
order and emits the results, honouring the
demand of the consumer below. At most ``depth`` batches are in flight; the
stage publishes ``(depth + 1) * batch_size`` items as its demand upstream, so
a bridge source pauses while the device is busy and the next batch is full.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

from reactivex import abc

from .._flow import Demand, current_demand
from ._devices import fetch_pool

if TYPE_CHECKING:
    from ._operator import JaxOperator

__all__ = ["BatchStage", "Runner"]


class Runner(Protocol):
    """What a stage runs on threads; see :mod:`rxasync.jax._kernels`.

    With ``two_phase`` false, ``run`` (dispatch and fetch) is one job on the
    shared pool, ``depth`` of them at once. With ``two_phase`` true,
    ``dispatch`` runs in batch order on the subscription's own thread and
    ``fetch`` on the pool.
    """

    two_phase: bool

    def run(self, start: int, items: list[Any]) -> list[Any]: ...
    def dispatch(self, start: int, items: list[Any]) -> Any: ...
    def fetch(self, handle: Any, start: int, count: int) -> list[Any]: ...


class _Batch:
    __slots__ = ("count", "dispatched", "fetched", "items", "start")

    def __init__(self, start: int, items: list[Any]) -> None:
        self.start = start
        self.count = len(items)
        self.items = items
        self.dispatched: asyncio.Future[Any] | None = None
        self.fetched: asyncio.Future[list[Any]] | None = None


class BatchStage(abc.ObserverBase[Any]):
    """One subscription of a :class:`~rxasync.jax.JaxOperator`."""

    def __init__(
        self,
        op: JaxOperator[Any],
        runner: Runner,
        observer: abc.ObserverBase[Any],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.runner = runner
        self.observer = observer
        self.loop = loop
        self.per_batch = 1 if op.chunked else op.batch_size
        self.max_latency = None if op.chunked else op.max_latency
        self.depth = op.depth
        self.demand = Demand((op.depth + 1) * self.per_batch)
        self.down = current_demand()
        self.context = contextvars.copy_context()
        self.thread = threading.get_ident()
        self.name = op.name
        self.buffer: list[Any] = []
        self.taken = 0  # index of the buffer's first item in the stream
        self.timer: asyncio.TimerHandle | None = None
        self.late = False
        self.ready: deque[_Batch] = deque()
        self.inflight: deque[_Batch] = deque()
        self.emitter: asyncio.Task[None] | None = None
        self.dispatcher: ThreadPoolExecutor | None = None
        self.upstream: abc.DisposableBase | None = None
        self.upstream_done = False
        self.terminated = False

    # -- upstream notifications ------------------------------------------------
    def on_next(self, item: Any) -> None:
        if threading.get_ident() != self.thread:
            self.loop.call_soon_threadsafe(self.on_next, item)
            return
        if self.terminated:
            return
        self.demand.pending += 1
        buffer = self.buffer
        buffer.append(item)
        if len(buffer) >= self.per_batch:
            self.seal()
            self.pump()
        elif len(buffer) == 1 and self.max_latency is not None:
            self.timer = self.loop.call_later(self.max_latency, self.on_timer)

    def on_error(self, error: Exception) -> None:
        if threading.get_ident() != self.thread:
            self.loop.call_soon_threadsafe(self.on_error, error)
            return
        self.fail(error)

    def on_completed(self) -> None:
        if threading.get_ident() != self.thread:
            self.loop.call_soon_threadsafe(self.on_completed)
            return
        self.upstream_done = True
        self.pump()
        self.check_done()

    # -- batching -----------------------------------------------------------------
    def seal(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.late = False
        items, self.buffer = self.buffer, []
        self.ready.append(_Batch(self.taken, items))
        self.taken += len(items)

    def on_timer(self) -> None:
        self.timer = None
        if self.buffer and not self.terminated:
            self.late = True  # sealed as soon as a slot is free; until then it keeps filling
            self.pump()

    def pump(self) -> None:
        """Dispatch sealed batches while fewer than ``depth`` are in flight."""
        inflight = self.inflight
        while len(inflight) < self.depth and not self.terminated:
            if not self.ready:
                if not self.buffer or not (self.late or self.upstream_done):
                    break
                self.seal()
            batch = self.ready.popleft()
            runner = self.runner
            if not runner.two_phase:
                batch.dispatched = self.loop.run_in_executor(
                    fetch_pool(), runner.run, batch.start, batch.items
                )
            else:
                if self.dispatcher is None:
                    self.dispatcher = ThreadPoolExecutor(1, thread_name_prefix=f"rxasync-jax-{self.name}")
                batch.dispatched = self.loop.run_in_executor(
                    self.dispatcher, runner.dispatch, batch.start, batch.items
                )
            inflight.append(batch)
        if inflight and self.emitter is None and not self.terminated:
            self.emitter = self.loop.create_task(self.emit_batches(), context=self.context)

    # -- emission -----------------------------------------------------------------
    async def emit_batches(self) -> None:
        inflight = self.inflight
        try:
            while inflight and not self.terminated:
                batch = inflight[0]
                assert batch.dispatched is not None
                outputs = await batch.dispatched
                batch.items = []
                if self.runner.two_phase:
                    batch.fetched = self.loop.run_in_executor(
                        fetch_pool(), self.runner.fetch, outputs, batch.start, batch.count
                    )
                    outputs = await batch.fetched
                inflight.popleft()
                self.pump()  # the next batch computes while this one is emitted
                await self.emit(outputs, batch.count)
        except Exception as exc:
            self.emitter = None
            self.fail(exc)
            return
        self.emitter = None
        self.check_done()

    async def emit(self, outputs: list[Any], count: int) -> None:
        on_next, down = self.observer.on_next, self.down
        for out in outputs:
            on_next(out)
            if down is not None and down.pending >= down.limit:
                await down.wait()
            if self.terminated:
                return
        self.demand.release(count)

    # -- termination --------------------------------------------------------------
    def check_done(self) -> None:
        if (
            self.upstream_done
            and not self.terminated
            and not self.buffer
            and not self.ready
            and not self.inflight
            and self.emitter is None
        ):
            self.terminated = True
            self.cleanup()
            self.observer.on_completed()

    def fail(self, error: Exception) -> None:
        if self.terminated:
            return
        self.terminated = True
        self.cleanup()
        if self.upstream is not None:
            self.upstream.dispose()
        self.observer.on_error(error)

    def dispose(self) -> None:
        if threading.get_ident() != self.thread:
            self.loop.call_soon_threadsafe(self.dispose)
            return
        self.terminated = True
        self.cleanup()
        if self.upstream is not None:
            self.upstream.dispose()

    def cleanup(self) -> None:
        """Drop everything in flight: queued work is cancelled, running work is ignored."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        emitter, self.emitter = self.emitter, None
        if emitter is not None and emitter is not asyncio.current_task(self.loop):
            emitter.cancel()
        for batch in self.inflight:
            for fut in (batch.dispatched, batch.fetched):
                if fut is None:
                    continue
                if not fut.done():
                    fut.cancel()
                elif not fut.cancelled():
                    fut.exception()  # retrieved: a dropped batch's error is not "never retrieved"
        self.inflight.clear()
        self.ready.clear()
        self.buffer = []
        if self.dispatcher is not None:
            self.dispatcher.shutdown(wait=False, cancel_futures=True)
