"""The observer ``to_async_iterable(overflow="block")`` subscribes itself, for sources it knows.

RxPY's ``Observable.subscribe`` wraps every observer in an
``AutoDetachObserver``, whose ``on_next`` is a Python frame, in front of the
channel's own ``on_next``, another one. For a source that looks
``observer.on_next`` up again for every item, :class:`SwappingObserver`
makes ``on_next`` an instance attribute that is, most of the time, the
buffer's C-level ``deque.append`` itself: an item costs no Python frame at
all between the source and the buffer. Only while the consumer waits on an
empty buffer is it the channel's Python ``on_next``, which wakes it; after
the end, or once the consumer is gone, it drops.

**Which sources.** Only those whose code is known to look ``on_next`` up per
item (:func:`looks_up_per_item`): ``reactivex.from_iterable`` (also ``of``,
``from_``, ``from_list``), ``reactivex.range`` and a plain ``Subject``. Any
other source may keep ``observer.on_next`` from subscribe time (the bridge's
pump does, and so does user code in ``reactivex.create``): handed
``append`` it would never wake a waiting consumer. Those keep RxPY's
``subscribe`` and the channel's ``on_next`` (``tests/core/test_iterator.py``
has such a source).

**No lost wake-up across threads** (CPython 3.11, with the GIL). A producer's
``observer.on_next(value)`` is ``LOAD_METHOD on_next`` then ``PRECALL`` /
``CALL``; a thread switch happens only where the interpreter checks its eval
breaker (``RESUME``, backward jumps, and after a call has returned), never
between ``LOAD_METHOD`` and the call, and ``deque.append`` runs no Python code
and does not release the GIL. So a producer that loaded ``append`` has
appended before any other thread runs: the whole load-and-append is atomic.
The consumer stores the waking ``on_next`` *and then* looks at the buffer
again: an ``append`` that came before the store is seen there, one after it
loads the waking version. The same ordering makes :meth:`SwappingObserver.stop`
(store the dropper, then clear the buffer) lose nothing to a late ``append``.
A swap back never revives a stopped observer: it stores, then re-tests
``stopped`` (set *before* the dropper is stored), so whichever thread acts
last leaves the dropper in place.

:func:`subscribe` is ``Observable.subscribe`` (reactivex 6.1) without the
wrapper: the ``CurrentThreadScheduler`` trampoline, an exception in the
source's subscribe delivered as ``on_error``, the subscription disposed at the
end; the observer keeps the on_next*/terminal grammar itself.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from types import CodeType
from typing import Any, Protocol, cast

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import Disposable, SingleAssignmentDisposable
from reactivex.scheduler import CurrentThreadScheduler
from reactivex.subject import Subject

__all__ = ["SwappingObserver", "looks_up_per_item", "subscribe"]


def _subscribe_code(source: Observable[Any]) -> CodeType:
    code: CodeType = source._subscribe.__code__  # type: ignore[union-attr]
    return code


_FROM_ITERABLE = _subscribe_code(reactivex.from_iterable(()))
#: The subscribe functions whose emission looks ``observer.on_next`` up for every item (read in reactivex 6.1).
_PER_ITEM: tuple[CodeType, ...] = (_FROM_ITERABLE, _subscribe_code(reactivex.range(0)))


def looks_up_per_item(source: Observable[Any]) -> bool:
    """True for a source known to look ``observer.on_next`` up per item (see the module docstring)."""
    kind = type(source)
    if kind is Subject:
        return True
    if kind is not Observable:
        return False
    code = getattr(getattr(source, "_subscribe", None), "__code__", None)
    return any(code is known for known in _PER_ITEM)


def plain_iterable(source: Observable[Any]) -> Iterable[Any] | None:
    """The iterable of ``reactivex.from_iterable(iterable)`` without a scheduler, else ``None``.

    Its subscribe (the code object checked, so its closure is known) takes
    ``iter(iterable)`` and, on the trampoline, calls ``on_next`` for each
    item, then ``on_completed`` (``on_error`` for an exception, after the
    items before it): what :func:`subscribe` does with ``deque.extend``.
    """
    fn = getattr(source, "_subscribe", None)
    code = getattr(fn, "__code__", None)
    if type(source) is not Observable or code is not _FROM_ITERABLE:
        return None
    cells = dict(zip(code.co_freevars, fn.__closure__ or (), strict=True))  # type: ignore[union-attr]
    if cells["scheduler"].cell_contents is not None:  # emits on that scheduler: per item, swapped
        return None
    iterable: Iterable[Any] = cells["iterable"].cell_contents
    return iterable


def _drop(value: Any) -> None:
    """``on_next`` after the end or once the consumer is gone: nothing is taken."""


class _Terminals(Protocol):
    """What the observer tells the endpoint: its ``on_error`` and ``on_completed`` (they hop to its loop)."""

    def on_error(self, error: Exception) -> None: ...

    def on_completed(self) -> None: ...


class SwappingObserver:
    """The observer whose ``on_next`` is ``append`` while nobody waits (see the module docstring)."""

    __slots__ = ("_append", "_endpoint", "_subscription", "_wake", "extend", "on_next", "stopped")

    def __init__(self, buffer: deque[Any], wake: Callable[[Any], None], endpoint: _Terminals) -> None:
        self._append = buffer.append
        #: Every item of an iterable, in C (:func:`subscribe`, for a plain ``from_iterable``).
        self.extend = buffer.extend
        self._wake = wake
        self._endpoint = endpoint
        self._subscription = SingleAssignmentDisposable()
        self.stopped = False
        #: What the source calls per item: ``append``, the waking ``on_next``, or the dropper.
        self.on_next: Callable[[Any], None] = buffer.append

    # -- consumer side (the loop thread) -------------------------------------
    def waiting(self) -> None:
        """The consumer is about to wait: items wake it. It looks at the buffer again after this."""
        self.on_next = self._wake
        if self.stopped:  # stopped meanwhile on another thread: keep the dropper
            self.on_next = _drop

    def awake(self) -> None:
        """The consumer has stopped waiting: items go straight into the buffer again."""
        self.on_next = self._append
        if self.stopped:
            self.on_next = _drop

    def stop(self) -> None:
        """No item is taken any more (the end, or the consumer is gone); ``stopped`` first, then the dropper."""
        self.stopped = True
        self.on_next = _drop

    # -- source side (any thread) --------------------------------------------
    def on_error(self, error: Exception) -> None:
        if self.stopped:
            return
        self.stop()
        try:
            self._endpoint.on_error(error)
        finally:
            self._subscription.dispose()

    def on_completed(self) -> None:
        if self.stopped:
            return
        self.stop()
        try:
            self._endpoint.on_completed()
        finally:
            self._subscription.dispose()

    def fail(self, error: Exception) -> bool:
        """The source's subscribe raised: deliver it as ``on_error`` (False if already ended)."""
        if self.stopped:
            return False
        self.stop()
        self._endpoint.on_error(error)
        return True

    def dispose(self) -> None:
        self.stop()
        self._subscription.dispose()

    def set_subscription(self, subscription: abc.DisposableBase) -> None:
        """What the source's subscribe returned (disposed at once if the source has already ended)."""
        self._subscription.disposable = subscription


