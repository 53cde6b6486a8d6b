"""The bridge from asyncio to RxPY: every rxasync source goes through here.

``from_async_iterable`` alone owns running the pump task, cancelling it on
dispose (so the generator's ``finally:`` closes sockets and files), turning
exceptions into ``on_error`` and honouring downstream demand (``_flow``).
HTTP, files and JAX write async generators and call it. The pump itself is
``_pump.Pump``; each bridge observable also carries a :class:`Direct` path,
which the terminals (``_terminals``) pull without subscribing.
"""

from __future__ import annotations

import asyncio
import inspect
from _thread import RLock as _RLock
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from functools import partial
from types import FunctionType, MethodType
from typing import Any, TypeVar, overload

import reactivex
from reactivex import Observable, abc

from ._errors import RxAsyncError
from ._flow import current_demand, resolve_loop
from ._pump import Pump
from ._stats import StageStats, stage_stats

__all__ = ["Direct", "direct", "from_async_batches", "from_async_iterable", "from_awaitable"]

_T = TypeVar("_T")


@overload
def from_async_iterable(
    iterable: Callable[[], AsyncIterable[_T]],
    *,
    scheduler: abc.SchedulerBase | None = None,
    name: str | None = None,
) -> Observable[_T]: ...


@overload
def from_async_iterable(
    iterable: AsyncIterable[_T], *, scheduler: abc.SchedulerBase | None = None, name: str | None = None
) -> Observable[_T]: ...


def from_async_iterable(
    iterable: AsyncIterable[_T] | Callable[[], AsyncIterable[_T]],
    *,
    scheduler: abc.SchedulerBase | None = None,
    name: str | None = None,
) -> Observable[_T]:
    """Turn an async iterable (or a function returning one) into an observable.

    Each subscription starts a task on the event loop that pumps the iterable:
    every item becomes ``on_next``, exhaustion ``on_completed``, an exception
    ``on_error`` (its original type). Disposing the subscription cancels the
    task, so an async generator's ``finally:`` runs at once.

    Demand: when an rxasync async stage is downstream (``map_async``,
    ``map_on``, ``to_async_iterable(overflow="block")``...), the pump waits
    after each item until that stage has a free credit, also through plain
    RxPY operators in between. With no such stage it runs free.

    Pass a *function* that returns a fresh async iterable to make the
    observable subscribable many times (``retry``, ``repeat``, two
    subscribers); an async generator *object* can be iterated once, and a
    second subscription gets an :class:`RxAsyncError` saying so.

    Marble::

        async gen:  --a--b--c--|
        result:     --a--b--c--|

    Args:
        iterable: an ``AsyncIterable`` or a zero-argument callable returning one.
        scheduler: an asyncio scheduler naming the loop to run on; by default
            the loop running when ``subscribe`` is called.
        name: the name its counters have in :mod:`rxasync.stats` (default
            ``from_async_iterable#<id>``). Naming costs nothing: straight into
            ``first``/``last``/``to_list`` a named source is still pulled
            directly (no pump task), and counted there.

    Returns:
        An ``Observable`` of the items.

    Raises:
        NoRunningLoopError: (as ``on_error``) subscribed with no loop to run on.

    Example:
        >>> import asyncio, rxasync
        >>> async def numbers():
        ...     for i in range(3):
        ...         await asyncio.sleep(0)
        ...         yield i
        >>> asyncio.run(rxasync.to_list(rxasync.from_async_iterable(numbers)))
        [0, 1, 2]
    """
    return _bridge(iterable, scheduler, batched=False, name=name)


@overload
def from_async_batches(
    iterable: Callable[[], AsyncIterable[Iterable[_T]]],
    *,
    scheduler: abc.SchedulerBase | None = None,
    name: str | None = None,
) -> Observable[_T]: ...


@overload
def from_async_batches(
    iterable: AsyncIterable[Iterable[_T]],
    *,
    scheduler: abc.SchedulerBase | None = None,
    name: str | None = None,
) -> Observable[_T]: ...


