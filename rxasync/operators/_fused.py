"""A bridge source pulled by the one worker of a stage, in the worker's own task (operator fusion).

``from_async_iterable(gen).pipe(map_async(fn))`` with one worker would run
two tasks: the pump, which pulls ``gen`` and waits on the stage's two
credits, and the worker, which waits on the pump. Every item then costs a
hand-over each way (a future and a loop turn). When nothing stands between
the bridge and the stage, the worker pulls the iterator itself instead, as
Reactor fuses a source into its subscriber: one task, one ``anext`` and one
call an item, no hand-over. What the pump owns stays the same: the
generator runs with the stage's demand published (``demand_room``), it is
closed (``aclose``) before the end is delivered, an error from it is
delivered as the stage's upstream error, dispose cancels the task (the
generator's ``finally`` runs), and the source keeps its own counters in
:mod:`rxasync.stats` as the pump counts them (:class:`~rxasync._pump.Meter`).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Coroutine, Generator
from time import perf_counter
from typing import Any

from reactivex import abc

from .._bridge import Direct
from .._flow import _DEMAND, Demand
from .._pump import _COUNTDOWN, Meter
from .._stage import Endpoint
from .._stats import State, stage_stats

__all__ = ["Fused", "fusable"]


def fusable(path: Direct, loop: asyncio.AbstractEventLoop) -> bool:
    """Whether a stage's one worker may pull ``path`` itself: an item iterator on the stage's loop.

    Batches (the pump waits inside a batch) and ``from_awaitable`` (a
    coroutine that must be closed if never started) keep the pump.
    """
    return path.usable(loop) and not path.batched and path.kind != "from_awaitable"


class Fused(abc.DisposableBase):
    """One subscription of a bridge source, pulled item by item by a stage's worker (:meth:`pull`)."""

    __slots__ = ("began", "context", "demand", "done", "iterator", "left", "meter", "path", "stats")

    def __init__(self, path: Direct, demand: Demand) -> None:
        self.path = path
        self.demand = demand
        # The generator runs in a context of its own, as in the pump's task (copied at subscribe, the
        # stage's demand published): what it sets is not seen by the calls, nor theirs by it.
        self.context = contextvars.copy_context()
        self.context.run(_DEMAND.set, demand)
        self.stats = stage_stats(path.kind, path.name)  # the source's counters, as the pump keeps them
        self.iterator: Any = None
        self.meter: Meter | None = None  # counts the items pulled as the pump does, from the first pull
        self.left: Any = 1  # items until the next timed one (1 to 256; None: the timed one is out)
        self.began = 0.0  # when the timed item was pulled (read at the next pull, once `left` is None)
        self.done = False

    async def pull(self, stage: Endpoint) -> None:
        """Give ``stage`` the next item (``on_next``), or the end (``on_completed``/``on_error``)."""
        rest = self.pull_now(stage)
        if rest is not None:
            await rest

    def pull_now(self, stage: Endpoint) -> Coroutine[Any, Any, None] | None:
        """:meth:`pull` without a coroutine when it can: done at once (``None``) if the source's step
        did not suspend, else the coroutine that finishes it (to await at once).

        The time from one timed item to the next pull, the stage's work on it,
        is the source waiting for demand (the pump's wait on the stage's
        credits), scaled as the pump scales its timed ``on_next``; the rest
        is waiting upstream, and so is the stage (its counters read that
        figure, :attr:`~rxasync._stats.StageStats.follows`: it has no wait
        of its own to time).
        """
        if self.left is None:  # the stage held the timed item until now: the source waited for its demand
            meter = self.meter
            assert meter is not None
            self.left = meter.tick(self.began)
            self.stats.wait_demand_s += meter.emit
            meter.emit, self.began = 0.0, 0.0
        try:
            if self.iterator is None:
                self.meter = Meter(self.stats)
                self.iterator = self.context.run(self.path.open)
            step = anext(self.iterator)
            try:  # the first step at once, in the source's context: most items need no other
                first = self.context.run(step.send, None)
            except StopIteration as stop:
                item = stop.value
            else:  # it suspended: the rest of its steps in that context too
                return self.resume(stage, step, first)
        except StopAsyncIteration:
            return self.ended(stage, None)
        except Exception as exc:  # the source failed: closed first, then delivered, as the pump does
            return self.ended(stage, exc)
        self.deliver(stage, item)
        return None

    async def resume(self, stage: Endpoint, step: Awaitable[Any], first: Any) -> None:
        """The rest of a step that suspended (``first``: what it yielded), then the item or the end."""
        try:
            item = await InContext(step, self.context, first)
        except StopAsyncIteration:
            await self.ended(stage, None)
            return
        except Exception as exc:
            await self.ended(stage, exc)
            return
        self.deliver(stage, item)

    async def ended(self, stage: Endpoint, error: Exception | None) -> None:
        """The source is done (``error``: it failed): closed first, then the end delivered."""
        if error is None:
            self.end(stage, await self.close("completed"))
        else:
            await self.close("error")
            self.end(stage, error)

    def deliver(self, stage: Endpoint, item: Any) -> None:
        left = self.left = _COUNTDOWN[self.left]  # (a lookup and a test against None: no C call)
        if left is None:  # the timed one: its time in the stage is read at the next pull
            self.began = perf_counter()
        stage.on_next(item)

    @staticmethod
    def end(stage: Endpoint, error: Exception | None) -> None:
        if error is None:
            stage.on_completed()
        else:
            stage.on_error(error)

    async def close(self, state: State = "disposed") -> Exception | None:
        """Close the iterator (once) and end the source's counters; the error its cleanup raised, if any."""
        if self.done:
            return None
        self.done = True
        if self.meter is not None:
            self.meter.sync(self.meter.items(self.left))
        error: Exception | None = None
        aclose = getattr(self.iterator, "aclose", None)
        try:
            if aclose is not None:
                await InContext(aclose(), self.context)
        except Exception as exc:  # the generator's cleanup failed: that is the error
            error = exc
        finally:
            if state == "error" or (error is not None and state == "completed"):
                self.stats.errors += 1
                state = "error"
            self.stats.finished(state)
        return error

    def dispose(self) -> None:
        """The stage is done with its source (failed, disposed): counted; the worker closes the iterator."""
        self.stats.finished("disposed")


_NONE: Any = object()


class InContext:
    """Await ``awaitable`` in the current task with each of its steps run in ``context``."""

    __slots__ = ("context", "first", "steps")

    def __init__(self, awaitable: Awaitable[Any], context: contextvars.Context, first: Any = _NONE) -> None:
        self.steps: Generator[Any, Any, Any] = awaitable.__await__()
        self.context = context
        self.first = first  # what its first step, already taken, yielded (a future to wait on)

    def __await__(self) -> InContext:
        return self

    def __iter__(self) -> InContext:
        return self

    def __next__(self) -> Any:
        first = self.first
        if first is not _NONE:
            self.first = _NONE
            return first
        return self.context.run(self.steps.send, None)

    def send(self, value: Any) -> Any:
        return self.context.run(self.steps.send, value)

    def throw(self, *exc: Any) -> Any:
        return self.context.run(self.steps.throw, *exc)

    def close(self) -> None:
        self.context.run(self.steps.close)
