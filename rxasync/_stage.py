"""The one stage protocol: every rxasync observer that does its work on the event loop.

An *endpoint* is an observer of an RxPY source that lives on one asyncio
loop: the async stages (``map_async``/``map_on``, ``switch_map_async``, the
JAX operators), the file sink, the channel behind ``to_async_iterable`` and
the terminals ``first``/``last``/``to_list``. :class:`Endpoint` owns, once
for all of them:

* **the thread hop**: a notification from any other thread is posted to the
  loop (:meth:`Endpoint.hop`, the only ``call_soon_threadsafe`` of a stage);
* **demand**: an item is counted in :attr:`Endpoint.demand` as it is taken
  (:meth:`Endpoint.on_next`) and released when it is done
  (:meth:`Endpoint.finish`); :meth:`Endpoint.attach` publishes the demand
  while it subscribes upstream (see ``_flow``);
* **the lifecycle**: an error (also one raised by :meth:`Endpoint.on_item`)
  or dispose stops the work in flight (:meth:`Endpoint.cleanup`) and
  disposes upstream (dispose does so even once the loop is closed);
  completion waits until the endpoint is idle; exactly one terminal
  notification goes out.

A subclass says only what it does with an item (:meth:`Endpoint.on_item`),
when it is idle, what cleanup drops, and where the end goes
(:meth:`Endpoint.send_error`, :meth:`Endpoint.send_completed`).

**Statistics** (:mod:`rxasync.stats`) are counted here, once for every
endpoint, in :attr:`Endpoint.stats`: an item in in :meth:`Endpoint.on_next`
(no call: the demand's own count, read as items out + pending; a plain
``+= 1`` where there is no demand or items are weighted), items out in
:meth:`Endpoint.finish`, an error
in :meth:`Endpoint.fail`, the end (completed, error, disposed) where the
lifecycle decides it. Items in flight are those taken and not yet finished.
A stage adds only what is its own: the waits (``stats.blocked()`` while
downstream is full, ``stats.idle()`` with nothing to do).

:class:`Stage` is an endpoint with an observer below it (an operator), and
:func:`stage_observable` makes the operator's observable.
"""

from __future__ import annotations

import asyncio
import contextvars
import types
from collections.abc import Callable
from typing import Any

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import Disposable

from ._flow import Demand, current_demand, loop_thread, resolve_loop, subscribe_with_demand, thread_id
from ._stats import StageStats, stage_stats

__all__ = ["Endpoint", "Stage", "stage_observable"]


def _origin(func: Any) -> Any:
    """The function ``func`` is an :func:`_own_copy` of, or ``func``."""
    return getattr(func, "_rxasync_origin", func)


def _own_copy(func: Any, owner: type, name: str) -> Any:
    """``func`` with a code object of its own (its own specializations), e.g. ``_own_copy(Endpoint.release, C, "finish")``.

    Named as ``owner``'s attribute ``name`` (``C.finish``, in ``C``'s module), so that pickle finds it where it is.
    (cProfile still keys functions by file, line and name: the copies of one method share an entry.)
    """
    qualname = f"{owner.__qualname__}.{name}"
    copy = types.FunctionType(
        func.__code__.replace(co_qualname=qualname, co_name=name),
        func.__globals__,
        name,
        func.__defaults__,
        func.__closure__,
    )
    copy.__kwdefaults__ = func.__kwdefaults__
    copy.__qualname__, copy.__doc__, copy.__module__ = qualname, func.__doc__, owner.__module__
    copy.__annotations__ = func.__annotations__
    copy._rxasync_origin = func  # type: ignore[attr-defined]
    return copy


