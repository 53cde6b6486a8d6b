"""What every async stage shares: subscribing with demand, thread hops, termination.

A stage (``map_async``/``map_on``, the JAX operators) is an observer of its
source that does work on the event loop and emits later. :func:`stage_observable`
subscribes it upstream with its :class:`~rxasync._flow.Demand` published, and
:class:`Stage` owns the lifecycle: notifications from other threads hop to
the loop, an error or dispose stops the work in flight (:meth:`Stage.cleanup`)
and disposes upstream, completion waits until the stage is idle. Subclasses
write ``on_next``, ``idle`` and ``cleanup``.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from typing import Any

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import Disposable

from ._flow import Demand, current_demand, loop_thread, resolve_loop, subscribe_with_demand

__all__ = ["Stage", "stage_observable"]


class Stage(abc.ObserverBase[Any]):
    """One subscription of an async stage; see the module docstring."""

    #: Publish :attr:`demand` upstream. A stage that never holds items
    #: (``switch_map_async`` cancels instead) leaves its source free.
    publish_demand = True

    def __init__(self, observer: abc.ObserverBase[Any], loop: asyncio.AbstractEventLoop, limit: int) -> None:
        self.observer = observer
        self.loop = loop
        self.thread = loop_thread(loop)  # notifications from any other thread hop to the loop
        self.down = current_demand()  # the consumer below us
        self.context = contextvars.copy_context()  # tasks we start belong to the chain below
        self.demand = Demand(limit)  # what we publish upstream
        self.upstream: abc.DisposableBase | None = None
        self.upstream_done = False
        self.terminated = False

    def on_next(self, value: Any) -> None:  # pragma: no cover - every stage overrides it
        raise NotImplementedError

    def idle(self) -> bool:
        """True when nothing is in flight: completion may be sent."""
        raise NotImplementedError

    def cleanup(self) -> None:
        """Drop the work in flight (cancel tasks, stop threads); called once on termination."""
        raise NotImplementedError

    def on_error(self, error: Exception) -> None:
        if threading.get_ident() != self.thread:
            self.loop.call_soon_threadsafe(self.on_error, error)
            return
        self.fail(error)

    def on_completed(self) -> None:
        if threading.get_ident() != self.thread:
            self.loop.call_soon_threadsafe(self.on_completed)
            return
        self.upstream_done = True
        self.upstream_completed()

    def upstream_completed(self) -> None:
        """The source completed; by default complete once idle."""
        self.check_done()

    def check_done(self) -> None:
        if self.upstream_done and not self.terminated and self.idle():
            self.terminated = True
            self.cleanup()
            self.observer.on_completed()

    def fail(self, error: Exception) -> None:
        """End with ``error``: stop the work in flight, dispose upstream, deliver it once."""
        if self.terminated:
            return
        self.terminated = True
        self.cleanup()
        if self.upstream is not None:
            self.upstream.dispose()
        self.observer.on_error(error)

    def dispose(self) -> None:
        if threading.get_ident() != self.thread:
            self.loop.call_soon_threadsafe(self.dispose)
            return
        if not self.terminated:
            self.terminated = True
            self.cleanup()
        if self.upstream is not None:
            self.upstream.dispose()


def stage_observable(
    source: Observable[Any],
    name: str,
    make: Callable[[abc.ObserverBase[Any], asyncio.AbstractEventLoop], Stage],
) -> Observable[Any]:
    """An observable whose every subscription runs a new stage over ``source``."""

    def subscribe(
        observer: abc.ObserverBase[Any], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        stage = make(observer, resolve_loop(scheduler, name))
        published = stage.demand if stage.publish_demand else None
        upstream = subscribe_with_demand(source, stage, published, scheduler)
        if stage.terminated:  # failed or completed inside subscribe
            upstream.dispose()
        else:
            stage.upstream = upstream
        return Disposable(stage.dispose)

    return reactivex.create(subscribe)
