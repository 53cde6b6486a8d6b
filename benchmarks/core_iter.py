"""``to_async_iterable(reactivex.from_iterable(range(N)))`` → ``async for``, against aiostream.

Target (issue 2): >= 10x aiostream 0.8's ``stream.iterate(range(N))`` →
``async for`` in items/s, N = 1,000,000. For context it also prints both
against a plain synchronous ``for`` loop over the same range (the ceiling).

The RxPY source emits everything inside ``subscribe`` (it cannot pause), so
``to_async_iterable`` buffers it and the ``async for`` drains the buffer;
the figure is the whole round trip: RxPY emission, buffering, iteration.

    .venv/bin/python -m benchmarks.core_iter [--quick]
"""

from __future__ import annotations

import asyncio
import time

import reactivex
from aiostream import stream

import rxasync
from benchmarks._util import alternate, header, parse_args, report

TARGET = 10.0


async def _rxasync(n: int) -> float:
    start = time.perf_counter()
    count = 0
    async with rxasync.to_async_iterable(reactivex.from_iterable(range(n))) as items:
        async for _ in items:
            count += 1
    elapsed = time.perf_counter() - start
    assert count == n
    return elapsed


async def _aiostream(n: int) -> float:
    start = time.perf_counter()
    count = 0
    async with stream.iterate(range(n)).stream() as items:
        async for _ in items:
            count += 1
    elapsed = time.perf_counter() - start
    assert count == n
    return elapsed


def _plain_for(n: int) -> float:
    start = time.perf_counter()
    count = 0
    for _ in range(n):
        count += 1
    elapsed = time.perf_counter() - start
    assert count == n
    return elapsed


def main(argv: list[str] | None = None) -> None:
    """Run the comparison and print medians, ratios and the target verdict."""
    args = parse_args(argv, __doc__ or "")
    n = 200_000 if args.quick else 1_000_000
    header(f"core_iter: to_async_iterable(from_iterable(range({n:,}))) -> async for", args)
    med = alternate(
        {
            "rxasync": lambda: asyncio.run(_rxasync(n)),
            "aiostream": lambda: asyncio.run(_aiostream(n)),
            "for": lambda: _plain_for(n),
        },
        args.reps,
    )
    report(
        "to_async_iterable -> async for",
        n,
        med["rxasync"],
        med["aiostream"],
        target=TARGET,
        baseline="aiostream iterate",
    )
    report(
        "to_async_iterable -> async for (context)", n, med["rxasync"], med["for"], baseline="plain for loop"
    )
    report(
        "aiostream iterate -> async for (context)",
        n,
        med["aiostream"],
        med["for"],
        baseline="plain for loop",
        subject="aiostream",
    )


if __name__ == "__main__":
    main()
