"""The pump: one subscription of a bridge observable, as a task on the loop.

:class:`Pump` pulls the async iterator in its own task and pushes each item
to the observer; it waits on the consumer's :class:`~rxasync._flow.Demand`
after each item, closes the iterator (``aclose``) before it delivers the
end, and is cancelled by dispose. ``_bridge`` makes the observables.

Its statistics (:class:`~rxasync._stats.StageStats`, kind ``from_async_iterable``
...) cost no call and no clock read per item: the pump counts down in a local
variable (a tuple lookup, its test after ``on_next`` also the test of
``disposed``) and, about every :data:`SAMPLE_EVERY` seconds of items (and at the
end), a :class:`Meter` reads the clock around one ``on_next``,
writes the counts, and splits the time since the start into waiting for
demand (measured exactly, at the wait), downstream's work in ``on_next``
(estimated from the timed ones) and waiting for upstream (the rest: the
generator's ``anext``, the socket, the file).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from reactivex import abc
from reactivex.disposable import Disposable
from reactivex.observer import AutoDetachObserver

from ._flow import Demand
from ._stats import StageStats

__all__ = ["SAMPLE_EVERY", "Meter", "Pump"]

#: The pump reads the clock about this often (seconds) while items flow; between
#: reads it times nothing, so a fast source pays for one read per many items.
SAMPLE_EVERY = 0.002
# At most this many items between two reads (a mask: 2**k - 1). 255, so the countdown of the loops
# (``left``: 1 to 256) stays one of CPython's cached small ints (-5..256): above 256 every
# ``left -= 1`` allocates a new int and frees the old one (about 80 instructions an item, a third
# of the countdown's cost, measured with callgrind); a read per 256 items costs nothing visible.
_MOST = 255
# The pump's countdown: _COUNTDOWN[k] is k - 1, and None for 0 (a lookup and a test against None
# are cheaper than a subtraction and a truth test: no C call).
_COUNTDOWN: tuple[int | None, ...] = (None, None, *range(1, _MOST + 1))


class Meter:
    """The pump's clock: turns a few timed ``on_next`` calls into the source's waits.

    About one item in every ``mask + 1`` is timed (``mask`` adapts so that
    reads come about every :data:`SAMPLE_EVERY`; the pump times the item
    after each countdown, so at ``mask`` 0 or 1 every other item): its
    ``on_next`` time, times the items it stands for, estimates the time
    spent in downstream's ``on_next``.
    """

    __slots__ = ("began", "counted", "emit", "last", "mask", "start", "stats", "step")

    def __init__(self, stats: StageStats) -> None:
        self.stats = stats
        self.counted, self.step = 0, 1  # items out at the last timed one; items from there to the next
        self.start = self.last = stats.idle_since = time.perf_counter()  # until an item: waiting upstream
        self.emit = 0.0  # estimated seconds inside downstream's on_next
        self.mask = 0
        self.began = 0.0  # when the pump's timed on_next began

    def sample(self, items: int, began: float) -> int:
        """One ``on_next`` that began at ``began`` was timed; ``items`` have gone out.

        Returns how many items on the next one is timed (also kept in :attr:`step`).
        The timed call stands for the :attr:`step` items since the last one,
        but never for more than the time since that read (a slow timed item
        among fast ones cannot make the estimate exceed the time that passed).
        The next step is drawn around ``mask + 1`` from the clock's low bits:
        a fixed period would alias with work downstream that repeats at the
        same period (every 256th item slow, say), and time it always or never.
        """
        now = time.perf_counter()  # (no min() or max(): each parses its arguments, ~700 instructions)
        since = now - self.last
        took = (now - began) * self.step
        self.emit += took if took < since else since
        stats = self.stats
        stats.items_in = stats.items_out = items  # sync(), inline: this runs once per countdown
        upstream = now - self.start - stats.wait_demand_s - self.emit
        stats.wait_upstream_s = upstream if upstream > 0.0 else 0.0
        stats.idle_since = now  # from now to the next read: counted as waiting upstream
        mask = self.mask
        if since >= SAMPLE_EVERY:
            mask >>= 1
        elif mask < _MOST:
            mask = 2 * mask + 1
        self.last, self.mask = now, mask
        if mask < 3:
            step = mask + 1
        else:
            step = (mask >> 1) + 2 + int(now * 1e9) % (mask + 1)
            if step > _MOST + 1:
                step = _MOST + 1
        self.step = step
        return step

    def due(self) -> int:
        """The pump's countdown ran out: the next item is the timed one (one item more); returns 1."""
        self.step += 1
        return 1

    def lap(self) -> int:
        """:meth:`tick` for the pump's timed item (begun at :attr:`began`); returns its next countdown.

        The countdown runs to the item before the next timed one (:meth:`due`), so one less.
        """
        self.counted += self.step
        step = self.sample(self.counted, self.began) - 1
        step = self.step = step if step else 1
        return step

    def tick(self, began: float) -> int:
        """:meth:`sample` for a countdown: the timed item ran it to 0; returns where it starts again."""
        self.counted += self.step
        return self.sample(self.counted, began)

    def items(self, left: int | None) -> int:
        """Items out, with the countdown of :meth:`tick` at ``left`` (``None``: 0, the pump's end of one)."""
        return self.counted + self.step - (left or 0)

    def sync(self, items: int, now: float = 0.0) -> None:
        """Write the counts and the upstream wait up to now (nothing left running)."""
        now = now or time.perf_counter()
        stats = self.stats
        stats.items_in = stats.items_out = items
        stats.idle_since = 0.0
        stats.wait_upstream_s = max(0.0, now - self.start - stats.wait_demand_s - self.emit)


