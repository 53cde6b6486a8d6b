"""``map_on_cluster``: a stage whose work runs as tasks on a Dask cluster.

One :class:`_ClusterStage` per subscription. It talks to Dask through an
*asynchronous* ``distributed.Client`` on the stage's own event loop: a task is
submitted with ``client.map`` (one message per batch: the items that arrived
in one loop iteration, and while others run, at least a quarter of the
window) and its result awaited as a Dask future, so no thread is started or
borrowed per call. At most a *window* of the stream's tasks exist on the
cluster at once (``concurrency``, or by default one measured from completed
tasks: ``_window``); the stage holds at most twice the window in items
(queued, on the cluster, or done and waiting for an earlier one) and
publishes that as its demand, so a bridge source upstream pauses.
"""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar, TypeVarTuple

from dask.utils import funcname
from distributed import Client, Future, as_completed
from reactivex import Observable, abc

from .._stage import Stage, stage_observable
from ._translate import cluster_error
from ._window import Window, default_window

__all__ = ["map_on_cluster"]

_T = TypeVar("_T")
_R = TypeVar("_R")
_Ts = TypeVarTuple("_Ts")


def map_on_cluster(
    fn: Callable[[_T, *_Ts], _R],
    client: Client,
    *,
    concurrency: int | None = None,
    ordered: bool = True,
    args: tuple[*_Ts] = (),  # type: ignore[assignment]  # () is the empty _Ts
    name: str | None = None,
) -> Callable[[Observable[_T]], Observable[_R]]:
    """Run ``fn(item, *args)`` for each item as a task on a Dask cluster.

    ``client`` is an asynchronous ``distributed.Client`` (``asynchronous=True``,
    or the one :func:`rxasync.dask.connect` gives) on the loop the stream runs
    on. Tasks are submitted as demand allows: at most ``concurrency`` of the
    stream's tasks are on the cluster at once (submitted, running, or finished
    and not yet fetched), so the scheduler's memory stays bounded however long
    the stream is; the stage holds at most ``2 * concurrency`` items in all.
    By default the bound adapts (see ``concurrency``) and never exceeds
    ``max(64 x worker threads, 128)`` tasks.

    Each result is fetched once and emitted once, in input order when
    ``ordered`` (a slow task holds back later results), else as tasks finish.
    A worker that dies mid-stream loses nothing: Dask recomputes its tasks on
    the workers left. If a task raises, the stream fails with
    :class:`~rxasync.ClusterError` chained (``__cause__``) to the worker's
    exception, whose traceback has the worker's frames; the stream's other
    tasks are released. Disposing releases every task of the stream: the
    scheduler forgets them (and tells workers to drop them) within moments.

    ``args`` are extra arguments for every call, after the item. They are
    scattered to every worker once per subscription (``client.scatter(...,
    broadcast=True)``), not sent with every task: pass weights or a lookup
    table here. A ``distributed.Future`` in ``args`` is passed as it is.

    Marble::

        source:  -a-b-c-------|
        map_on_cluster(f, client)
        result:  -----f(a)-f(b)--f(c)|

    Args:
        fn: ``def fn(item, *args) -> result``, run on a worker; it, the
            items and the results must pickle (define it in an importable
            module, not in ``__main__``, for process workers).
        client: an asynchronous ``distributed.Client`` on this loop.
        concurrency: the most tasks of this stream on the cluster at once,
            exactly. Default (``None``): a window that starts at twice the
            cluster's worker threads (as the scheduler reports them when
            subscribed; at least 2) and doubles after each window's worth
            of completions (at least 16) in which the workers were busy
            less than 80% of the time (each task reports how long it ran):
            by Little's law ``threads x (1 + round trip / task time)`` tasks
            keep them busy. Tasks of 20 ms stay at the floor; tasks of 1 ms
            behind a several-ms round trip get hundreds. Only an epoch in
            which items waited for room, and the consumer below never made
            the stage wait, grows it. It never shrinks during a stream and
            is capped at 64 tasks per worker thread or 128, so the
            scheduler holds at most that many of the stream's tasks (about
            1 KB each, plus their arguments) and the stage at most twice
            that in items.
        ordered: emit in input order (True) or in completion order (False).
        args: extra arguments for every call, scattered once (see above).
        name: prefix of the tasks' Dask keys (``name-<uuid>-<index>``);
            default ``fn``'s name (a ``partial``'s function's). It names the
            stream's tasks on the dashboard, and the stage's counters in
            :mod:`rxasync.stats` (default ``map_on_cluster#<id>``).

    Example:
        >>> import asyncio, operator, reactivex, rxasync
        >>> from rxasync.dask import connect, map_on_cluster
        >>> async def main() -> list[int]:
        ...     async with connect(n_workers=1, processes=False) as client:
        ...         return await rxasync.to_list(
        ...             reactivex.of(1, 2, 3).pipe(map_on_cluster(operator.mul, client, args=(10,))))
        >>> asyncio.run(main())
        [10, 20, 30]
    """
    if not isinstance(client, Client):
        raise TypeError(f"client must be a distributed.Client, got {client!r}")
    if not client.asynchronous:
        raise ValueError(
            "client must be asynchronous: Client(..., asynchronous=True) or rxasync.dask.connect()"
        )
    if concurrency is not None and (
        isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1
    ):
        raise ValueError(f"concurrency must be an int >= 1 or None, got {concurrency!r}")
    prefix = name or funcname(fn)
    stats_name = name  # None: the counters are named map_on_cluster#<id>

    def make(observer: abc.ObserverBase[Any], loop: asyncio.AbstractEventLoop) -> Stage:
        window = Window(concurrency, concurrency) if concurrency else default_window(_threads(client))
        return _ClusterStage(fn, client, tuple(args), window, ordered, prefix, observer, loop, stats_name)

    return lambda source: stage_observable(source, "map_on_cluster", make)


