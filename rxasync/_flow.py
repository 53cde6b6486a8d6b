"""Demand (backpressure) shared by the bridge and every async stage.

RxPY pushes: ``on_next`` is a plain call and returns nothing a producer could
wait on. rxasync adds demand without changing that protocol:

* An async stage (``map_async``, ``map_on``, ``to_async_iterable``, the JAX
  operators, file sinks) owns a :class:`Demand`: a count of the items it has
  taken and not yet finished, and a limit.
* While it subscribes upstream, the stage publishes its ``Demand`` in a
  :class:`contextvars.ContextVar`. RxPY subscribes synchronously, from the
  last operator to the first, so the source at the top of the chain runs its
  ``subscribe`` inside that call and can read the variable.
* A source built on ``from_async_iterable`` captures the ``Demand`` there and,
  after each ``on_next``, awaits until the stage is below its limit.

Plain RxPY operators in between (``map``, ``filter``, ``scan``, ``take``,
``buffer_with_count``...) need to know nothing: an item a ``filter`` drops
never reaches the stage and never holds a credit; a ``buffer_with_count(10)``
makes the stage take one item per ten upstream. Where no stage is
downstream, nothing is published and the source runs free, as in RxPY.

Every consumer publishes explicitly (a terminal such as ``first()`` publishes
``None``), so a source subscribed *inside* a stage's coroutine is never tied
to an unrelated stage's demand.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
import threading
import time
from collections.abc import Sized
from types import FrameType
from typing import TYPE_CHECKING, TypeVar

from reactivex import abc

from ._errors import NoRunningLoopError

if TYPE_CHECKING:
    from ._stats import StageStats

__all__ = [
    "BufferDemand",
    "Demand",
    "current_demand",
    "demand_room",
    "loop_thread",
    "resolve_loop",
    "subscribe_with_demand",
    "thread_id",
]

_T = TypeVar("_T")

_DEMAND: contextvars.ContextVar[Demand | None] = contextvars.ContextVar("rxasync_demand", default=None)


class Demand:
    """Credits of one consumer: ``pending`` items taken and not finished, at most ``limit``.

    The consumer calls :meth:`acquire` when it takes an item and
    :meth:`release` when it is done with it; producers check :attr:`full` and
    ``await`` :meth:`wait` until a credit is free. Loop-thread only.
    """

    __slots__ = ("_waiters", "limit", "pending")
    #: What ``pending`` is the length of, if it is one (:class:`BufferDemand`): a producer's per-item
    #: test reads ``len(sized)`` (a C call) rather than the property.
    sized: Sized | None = None

    def __init__(self, limit: int) -> None:
        self._setup(limit)
        self.pending = 0

    def _setup(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"demand limit must be >= 1, got {limit}")
        self.limit = limit
        # One list for the object's life: consumers may hold it to test "anyone waiting?" cheaply.
        self._waiters: list[asyncio.Future[None]] = []

    @property
    def full(self) -> bool:
        """True while the consumer holds ``limit`` or more items."""
        return self.pending >= self.limit

    def acquire(self, n: int = 1) -> None:
        """Count ``n`` more credits taken by the consumer (one item, or its weight)."""
        self.pending += n

    def release(self, n: int = 1) -> None:
        """Count ``n`` items finished; wake the producers if a credit is free."""
        self.pending -= n
        if self._waiters and self.pending < self.limit:
            self._wake()

    def _wake(self) -> None:
        waiters = self._waiters[:]
        self._waiters.clear()
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def wait(self, stats: StageStats | None = None) -> None:
        """Return once the consumer holds fewer than ``limit`` items.

        ``stats``: the producer's counters, which count this as a wait for
        demand (and not for upstream, while it lasts).
        """
        if stats is not None:
            stats.idle_since = None
            began = stats.blocked_since = time.perf_counter()
        try:
            while self.pending >= self.limit:
                fut = asyncio.get_running_loop().create_future()
                self._waiters.append(fut)
                try:
                    await fut
                finally:
                    if not fut.done():
                        fut.cancel()
        finally:
            if stats is not None:
                # from here on, the pump counts the time as upstream's
                stats.idle_since = now = time.perf_counter()
                stats.wait_demand_s += now - began
                stats.blocked_since = 0.0

    def __repr__(self) -> str:
        return f"Demand(pending={self.pending}, limit={self.limit})"


class BufferDemand(Demand):
    """The demand of a consumer whose unfinished items are exactly those in its buffer.

    ``pending`` *is* ``len(buffer)``: the producer side appends, the consumer
    pops, and neither counts per item. After a pop the consumer calls
    :meth:`release` only when someone waits (``waiters`` is non-empty), so the
    common case costs one truth test; a waiting producer is woken when the
    buffer is down to half the limit, so it refills in bursts. ``to_async_iterable(overflow="block")``
    uses it.
    """

    __slots__ = ("_buffer", "sized")

    def __init__(self, limit: int, buffer: Sized) -> None:
        self._setup(limit)
        self._buffer = self.sized = buffer

    @property
    def full(self) -> bool:
        """True while the buffer holds ``limit`` or more items."""
        return len(self._buffer) >= self.limit

    @property
    def pending(self) -> int:
        """The number of items in the buffer."""
        return len(self._buffer)

    @pending.setter
    def pending(self, value: int) -> None:
        raise AttributeError("BufferDemand.pending is the length of its buffer; it is not set")

    @property
    def waiters(self) -> list[asyncio.Future[None]]:
        """The producers waiting for a credit (the same list object for the demand's life)."""
        return self._waiters

    def acquire(self, n: int = 1) -> None:
        """Nothing to count: the item is in the buffer."""

    def release(self, n: int = 1) -> None:
        """Wake the producers once the buffer (already popped by the consumer) is down to half the limit.

        Not at the first free place: a producer woken for every item would
        wait again after every item (a future and two loop turns each). The
        buffer never holds more than ``limit``; the consumer still has half
        of it to take while the producer refills it.
        """
        if self._waiters and len(self._buffer) <= self.limit >> 1:
            self._wake()


def current_demand() -> Demand | None:
    """The demand published by the consumer now subscribing, if any."""
    return _DEMAND.get()


def demand_room(most: int) -> int:
    """How many items a source may fetch now: at most ``most``, and no more than demand leaves room for.

    Called inside a bridge source's async generator (the pump task runs in
    the context captured at subscribe, where the consumer's :class:`Demand`
    is published): ``most`` when no consumer gives demand, else the
    consumer's free credits, and at least 1 (the bridge awaits a free credit
    before it asks the generator for more).
    """
    demand = _DEMAND.get()
    if demand is None:
        return most
    return max(1, min(most, demand.limit - demand.pending))


def subscribe_with_demand(
    source: abc.ObservableBase[_T],
    observer: abc.ObserverBase[_T],
    demand: Demand | None,
    scheduler: abc.SchedulerBase | None = None,
) -> abc.DisposableBase:
    """Subscribe ``observer`` to ``source`` with ``demand`` published to its sources."""
    token = _DEMAND.set(demand)
    try:
        return source.subscribe(observer, scheduler=scheduler)
    finally:
        _DEMAND.reset(token)


def resolve_loop(
    scheduler: abc.SchedulerBase | None = None, what: str = "this source"
) -> asyncio.AbstractEventLoop:
    """The loop to run on: the one a scheduler names, else the running loop.

    Raises:
        NoRunningLoopError: there is neither, with what to do about it.
    """
    loop = getattr(scheduler, "_loop", None)
    if isinstance(loop, asyncio.AbstractEventLoop):
        return loop
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        raise NoRunningLoopError(_no_loop_message(what)) from None


def _no_loop_message(what: str) -> str:
    """Why there is no loop here: which RxPY operator subscribed ``what`` on which thread, and the fix."""
    thread = threading.current_thread().name
    operator = source = scheduler = None
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:  # from the subscribe call outwards: the nearest operator, the outermost rest
        module: str = frame.f_globals.get("__name__", "")
        kind, _, name = module.removeprefix("reactivex.").rpartition(".")
        if kind == "operators" and operator is None:
            operator = _OPERATOR_NAMES.get(name, name.lstrip("_"))
        elif kind == "observable" and name != "observable":
            source = name
        elif kind == "scheduler" and name not in _PLUMBING:
            scheduler = name
        frame = frame.f_back
    if scheduler is None:  # not on an RxPY scheduler's thread: simply outside the loop
        by = f" by RxPY's {operator} operator" if operator else ""
        return (
            f"{what} was subscribed{by} on thread {thread!r} with no running asyncio event loop. Subscribe "
            "from inside a coroutine (for example under asyncio.run(main())), or subscribe with "
            "scheduler=rxasync.schedulers.loop(loop) to name the loop to run on."
        )
    by = f"RxPY's {operator} operator" if operator else "RxPY"
    driven = ", ".join(f"{k} {v}" for k, v in (("source", source), ("scheduler", scheduler)) if v)
    return (
        f"{what} was subscribed by {by} on thread {thread!r} (driven by RxPY's {driven}), where no "
        "asyncio event loop runs: RxPY's time operators (interval, timer, delay, debounce, sample...) "
        "run on their own timer threads unless given a scheduler. Pass "
        "scheduler=rxasync.schedulers.loop() to the time operator, created inside a coroutine (for "
        "example reactivex.interval(1.0, scheduler=rxasync.schedulers.loop())), so that it and what "
        "it subscribes run on the event loop."
    )


# RxPY's schedulers that run work on the calling thread: not what moved it to another thread.
_PLUMBING = frozenset(
    {"scheduler", "scheduleditem", "trampoline", "trampolinescheduler", "currentthreadscheduler",
     "periodicscheduler", "immediatescheduler", "virtualtimescheduler"}
)  # fmt: skip
_OPERATOR_NAMES = {"_merge": "merge/flat_map", "_flatmap": "flat_map", "_concat": "concat/concat_map"}


thread_id = threading.get_ident
"""The calling thread's id, as :func:`loop_thread` gives it: ``thread_id() == loop_thread(loop)`` on the loop."""


def loop_thread(loop: asyncio.AbstractEventLoop) -> int | None:
    """The id of the thread that runs ``loop`` (``None`` if unknown: not running yet)."""
    try:
        if asyncio.get_running_loop() is loop:
            return thread_id()
    except RuntimeError:
        pass
    thread: int | None = getattr(loop, "_thread_id", None)
    return thread
