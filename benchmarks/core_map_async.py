"""``map_async`` with a no-op coroutine, concurrency 1 and 64, against ``asyncio.gather`` + semaphore.

No target (issue 2 asks for the figures). The coroutine returns at once, so
this measures the stage's own per-item cost: queueing, the worker tasks,
ordering, emission. Two rxasync sources are reported:

* ``reactivex.from_iterable(range(n))``, which cannot pause: every item is
  queued in the stage at subscribe, like ``gather`` creating every task;
* ``from_async_iterable`` over an async generator, where demand holds the
  source to ``2 * concurrency`` items in the stage (the realistic case); at
  concurrency 1 the stage's one worker pulls the generator itself (fused,
  ``rxasync/operators/_fused.py``), at 64 the pump hands items over.

The baseline is ``await asyncio.gather(*(guarded(x) for x in range(n)))``
where ``guarded`` awaits the same coroutine under ``asyncio.Semaphore(c)``.
Both sides collect the results in a list, in input order.

    .venv/bin/python -m benchmarks.core_map_async [--quick]
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import reactivex
from reactivex import Observable

import rxasync
from benchmarks._util import Trial, alternate, header, parse_args, report
from rxasync.operators import map_async

CONCURRENCIES = (1, 64)


async def noop(x: int) -> int:
    return x


async def numbers(n: int) -> AsyncIterator[int]:
    for i in range(n):
        yield i


async def _map_async(n: int, concurrency: int, bridged: bool) -> float:
    start = time.perf_counter()
    source: Observable[int] = (
        rxasync.from_async_iterable(lambda: numbers(n)) if bridged else reactivex.from_iterable(range(n))
    )
    results = await rxasync.to_list(source.pipe(map_async(noop, concurrency=concurrency)))
    elapsed = time.perf_counter() - start
    assert len(results) == n
    assert results[-1] == n - 1
    return elapsed


async def _gather(n: int, concurrency: int) -> float:
    start = time.perf_counter()
    semaphore = asyncio.Semaphore(concurrency)

    async def guarded(x: int) -> int:
        async with semaphore:
            return await noop(x)

    results = await asyncio.gather(*(guarded(x) for x in range(n)))
    elapsed = time.perf_counter() - start
    assert len(results) == n
    assert results[-1] == n - 1
    return elapsed


def _trials(n: int, c: int) -> dict[str, Trial]:
    return {
        "list": lambda: asyncio.run(_map_async(n, c, bridged=False)),
        "bridge": lambda: asyncio.run(_map_async(n, c, bridged=True)),
        "gather": lambda: asyncio.run(_gather(n, c)),
    }


def main(argv: list[str] | None = None) -> None:
    """Run both concurrencies and print items/s and the ratios (no target)."""
    args = parse_args(argv, __doc__ or "")
    n = 20_000 if args.quick else 100_000
    header(f"core_map_async: map_async(no-op) vs gather + semaphore, {n:,} items", args)
    for c in CONCURRENCIES:
        med = alternate(_trials(n, c), args.reps)
        report(
            f"map_async concurrency={c}, from_iterable source",
            n,
            med["list"],
            med["gather"],
            baseline="gather+semaphore",
        )
        report(
            f"map_async concurrency={c}, from_async_iterable source",
            n,
            med["bridge"],
            med["gather"],
            baseline="gather+semaphore",
        )


if __name__ == "__main__":
    main()
