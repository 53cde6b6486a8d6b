"""A sink stage that hands items to the server in batches: ``write_stream``, ``copy_records``, ``ack``.

:class:`BatchStage` takes items from upstream into a buffer and one worker
task sends whatever is buffered (at most ``batch_size`` items) in one call,
then the next: while a batch is on its way the next one fills, so a fast
source gets full batches and a slow one is never kept waiting for a batch to
fill. It holds at most ``2 * batch_size`` items and publishes that as its
demand, so a bridge source upstream pauses while the server is behind.

The worker opens the stage's resource (a connection) when it starts and
closes it when the stage ends, however it ends (completion, error, dispose).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from threading import get_ident as _get_ident
from typing import Any

from reactivex import Observable, abc

from ._stage import Stage, stage_observable

__all__ = ["BatchStage", "batch_stage", "check_batch_size"]

Send = Callable[[Any, list[Any]], Awaitable[Sequence[Any]]]


def check_batch_size(batch_size: int) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
    return batch_size


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
        self.buffer: deque[Any] = deque()
        self.wakeup: asyncio.Future[None] | None = None
        self.worker: asyncio.Task[None] | None = None

    def on_next(self, item: Any) -> None:  # the hot path: a few attribute tests per item
        if _get_ident() != self.thread:
            self.loop.call_soon_threadsafe(self.on_next, item)
            return
        if self.terminated:
            return
        self.demand.pending += 1
        self.buffer.append(item)
        if self.wakeup is not None:
            self.wake()
        elif self.worker is None:
            self.worker = self.loop.create_task(self.work(), context=self.context)

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
                        self.wakeup = self.loop.create_future()
                        await self.wakeup
                        continue
                    n = min(self.batch_size, len(self.buffer))
                    pop = self.buffer.popleft
                    batch = [pop() for _ in range(n)]
                    results = await self.send(resource, batch)
                    await self.emit(results, n)
        except Exception as exc:
            self.fail(exc)

    async def emit(self, results: Sequence[Any], n: int) -> None:
        observer, down = self.observer, self.down
        for result in results:
            if self.terminated:
                return
            observer.on_next(result)
            if down is not None and down.pending >= down.limit:
                await down.wait()
        self.demand.release(n)
        self.check_done()

    def idle(self) -> bool:
        return self.demand.pending == 0

    def cleanup(self) -> None:
        self.buffer.clear()
        worker = self.worker
        # From inside the worker (its last batch completed the stage) the loop ends by itself.
        if worker is not None and worker is not asyncio.current_task(self.loop):
            worker.cancel()
