"""Concurrent mapping stages: ``map_async`` (coroutines) and ``map_on`` (executors).

Both are one mechanism, :class:`_MapStage`: a pool of at most
``concurrency`` worker tasks pulls items from a queue, awaits the call, and
emits results (in input order when ``ordered``). The stage holds at most
``2 * concurrency`` items (running, queued, or done and waiting for an
earlier one) and publishes that as its :class:`~rxasync._flow.Demand`, so a
bridge source upstream pauses instead of filling the queue.

One worker straight on a bridge source (``from_async_iterable(gen).pipe(map_async(fn))``,
an HTTP or file source, nothing in between) is fused with it
(:mod:`._fused`): the worker pulls the generator itself, so an item costs no
hand-over between two tasks. Every call runs in a worker task, never in the
source's: a cancellation a call schedules lands on the task running it.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

from reactivex import Observable, abc

from .._bridge import direct
from .._checks import check_int
from .._errors import RxAsyncError
from .._pump import _COUNTDOWN, SAMPLE_EVERY
from .._stage import Stage, stage_observable
from ._fused import Fused, fusable

__all__ = ["map_async", "map_on"]

_T = TypeVar("_T")
_R = TypeVar("_R")
_EVERY = 8  # one worker times its first _EVERY waits for upstream, then one in _EVERY, scaled


def map_async(
    fn: Callable[[_T], Awaitable[_R]], *, concurrency: int = 1, ordered: bool = True, name: str | None = None
) -> Callable[[Observable[_T]], Observable[_R]]:
    """Map each item through a coroutine function, ``concurrency`` at a time.

    At most ``concurrency`` calls of ``fn`` run at once. With ``ordered=True``
    results are emitted in input order (a slow item holds back later
    results); with ``ordered=False`` as they finish. The stage takes at most
    ``2 * concurrency`` items from upstream before it finishes one, and
    rxasync sources upstream wait for it (demand), so memory stays bounded.

    If ``fn`` raises, the calls in flight are cancelled, upstream is disposed,
    and the error is delivered once, unchanged; a call that lets out a
    cancellation it did not get from dispose (it cancelled its own task, or
    the loop is shutting down while it runs) ends the stage with
    :class:`~rxasync.RxAsyncError`. A worker cancelled while no call runs
    (the loop shutting down while the source waits) delivers nothing.
    Disposing cancels the calls in flight. Completion waits for every call
    to finish.

    With ``concurrency=1`` straight on an rxasync source (nothing between
    them), the one worker pulls the source itself instead of being handed
    each item by the source's task: the same items, demand, errors and
    cleanup, at about twice the speed for cheap calls. While a call is
    suspended the source is still pulled one item ahead, as it would be.

    Marble::

        source:  -a-b-c-------|
        map_async(f, concurrency=2)
        result:  -----f(a)-f(b)--f(c)|

    Args:
        fn: ``async def fn(item) -> result``.
        concurrency: how many calls may run at once; if in doubt, the number
            of requests the service behind ``fn`` takes well (e.g. 10).
        ordered: emit in input order (True) or in completion order (False).
        name: the name its counters have in :mod:`rxasync.stats` (default ``map_async#<id>``).

    Example:
        >>> import asyncio, reactivex, rxasync
        >>> from rxasync.operators import map_async
        >>> async def double(x: int) -> int:
        ...     await asyncio.sleep(0.01 * (3 - x))
        ...     return 2 * x
        >>> asyncio.run(rxasync.to_list(reactivex.of(1, 2, 3).pipe(map_async(double, concurrency=3))))
        [2, 4, 6]
    """
    check_int("concurrency", concurrency)
    return lambda source: _MapStage.observable(source, fn, concurrency, ordered, "map_async", name)


def map_on(
    fn: Callable[[_T], _R],
    executor: Executor,
    *,
    concurrency: int | None = None,
    ordered: bool = True,
    name: str | None = None,
) -> Callable[[Observable[_T]], Observable[_R]]:
    """Run a plain (blocking or CPU-bound) function on an executor, per item.

    ``executor`` is any :class:`concurrent.futures.Executor`: a
    ``ThreadPoolExecutor`` for blocking calls that release the GIL, a
    ``ProcessPoolExecutor`` for pure-Python CPU work (``fn`` and items must
    pickle), or a Dask ``distributed.Client(...).get_executor()`` to spread
    over a cluster. Results come back to the event loop, in input order when
    ``ordered``. Disposing cancels futures not yet started.

    Args:
        fn: ``def fn(item) -> result``, run on the executor.
        executor: where ``fn`` runs; rxasync never shuts it down.
        concurrency: futures submitted at once; default the executor's
            worker count (``max_workers``), else ``os.cpu_count()``.
        ordered: emit in input order (True) or in completion order (False).
        name: the name its counters have in :mod:`rxasync.stats` (default ``map_on#<id>``).

    Example:
        >>> import asyncio, reactivex, rxasync
        >>> from concurrent.futures import ThreadPoolExecutor
        >>> from rxasync.operators import map_on
        >>> with ThreadPoolExecutor(2) as pool:
        ...     asyncio.run(rxasync.to_list(reactivex.of(1, 2, 3).pipe(map_on(str, pool))))
        ['1', '2', '3']
    """
    if not isinstance(executor, Executor):
        raise TypeError(f"executor must be a concurrent.futures.Executor, got {executor!r}")
    if concurrency is None:
        concurrency = getattr(executor, "_max_workers", None) or os.cpu_count() or 4
    check_int("concurrency", concurrency)

    def call(item: _T) -> Awaitable[_R]:
        return asyncio.get_running_loop().run_in_executor(executor, fn, item)

    return lambda source: _MapStage.observable(source, call, concurrency, ordered, "map_on", name)


class _MapStage(Stage):
    """One subscription of ``map_async``/``map_on``."""

    counts_out = False  # stats.items_out is the number of the next result out (flush counts it)

    @staticmethod
    def observable(
        source: Observable[_T],
        fn: Callable[[_T], Awaitable[_R]],
        concurrency: int,
        ordered: bool,
        kind: str,
        name: str | None,
    ) -> Observable[_R]:
        def make(observer: abc.ObserverBase[Any], loop: asyncio.AbstractEventLoop) -> _MapStage:
            return _MapStage(fn, concurrency, ordered, observer, loop, kind, name)

        return stage_observable(source, kind, make)

    def __init__(
        self,
        fn: Callable[[Any], Awaitable[Any]],
        concurrency: int,
        ordered: bool,
        observer: abc.ObserverBase[Any],
        loop: asyncio.AbstractEventLoop,
        kind: str = "map_async",
        name: str | None = None,
    ) -> None:
        self.kind = kind
        super().__init__(observer, loop, 2 * concurrency, name)
        self.fn = fn
        self.concurrency = concurrency
        self.ordered = ordered
        self.queue: deque[tuple[int, Any]] = deque()
        self.results: dict[int, Any] = {}
        self.next_in = 0  # (the next result out is numbered stats.items_out: the count is the index)
        self.next_done = 0  # ordered=False: results are numbered in completion order
        self.flushing = False
        self.workers: set[asyncio.Task[None]] = set()
        self.waiting: list[asyncio.Future[None]] = []  # idle workers
        self.waits = 0  # waits for upstream timed (see waiting_upstream); one worker only
        self.idle_in: Any = 1  # waits for upstream until the next timed one (1: the next one)
        self.draw = (
            time.perf_counter_ns() & 0xFFFF
        )  # seeds the draw of the sampled steps (see waiting_upstream)
        self.sampled = concurrency == 1
        self.slow = False  # the last timed wait for upstream was long: time every one (see waiting_upstream)
        self.counted = 0.0  # wait_upstream_s when that wait began
        self.ahead: asyncio.Task[None] | None = None  # fused: a pull begun while a call is suspended
        self.armed = False  # fused: pull_ahead is scheduled
        self.calling = False  # fused: the worker is awaiting a call

    # -- upstream notifications ------------------------------------------------
    def on_item(self, item: Any) -> None:
        self.queue.append((self.next_in, item))
        self.next_in += 1
        if self.waiting:
            fut = self.waiting.pop()
            if not fut.done():
                fut.set_result(None)
        elif len(self.workers) < self.concurrency:
            task = self.loop.create_task(self.work(), context=self.context)
            self.workers.add(task)
            task.add_done_callback(self.workers.discard)

    # -- workers -----------------------------------------------------------------
    def attach(self, source: Observable[Any], scheduler: abc.SchedulerBase | None = None) -> None:
        """Subscribe upstream; one worker straight on a bridge source pulls its iterator itself (fused)."""
        path = direct(source)
        if self.concurrency == 1 and path is not None and fusable(path, self.loop) and self.on_loop():
            fused = Fused(path, self.demand)
            self.upstream = fused
            self.stats.follows = fused.stats  # its waits for upstream are its source's pulls
            task = self.loop.create_task(self.work(fused), context=self.context)
            self.workers.add(task)
            task.add_done_callback(self.workers.discard)
        else:
            super().attach(source, scheduler)

    async def work(self, fused: Fused | None = None) -> None:
        """Take queued items, call ``fn``, emit in order; a fused worker pulls the next item itself.

        A call runs in this task, so a cancellation it schedules (``asyncio.timeout``,
        cancelling its own task) lands on it; one that escapes the call while
        the stage still runs fails the stage rather than leave its item
        unfinished. One that comes while no call runs (loop shutdown) ends the
        task as it is.
        """
        queue = self.queue
        calling = False  # a cancellation is the call's own only while the call runs
        try:
            while not self.terminated:
                if not queue:
                    if fused is not None:  # the next item of the fused source, or its end
                        ahead = self.ahead
                        if ahead is None or ahead.done():
                            rest = fused.pull_now(self)
                            if rest is not None:  # its step suspended
                                await rest
                        else:  # a pull begun while the last call was suspended
                            await ahead
                        continue
                    fut = self.loop.create_future()
                    self.waiting.append(fut)
                    if not self.demand.pending and not self.upstream_done and self.stats.idle_since is None:
                        # nothing in flight (and no other worker has begun the wait): waiting upstream
                        # a countdown to the next timed wait, so the others cost no call (a lookup and a
                        # test against None: no C call, as the pump's)
                        idle_in = self.idle_in = _COUNTDOWN[self.idle_in]
                        if idle_in is None:
                            self.waiting_upstream()
                    await fut
                    continue
                index, item = queue.popleft()
                if fused is not None and not self.armed:  # if a call suspends, pull the source meanwhile
                    self.armed = (
                        True  # one callback waits for the loop's next turn (none while nothing suspends)
                    )
                    self.loop.call_soon(self.pull_ahead, fused)
                pending = self.fn(item)
                calling = self.calling = True  # (the attribute: for a fused stage's one worker)
                try:
                    result = await pending
                except TypeError:
                    _check_awaitable(pending, self.fn)
                    raise
                calling = self.calling = False
                if not self.ordered:  # emitted in completion order: numbered as they finish
                    index = self.next_done
                    self.next_done += 1
                self.results[index] = result
                if not self.flushing:  # else the worker flushing emits ours too
                    await self.flush()
        except asyncio.CancelledError as exc:
            if self.terminated or not calling:  # the stage cancelled us, or the loop did (shutdown)
                raise
            error = RxAsyncError(f"{self.kind}: a call of {_name(self.fn)} was cancelled, not by dispose")
            error.__cause__ = exc
            self.fail(error)
        except Exception as exc:
            self.fail(exc)
        finally:
            if fused is not None:
                await self.close_fused(fused)

    def pull_ahead(self, fused: Fused) -> None:
        """The loop turned: if a call is suspended, pull the next item in a task meanwhile (the pump's one ahead)."""
        self.armed = False
        if not self.calling or self.terminated or self.queue or fused.done:
            return
        if self.ahead is not None and not self.ahead.done():
            return
        task = self.ahead = self.loop.create_task(fused.pull(self), context=self.context)
        self.workers.add(task)  # cancelled with the workers on dispose or failure
        task.add_done_callback(self.workers.discard)

    async def close_fused(self, fused: Fused) -> None:
        """Close the fused source once no pull ahead is running (an async generator runs once at a time)."""
        ahead = self.ahead
        if ahead is not None and not ahead.done() and ahead is not asyncio.current_task():
            if not ahead.cancelling():  # else its cleanup runs now: a second cancel would cut it
                ahead.cancel()
            await asyncio.wait((ahead,))
        await fused.close()
        self.stats.wait_upstream_s = fused.stats.wait_upstream_s  # (its snapshots read it there till now)

    async def flush(self) -> None:
        """Emit the results that are next in line, waiting while the consumer below is full."""
        self.flushing = True
        try:
            results, down, stats = self.results, self.down, self.stats
            while stats.items_out in results and not self.terminated:  # items out: the next one's number
                result = results.pop(stats.items_out)
                self.observer.on_next(result)
                if down is not None and down.full:
                    stats.blocked()  # waiting for demand: downstream is full
                    try:
                        await down.wait()
                    except asyncio.CancelledError:  # disposed meanwhile: the item is out all the same
                        stats.items_out += 1
                        raise
                    stats.unblocked()
                self.finish()  # (the demand's credit: the item is counted out below)
                stats.items_out += 1
                self.check_done()
        finally:
            self.flushing = False

    def waiting_upstream(self) -> None:
        """A wait for upstream begins (timed); says how many waits on the next one is (:attr:`idle_in`).

        Several workers: every wait. One worker waits after every item, so it
        times a sample: its first :data:`_EVERY` waits, then one in
        :data:`_EVERY` on average (one in 4 to 12, drawn each time so that a
        source's periodic gap does not alias with it, and counted that many
        times: itself and the ones skipped after it) while they are short; once a timed one is long
        (over :data:`~rxasync._pump.SAMPLE_EVERY`: a slow source, where a
        clock read costs nothing), every wait until one is short again.
        """
        stats = self.stats
        if not self.sampled:
            self.idle_in = 1
            stats.idle()
            return
        self.waits += 1
        counted = stats.wait_upstream_s  # the last timed wait (and its scale) is in it by now
        self.slow = counted - self.counted > SAMPLE_EVERY * stats.idle_scale
        self.counted = counted
        if self.waits <= _EVERY or self.slow:
            self.idle_in = 1
        else:  # 4 to 12 (8 on average), so that a source's gap every 8th item is not always missed
            self.draw = (self.draw * 69069 + 1) & 0xFFFF
            self.idle_in = (_EVERY >> 1) + (self.draw >> 8) % (_EVERY + 1)
        stats.idle(self.idle_in)

    # -- termination -------------------------------------------------------------
    def idle(self) -> bool:
        return self.demand.pending == 0

    def cleanup(self) -> None:
        current = asyncio.current_task(self.loop) if self.loop.is_running() else None
        for task in list(self.workers):
            if task is not current:
                task.cancel()
        self.queue.clear()
        self.results.clear()
        self.waiting.clear()


def _check_awaitable(value: object, fn: Callable[..., object]) -> None:
    """A plain function given to ``map_async``: say so, rather than "can't be used in 'await'"."""
    if not inspect.isawaitable(value):
        name = _name(fn)
        raise TypeError(
            f"map_async needs a coroutine function (async def) or a function returning an awaitable; "
            f"{name} returned {type(value).__name__} {value!r:.60}. For a plain function use "
            "reactivex.operators.map(fn), or map_on(fn, executor) to run blocking work on a pool."
        )


def _name(fn: Callable[..., object]) -> str:
    return getattr(fn, "__qualname__", None) or repr(fn)
