"""A sink stage that hands items to the server in batches: ``write_stream``, ``copy_records``, ``ack``.

:class:`BatchStage` takes items from upstream into a buffer and one worker
task sends whatever is buffered (at most ``batch_size`` items) in one call,
then the next: while a batch is on its way the next one fills, so a fast
source gets full batches and a slow one is never kept waiting for a batch to
fill. Its demand counts the items the server does not have yet, at most
``2 * batch_size``, so a bridge source upstream pauses while the server is
behind. A batch the driver holds whole (``send`` calls ``handed()``, or
its results are all emitted) gives its credits back, so upstream refills
while the server works on it: the source's cost overlaps the server's
instead of adding to it. At most one batch is in flight besides the
``2 * batch_size`` buffered items.

The worker opens the stage's resource (a connection) when it starts and
closes it when the stage ends, however it ends (completion, error, dispose).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from itertools import chain
from typing import Any

from reactivex import Observable, abc

from ._checks import check_int
from ._flow import thread_id
from ._stage import Stage, stage_observable

__all__ = ["BatchStage", "batch_stage", "check_batch_size", "then"]

#: ``send(resource, batch, handed)``: send ``batch``, return its results; call ``handed()`` once the
#: driver holds the whole batch (all written, waiting for the server) so that upstream refills while
#: the server works. If it never does, the batch's credits come back after its results are emitted.
Send = Callable[[Any, list[Any], Callable[[], None]], Awaitable[Sequence[Any]]]


def check_batch_size(batch_size: int) -> int:
    return check_int("batch_size", batch_size)


def then(items: Iterable[Any], done: Callable[[], None]) -> Iterator[Any]:
    """``items``, then a call of ``done()`` when the consumer asks past the last one (all C: no per-item cost)."""
    return chain(items, _Call(done))


class _Call:
    """An empty iterable that calls ``fn`` when it is iterated."""

    def __init__(self, fn: Callable[[], None]) -> None:
        self.fn = fn

    def __iter__(self) -> Iterator[Any]:
        self.fn()
        return iter(())


def batch_stage(
    source: Observable[Any],
    name: str,
    batch_size: int,
    open_resource: Callable[[], AbstractAsyncContextManager[Any]],
    send: Send,
    stats_name: str | None = None,
) -> Observable[Any]:
    """``source`` through a :class:`BatchStage`: ``send(resource, batch)``'s results, flattened."""
    return stage_observable(
        source,
        name,
        lambda observer, loop: BatchStage(observer, loop, batch_size, open_resource, send, stats_name, name),
    )


class BatchStage(Stage):
    """One subscription of a batching sink; see the module docstring."""

    def __init__(
        self,
        observer: abc.ObserverBase[Any],
        loop: asyncio.AbstractEventLoop,
        batch_size: int,
        open_resource: Callable[[], AbstractAsyncContextManager[Any]],
        send: Send,
        stats_name: str | None = None,
        kind: str = "batch_stage",
    ) -> None:
        self.kind = kind  # of its counters in rxasync.stats; stats_name is the user's name=
        super().__init__(observer, loop, 2 * batch_size, stats_name)
        self.batch_size = batch_size
        self.open_resource = open_resource
        self.send = send
        self.buffer: list[Any] = []
        self.wakeup: asyncio.Future[None] | None = None
        self.worker: asyncio.Task[None] | None = None
        self.sending = False  # a batch is in flight (sent, its results not all emitted)
        self.unhanded = 0  # credits of the batch in flight not yet given back (see handed)
        # The worker runs and does not wait for items, the stage is not terminated: an item on the loop
        # needs only its credit and the append (on_next's fast path). Set by on_item, cleared by the
        # worker before it waits and by cleanup.
        self.busy = False

    def on_next(self, value: Any) -> None:
        """The hot path: while :attr:`busy`, on the loop, a credit and a bare ``list.append``.

        Anything else (another thread, the first item, the worker waiting for items, the stage
        ended) takes the protocol's :meth:`Endpoint.on_next`. The credit is the item's count in
        the stage's statistics too (items in = out + pending), as the protocol counts it.
        """
        if self.busy and thread_id() == self.thread:
            self.demand.pending += 1
            self.buffer.append(value)
        else:
            super().on_next(value)

    def on_item(self, item: Any) -> None:  # on the loop, already counted by the base class
        self.buffer.append(item)
        if self.wakeup is not None:
            self.wake()
        elif self.worker is None:
            self.worker = self.loop.create_task(self.work(), context=self.context)
        self.busy = True

    def wake(self) -> None:
        """Wake the worker waiting for items (``wakeup`` is set only while it waits)."""
        wakeup, self.wakeup = self.wakeup, None
        if wakeup is not None and not wakeup.done():
            wakeup.set_result(None)

    def upstream_completed(self) -> None:
        self.wake()
        self.check_done()

    async def work(self) -> None:
        try:
            async with self.open_resource() as resource:
                while not self.terminated:
                    if not self.buffer:
                        self.busy = False  # the next item wakes the worker: on_next's full path
                        self.stats.idle()  # nothing buffered, nothing in flight: waiting for upstream
                        self.wakeup = self.loop.create_future()
                        await self.wakeup
                        continue
                    batch = self.take()
                    n = len(batch)
                    self.unhanded, self.sending = n, True
                    results = await self.send(resource, batch, self.handed)
                    await self.emit(results)
        except Exception as exc:
            self.fail(exc)

    def take(self) -> list[Any]:
        """The next batch off the buffer: all of it when it fits (no copy), else its first ``batch_size``."""
        buffer, size = self.buffer, self.batch_size
        if len(buffer) <= size:
            self.buffer = []
            return buffer
        batch = buffer[:size]
        del buffer[:size]
        return batch

    def handed(self) -> None:
        """The batch in flight is in the driver's hands: its credits go back, upstream refills meanwhile."""
        n, self.unhanded = self.unhanded, 0
        if n:
            self.finish(n)

    async def emit(self, results: Sequence[Any]) -> None:
        observer, down = self.observer, self.down
        for result in results:
            if self.terminated:
                return
            observer.on_next(result)
            if down is not None and down.full:
                await down.wait()
        self.handed()  # at the latest now: the batch is done
        self.sending = False
        self.check_done()

    def idle(self) -> bool:
        return self.demand.pending == 0 and not self.sending

    def cleanup(self) -> None:
        self.busy = False
        self.buffer.clear()
        worker = self.worker
        # From inside the worker (its last batch completed the stage) the loop ends by itself.
        if worker is not None and worker is not asyncio.current_task(self.loop):
            worker.cancel()
