"""Time-based operators: ``retry_with_backoff`` and ``batch``.

Both take their clock from an RxPY scheduler (the one given, else the
subscription's, else the running asyncio loop), so tests drive them with
``reactivex.testing.TestScheduler`` in virtual time.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, SerialDisposable, SingleAssignmentDisposable
from reactivex.scheduler import TimeoutScheduler
from reactivex.scheduler.eventloop import AsyncIOThreadSafeScheduler

from .._checks import check_int

__all__ = ["batch", "retry_with_backoff"]

_T = TypeVar("_T")

RetryOn = type[BaseException] | tuple[type[BaseException], ...] | Callable[[Exception], bool]


def _clock(*schedulers: abc.SchedulerBase | None) -> abc.SchedulerBase:
    for scheduler in schedulers:
        if scheduler is not None and hasattr(scheduler, "schedule_relative"):
            return scheduler
    try:  # thread-safe: timers may be started from a producer's thread
        return AsyncIOThreadSafeScheduler(asyncio.get_running_loop())
    except RuntimeError:
        return TimeoutScheduler.singleton()


def _selector(retry_on: RetryOn) -> Callable[[Exception], bool]:
    if isinstance(retry_on, (type, tuple)):
        types = retry_on
        return lambda exc: isinstance(exc, types)
    if callable(retry_on):
        return retry_on
    raise TypeError(f"retry_on must be an exception type, a tuple of them or a predicate, got {retry_on!r}")


def backoff_delay(
    attempt: int,
    initial_delay: float,
    max_delay: float,
    multiplier: float,
    jitter: float,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based): exponential, capped, jittered.

    ``jitter`` is the fraction of the delay that is random: the delay is drawn
    uniformly from ``[d * (1 - jitter), d]`` with ``d = min(max_delay,
    initial_delay * multiplier ** (attempt - 1))``.

    Example:
        >>> backoff_delay(3, 0.1, 10.0, 2.0, 0.0)
        0.4
    """
    delay = min(max_delay, initial_delay * multiplier ** (attempt - 1))
    return delay * (1.0 - jitter * rng())


