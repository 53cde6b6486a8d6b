"""``unbatch``: lists from a bridge source, emitted one item at a time, with demand kept.

Why: every item through ``from_async_iterable`` costs an async-generator
step plus the bridge's loop, about 150 ns; a plain ``for`` loop calling
``on_next`` costs about 50. ``read_lines`` therefore pulls *lists* of lines
through the bridge and emits their items here.

Demand stays exact, per item: this stage publishes a one-credit
:class:`~rxasync._flow.Demand` upstream and holds it while a list is being
emitted, so the bridge does not pull the next list meanwhile. If the
consumer below fills up in the middle of a list, emission pauses (a task
awaits the consumer's demand) and resumes where it stopped. Upstream
completion or error cannot overtake a paused list: the bridge sends them
only after the credit is released.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, TypeVar

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import Disposable
from reactivex.observer import Observer

from .._flow import Demand, current_demand, resolve_loop, subscribe_with_demand

__all__ = ["unbatch"]

_T = TypeVar("_T")


def unbatch(source: Observable[Sequence[_T]]) -> Observable[_T]:
    """Emit the items of each list of ``source`` one by one, pausing for demand."""

    def subscribe(
        observer: abc.ObserverBase[_T], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        stage = _Unbatch(observer, current_demand(), resolve_loop(scheduler, "read_lines"))
        upstream = Observer(stage.on_next, stage.on_error, stage.on_completed)
        stage.upstream = subscribe_with_demand(source, upstream, stage.gate, scheduler)
        return Disposable(stage.dispose)

    return reactivex.create(subscribe)


class _Unbatch:
    __slots__ = ("down", "gate", "loop", "observer", "resume", "stopped", "upstream")

    def __init__(self, observer: abc.ObserverBase[Any], down: Demand | None, loop: asyncio.AbstractEventLoop):
        self.observer = observer
        self.down = down
        self.loop = loop
        self.gate = Demand(1)  # held while a list is being emitted
        self.upstream: abc.DisposableBase | None = None
        self.resume: asyncio.Task[None] | None = None
        self.stopped = False

    def on_next(self, batch: Sequence[Any]) -> None:
        if self.stopped:
            return
        self.gate.pending += 1
        self.emit(batch, 0)

    def emit(self, batch: Sequence[Any], start: int) -> None:
        on_next, down = self.observer.on_next, self.down
        items = batch if start == 0 else batch[start:]  # a slice only when resuming after a pause
        if down is None:
            for item in items:
                on_next(item)
        else:
            last = len(items) - 1
            for i, item in enumerate(items):
                on_next(item)
                if down.pending >= down.limit and i < last and not self.stopped:
                    self.resume = self.loop.create_task(self.wait_then_emit(down, batch, start + i + 1))
                    return
        self.gate.release()

    async def wait_then_emit(self, down: Demand, batch: Sequence[Any], start: int) -> None:
        await down.wait()
        self.resume = None
        if self.stopped:
            return
        try:
            self.emit(batch, start)
        except Exception as exc:  # raised by an observer below: end the stream with it
            self.on_error(exc)

    def on_error(self, error: Exception) -> None:
        if not self.stopped:
            self.dispose()
            self.observer.on_error(error)

    def on_completed(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.observer.on_completed()

    def dispose(self) -> None:
        self.stopped = True
        if self.resume is not None:
            self.resume.cancel()
            self.resume = None
        if self.upstream is not None:
            self.upstream.dispose()
