"""``to_async_iterable(overflow="block")`` fused with a plain ``reactivex.from_iterable``.

``reactivex.from_iterable(items)`` without a scheduler emits every item
inside ``subscribe``, on the ``CurrentThreadScheduler`` trampoline of the
subscribing thread, then completes: each item through RxPY's
``AutoDetachObserver`` and the channel's ``on_next``, two Python frames,
and all of them at once, since such a source cannot pause. So, as Reactor
fuses a ``Flux.fromIterable`` into its subscriber (its "sync" fusion), the
channel recognises that source and pulls its iterator itself, on the
consumer's thread, as ``async for`` asks: up to ``max_buffer`` items at a
time into its buffer with ``deque.extend`` (C code, no call per item).
Memory stays within ``max_buffer`` even for an endless iterable, Ctrl-C
stops it between two pulls, and the items, the end and an error (after the
items before it) are what the source's own subscription would give.
``iter(iterable)`` is still called at subscribe, on the trampoline, so an
iterable that cannot start fails there, as it would in RxPY.

**Which sources.** Exactly ``reactivex.from_iterable`` (and ``of``,
``from_``, ``from_list``, which are it) of the reactivex 6.1 this was read
against, recognised by its subscribe function's code object and closure,
with no scheduler, subscribed through an unpatched ``Observable.subscribe``
outside a running trampoline. Anything else (another version, a scheduler,
a subclass, a patched ``subscribe``, a subscription from inside an RxPY
callback) takes RxPY's ``subscribe`` as before.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

import reactivex
from reactivex import Observable
from reactivex.scheduler import CurrentThreadScheduler

__all__ = ["close_quietly", "fuse_from_iterable", "plain_iterable", "pull"]

_FROM_ITERABLE = reactivex.from_iterable(())._subscribe.__code__  # type: ignore[union-attr]
_SUBSCRIBE = Observable.subscribe
_CORE = Observable._subscribe_core
_KNOWN = reactivex.__version__.startswith("6.1.") and _FROM_ITERABLE.co_freevars == ("iterable", "scheduler")


def plain_iterable(source: Observable[Any]) -> Iterable[Any] | None:
    """The iterable of a plain ``reactivex.from_iterable(iterable)`` (see the module docstring), else ``None``.

    Example:
        >>> import reactivex
        >>> plain_iterable(reactivex.of(1, 2))
        (1, 2)
        >>> plain_iterable(reactivex.from_iterable([1, 2], reactivex.scheduler.ImmediateScheduler())) is None
        True
    """
    fn = getattr(source, "_subscribe", None)
    if (
        not _KNOWN
        or type(source) is not Observable
        or getattr(fn, "__code__", None) is not _FROM_ITERABLE
        or Observable.subscribe is not _SUBSCRIBE
        or Observable._subscribe_core is not _CORE
        or "_subscribe_core" in vars(source)
    ):
        return None
    iterable_cell, scheduler_cell = fn.__closure__  # type: ignore[union-attr]
    if scheduler_cell.cell_contents is not None:  # it emits on that scheduler, later: not fused
        return None
    iterable: Iterable[Any] = iterable_cell.cell_contents
    return iterable


def fuse_from_iterable(
    source: Observable[Any], on_error: Callable[[Exception], None]
) -> Iterator[Any] | None:
    """The iterator to pull, for a plain ``from_iterable`` (see the module docstring); ``None`` if not one.

    ``iter()`` runs now, on this thread's trampoline, as the source's
    subscribe would run it; if it raises, ``on_error(error)`` is called and
    an empty iterator returned.
    """
    iterable = plain_iterable(source)
    trampoline = CurrentThreadScheduler.singleton()
    if iterable is None or not trampoline.schedule_required():
        return None
    opened: list[Iterator[Any]] = []

    def start(_: Any = None, __: Any = None) -> None:
        try:
            opened.append(iter(iterable))
        except Exception as error:  # as from_iterable's subscribe raising inside Observable.subscribe
            opened.append(iter(()))
            on_error(error)

    trampoline.schedule(start)  # runs now: no trampoline was running on this thread
    return opened[0]


def pull(
    buffer: deque[Any],
    iterator: Iterator[Any],
    most: int,
    on_error: Callable[[Exception], None],
    on_completed: Callable[[], None],
) -> bool:
    """Up to ``most`` items of ``iterator`` into ``buffer``; True once it has ended (the end delivered).

    An exception from the iterator is ``on_error``'s, after the items before it.
    """
    before = len(buffer)
    try:
        buffer.extend(islice(iterator, most))
    except Exception as error:  # the items before it are buffered; the error comes after them
        on_error(error)
        return True
    if len(buffer) - before < most:
        on_completed()
        return True
    return False


def close_quietly(iterator: Iterator[Any]) -> None:
    """Close a generator left part-way (``close()``, if it has one); an error there has no one to go to."""
    close = getattr(iterator, "close", None)
    if close is not None:
        try:
            close()
        except Exception:  # the consumer is gone: as with a dispose, its cleanup error is dropped
            pass
