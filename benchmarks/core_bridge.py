"""``from_async_iterable`` → count against a raw ``async for`` over the same async generator.

Target (issue 2): the bridge runs at >= 0.5x the raw loop's items/s. The
generator never suspends, so the figure is the bridge's per-item overhead
(pump + ``on_next`` through RxPY's observers) against the cheapest possible
consumer. The target is checked twice: counting with ``ops.count()`` +
``rxasync.last`` (RxPY's operator cost included) and with a plain subscriber
counting in ``on_next`` (the bridge alone, like the raw loop's ``count += 1``).
For context, RxPY's own synchronous ``from_iterable(range(n)) -> ops.count()``
(no asyncio, no bridge) is timed too: it bounds what the ``ops.count`` line
can reach.

    .venv/bin/python -m benchmarks.core_bridge [--quick]
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import reactivex
from reactivex import operators as ops

import rxasync
from benchmarks._util import alternate, header, parse_args, report

TARGET = 0.5


async def numbers(n: int) -> AsyncIterator[int]:
    for i in range(n):
        yield i


def _rxpy_count(n: int) -> float:
    counts: list[int] = []
    start = time.perf_counter()
    reactivex.from_iterable(range(n)).pipe(ops.count()).subscribe(counts.append)
    elapsed = time.perf_counter() - start
    assert counts == [n]
    return elapsed


async def _raw(n: int) -> float:
    start = time.perf_counter()
    count = 0
    async for _ in numbers(n):
        count += 1
    elapsed = time.perf_counter() - start
    assert count == n
    return elapsed


async def _bridge_count(n: int) -> float:
    start = time.perf_counter()
    count = await rxasync.last(rxasync.from_async_iterable(lambda: numbers(n)).pipe(ops.count()))
    elapsed = time.perf_counter() - start
    assert count == n
    return elapsed


async def _bridge_subscriber(n: int) -> float:
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    count = 0

    def on_next(_: int) -> None:
        nonlocal count
        count += 1

    start = time.perf_counter()
    rxasync.from_async_iterable(lambda: numbers(n)).subscribe(
        on_next, done.set_exception, lambda: done.set_result(None)
    )
    await done
    elapsed = time.perf_counter() - start
    assert count == n
    return elapsed


def main(argv: list[str] | None = None) -> None:
    """Run the comparison and print medians, ratio and the target verdict."""
    args = parse_args(argv, __doc__ or "")
    n = 20_000 if args.quick else 200_000
    header(f"core_bridge: from_async_iterable -> count, {n:,} items", args)
    med = alternate(
        {
            "count": lambda: asyncio.run(_bridge_count(n)),
            "subscriber": lambda: asyncio.run(_bridge_subscriber(n)),
            "raw": lambda: asyncio.run(_raw(n)),
            "rxpy": lambda: _rxpy_count(n),
        },
        args.reps,
    )
    report(
        "from_async_iterable -> ops.count -> last",
        n,
        med["count"],
        med["raw"],
        target=TARGET,
        baseline="raw async for",
    )
    report(
        "from_async_iterable -> plain subscriber",
        n,
        med["subscriber"],
        med["raw"],
        target=TARGET,
        baseline="raw async for",
    )
    report(
        "RxPY from_iterable -> ops.count, no bridge (context)",
        n,
        med["rxpy"],
        med["raw"],
        baseline="raw async for",
        subject="RxPY",
    )


if __name__ == "__main__":
    main()