def subscribe(source: Observable[Any], observer: SwappingObserver) -> abc.DisposableBase:
    """``source.subscribe(observer)`` as reactivex 6.1 does it, without the ``AutoDetachObserver``.

    Example:
        >>> from collections import deque
        >>> buf: deque[int] = deque()
        >>> class Ends:
        ...     def on_error(self, error): print("error", error)
        ...     def on_completed(self): print("completed")
        >>> _ = subscribe(reactivex.of(1, 2), SwappingObserver(buf, buf.append, Ends()))
        completed
        >>> list(buf)
        [1, 2]
    """
    trampoline = CurrentThreadScheduler.singleton()
    iterable = plain_iterable(source)
    if iterable is not None and trampoline.schedule_required():
        trampoline.schedule(lambda *_: _extend(iterable, observer))  # as from_iterable would, in one call
        return Disposable(observer.dispose)
    core = source._subscribe_core
    target = cast(abc.ObserverBase[Any], observer)  # duck-typed: on_next is an attribute, not a method

    def set_disposable(_: abc.SchedulerBase | None = None, __: Any = None) -> None:
        try:
            subscriber: Any = core(target, None)  # RxPY also takes a dispose function, or None
        except Exception as error:  # as RxPY: an error in subscribe is the sequence's error
            if not observer.fail(error):
                raise
        else:
            if not (isinstance(subscriber, abc.DisposableBase) or hasattr(subscriber, "dispose")):
                subscriber = Disposable(subscriber)
            observer.set_subscription(subscriber)

    if trampoline.schedule_required():  # the subscription is assigned before the first item runs
        trampoline.schedule(set_disposable)
    else:
        set_disposable()
    return Disposable(observer.dispose)


def _extend(iterable: Iterable[Any], observer: SwappingObserver) -> None:
    """``from_iterable(iterable)``'s subscription in one ``deque.extend``: nothing can dispose it meanwhile.

    It runs inside ``subscribe`` on the consumer's own thread (the loop), which
    is busy here: no wait, close or dispose can come in between.
    """
    try:
        iterator = iter(iterable)
    except Exception as error:  # as from_iterable's subscribe raising in Observable.subscribe
        if not observer.fail(error):
            raise
        return
    try:
        observer.extend(iterator)  # the items before an exception stay, as with on_next one by one
    except Exception as error:
        observer.on_error(error)
    else:
        observer.on_completed()
