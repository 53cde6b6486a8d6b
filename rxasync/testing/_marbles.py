"""Marble diagrams for async pipelines, on the asyncio loop's clock (virtual or real).

``-`` is one tick, a letter an item (letters written together, ``ab``, are
one item, ``"ab"``, spanning their ticks), ``|`` completion, ``#`` an error,
``(a,b)`` items at the same tick (RxPY's marble syntax, parsed
by ``reactivex.observable.marbles.parse``). A tick is ``tick`` seconds of
loop time, 10 ms unless told; under :func:`~rxasync.testing.virtual_time`
a diagram of any length runs at once.
"""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, cast

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, Disposable
from reactivex.notification import Notification, OnCompleted, OnNext
from reactivex.observable.marbles import parse
from reactivex.subject import Subject

__all__ = ["Event", "assert_marbles", "cold", "draw", "hot", "record"]

#: One notification seen at a tick: ``(tick, item)``, ``(tick, "|")`` for completion,
#: ``(tick, error)`` for an error (the exception itself).
Event = tuple[int, Any]


def _messages(
    diagram: str, values: Mapping[str, Any] | None, error: Exception | None, tick: float
) -> list[tuple[float, Notification[Any]]]:
    lookup = cast("dict[str | float, Any]", dict(values or {}))
    failure = error or RuntimeError("error from the marble diagram")
    return [(_seconds(t), n) for t, n in parse(diagram, timespan=tick, lookup=lookup, error=failure)]


def _seconds(t: timedelta | float) -> float:
    return t.total_seconds() if isinstance(t, timedelta) else float(t)


def _timed(messages: list[tuple[float, Notification[Any]]]) -> list[tuple[float, list[Notification[Any]]]]:
    """Notifications grouped by time, in diagram order (timers due at one time run in no set order)."""
    groups: dict[float, list[Notification[Any]]] = {}
    for t, n in messages:
        groups.setdefault(t, []).append(n)
    return list(groups.items())


def _deliver(observer: abc.ObserverBase[Any], notifications: list[Notification[Any]]) -> None:
    for notification in notifications:
        notification.accept(observer)


def cold(
    diagram: str,
    values: Mapping[str, Any] | None = None,
    *,
    error: Exception | None = None,
    tick: float = 0.01,
) -> Observable[Any]:
    """An observable that plays ``diagram`` from the moment each observer subscribes.

    Args:
        diagram: the marbles, e.g. ``"-a-b--c|"``.
        values: what each letter stands for (default: the letter itself).
        error: what ``#`` raises (default: a ``RuntimeError``).
        tick: loop seconds per ``-``.

    Example:
        >>> import asyncio, rxasync
        >>> from rxasync.testing import cold, run_in_virtual_time
        >>> run_in_virtual_time(rxasync.to_list(cold("-a-b|", {"a": 1, "b": 2}, tick=60)))
        [1, 2]
    """
    messages = _timed(_messages(diagram, values, error, tick))

    def subscribe(observer: abc.ObserverBase[Any], _: abc.SchedulerBase | None = None) -> abc.DisposableBase:
        loop = asyncio.get_running_loop()
        handles = [loop.call_later(t, _deliver, observer, n) for t, n in messages]

        def cancel() -> None:
            for handle in handles:
                handle.cancel()

        return Disposable(cancel)

    return reactivex.create(subscribe)


def hot(
    diagram: str,
    values: Mapping[str, Any] | None = None,
    *,
    error: Exception | None = None,
    tick: float = 0.01,
) -> Observable[Any]:
    """An observable that plays ``diagram`` once, from now, to whoever is subscribed then.

    Call it on the loop (inside a coroutine); arguments as for :func:`cold`.

    Example:
        >>> import asyncio, rxasync
        >>> from rxasync.testing import hot, run_in_virtual_time
        >>> async def main() -> list[str]:
        ...     source = hot("-a-b-c|")
        ...     await asyncio.sleep(0.025)  # late: a is gone
        ...     return await rxasync.to_list(source)
        >>> run_in_virtual_time(main())
        ['b', 'c']
    """
    subject: Subject[Any] = Subject()
    loop = asyncio.get_running_loop()
    for t, n in _timed(_messages(diagram, values, error, tick)):
        loop.call_later(t, _deliver, subject, n)
    return subject


