"""Per-stage counters, cheap enough to leave on, and the registry of live stages.

A stage (a bridge source, ``map_async``, a sink, ``progress``...) makes one
:class:`StageStats` per subscription with :func:`stage_stats` and calls it at
its few moments: an item taken, an item given, an error, the end, and the
boundaries of its waits. Counting is a plain ``int`` increment;
``time.perf_counter()`` is read only when a wait begins and ends. The
registry holds the counters by weak reference: a subscription that is
gone leaves it by itself. :func:`snapshot` reads every live stage as plain
data, which :mod:`rxasync.stats` draws, writes and charts.

How a stage calls it::

    stats = stage_stats("map_async", name)        # at subscribe
    stats.took()                                   # an item came from upstream
    stats.in_flight += 1 ... stats.in_flight -= 1  # work started / settled
    stats.gave()                                   # an item went downstream
    with stats.wait_demand():                      # blocked: downstream has no room
        await demand.wait()
    stats.blocked() ... stats.unblocked()          # the same, in callback-style code
    stats.idle()                                   # nothing to do until upstream sends
    stats.failed()                                 # an item's work raised (counted, per error)
    stats.dropped += 1                             # an item thrown away by design (a drop overflow)
    stats.finished("completed" | "error" | "disposed")  # once, at termination

A source has no upstream stage: it wraps its own waits for data (a socket
read, a file read) in ``with stats.wait_upstream():``.

The counters take no lock: a stage updates them on one thread (the loop's,
where rxasync stages run). A stage that counts on several threads at once
does so under its own lock (``progress`` does), since ``+=`` is not atomic.
Reading them (:func:`snapshot`) from any thread is safe.
"""

from __future__ import annotations

import itertools
import threading
import time
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Literal, NotRequired, Protocol, TypedDict

__all__ = ["StageSnapshot", "StageStats", "collect", "live_stages", "snapshot", "stage_stats"]

State = Literal["running", "completed", "error", "disposed"]

_ids = itertools.count(1)
_registry: weakref.WeakValueDictionary[int, StageStats] = weakref.WeakValueDictionary()
_lock = threading.Lock()
_collectors: list[Callable[[StageStats], None]] = []  # watchers: they keep every stage begun while they run


class StageSnapshot(TypedDict):
    """One stage's counters at one moment, as plain data (JSON-ready)."""

    id: int
    name: str
    kind: str
    state: State
    items_in: int
    items_out: int
    in_flight: int
    errors: int
    wait_demand_s: float
    wait_upstream_s: float
    age_s: float
    passive: bool
    #: Items the stage threw away by design, counted in but never out or in flight (``to_async_iterable``'s drop overflow); absent in old records.
    dropped: NotRequired[int]


class _Pending(Protocol):
    @property
    def pending(self) -> int: ...


class _Wait:
    """A reusable ``with`` block that adds its duration to one of the stage's wait totals."""

    __slots__ = ("_start", "_stats", "_upstream")

    def __init__(self, stats: StageStats, upstream: bool) -> None:
        self._stats, self._upstream, self._start = stats, upstream, 0.0

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        spent = time.perf_counter() - self._start
        if self._upstream:
            self._stats.wait_upstream_s += spent
        else:
            self._stats.wait_demand_s += spent