class Pump:
    """One subscription's task: pulls the iterator, pushes to the observer."""

    __slots__ = (
        "batched",
        "demand",
        "disposed",
        "loop",
        "observer",
        "on_loop_start",
        "on_unstarted",
        "open",
        "started",
        "stats",
        "stop",
        "task",
    )

    def __init__(
        self,
        open_iterator: Callable[[], AsyncIterator[Any]],
        observer: abc.ObserverBase[Any],
        demand: Demand | None,
        batched: bool = False,
        on_unstarted: Callable[[], None] | None = None,
        stats: StageStats | None = None,
    ) -> None:
        self.stats = stats or StageStats("from_async_iterable")
        self.open = open_iterator
        self.batched = batched
        self.on_unstarted = on_unstarted
        self.started = False
        self.on_loop_start = False
        self.observer = observer
        self.demand = demand
        self.disposed = False
        self.stop: Callable[[], None] | None = None  # while run() runs: makes its loop see `disposed`
        self.task: asyncio.Task[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> abc.DisposableBase:
        self.loop = loop
        if _on_loop(loop):
            self.on_loop_start = True
            self.task = loop.create_task(self.run())
        else:
            loop.call_soon_threadsafe(self._start_threadsafe)
        return Disposable(self.dispose)

    def _start_threadsafe(self) -> None:
        if not self.disposed:
            assert self.loop is not None
            self.task = self.loop.create_task(self.run())

    def dispose(self) -> None:
        self.disposed = True
        self.stats.finished("disposed")  # ignored if it has already ended
        loop = self.loop
        if loop is None:
            return
        if not _on_loop(loop):
            # self.task is created and read on the loop thread only: look at it there.
            try:
                loop.call_soon_threadsafe(self._cancel)
            except RuntimeError:  # the loop is closed: nothing runs any more
                pass
            return
        stop = self.stop
        if stop is not None:  # running (on this thread, so not between two of its steps)
            stop()
        self._cancel()

    def _gone(self) -> bool:
        return self.disposed

    def _cancel(self) -> None:
        task = self.task
        if task is None or task.done():
            return
        if asyncio.current_task(self.loop) is task:
            # Disposed from inside our own on_next (take(n), first()): run()
            # sees `disposed` and closes the iterator itself. Cancelling
            # here would cut the generator's async cleanup at its first await.
            return
        if not self.started and self.on_unstarted is not None:
            self.on_unstarted()  # the source never ran: release what it holds
        task.cancel()

    async def run(self) -> None:  # the loops and the wait are inline: a call per item cost ~20% (measured)
        self.started = True
        if self._gone():  # disposed from another thread while the task was being created
            return
        observer, demand = self.observer, self.demand
        # Subscribed from another thread, RxPY may still be wiring the
        # subscription there when this task starts: call the observer as is.
        on_next = _emitter(observer) if self.on_loop_start else observer.on_next
        stats = self.stats
        meter = Meter(stats)
        limit, sized = (demand.limit, demand.sized) if demand is not None else (0, None)
        error: Exception | None = None
        iterator: AsyncIterator[Any] | None = None
        # The countdown: items until the next test of `disposed` (`left`, 255 to 1, then None), after
        # which the next item is timed. It is counted down before the item goes out (an item whose
        # on_next raised is out) and tested after: dispose() on the loop's thread ends it (`stop`), so a
        # dispose inside on_next (take(n), first()) ends the loop before the iterator is pulled again.
        # A lookup in a tuple and a test against None: no C call (a `left -= 1` and `if not left` made
        # two, ~50 instructions an item).
        countdown = _COUNTDOWN
        left: Any = 1

        def timed(item: Any) -> None:  # one item's on_next, timed (the first, then one per countdown)
            meter.began = time.perf_counter()
            on_next(item)

        def stop() -> None:  # dispose() on the loop's thread: the next test of `left` sees it
            nonlocal left
            meter.step -= left or 0  # the items out stay counted: meter.items(None) is what it was
            left = None

        emit: Callable[[Any], None] = timed
        self.stop = stop
        try:
            iterator = self.open()
            if self.batched:
                async for batch in iterator:
                    for item in batch:
                        left = countdown[left]
                        emit(item)
                        if left is None:  # the countdown ran out, or dispose() ended it
                            if self.disposed:
                                return
                            left, emit = (meter.due(), timed) if emit is on_next else (meter.lap(), on_next)
                        if demand and (demand.pending if sized is None else len(sized)) >= limit:  # full
                            stats.idle_since = 0.0
                            began = stats.blocked_since = time.perf_counter()
                            await demand.wait()
                            stats.idle_since = now = time.perf_counter()
                            stats.wait_demand_s += now - began
                            stats.blocked_since = 0.0
            else:
                async for item in iterator:
                    left = countdown[left]
                    emit(item)
                    if left is None:  # the countdown ran out, or dispose() ended it
                        if self.disposed:
                            return
                        left, emit = (meter.due(), timed) if emit is on_next else (meter.lap(), on_next)
                    if demand and (demand.pending if sized is None else len(sized)) >= limit:  # full
                        stats.idle_since = 0.0
                        began = stats.blocked_since = time.perf_counter()
                        await demand.wait()
                        stats.idle_since = now = time.perf_counter()
                        stats.wait_demand_s += now - began
                        stats.blocked_since = 0.0
        except Exception as exc:  # delivered as on_error, after the iterator is closed
            error = exc
        finally:
            self.stop = None
            # the counts first: a dispose's cancellation may land in the aclose below (no item goes
            # out after this point, so they are final), and they are written also when disposed
            meter.sync(meter.items(left))
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except Exception as exc:  # the generator's cleanup failed: that is the error
                    error = error or exc
        if not self.disposed:
            self._end(error)

    def _end(self, error: Exception | None) -> None:
        if error is not None:
            self.stats.errors += 1
            self.stats.finished("error")
            self.observer.on_error(error)
        else:
            self.stats.finished("completed")
            self.observer.on_completed()


def _emitter(observer: abc.ObserverBase[Any]) -> Callable[[Any], None]:
    """The cheapest correct ``on_next`` for the pump.

    RxPY hands ``reactivex.create``'s subscribe function an
    ``AutoDetachObserver``, whose ``on_next`` only tests ``is_stopped`` and
    calls the next ``on_next``. It is stopped by its own ``on_error`` /
    ``on_completed``, which only the pump calls, after its last item, and by
    ``dispose``, which also disposes the pump's subscription in the same call,
    so the pump's own ``disposed`` test covers it: a dispose on the loop's
    thread ends the countdown at once, one from another thread is seen at the
    countdown's end, at most 255 items later (the pump starts after
    ``subscribe`` has returned and RxPY has wired that subscription: on the
    loop's thread, which is when this is used). Calling
    the inner ``on_next`` saves a Python call per item (about a quarter of
    the bridge's cost). Any other observer is called as it is.
    """
    if type(observer) is AutoDetachObserver and not observer.is_stopped:
        inner = getattr(observer, "_on_next", None)
        if callable(inner):
            return inner  # type: ignore[no-any-return]
    return observer.on_next


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