def _threads(client: Client) -> int:
    """The cluster's worker threads, from the client's cached scheduler info (at least 1)."""
    return max(1, int(client.scheduler_info().get("total_threads") or 0))


class _ClusterStage(Stage):
    """One subscription of ``map_on_cluster``: the protocol takes (and counts) items, ``on_item`` queues them."""

    kind = "map_on_cluster"

    def __init__(
        self,
        fn: Callable[..., Any],
        client: Client,
        args: tuple[Any, ...],
        window: Window,
        ordered: bool,
        prefix: str,
        observer: abc.ObserverBase[Any],
        loop: asyncio.AbstractEventLoop,
        name: str | None = None,
    ) -> None:
        super().__init__(observer, loop, 2 * window.size, name)
        self.task = functools.partial(_timed, fn)  # what runs on the worker: fn, and how long it ran
        self.client = client
        self.args = args
        self.shared: list[Any] | None = None if args else []  # args as scattered futures
        self.owned: list[Future[Any]] = []  # the futures we scattered (released at the end)
        self.scattering = False
        self.window = window  # how many of our tasks may be on the cluster (fixed, or measured)
        self.ordered = ordered
        self.prefix = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.queue: deque[tuple[int, Any]] = deque()  # taken, not yet submitted
        self.futures: dict[int, Future[Any]] = {}  # on the cluster
        self.results: dict[int, Any] = {}  # fetched, waiting for an earlier one
        self.tasks: set[asyncio.Task[None]] = set()
        self.done = as_completed(loop=client.loop)  # our futures, as they finish
        self.index_of: dict[Any, int] = {}  # key -> index, for the futures on the cluster
        self.collecting = False
        self.next_in = 0
        self.next_out = 0
        self.flushing = False
        self.submit_scheduled = False

    # -- upstream notifications ------------------------------------------------
    def on_item(self, item: Any) -> None:
        self.queue.append((self.next_in, item))
        self.next_in += 1
        self.schedule_submit()

    # -- the cluster -------------------------------------------------------------
    def schedule_submit(self) -> None:
        """Submit on the next loop iteration: the items of this one go in one ``client.map``,
        after the releases queued before (``Future.release`` is a loop callback too),
        so the scheduler never holds more than ``concurrency`` of ours."""
        if not self.submit_scheduled:
            self.submit_scheduled = True
            self.loop.call_soon(self.submit, context=self.context)

    def submit(self) -> None:
        self.submit_scheduled = False
        if self.terminated or not self.queue:
            return
        if self.shared is None:  # scatter ``args`` first; scatter() submits when done
            if not self.scattering:  # not cancelled on dispose: it releases what it scattered
                self.scattering = True
                self.loop.create_task(self.scatter(), context=self.context)
            return
        size = self.window.size
        room = size - len(self.futures)
        # While tasks of ours run, wait until a quarter of the window is free (or the whole queue
        # fits): each client.map costs the scheduler one update-graph, so few big ones, not one per result.
        if room <= 0 or (self.futures and room < min(max(1, size // 4), len(self.queue))):
            self.window.held_back = True  # the window, not the source, is what holds items back
            return
        batch = [self.queue.popleft() for _ in range(min(room, len(self.queue)))]
        if self.queue:  # items left waiting: the window is full
            self.window.held_back = True
        indices = [index for index, _ in batch]
        extra = [[arg] * len(batch) for arg in self.shared]
        keys = [f"{self.prefix}-{index}" for index in indices]
        try:
            futures = self.client.map(self.task, [item for _, item in batch], *extra, key=keys, pure=False)
        except Exception as exc:  # ClosedClientError: the client was closed while we waited for items
            self.fail(cluster_error(exc, keys[0], indices[0], self.client_closed()))
            return
        self.window.started(self.loop.time())
        for index, future in zip(indices, futures, strict=True):
            self.futures[index] = future
            self.index_of[future.key] = index
        self.done.update(futures)
        if not self.collecting:
            self.collecting = True
            self.spawn(self.collect())

    async def scatter(self) -> None:
        plain = [arg for arg in self.args if not isinstance(arg, Future)]
        try:
            self.owned = list(await self.client.scatter(plain, broadcast=True, hash=False)) if plain else []
        except Exception as exc:
            self.fail(cluster_error(exc, f"{self.prefix}-scatter", None, self.client_closed()))
            return
        if self.terminated:  # disposed while scattering
            _release(self.owned)
            return
        sent = iter(self.owned)
        self.shared = [arg if isinstance(arg, Future) else next(sent) for arg in self.args]
        self.submit()

    async def collect(self) -> None:
        """Take finished tasks in batches, each batch's results in one ``gather``, until none is left."""
        try:
            while self.futures and not self.terminated:
                first = await self.done.__anext__()
                await self.take([first, *self.done.next_batch(block=False)])
        except Exception as exc:  # raised downstream, by an observer's on_next
            self.fail(exc)
        finally:
            self.collecting = False

    async def take(self, batch: list[Future[Any]]) -> None:
        try:
            for future in batch:
                if future.status == "error" or future.cancelled():  # its own error, or Dask's
                    await future  # raises the error with the worker's traceback
            pairs = await self.client.gather(batch)  # (seconds it ran, result): see _timed
        except Exception as exc:
            key = next((f.key for f in batch if f.status != "finished"), batch[0].key)
            self.fail(cluster_error(exc, str(key), self.index_of.get(key), self.client_closed()))
            return
        if self.terminated:
            return
        indices = [self.index_of.pop(future.key) for future in batch]
        for index in indices:
            del self.futures[index]
        _release(batch)
        self.measure(len(batch), sum(seconds for seconds, _ in pairs))
        values = [value for _, value in pairs]
        self.schedule_submit()
        if self.ordered:
            self.results.update(zip(indices, values, strict=True))
            await self.flush()
        else:
            for value in values:
                await self.emit(value)

    def measure(self, n: int, work: float) -> None:
        """``n`` tasks done after ``work`` seconds on their workers: resize the window, and the demand."""
        self.window.completed(n, work, self.loop.time())
        self.demand.limit = 2 * self.window.size  # a larger limit wakes the source at the next release

    def client_closed(self) -> bool:
        return self.client.status in ("closing", "closed")

    def spawn(self, coro: Any) -> None:
        task = self.loop.create_task(coro, context=self.context)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # -- emission (as in map_async) --------------------------------------------------
    async def flush(self) -> None:
        if self.flushing:
            return  # the task already flushing will emit ours too
        self.flushing = True
        try:
            results = self.results
            while self.next_out in results and not self.terminated:
                result = results.pop(self.next_out)
                self.next_out += 1
                await self.emit(result)
        finally:
            self.flushing = False

    async def emit(self, result: Any) -> None:
        self.observer.on_next(result)
        down = self.down
        if down is not None and down.full:
            self.window.blocked = True  # the workers idle for the consumer: no reason to widen
            self.stats.blocked()  # waiting for demand: downstream is full
            await down.wait()
            self.stats.unblocked()
        self.finish()
        if not self.demand.pending and not self.upstream_done:
            self.stats.idle()  # nothing on the cluster: waiting for upstream
        self.check_done()

    # -- termination -------------------------------------------------------------
    def idle(self) -> bool:
        return self.demand.pending == 0

    def cleanup(self) -> None:
        current = asyncio.current_task(self.loop) if self.loop.is_running() else None
        for task in list(self.tasks):
            if task is not current:
                task.cancel()
        _release(list(self.futures.values()))
        _release(self.owned)
        self.futures.clear()
        self.index_of.clear()
        self.done.clear()
        self.queue.clear()
        self.results.clear()


def _make_timed() -> Callable[..., tuple[float, Any]]:
    """``_timed``, made in a function so that cloudpickle sends it by value: workers need not have
    rxasync installed, only ``fn``'s module."""

    def timed(fn: Callable[..., Any], item: Any, *args: Any) -> tuple[float, Any]:
        start = time.perf_counter()
        result = fn(item, *args)
        return time.perf_counter() - start, result

    return timed


#: ``_timed(fn, item, *args)``: ``(seconds fn ran, fn(item, *args))``, on the worker (the window's measure).
_timed = _make_timed()


def _release(futures: list[Future[Any]]) -> None:
    """Drop our references: the scheduler forgets tasks no client wants any more."""
    for future in futures:
        future.release()