class StageStats:
    """The counters of one subscription of one stage; see the module docstring for the calls.

    Example:
        >>> from rxasync.stats import stage_stats
        >>> stats = stage_stats("demo", "parse")
        >>> stats.took(); stats.gave(); stats.finished()
        >>> s = stats.snapshot()
        >>> (s["name"], s["items_in"], s["items_out"], s["state"])
        ('parse', 1, 1, 'completed')
    """

    __slots__ = (
        "__weakref__",
        "_demand",
        "_upstream",
        "blocked_since",
        "credits",
        "dropped",
        "errors",
        "follows",
        "held",
        "id",
        "idle_scale",
        "idle_since",
        "in_flight",
        "items_in",
        "items_out",
        "kind",
        "name",
        "passive",
        "started",
        "state",
        "stopped",
        "wait_demand_s",
        "wait_upstream_s",
    )

    def __init__(
        self, kind: str, name: str | None = None, *, passive: bool = False, held: bool = False
    ) -> None:
        self.id = next(_ids)
        self.held = held  # in flight = items in - items out while running (a stage protocol endpoint)
        #: The stage's demand, if its items in are counted there: in = out + dropped + ``credits.pending``.
        self.credits: _Pending | None = None
        self.passive = passive  # a pass-through (``progress``): counts items, has no waits of its own
        self.kind = kind
        self.name = name or f"{kind}#{self.id}"
        self.items_in = self.items_out = self.in_flight = self.errors = self.dropped = 0
        self.wait_demand_s = self.wait_upstream_s = 0.0
        self.state: State = "running"
        self.started = time.perf_counter()
        self.stopped = 0.0
        #: When the wait for upstream begun by :meth:`idle` began (None: not waiting; ``is not None`` is
        #: cheaper than a float's truth, which an endpoint tests on every item).
        self.idle_since: float | None = None
        self.blocked_since = 0.0
        self.idle_scale = 1  # the wait begun by idle() stands for this many (a sampled wait)
        #: A stage that waits for upstream exactly while this source is pulled (a fused ``map_async``):
        #: its snapshots read that source's wait for upstream, a wait in progress included.
        self.follows: StageStats | None = None
        self._demand, self._upstream = _Wait(self, False), _Wait(self, True)

    def took(self) -> None:
        """An item arrived from upstream (ends a wait begun by :meth:`idle`)."""
        self.items_in += 1
        if self.idle_since is not None:
            self.end_idle()

    def end_idle(self) -> None:
        """A wait begun by :meth:`idle` ends now (:meth:`took` calls it; inline counters too)."""
        since = self.idle_since
        if since is not None:
            self.wait_upstream_s += (time.perf_counter() - since) * self.idle_scale
            self.idle_since = None

    def gave(self) -> None:
        """An item was sent downstream."""
        self.items_out += 1

    def failed(self) -> None:
        """An error happened (the stage's own, or one it passes on)."""
        self.errors += 1

    def idle(self, scale: int = 1) -> None:
        """Nothing in flight: from now until :meth:`took`, the stage waits for upstream.

        ``scale``: this wait is timed for ``scale`` alike (a stage that is idle
        between every two items times one wait in ``scale``, so it reads the
        clock for a few of them only).
        """
        if self.idle_since is None:
            self.idle_scale = scale
            self.idle_since = time.perf_counter()

    def blocked(self) -> None:
        """Downstream has no room: from now until :meth:`unblocked`, the stage waits for demand.

        For callback-style stages, which cannot put a ``with`` around an ``await``.
        """
        if not self.blocked_since:
            self.blocked_since = time.perf_counter()

    def unblocked(self) -> None:
        """Downstream has room again (ends a wait begun by :meth:`blocked`)."""
        if self.blocked_since:
            self.wait_demand_s += time.perf_counter() - self.blocked_since
            self.blocked_since = 0.0

    def wait_demand(self) -> _Wait:
        """``with stats.wait_demand():`` around a wait for downstream room."""
        return self._demand

    def wait_upstream(self) -> _Wait:
        """``with stats.wait_upstream():`` around a wait for input (a source's read)."""
        return self._upstream

    def finished(self, state: State = "completed") -> None:
        """The subscription ended (once; later calls are ignored)."""
        if self.state == "running":
            # frozen before cleanup drops them (a count written meanwhile, as the async iterator's close does, stands)
            self.items_in, self.credits = max(self.items_in, self._items_in()), None
            self.unblocked()
            self.state = state
            self.stopped = time.perf_counter()
            if self.idle_since is not None:
                self.wait_upstream_s += self.stopped - self.idle_since
                self.idle_since = None

    def _items_in(self) -> int:
        credits = self.credits
        return self.items_in if credits is None else self.items_out + self.dropped + credits.pending

    def _in_flight(self) -> int:
        if not self.held:
            return self.in_flight
        return max(0, self._items_in() - self.items_out - self.dropped) if self.state == "running" else 0

    def snapshot(self) -> StageSnapshot:
        """These counters now, as plain data; a wait in progress counts up to now.

        The waits are sampled estimates on the fast paths (one wait or one
        call timed for several); their sum is bounded by the stage's age, which
        a rare long wait scaled up by its sample could otherwise pass.
        """
        now = time.perf_counter()
        source = self.follows or self
        since = source.idle_since
        waiting_up = source.wait_upstream_s + (now - since if since is not None else 0.0)
        waiting_down = now - self.blocked_since if self.blocked_since else 0.0
        age = (self.stopped or now) - self.started
        demand = min(self.wait_demand_s + waiting_down, age)
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "state": self.state,
            "items_in": self._items_in(),
            "items_out": self.items_out,
            "in_flight": self._in_flight(),
            "errors": self.errors,
            "wait_demand_s": demand,
            "wait_upstream_s": min(waiting_up, age - demand),
            "age_s": age,
            "passive": self.passive,
            "dropped": self.dropped,
        }


def stage_stats(
    kind: str, name: str | None = None, *, passive: bool = False, held: bool = False
) -> StageStats:
    """New counters for one subscription of a stage, registered while the caller keeps them.

    Args:
        kind: what the stage is (``"map_async"``, ``"progress"``...).
        name: the user's ``name=``; default ``kind#id``.
        passive: a pass-through that never waits itself (never the bottleneck).
        held: items in flight are those in and not yet out (while running; 0
            after the end), rather than the :attr:`~StageStats.in_flight` the
            stage sets. Every stage-protocol endpoint counts this way.

    Example:
        >>> from rxasync.stats import live_stages, stage_stats
        >>> stats = stage_stats("map_async", "score")
        >>> stats in live_stages()
        True
    """
    stats = StageStats(kind, name, passive=passive, held=held)
    with _lock:
        _registry[stats.id] = stats
        for collect in _collectors:
            collect(stats)
    return stats


def collect(callback: Callable[[StageStats], None] | None, remove: bool = False) -> None:
    """Call ``callback`` with every stage registered from now on (``remove=True``: stop)."""
    with _lock:
        if remove and callback in _collectors:
            _collectors.remove(callback)
        elif not remove and callback is not None:
            _collectors.append(callback)


def live_stages() -> list[StageStats]:
    """Every stage whose counters are still referenced, oldest first."""
    with _lock:
        return [stats for _, stats in sorted(_registry.items())]


def snapshot() -> list[StageSnapshot]:
    """:meth:`StageStats.snapshot` of every live stage, oldest first.

    Example:
        >>> from rxasync.stats import snapshot, stage_stats
        >>> keep = stage_stats("demo", "read")
        >>> [s["name"] for s in snapshot() if s["name"] == "read"]
        ['read']
    """
    return [stats.snapshot() for stats in live_stages()]
