"""Error messages that say what went wrong and what to do (issue 11, items 15 and 16)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator

import pytest
import reactivex
from reactivex import operators as ops

import rxasync


async def _one() -> AsyncIterator[int]:
    yield 1


async def test_no_running_loop_from_a_timer_thread_names_operator_thread_and_fix() -> None:
    # interval runs on RxPY's timer threads; flat_map subscribes the rxasync source there.
    src = reactivex.interval(0.001).pipe(
        ops.flat_map(lambda _: rxasync.from_async_iterable(_one)), ops.take(1)
    )
    with pytest.raises(rxasync.NoRunningLoopError) as info:
        await rxasync.first(src)
    message = str(info.value)
    assert "flat_map" in message  # which operator subscribed
    assert "timer" in message  # what drove it
    assert "on thread 'Thread-" in message
    assert threading.current_thread().name not in message
    assert "scheduler=rxasync.schedulers.loop() to the time operator" in message  # what to do
    # ... and what it says to do works:
    fixed = reactivex.interval(0.001, scheduler=rxasync.schedulers.loop()).pipe(
        ops.flat_map(lambda _: rxasync.from_async_iterable(_one)), ops.take(1)
    )
    assert await rxasync.first(fixed) == 1


def test_no_running_loop_outside_any_loop_says_subscribe_inside_a_coroutine() -> None:
    errors: list[Exception] = []
    rxasync.from_async_iterable(_one).subscribe(on_error=errors.append)
    assert isinstance(errors[0], rxasync.NoRunningLoopError)
    assert "from inside a coroutine" in str(errors[0])


@pytest.mark.parametrize("terminal", [rxasync.first, rxasync.last, rxasync.to_list])
async def test_terminal_given_an_async_generator_points_to_from_async_iterable(terminal: object) -> None:
    gen = _one()
    with pytest.raises(TypeError, match=r"rxasync\.from_async_iterable") as info:
        await terminal(gen)  # type: ignore[operator]
    assert "Observable" in str(info.value)
    await gen.aclose()
    with pytest.raises(TypeError, match=r"rxasync\.from_async_iterable"):
        await terminal(_one)  # type: ignore[operator]  # the generator function itself
