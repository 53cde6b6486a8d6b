"""map_async(concurrency=1) fused with its bridge source behaves as the pumped one: found by review.

Each case runs straight from a bridge source (``fused``) and with a plain
RxPY operator in between (``pumped``), and must give the same outcome.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from reactivex import Observable
from reactivex import operators as ops

import rxasync
from rxasync.operators import map_async

Shape = Callable[[Observable[int]], Observable[int]]
SHAPES: dict[str, Shape] = {"fused": lambda s: s, "pumped": lambda s: s.pipe(ops.map(lambda x: x))}
shapes = pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))


@shapes
async def test_map_async_one_pulls_the_source_while_a_call_waits(shape: Shape) -> None:
    # The stage's second credit lets the source run one item ahead of a suspended call: a call
    # that waits for something the source does when asked for its next item must not hang.
    asked = asyncio.Event()

    async def gen() -> AsyncIterator[int]:
        yield 0
        asked.set()
        yield 1

    async def waits_for_the_source(x: int) -> int:
        if x == 0:
            await asked.wait()
        return x

    source = shape(rxasync.from_async_iterable(gen)).pipe(map_async(waits_for_the_source))
    assert await asyncio.wait_for(rxasync.to_list(source), 5) == [0, 1]


@shapes
async def test_map_async_one_source_and_slow_calls_overlap(shape: Shape) -> None:
    log: list[str] = []

    async def gen() -> AsyncIterator[int]:
        for i in range(3):
            log.append(f"pull {i}")
            await asyncio.sleep(0)
            yield i

    async def slow(x: int) -> int:
        log.append(f"call {x}")
        await asyncio.sleep(0.01)
        log.append(f"done {x}")
        return x

    assert await rxasync.to_list(shape(rxasync.from_async_iterable(gen)).pipe(map_async(slow))) == [0, 1, 2]
    assert log.index("pull 1") < log.index("done 0")  # the next item is fetched while the call waits
    assert log.index("pull 2") > log.index("done 0")  # and no more than one ahead (two credits)


@pytest.mark.parametrize("shape", list(SHAPES.values()), ids=list(SHAPES))
def test_map_async_one_loop_shutdown_while_the_source_waits_delivers_nothing(shape: Shape) -> None:
    # asyncio.run cancels what is left: a worker waiting for its source was not running a call,
    # so nothing is delivered (as before the fused path); the source's finally runs.
    log: list[Any] = []

    async def gen() -> AsyncIterator[int]:
        try:
            yield 0
            await asyncio.sleep(10)
            yield 1
        finally:
            log.append("closed")

    async def echo(x: int) -> int:
        return x

    async def main() -> None:
        source = shape(rxasync.from_async_iterable(gen)).pipe(map_async(echo))
        source.subscribe(log.append, lambda e: log.append(repr(e)), lambda: log.append("completed"))
        await asyncio.sleep(0.02)

    asyncio.run(main())
    assert log == [0, "closed"]


@shapes
async def test_map_async_one_dispose_while_pulled_ahead_closes_the_source_once(shape: Shape) -> None:
    log: list[str] = []

    async def gen() -> AsyncIterator[int]:
        try:
            yield 0
            await asyncio.sleep(10)
            yield 1
        finally:
            await asyncio.sleep(0)
            log.append("closed")

    async def slow(x: int) -> int:
        await asyncio.sleep(10)
        return x

    subscription = shape(rxasync.from_async_iterable(gen)).pipe(map_async(slow)).subscribe(log.append)
    await asyncio.sleep(0.02)  # the call waits, the source is asked for item 1 meanwhile
    subscription.dispose()
    for _ in range(50):
        if log:
            break
        await asyncio.sleep(0.001)
    assert log == ["closed"]


_VAR: contextvars.ContextVar[str] = contextvars.ContextVar("test_map_async_fused", default="unset")


@shapes
async def test_map_async_one_source_and_calls_do_not_share_context_variables(shape: Shape) -> None:
    # The pump runs the generator in a task of its own: what it sets (a tracing span, a request id)
    # is not seen by the calls, and what a call sets is not seen by the generator.
    seen: list[tuple[str, str]] = []

    async def gen() -> AsyncIterator[int]:
        _VAR.set("gen")
        for i in range(3):
            seen.append(("gen", _VAR.get()))
            yield i

    async def sets(x: int) -> int:
        seen.append(("fn", _VAR.get()))
        _VAR.set("fn")
        return x

    assert await rxasync.to_list(shape(rxasync.from_async_iterable(gen)).pipe(map_async(sets))) == [0, 1, 2]
    assert [v for who, v in seen if who == "gen"] == ["gen"] * 3
    assert [v for who, v in seen if who == "fn"] == ["unset", "fn", "fn"]  # the worker's own context


@shapes
async def test_map_async_one_source_that_suspends_keeps_its_own_context(shape: Shape) -> None:
    # The fused path takes a step of the generator at once in the source's context, and only when it
    # suspends awaits the rest there too: a value set before a suspension is still seen after it.
    seen: list[tuple[str, str]] = []

    async def gen() -> AsyncIterator[int]:
        for i in range(3):
            _VAR.set(f"gen{i}")
            await asyncio.sleep(0)  # suspends: the step is resumed in the source's context
            seen.append(("gen", _VAR.get()))
            yield i

    async def sets(x: int) -> int:
        seen.append(("fn", _VAR.get()))
        _VAR.set("fn")
        await asyncio.sleep(0)
        return x

    assert await rxasync.to_list(shape(rxasync.from_async_iterable(gen)).pipe(map_async(sets))) == [0, 1, 2]
    assert [v for who, v in seen if who == "gen"] == ["gen0", "gen1", "gen2"]
    assert [v for who, v in seen if who == "fn"] == ["unset", "fn", "fn"]


@shapes
async def test_map_async_one_counts_every_long_wait_for_a_slow_source(shape: Shape) -> None:
    # A one-worker stage samples its waits for upstream (one in 8 past the first 8): cheap for a fast
    # source, but the waits of a slow one must all be counted, also those past the last sample.
    from support import recorded

    slept: list[float] = []

    async def slow_source() -> AsyncIterator[int]:
        for i in range(14):
            began = time.perf_counter()
            await asyncio.sleep(0.01)
            slept.append(time.perf_counter() - began)
            yield i

    async def echo(x: int) -> int:
        return x

    with recorded() as stages:
        source = shape(rxasync.from_async_iterable(slow_source)).pipe(map_async(echo, name="stage"))
        assert await rxasync.to_list(source) == list(range(14))
    assert stages["stage"].snapshot()["wait_upstream_s"] >= 0.9 * sum(slept)