def retry_with_backoff(
    *,
    max_attempts: int = 3,
    initial_delay: float = 0.1,
    max_delay: float = 10.0,
    multiplier: float = 2.0,
    jitter: float = 0.1,
    retry_on: RetryOn = Exception,
    scheduler: abc.SchedulerBase | None = None,
    transient: bool = False,
) -> Callable[[Observable[_T]], Observable[_T]]:
    """Resubscribe to the source when it fails, waiting longer each time.

    After failure ``n`` the operator waits ``initial_delay * multiplier ** (n-1)``
    seconds (at most ``max_delay``, minus up to ``jitter`` of it at random, so
    many clients do not retry in step), then subscribes again. An error whose
    ``retry_after`` attribute is set (``HttpStatusError`` from a 429/503 with
    ``Retry-After``) waits at least that long. Errors ``retry_on`` does not
    select, and the error of the last attempt, are delivered unchanged (the
    last one with a note saying how many attempts were made).

    Resubscribing replays the source from its start: items delivered by a
    failed attempt are delivered again. Use it on sources that fail before
    emitting (a request) or whose replay is harmless.

    Marble::

        source:  -a-#            (attempt 1)    -a-b-|   (attempt 2)
        result:  -a----(wait)---- -a-b-|

    Args:
        max_attempts: attempts in all, the first included (>= 1).
        initial_delay: seconds before the first retry.
        max_delay: cap on any one wait.
        multiplier: growth of the wait per attempt (>= 1).
        jitter: fraction of each wait drawn at random, 0 to 1.
        retry_on: an exception type, a tuple of types, or a predicate.
        scheduler: the clock; default the subscription's or the running loop.
        transient: an item delivered starts the count of attempts and the
            backoff again (Reactor's ``transientErrors``): for a long-lived
            source (a followed stream, a sink behind a queue) whose failures
            are separate outages, ``max_attempts`` then bounds one outage,
            not the whole run.

    Example:
        >>> import asyncio, reactivex, rxasync
        >>> from rxasync.operators import retry_with_backoff
        >>> calls = []
        >>> def flaky(observer, scheduler):
        ...     calls.append(1)
        ...     if len(calls) < 3:
        ...         observer.on_error(ConnectionError("reset"))
        ...     else:
        ...         observer.on_next("ok"); observer.on_completed()
        >>> src = reactivex.create(flaky).pipe(retry_with_backoff(initial_delay=0.001))
        >>> asyncio.run(rxasync.first(src)), len(calls)
        ('ok', 3)
    """
    check_int("max_attempts", max_attempts)
    if initial_delay < 0 or max_delay < 0:
        raise ValueError("initial_delay and max_delay must be >= 0")
    if multiplier < 1:
        raise ValueError(f"multiplier must be >= 1, got {multiplier!r}")
    if not 0 <= jitter <= 1:
        raise ValueError(f"jitter must be between 0 and 1, got {jitter!r}")
    should_retry = _selector(retry_on)

    def operator(source: Observable[_T]) -> Observable[_T]:
        def subscribe(
            observer: abc.ObserverBase[_T], sub_scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            clock = _clock(scheduler, sub_scheduler)
            serial = SerialDisposable()
            attempt = 0

            def on_error(error: Exception) -> None:
                nonlocal attempt
                attempt += 1
                if not should_retry(error):
                    observer.on_error(error)
                    return
                if attempt >= max_attempts:
                    if max_attempts > 1:
                        error.add_note(f"rxasync: gave up after {attempt} attempts")
                    observer.on_error(error)
                    return
                delay = backoff_delay(attempt, initial_delay, max_delay, multiplier, jitter)
                hint = getattr(error, "retry_after", None)
                if isinstance(hint, int | float) and hint > delay:
                    delay = min(float(hint), max(max_delay, delay))
                serial.disposable = clock.schedule_relative(delay, attempt_once)

            def attempt_once(*_: Any) -> None:
                # Assigned before subscribing: a source that fails inside subscribe
                # replaces it with the retry timer, and the late assignment below
                # then disposes the finished subscription instead of the timer.
                inner = SingleAssignmentDisposable()
                serial.disposable = inner
                inner.disposable = source.subscribe(
                    on_next if transient else observer.on_next,
                    on_error,
                    observer.on_completed,
                    scheduler=sub_scheduler,
                )

            def on_next(value: _T) -> None:
                nonlocal attempt
                attempt = 0  # an item: the outage, if there was one, is over
                observer.on_next(value)

            attempt_once()
            return serial

        return reactivex.create(subscribe)

    return operator


def batch(
    max_size: int, max_latency: float | None = None, *, scheduler: abc.SchedulerBase | None = None
) -> Callable[[Observable[_T]], Observable[list[_T]]]:
    """Group items into lists of up to ``max_size``, flushed when full or late.

    A list is emitted as soon as it holds ``max_size`` items, or
    ``max_latency`` seconds after its *first* item arrived, whichever comes
    first; the rest is emitted when the source completes. A list is never
    empty, and no timer runs while no item waits. If the source fails, the
    error is delivered and the partial list is dropped (as RxJS and Reactor do).

    Marble (max_size=3, max_latency=4 ticks)::

        source:  -a-b-c-d-------e-|
        result:  -----x-----y-----(z|)     x=[a,b,c]  y=[d]  z=[e]

    Args:
        max_size: items per list (>= 1). Larger lists amortise per-call cost
            downstream; if in doubt, 64 to 1024.
        max_latency: seconds an item may wait for its list to fill, or
            ``None`` to wait for ``max_size`` (or completion).
        scheduler: the clock; default the subscription's or the running loop.

    Example:
        >>> import asyncio, reactivex, rxasync
        >>> from rxasync.operators import batch
        >>> asyncio.run(rxasync.to_list(reactivex.range(5).pipe(batch(2))))
        [[0, 1], [2, 3], [4]]
    """
    check_int("max_size", max_size)
    if max_latency is not None and not max_latency > 0:
        raise ValueError(f"max_latency must be > 0 seconds or None, got {max_latency!r}")

    def operator(source: Observable[_T]) -> Observable[list[_T]]:
        def subscribe(
            observer: abc.ObserverBase[list[_T]], sub_scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            clock = _clock(scheduler, sub_scheduler) if max_latency is not None else None
            lock = threading.RLock()
            items: list[_T] = []
            timer = SerialDisposable()
            generation = 0

            def flush() -> None:
                nonlocal items, generation
                generation += 1
                timer.disposable = None
                out, items = items, []
                observer.on_next(out)

            def on_timer(_: abc.SchedulerBase, gen: int | None) -> None:
                with lock:
                    if gen == generation and items:
                        flush()

            def on_next(item: _T) -> None:
                with lock:
                    items.append(item)
                    if len(items) >= max_size:
                        flush()
                    elif len(items) == 1 and clock is not None and max_latency is not None:
                        timer.disposable = clock.schedule_relative(max_latency, on_timer, generation)

            def on_completed() -> None:
                with lock:
                    if items:
                        flush()
                    observer.on_completed()

            def on_error(error: Exception) -> None:
                with lock:
                    items.clear()
                    timer.disposable = None
                    observer.on_error(error)

            upstream = source.subscribe(on_next, on_error, on_completed, scheduler=sub_scheduler)
            return CompositeDisposable(upstream, timer)

        return reactivex.create(subscribe)

    return operator
