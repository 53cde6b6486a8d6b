"""The event-loop side of ``map_batched`` and ``scan``: batch, keep ``depth`` in flight, emit in order.

One :class:`BatchStage` per subscription. On the loop it only moves lists:
items go into a buffer, a full buffer (or one older than ``max_latency``, or
the rest at completion) is sealed into a batch and handed to the
subscription's :class:`~rxasync.jax._worker.Worker` (a dispatch and a fetch thread). Each result comes
back as a callback on the loop, which emits every finished batch in order
right there; only when the consumer below is full does a task take over to
wait for its credits.

The worker keeps at most ``depth`` batches on the device; the stage hands it
one more, so the next batch is already queued while a finished one travels
back to the loop (without it the device idles for that round trip after every
batch). The stage publishes ``(depth + 2) * batch_size`` items as its demand
upstream: a bridge source pauses while the device is busy and the next
batches are full.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from reactivex import abc

from .._stage import Stage
from ._spec import JaxSpec
from ._worker import Runner, Worker

__all__ = ["BatchStage"]


class _Batch:
    __slots__ = ("count", "done", "error", "items", "outputs", "start")

    def __init__(self, start: int, items: list[Any]) -> None:
        self.start = start
        self.count = len(items)
        self.items = items
        self.done = False
        self.outputs: list[Any] = []
        self.error: Exception | None = None


class BatchStage(Stage):
    """One subscription of a :class:`~rxasync.jax.JaxOperator`."""

    def __init__(
        self,
        op: JaxSpec,
        runner: Runner,
        observer: abc.ObserverBase[Any],
        loop: asyncio.AbstractEventLoop,
        name: str | None = None,
    ) -> None:
        self.kind = op.name  # of its counters: map_batched or scan
        per_batch = 1 if op.chunked else op.batch_size
        super().__init__(observer, loop, (op.depth + 2) * per_batch, name)
        self.runner = runner
        self.per_batch = per_batch
        self.max_latency = None if op.chunked else op.max_latency
        self.submitted_limit = op.depth + 1  # batches handed to the worker and not yet emitted
        self.name = op.name
        self.buffer: list[Any] = []
        self.taken = 0  # index of the buffer's first item in the stream
        self.timer: asyncio.TimerHandle | None = None
        self.late = False
        self.ready: deque[_Batch] = deque()
        self.inflight: deque[_Batch] = deque()
        self.emitter: asyncio.Task[None] | None = None
        self.worker = Worker(runner, loop, op.depth, op.name)

    # -- upstream notifications ------------------------------------------------
    def on_item(self, item: Any) -> None:
        buffer = self.buffer
        buffer.append(item)
        n = len(buffer)
        if n >= self.per_batch:
            self.seal()
            self.pump()
        elif n == 1 and self.max_latency is not None:
            self.timer = self.loop.call_later(self.max_latency, self.on_timer)
        if not self.inflight:  # a partial batch, nothing on the device: waiting for upstream
            self.stats.idle()

    def upstream_completed(self) -> None:
        self.pump()  # the partial last batch goes out now
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
        """Hand sealed batches to the worker while fewer than ``depth + 1`` are out."""
        inflight = self.inflight
        while len(inflight) < self.submitted_limit and not self.terminated:
            if not self.ready:
                if not self.buffer or not (self.late or self.upstream_done):
                    break
                self.seal()
            batch = self.ready.popleft()
            self.worker.submit(batch, self.on_done)
            inflight.append(batch)

    # -- emission -----------------------------------------------------------------
    def on_done(self, batch: _Batch, outputs: list[Any], error: Exception | None) -> None:
        """A batch's result, posted by the worker (loop thread)."""
        if self.terminated:
            return
        batch.done, batch.outputs, batch.error, batch.items = True, outputs, error, []
        if self.emitter is None:
            self.drain()

    def drain(self) -> None:
        """Emit finished batches in order, right here; hand over to a task if the consumer is full."""
        inflight = self.inflight
        try:
            while inflight and inflight[0].done and not self.terminated:
                batch = inflight.popleft()
                if batch.error is not None:
                    self.fail(batch.error)
                    return
                self.pump()  # the next batch goes to the worker before this one is emitted
                at = self.emit_from(batch.outputs, 0)
                if at < len(batch.outputs):
                    self.emitter = self.loop.create_task(self.resume(batch, at), context=self.context)
                    return
                self.finish(batch.count)
        except Exception as exc:  # raised by the consumer's on_next
            self.fail(exc)
            return
        if not self.inflight and self.emitter is None and not self.terminated:
            self.stats.idle()  # nothing on the device nor to emit: waiting for upstream
        self.check_done()

    def emit_from(self, outputs: list[Any], at: int) -> int:
        """Emit ``outputs[at:]`` until the consumer below is full; return where it stopped."""
        on_next, down, n = self.observer.on_next, self.down, len(outputs)
        if down is None:  # the common case, kept tight: nothing below gives demand
            for out in outputs[at:] if at else outputs:
                on_next(out)
                if self.terminated:
                    return n
            return n
        while at < n:
            on_next(outputs[at])
            at += 1
            if self.terminated:
                return n
            if down.full:
                return at
        return at

    async def resume(self, batch: _Batch, at: int) -> None:
        """Finish emitting ``batch`` as the consumer below frees credits, then drain the rest."""
        down = self.down
        assert down is not None
        try:
            while at < len(batch.outputs) and not self.terminated:
                self.stats.blocked()  # waiting for demand: the consumer below is full
                await down.wait()
                self.stats.unblocked()
                at = self.emit_from(batch.outputs, at)
        except Exception as exc:
            self.emitter = None
            self.fail(exc)
            return
        self.emitter = None
        if not self.terminated:
            self.finish(batch.count)
            self.drain()

    # -- termination --------------------------------------------------------------
    def idle(self) -> bool:
        return not self.buffer and not self.ready and not self.inflight and self.emitter is None

    def cleanup(self) -> None:
        """Drop everything in flight: the worker stops, results still on their way are ignored."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        emitter, self.emitter = self.emitter, None
        if emitter is not None and emitter is not asyncio.current_task(self.loop):
            emitter.cancel()
        self.inflight.clear()
        self.ready.clear()
        self.buffer = []
        self.worker.close()
