"""The default in-flight bound of ``map_on_cluster``: grown while the workers are measurably idle.

A bound of twice the worker threads keeps the scheduler's memory small but
starves tasks shorter than a round trip (client -> scheduler -> worker ->
scheduler -> client): with 1 ms tasks and a 5 ms round trip the workers idle
most of the time. By Little's law they stay busy with

    in flight = threads x (1 + round trip / task time)

tasks in flight, and neither time is known in advance. :class:`Window`
does not estimate them; it measures what they cause. Each task reports how
long it ran on its worker (the stage wraps ``fn``), so after each *epoch*
(a window's worth of completions, at least :data:`EPOCH_MIN`) the window
knows the workers' **utilisation**: the seconds of work done over
``threads x`` the epoch's wall seconds. Below :data:`BUSY` the window
doubles, up to ``cap`` (64 tasks per thread, at least :data:`CAP_MIN`);
otherwise it stays. Only when the workers idled for the round trip: the
stage flags an epoch in which items waited for room in the window
(``held_back``), and one in which the consumer downstream made it wait
(``blocked``: then the workers idled for the consumer, and a larger window
would only hold more items); only a held-back, unblocked epoch grows it. It starts at ``floor`` (twice the threads) and
never shrinks during a stream: a window that was once needed (a loaded
scheduler) stays, bounded by the cap.

Tried first (``docs/guides/scaling.md``): the TCP/BBR estimate, twice the
best rate times the shortest latency. With a recent minimum, a window
larger than needed queues tasks on the workers, which lengthens every
latency, which grows the window again (to the cap, even for 20 ms tasks);
with the stream's minimum, one lucky round trip on a loaded machine kept it
at the floor, at 0.42-0.46x of Dask's own ``client.map``.
"""

from __future__ import annotations

__all__ = ["BUSY", "CAP_MIN", "CAP_PER_THREAD", "EPOCH_MIN", "Window", "default_window"]

#: The window is at most this many tasks per worker thread, or :data:`CAP_MIN` (at least 2 per thread).
CAP_PER_THREAD = 64
#: The cap on a small cluster. Measured at load 15-20 on 2 threads: a cap of 128 ran 1 ms tasks at
#: 0.51-0.65x of Dask's one ``client.map``, one of 1,024 at 0.41-0.44x (no better: the client's and
#: scheduler's CPU per task, not the window, was the limit), so the smaller bound stays.
CAP_MIN = 128
#: The fewest completions an epoch measures (a smaller one is mostly noise).
EPOCH_MIN = 16
#: Workers busy at least this fraction of an epoch: the window is large enough.
BUSY = 0.8


def default_window(threads: int) -> Window:
    """The default window for a cluster of ``threads`` worker threads (at least 1)."""
    threads = max(1, threads)
    return Window(2 * threads, max(CAP_PER_THREAD * threads, CAP_MIN), threads)


class Window:
    """How many tasks a stream keeps on the cluster: ``size``, from ``floor`` up to ``cap``.

    The stage calls :meth:`started` when it first submits and
    :meth:`completed` with each batch of results it takes. ``Window(n, n)``
    is a fixed bound (a given ``concurrency``).
    """

    __slots__ = (
        "blocked",
        "cap",
        "done",
        "floor",
        "held_back",
        "since",
        "size",
        "threads",
        "utilisation",
        "work",
    )

    def __init__(self, floor: int, cap: int, threads: int = 1) -> None:
        self.floor = floor
        self.cap = max(cap, floor)
        self.size = floor
        self.threads = threads
        self.since: float | None = None  # when the epoch began (None: nothing submitted yet)
        self.done = 0  # completions in this epoch
        self.work = 0.0  # seconds the workers ran this epoch's tasks
        self.utilisation: float | None = None  # the last epoch's (None: none measured yet)
        self.held_back = False  # this epoch, items waited for room in the window (set by the stage)
        self.blocked = False  # this epoch, the consumer downstream made the stage wait (set by the stage)

    def started(self, now: float) -> None:
        """The first submission: the first epoch begins."""
        if self.since is None:
            self.since = now

    def completed(self, n: int, work: float, now: float) -> None:
        """``n`` tasks completed at ``now`` after ``work`` seconds of running on their workers."""
        self.done += n
        self.work += work
        if self.size >= self.cap or self.since is None:
            return
        if self.done < max(self.size, EPOCH_MIN) or now <= self.since:
            return
        self.utilisation = self.work / (self.threads * (now - self.since))
        if self.utilisation < BUSY and self.held_back and not self.blocked:
            self.size = min(self.cap, 2 * self.size)
        self.since, self.done, self.work = now, 0, 0.0
        self.held_back = self.blocked = False