def from_async_batches(
    iterable: AsyncIterable[Iterable[_T]] | Callable[[], AsyncIterable[Iterable[_T]]],
    *,
    scheduler: abc.SchedulerBase | None = None,
    name: str | None = None,
) -> Observable[_T]:
    """Like :func:`from_async_iterable`, for an async iterable of *batches*: emits their items.

    Each step of an async generator costs far more than a plain ``for``
    loop's step, so a source that naturally has items in groups (the lines of
    a block read from a file or a socket, rows fetched many at a time) is
    faster yielding lists. The pump emits each list's items one by one and
    checks demand after *each item*: when a consumer downstream is full, it
    waits in the middle of a list, so demand stays exact per item.

    Marble::

        async gen:  --[a,b]----[c]--|
        result:     --ab-------c----|

    Args:
        iterable: an async iterable of iterables (lists, tuples...), or a
            zero-argument callable returning one.
        scheduler: an asyncio scheduler naming the loop to run on.
        name: the name its counters have in :mod:`rxasync.stats`.

    Returns:
        An ``Observable`` of the items of every batch, in order.

    Example:
        >>> import asyncio, rxasync
        >>> async def rows():
        ...     yield [1, 2, 3]
        ...     yield []
        ...     yield (4,)
        >>> asyncio.run(rxasync.to_list(rxasync.from_async_batches(rows)))
        [1, 2, 3, 4]
    """
    return _bridge(iterable, scheduler, batched=True, name=name)


def _bridge(
    iterable: AsyncIterable[Any] | Callable[[], AsyncIterable[Any]],
    scheduler: abc.SchedulerBase | None,
    batched: bool,
    on_unstarted: Callable[[], None] | None = None,
    name: str | None = None,
    kind: str | None = None,
) -> Observable[Any]:
    """The one bridge: an observable whose subscriptions each pump ``iterable`` in a task (:meth:`Direct.subscribe`)."""
    what = "from_async_batches" if batched else "from_async_iterable"
    kind = kind or what
    one_shot = not callable(iterable) and isinstance(iterable, AsyncIterator)
    used = False

    def open_iterator() -> AsyncIterator[Any]:
        nonlocal used
        if callable(iterable):
            return aiter(iterable())
        if one_shot and used:
            raise RxAsyncError(
                f"{iterable!r} is an async iterator and was already subscribed once; "
                f"pass a function that returns a new one ({what}(gen) rather "
                f"than {what}(gen())) to subscribe more than once"
            )
        used = True
        return aiter(iterable)

    path = Direct(open_iterator, scheduler, batched, None, kind, name, on_unstarted)
    observable = reactivex.create(path.subscribe)
    setattr(observable, _DIRECT_ATTR, path)
    return observable


class Direct:
    """How a terminal (``first``, ``last``, ``to_list``) awaits a bridge observable directly.

    When nothing stands between the bridge and the terminal, subscribing would
    start a pump task only for the terminal's task to wait on it. Instead the
    terminal pulls the same iterator in its own task: the same items, errors
    and cleanup (``aclose`` in ``finally``; cancelling the await cancels the
    pull), without RxPY's subscribe, the extra task and the hand-off. It is
    used only on the loop the bridge would run on. A ``from_awaitable``
    source is awaited as it is, with no async generator around it. The pull
    itself is the terminal's (``_terminals._Terminal.pull``). A named source
    is counted there under its name (:meth:`stats`); an unnamed one is not.
    """

    __slots__ = ("batched", "kind", "name", "on_unstarted", "open", "scheduler", "single")

    def __init__(
        self,
        open_iterator: Callable[[], AsyncIterator[Any]],
        scheduler: abc.SchedulerBase | None,
        batched: bool,
        single: Callable[[], Awaitable[Any]] | None = None,
        kind: str = "from_async_iterable",
        name: str | None = None,
        on_unstarted: Callable[[], None] | None = None,
    ) -> None:
        self.open = open_iterator
        self.scheduler = scheduler
        self.batched = batched
        self.single = single
        self.kind = kind
        self.name = name
        self.on_unstarted = on_unstarted

    def subscribe(self, observer: abc.ObserverBase[Any], scheduler: abc.SchedulerBase | None = None) -> Any:
        """The bridge observable's subscribe function: one pump task per subscription."""
        loop = resolve_loop(
            self.scheduler or scheduler, "from_async_batches" if self.batched else "from_async_iterable"
        )
        stats = stage_stats(self.kind, self.name)
        return Pump(self.open, observer, current_demand(), self.batched, self.on_unstarted, stats).start(loop)

    def stats(self) -> StageStats | None:
        """New counters for one direct pull of a named source (``None`` if unnamed: not counted)."""
        return None if self.name is None else stage_stats(self.kind, self.name)

    def usable(self, loop: asyncio.AbstractEventLoop) -> bool:
        wanted = getattr(self.scheduler, "_loop", None)
        return wanted is None or wanted is loop


