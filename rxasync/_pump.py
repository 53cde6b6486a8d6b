"""The pump: one subscription of a bridge observable, as a task on the loop.

:class:`Pump` pulls the async iterator in its own task and pushes each item
to the observer; it waits on the consumer's :class:`~rxasync._flow.Demand`
after each item, closes the iterator (``aclose``) before it delivers the
end, and is cancelled by dispose. ``_bridge`` makes the observables.

Its statistics (:class:`~rxasync._stats.StageStats`, kind ``from_async_iterable``
...) cost no call, no test and no clock read per item: the pump counts in a
local variable (a list lookup, whose IndexError at the end of a run of items
is also the test of ``disposed``) and, about every :data:`SAMPLE_EVERY` seconds
of items (and at the end), a :class:`Meter` reads the clock around one ``on_next``,
writes the counts, and splits the time since the start into waiting for
demand (measured exactly, at the wait), downstream's work in ``on_next``
(estimated from the timed ones) and waiting for upstream (the rest: the
generator's ``anext``, the socket, the file).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from operator import length_hint
from typing import Any

from reactivex import abc
from reactivex.disposable import Disposable

from ._flow import Demand
from ._pump_steps import _emitter, _on_loop, _raised_at, _Same
from ._stats import StageStats

__all__ = ["SAMPLE_EVERY", "Meter", "Pump"]

#: The pump reads the clock about this often (seconds) while items flow; between
#: reads it times nothing, so a fast source pays for one read per many items.
SAMPLE_EVERY = 0.002
# At most this many items between two reads (a mask: 2**k - 1). The counts are lookups of ints already
# made (no arithmetic, none allocated), so the cap is free: 1023 (with 255, the pump's IndexError once a
# run cost 40 instructions an item, callgrind).
_MOST = 1023
# A countdown (``map_async``'s, the fused source's): _COUNTDOWN[k] is k - 1, and None for 0 (a lookup
# and a test against None are cheaper than a subtraction and a truth test: no C call).
_COUNTDOWN: tuple[int | None, ...] = (None, None, *range(1, _MOST + 1))
# The pump's count: _COUNTUP[k] is k + 1, for k up to _TOP - 1: the lookup of _TOP raises IndexError
# (the end of a run). A lookup and a store per item, and no test: the loop's try costs nothing until it
# raises (zero-cost exceptions, 3.11), which is once a run.
_TOP = _MOST + 1
_COUNTUP: tuple[int, ...] = tuple(range(1, _TOP + 1))
_DONE: Iterator[Any] = iter(())  # an iterator with nothing left (the pump's, between two batches)


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

    def sample(self, items: int, began: float, scale: float = 0.0) -> int:
        """One ``on_next`` that began at ``began`` was timed; ``items`` have gone out.

        Returns how many items on the next one is timed (also kept in :attr:`step`).
        The timed call stands for the :attr:`step` items since the last one
        (or ``scale`` times its time, for a timed batch),
        but never for more than the time since that read (a slow timed item
        among fast ones cannot make the estimate exceed the time that passed).
        The next step is drawn around ``mask + 1`` from the clock's low bits:
        a fixed period would alias with work downstream that repeats at the
        same period (every 256th item slow, say), and time it always or never.
        """
        now = time.perf_counter()  # (no min() or max(): each parses its arguments, ~700 instructions)
        since = now - self.last
        took = (now - began) * (scale or self.step)
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

    def ran_out(self, n: int, timed: bool) -> int:
        """The pump's run of ``n`` items ended (``timed``: it was the one timed item); returns the next run's start.

        After an untimed run, the next is the timed item alone (it starts at
        :data:`_TOP`: its lookup is the last); after the timed one, a run of
        the items until the next timed one.
        """
        self.counted += n
        if not timed:
            return _TOP
        step = self.sample(self.counted, self.began)  # the next timed item, this many on (itself included)
        n = step - 1 if step > 1 else 1
        self.step = n + 1
        return _TOP + 1 - n

    def batch(self, items: int, began: float, size: int) -> int:
        """:meth:`sample` for a timed batch of ``size`` items, whose ``on_next`` calls ran from ``began`` to now.

        ``items`` are out; ``began`` is moved on by the batch's waits for
        demand. The batch stands for every item since the last read. Returns
        the items from here to the first of the next timed batch.
        """
        scale = (items - self.counted) / size
        self.counted = items
        return self.sample(items, began, scale)

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
        stats.idle_since = None
        stats.wait_upstream_s = max(0.0, now - self.start - stats.wait_demand_s - self.emit)


class Pump:
    """One subscription's task: pulls the iterator, pushes to the observer."""

    __slots__ = (
        "batched",
        "cut",
        "demand",
        "disposed",
        "loop",
        "observer",
        "on_loop_start",
        "on_unstarted",
        "open",
        "rest",
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
        self.rest: Iterator[Any] = iter(())  # batches: the iterator of the batch going out
        self.cut = 0  # batches: the items of that batch that stop() kept from going out
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
        # The count: a run of items counts up in `left` (`left = countup[left]` after each item, from
        # `start` to _TOP), and the lookup past the end of `countup` raises IndexError, caught outside
        # the loop (free until raised): the end of a run, where the clock is read, and the test of
        # `disposed`. dispose() on the loop's thread empties `countup` (`stop`), so a dispose inside
        # on_next ends the loop at that item's lookup, before the iterator is pulled again. A raising
        # lookup stores nothing: `extra` is 1 while an item is out and not in `left` (see _raised_at).
        countup = list(_COUNTUP)
        start = left = _TOP  # the first run: one item, timed
        extra = 0
        # Batches: `n` items out in the batches done, the batch going out (`batch`, `rest`), and the
        # first item of the next batch whose on_next calls are timed (`mark`). stop() ends `rest`.
        n = mark = 0
        batch: list[Any] | tuple[Any, ...] = ()
        rest: Iterator[Any] = _DONE

        def timed(item: Any) -> None:  # one item's on_next, timed (the first, then one per run)
            meter.began = time.perf_counter()
            on_next(item)

        emit: Callable[[Any], None] = timed
        self.stop = self._stop_batch if self.batched else countup.clear
        try:
            iterator = self.open()
            items = _Same(iterator)  # `async for` over it again after a run's end: the same iterator
            # (the loops end with `break`, never `return`: a return copies the `finally` below into the
            # loop, whose jumps back then need an EXTENDED_ARG, +14 instructions an item)
            while True:
                try:
                    if self.batched:  # a batch's items go out without a count: it is taken per batch
                        while True:
                            got = await anext(iterator)  # (stop() ends a list's or a tuple's iterator)
                            batch = got if type(got) is list or type(got) is tuple else list(got)
                            rest = self.rest = iter(batch)
                            began = time.perf_counter() if n >= mark else 0.0  # this batch's on_next timed
                            waited = stats.wait_demand_s
                            for item in rest:
                                on_next(item)
                                if demand and (demand.pending if sized is None else len(sized)) >= limit:
                                    if self.disposed:
                                        break
                                    await demand.wait(stats)
                            out = len(batch) - self.cut - length_hint(rest)  # (all, unless disposed)
                            n, batch, rest, self.cut = n + out, (), _DONE, 0
                            if self.disposed:
                                break
                            if began:
                                mark = n + meter.batch(n, began + stats.wait_demand_s - waited, out or 1) - 1
                    else:
                        async for item in items:
                            emit(item)
                            if demand and (demand.pending if sized is None else len(sized)) >= limit:
                                extra = 1
                                if self.disposed:
                                    break
                                await demand.wait(stats)
                                extra = 0
                            left = countup[left]
                    break
                except StopAsyncIteration as exc:  # the batches' end, or on_next raised it
                    if not _raised_at(exc, "anext", _RUN):
                        raise
                    break
                except IndexError as exc:  # a run's end (or the source's or on_next's IndexError)
                    if not _raised_at(exc, "countup", _RUN):
                        raise
                    if self.disposed:
                        extra = 1
                        break
                    start = left = meter.ran_out(left - start + 1, emit is timed)
                    emit = on_next if emit is timed else timed
        except Exception as exc:  # delivered as on_error, after the iterator is closed
            error = exc
            if _raised_at(exc, "emit", _RUN):  # on_next raised: its item is out
                extra = 1
        finally:
            self.stop = None
            # the counts first: a dispose's cancellation may land in the aclose below (no item goes
            # out after this point, so they are final), and they are written also when disposed
            if self.batched:
                meter.sync(n + len(batch) - self.cut - length_hint(rest))
            else:
                meter.sync(meter.counted + left - start + extra)
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except Exception as exc:  # the generator's cleanup failed: that is the error
                    error = error or exc
        if not self.disposed:
            self._end(error)

    def _stop_batch(self) -> None:
        """:attr:`stop` for batches: the batch going out ends after its item now out (it is a list's or tuple's)."""
        rest = self.rest
        self.cut = length_hint(rest)
        rest.__setstate__(1 << 30)  # type: ignore[attr-defined]  # past its end: done

    def _end(self, error: Exception | None) -> None:
        if error is not None:
            self.stats.errors += 1
            self.stats.finished("error")
            self.observer.on_error(error)
        else:
            self.stats.finished("completed")
            self.observer.on_completed()


_RUN = Pump.run.__code__  # what _raised_at reads the offsets of