async def record(source: Observable[Any], *, tick: float = 0.01, ticks: int | None = None) -> list[Event]:
    """Subscribe to ``source`` and note at which tick each notification came.

    Items are kept as they are, completion is ``"|"``, an error is the
    exception. The recording ends at completion, at an error, or after
    ``ticks`` ticks (then the subscription is disposed).

    Example:
        >>> from rxasync.testing import cold, record, run_in_virtual_time
        >>> run_in_virtual_time(record(cold("-a--b|")))
        [(1, 'a'), (4, 'b'), (5, '|')]
    """
    loop = asyncio.get_running_loop()
    start = loop.time()
    events: list[Event] = []
    done = loop.create_future()

    def note(what: Any) -> None:
        events.append((round((loop.time() - start) / tick), what))

    def end(what: Any) -> None:
        if what is not None:
            note(what)
        if not done.done():
            done.set_result(None)

    subscription = source.subscribe(note, end, lambda: end("|"))
    timer = loop.call_later(ticks * tick, end, None) if ticks is not None else None
    try:
        await done
    finally:
        CompositeDisposable(subscription, Disposable(timer.cancel if timer else None)).dispose()
    return events


def _expected(diagram: str, values: Mapping[str, Any] | None) -> list[tuple[int, str]]:
    events: list[tuple[int, str]] = []
    for t, n in _messages(diagram, values, None, 1.0):
        if isinstance(n, OnNext):
            events.append((round(t), str(n.value)))
        else:
            events.append((round(t), "|" if isinstance(n, OnCompleted) else "#"))
    return events


def draw(events: list[tuple[int, str]]) -> str:
    """The marble diagram of events given as symbols (groups for items at one tick).

    Example:
        >>> draw([(1, "a"), (3, "b"), (3, "c"), (8, "|")])
        '-a-(b,c)|'
    """
    out = ""
    for t in sorted({t for t, _ in events}):
        out += "-" * max(0, t - len(out))
        here = [s for u, s in events if u == t]
        out += here[0] if len(here) == 1 else "(" + ",".join(here) + ")"
    return out


async def assert_marbles(
    source: Observable[Any],
    expected: str,
    values: Mapping[str, Any] | None = None,
    *,
    tick: float = 0.01,
    ticks: int | None = None,
) -> None:
    """Check that ``source`` emits what the ``expected`` diagram shows, tick for tick.

    Items are compared as ``str(item)`` with the letters of ``expected`` (or
    with ``str`` of their ``values``). On a difference, the error shows both
    diagrams one above the other and the events that differ.

    Args:
        source: the pipeline under test; subscribed once, at tick 0.
        expected: the marbles it should produce.
        values: what the letters of ``expected`` stand for.
        tick: loop seconds per ``-``.
        ticks: stop looking after this many ticks (for sources that do not end).

    Example:
        >>> from reactivex import operators as ops
        >>> from rxasync.testing import assert_marbles, cold, run_in_virtual_time
        >>> source = cold("-a-b-c|").pipe(ops.map(str.upper))
        >>> run_in_virtual_time(assert_marbles(source, "-A-B-C|"))
        >>> try:
        ...     run_in_virtual_time(assert_marbles(source, "-A-B-D|"))
        ... except AssertionError as exc:
        ...     print(exc)
        marbles differ
          expected: -A-B-D|
          actual:   -A-B-C|
          - (5, 'D')
          + (5, 'C')
    """
    want = _expected(expected, values)
    got = [
        (t, "#" if isinstance(x, BaseException) else str(x))
        for t, x in await record(source, tick=tick, ticks=ticks)
    ]
    if got != want:
        diff = difflib.ndiff([repr(e) for e in want], [repr(e) for e in got])
        changed = [line for line in diff if line[:1] in "+-"]
        raise AssertionError(
            f"marbles differ\n  expected: {draw(want)}\n  actual:   {draw(got)}\n  " + "\n  ".join(changed)
        )