_DIRECT_ATTR = "_rxasync_direct"  # set on the bridge's own Observable; operators make new ones


def direct(source: Observable[Any]) -> Direct | None:
    """The direct path of ``source`` if it is a bridge observable itself (no operators after it)."""
    path = getattr(source, _DIRECT_ATTR, None)
    return path if isinstance(path, Direct) else None


class _AwaitedDirect(Direct):
    """``from_awaitable(fn)``'s direct path: ``single`` is ``fn``, ``open`` its one-item iterator."""

    __slots__ = ()

    def __init__(
        self, make: Callable[[], Awaitable[Any]], scheduler: abc.SchedulerBase | None, name: str | None
    ) -> None:
        self.single = make
        self.scheduler = scheduler
        self.name = name
        self.batched = False
        self.kind = "from_awaitable"
        self.on_unstarted = None

    def open(self) -> AsyncIterator[Any]:
        make = self.single
        assert make is not None
        return _one(make)


def _awaited(
    make: Callable[[], Awaitable[_T]], scheduler: abc.SchedulerBase | None, name: str | None
) -> Observable[_T]:
    """``from_awaitable(fn)``: a plain ``Observable`` whose subscribe function is a bound method.

    ``get_json`` and ``get`` build one per request: ``reactivex.create``
    with the bridge's three closures cost about 4 us of it. It is an
    ``Observable`` itself, not a subclass (DESIGN principle 1): made without
    ``Observable.__init__``'s chain of mixin ``__init__`` calls, with the two
    attributes that ``__init__`` sets.
    """
    path = _AwaitedDirect(make, scheduler, name)
    observable: Observable[_T] = Observable.__new__(Observable)
    observable.lock = _RLock()
    observable._subscribe = path.subscribe
    setattr(observable, _DIRECT_ATTR, path)
    return observable


async def _one(make: Callable[[], Awaitable[_T]]) -> AsyncIterator[_T]:
    yield await make()


# never awaitable (exactly these types): no isawaitable(), an ABC check, for them
_FUNCTIONS = (FunctionType, MethodType, partial)


@overload
def from_awaitable(
    awaitable: Callable[[], Awaitable[_T]],
    *,
    scheduler: abc.SchedulerBase | None = None,
    name: str | None = None,
) -> Observable[_T]: ...


@overload
def from_awaitable(
    awaitable: Awaitable[_T], *, scheduler: abc.SchedulerBase | None = None, name: str | None = None
) -> Observable[_T]: ...


def from_awaitable(
    awaitable: Awaitable[_T] | Callable[[], Awaitable[_T]],
    *,
    scheduler: abc.SchedulerBase | None = None,
    name: str | None = None,
) -> Observable[_T]:
    """A single-item observable of an awaitable's result.

    Pass a coroutine *function* (``fetch``, or ``lambda: fetch(url)``) to run
    it afresh on every subscription; a coroutine *object* or future can be
    subscribed once. Disposing before it finishes cancels it.

    Marble::

        awaitable:  -------x
        result:     -------x|

    Args:
        awaitable: an awaitable, or a zero-argument callable returning one.
        scheduler: an asyncio scheduler naming the loop to run on.
        name: the name its counters have in :mod:`rxasync.stats`.

    Returns:
        An ``Observable`` that emits the result and completes, or errors with
        the exception the awaitable raised.

    Example:
        >>> import asyncio, rxasync
        >>> async def answer() -> int:
        ...     await asyncio.sleep(0)
        ...     return 42
        >>> asyncio.run(rxasync.first(rxasync.from_awaitable(answer)))
        42
    """
    if callable(awaitable) and (type(awaitable) in _FUNCTIONS or not inspect.isawaitable(awaitable)):
        return _awaited(awaitable, scheduler, name)
    aw = awaitable

    async def once() -> AsyncIterator[_T]:
        yield await aw

    def discard() -> None:  # disposed before it ran: cancel it rather than leave it un-awaited
        if isinstance(aw, Coroutine):
            aw.close()
        elif isinstance(aw, asyncio.Future):
            aw.cancel()

    return _bridge(once(), scheduler, batched=False, on_unstarted=discard, name=name, kind="from_awaitable")
