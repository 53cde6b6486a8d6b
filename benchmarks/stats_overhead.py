"""Counters on (this checkout) against counters off (the code before them), side by side in one process.

Target (issue 14): the core paths at most 5% slower with the counters. The
baseline is the package at the commit before the counters were wired
(3cac698), checked out by ``git worktree add --detach /tmp/base 3cac698``;
both packages are copied under other names (``rxbase``, ``rxobs``: the core
imports only relatively) and each scenario runs alternately, 21 times, so
load on the machine hits both alike. Printed: the median times and the
median of the per-pair ratios (an A/A run of the same code reads about ±7%
on a loaded machine).

    .venv/bin/python -m benchmarks.stats_overhead --base /tmp/base [--items 50000] [--reps 21]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import reactivex
from reactivex import operators as ops

HERE = Path(__file__).resolve().parent.parent
N = 50_000
REPS = 21


async def numbers(n: int) -> AsyncIterator[int]:
    for i in range(n):
        yield i


async def noop(x: int) -> int:
    return x


def scenarios(rx: Any, ma: Any) -> dict[str, Callable[[], Awaitable[object]]]:
    """The same pipelines, built with package ``rx`` (and its ``map_async``)."""

    async def subscriber() -> None:
        done = asyncio.get_running_loop().create_future()
        rx.from_async_iterable(lambda: numbers(N)).subscribe(
            lambda _: None, done.set_exception, lambda: done.set_result(None)
        )
        await done

    async def iterate(source: reactivex.Observable[int]) -> None:
        async for _ in rx.to_async_iterable(source):
            pass

    def bridge(n: int = N) -> reactivex.Observable[int]:
        return rx.from_async_iterable(lambda: numbers(n))  # type: ignore[no-any-return]

    return {
        "bridge -> subscriber": subscriber,
        "bridge -> ops.count -> last": lambda: rx.last(bridge().pipe(ops.count())),
        "bridge -> to_list (direct)": lambda: rx.to_list(bridge()),
        "from_iterable -> to_async_iterable": lambda: iterate(reactivex.from_iterable(range(N))),
        "bridge -> to_async_iterable": lambda: iterate(bridge()),
        "bridge -> map_async(1) -> to_list": lambda: rx.to_list(bridge(N // 5).pipe(ma(noop, concurrency=1))),
        "bridge -> map_async(64) -> to_list": lambda: rx.to_list(
            bridge(N // 5).pipe(ma(noop, concurrency=64))
        ),
        "from_iterable -> map_async(64)": lambda: rx.to_list(
            reactivex.from_iterable(range(N // 5)).pipe(ma(noop, concurrency=64))
        ),
    }


async def compare(rxbase: Any, rxobs: Any, ma_base: Any, ma_obs: Any) -> None:
    a, b = scenarios(rxbase, ma_base), scenarios(rxobs, ma_obs)
    for name in a:
        times: dict[str, list[float]] = {"base": [], "stats": []}
        await a[name]()
        await b[name]()
        for i in range(REPS):
            order = (("base", a[name]), ("stats", b[name]))
            for side, fn in order if i % 2 == 0 else order[::-1]:
                start = time.perf_counter()
                await fn()
                times[side].append(time.perf_counter() - start)
        base, stats = statistics.median(times["base"]), statistics.median(times["stats"])
        pair = statistics.median(y / x for x, y in zip(times["base"], times["stats"], strict=True))
        verdict = "met" if pair <= 1.05 else "NOT met"
        print(
            f"{name:36s} off {base * 1e3:7.2f} ms  on {stats * 1e3:7.2f} ms  "
            f"median pair ratio {pair:.3f}: {verdict}",
            flush=True,
        )


def main() -> None:
    """Copy both packages, run every scenario alternately, print the ratios."""
    global N, REPS
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--base", type=Path, required=True, help="a checkout of the commit before the counters"
    )
    parser.add_argument("--items", type=int, default=N)
    parser.add_argument("--reps", type=int, default=REPS)
    args = parser.parse_args()
    N, REPS = args.items, args.reps
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(args.base / "rxasync", Path(tmp, "rxbase"))
        shutil.copytree(HERE / "rxasync", Path(tmp, "rxobs"))
        sys.path.insert(0, tmp)
        import rxbase
        import rxobs
        from rxbase.operators import map_async as ma_base
        from rxobs.operators import map_async as ma_obs

        print(f"== stats_overhead: {N:,} items, {REPS} alternating runs; target <= 1.05")
        asyncio.run(compare(rxbase, rxobs, ma_base, ma_obs))


if __name__ == "__main__":
    main()