class Endpoint(abc.ObserverBase[Any]):
    """One subscription's observer on the loop; see the module docstring."""

    #: Publish :attr:`demand` upstream while subscribing. An endpoint that
    #: never holds items (``switch_map_async`` cancels instead, ``first``
    #: keeps one) leaves its source free.
    publish_demand = True
    #: Count each item as :meth:`weight` credits (else as one, without the call).
    weighted = False
    #: :meth:`finish` counts the items out. False: the subclass counts them itself, in
    #: ``stats.items_out`` (``map_async`` numbers its results by it), and finishes with :meth:`release`.
    counts_out = True
    #: What :attr:`stats` reports as the stage's ``kind``.
    kind = "endpoint"

    loop: asyncio.AbstractEventLoop
    thread: int | None = None  # the loop's; notifications from any other thread hop to it

    def __init__(
        self, demand: Demand | None, loop: asyncio.AbstractEventLoop | None = None, name: str | None = None
    ) -> None:
        if loop is not None:
            self.bind(loop)
        self.demand = demand
        #: This subscription's counters (items in and out, errors, waits), in ``rxasync.stats``.
        self.stats: StageStats = stage_stats(self.kind, name, held=True)
        self.stats.idle()  # until its first item, an endpoint waits for upstream
        if demand is not None and not self.weighted:
            self.stats.credits = demand
        self.upstream: abc.DisposableBase | None = None
        self.upstream_done = False
        self.terminated = False  # the end is decided: nothing more is taken
        self.disposed = False

    # -- what a subclass writes ------------------------------------------------
    def on_item(self, item: Any) -> None:  # pragma: no cover - every endpoint overrides it
        """Do this endpoint's work with ``item`` (on the loop, already counted)."""
        raise NotImplementedError

    def weight(self, item: Any) -> int:
        """The demand credits ``item`` holds while it is in the endpoint (a file sink: its bytes).

        Called only when :attr:`weighted` is set; otherwise an item is one credit.
        """
        return 1

    def idle(self) -> bool:
        """True when nothing is in flight: completion may be sent."""
        raise NotImplementedError

    def cleanup(self) -> None:
        """Drop the work in flight (cancel tasks, stop threads); called once on termination."""
        raise NotImplementedError

    def send_error(self, error: Exception) -> None:
        """Deliver the end ``error`` (after :meth:`cleanup`).

        An endpoint whose cleanup finishes later elsewhere (the file sink's
        writer thread removes the temporary file) overrides this to deliver
        the error once that is done.
        """
        raise NotImplementedError

    def send_completed(self) -> None:
        """Deliver completion (the endpoint is idle and cleaned up)."""
        raise NotImplementedError

    def upstream_completed(self) -> None:
        """The source completed; by default complete once idle."""
        self.check_done()

    # -- the protocol ----------------------------------------------------------
    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run on ``loop`` (given to ``__init__``, or later by an endpoint made before it runs).

        A loop that does not run yet has no thread: the endpoint learns it
        from a callback that runs first once the loop starts.
        """
        self.loop = loop
        self.thread = loop_thread(loop)
        if self.thread is None:  # not running yet: learn its thread once it runs (first in its queue)
            self.hop(self._learn_thread)

    def _learn_thread(self) -> None:
        self.thread = thread_id()

    def on_loop(self) -> bool:
        """True on the loop's thread."""
        return thread_id() == self.thread

    def hop(self, notify: Callable[..., None], *args: Any) -> bool:
        """Run ``notify(*args)`` on the loop, from any thread; False (and dropped) if the loop is closed."""
        try:
            self.loop.call_soon_threadsafe(notify, *args)
        except RuntimeError:  # the loop is closed: nobody is left to deliver to
            return False
        return True

    def on_next(self, value: Any) -> None:
        if thread_id() != self.thread:
            self.hop(self.on_next, value)
            return
        if self.terminated:
            return
        # a wait for upstream, if one was begun, ends (no local: 2 steps less)
        if self.stats.idle_since is not None:
            self.stats.end_idle()
        demand, credits = self.demand, 0
        if demand is None:  # taken: counted (an endpoint that holds nothing has no demand)
            self.stats.items_in += 1
        else:
            if self.weighted:
                self.stats.items_in += 1
                credits = self.weight(value)
            else:  # counted once, in the demand: the stats read items in as out + pending
                credits = 1
            demand.acquire(credits)
        try:
            self.on_item(value)
        except Exception as error:  # on_item raised: the stage fails once, the credit is given back
            if self.terminated:
                raise
            if demand is not None:
                demand.release(credits)
            self.fail(error)

    def finish(self, n: int = 1) -> None:
        """``n`` credits of taken items are done (emitted, written...): upstream may go on.

        Counted as ``n`` items out unless the endpoint is :attr:`weighted`
        (then its credits are not items: it counts its own items out, and
        :meth:`__init_subclass__` gives it :meth:`release` as ``finish``, so
        that the common case tests nothing per item), or it does not
        :attr:`counts_out` (it counts them itself).
        """
        self.stats.items_out += n
        if self.demand is not None:
            self.demand.release(n)

    def release(self, n: int = 1) -> None:
        """:meth:`finish` of a :attr:`weighted` endpoint: ``n`` credits are free again (not counted)."""
        if self.demand is not None:
            self.demand.release(n)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A :attr:`weighted` subclass finishes with :meth:`release` (unless it writes its own ``finish``).

        Each subclass also gets its own copy of the per-item methods it
        inherits (:meth:`on_next`, :meth:`finish`): CPython specializes an
        attribute load for one type, in the code object, so one ``on_next``
        shared by two stages of a pipeline (``map_async`` into ``to_list``)
        misses at every ``self.…`` of every item (measured: ~150 instructions
        a load, callgrind).
        """
        super().__init_subclass__(**kwargs)
        inherited = _origin(cls.finish)
        counted = cls.counts_out and not cls.weighted  # finish counts the items out
        if not counted and inherited is Endpoint.finish:
            setattr(cls, "finish", Endpoint.release)  # noqa: B010 - mypy forbids assigning a method
        elif counted and inherited is Endpoint.release:  # e.g. an unweighted subclass of a weighted one
            setattr(cls, "finish", Endpoint.finish)  # noqa: B010
        for name in ("on_next", "finish"):
            func = _origin(getattr(cls, name))
            if func in (Endpoint.on_next, Endpoint.finish, Endpoint.release):
                setattr(cls, name, _own_copy(func, cls, name))

    def on_error(self, error: Exception) -> None:
        if thread_id() != self.thread:
            self.hop(self.on_error, error)
            return
        self.fail(error)

    def on_completed(self) -> None:
        if thread_id() != self.thread:
            self.hop(self.on_completed)
            return
        self.upstream_done = True
        self.upstream_completed()

    def check_done(self) -> None:
        """Complete if upstream has and nothing is in flight."""
        if self.upstream_done and not self.terminated and self.idle():
            self.terminated = True
            self.stats.finished("completed")
            self.cleanup()
            self.send_completed()

    def fail(self, error: Exception) -> None:
        """End with ``error``: stop the work in flight, dispose upstream, deliver it once."""
        if self.terminated:
            return
        self.terminated = True
        self.stats.errors += 1
        self.stats.finished("error")
        self.cleanup()
        if self.upstream is not None:
            self.upstream.dispose()
        self.send_error(error)

    def dispose(self) -> None:
        """The consumer is gone: stop the work in flight and dispose upstream; nothing is delivered."""
        if thread_id() != self.thread and self.hop(self.dispose):
            return  # else the loop is closed: release what we hold here, nobody else will
        self.disposed = True
        try:
            if not self.terminated:
                self.terminated = True
                self.stats.finished("disposed")
                self.cleanup()
        except RuntimeError:  # cleanup met the closed loop (task.cancel): what it held dies with the loop
            if not self.loop.is_closed():
                raise
        finally:
            if self.upstream is not None:
                self.upstream.dispose()

    def attach(self, source: Observable[Any], scheduler: abc.SchedulerBase | None = None) -> None:
        """Subscribe to ``source`` (with :attr:`demand` published if :attr:`publish_demand`)."""
        published = self.demand if self.publish_demand else None
        upstream = subscribe_with_demand(source, self, published, scheduler)
        if self.terminated:  # failed or completed inside subscribe
            upstream.dispose()
        else:
            self.upstream = upstream


class Stage(Endpoint):
    """An endpoint with an observer below it: one subscription of an async operator or sink.

    Subclasses write ``on_item`` (or, as before, ``on_next`` with their own
    checks), ``idle`` and ``cleanup``; results go to :attr:`observer`, tasks
    they start run in :attr:`context`, and :attr:`down` is the demand of the
    consumer below (``None`` if it gives none).
    """

    demand: Demand  # always: what the stage publishes upstream

    def __init__(
        self,
        observer: abc.ObserverBase[Any],
        loop: asyncio.AbstractEventLoop,
        limit: int,
        name: str | None = None,
    ) -> None:
        super().__init__(Demand(limit), loop, name)
        self.observer = observer
        self.down = current_demand()  # the consumer below us
        self.context = contextvars.copy_context()  # tasks we start belong to the chain below

    def send_error(self, error: Exception) -> None:
        self.observer.on_error(error)

    def send_completed(self) -> None:
        self.observer.on_completed()


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
        stage.attach(source, scheduler)
        return Disposable(stage.dispose)

    return reactivex.create(subscribe)
