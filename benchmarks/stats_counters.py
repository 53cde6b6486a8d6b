"""The cost of :mod:`rxasync.stats` counters, in isolation, and what it would add to the core stages.

Three measurements, each against the same loop without the counters, in one run:

* per item: a stage's ``on_next`` body (forward to a list's ``append``)
  with ``stats.took()`` and ``stats.gave()`` around it, as every stage will call them,
  and with the two attribute increments written inline (the hot-path alternative);
* per wait: ``with stats.wait_demand():`` around nothing (two ``perf_counter`` reads),
  paid only when a stage actually blocks;
* the projection: the per-item cost divided by the per-item time of
  ``from_async_iterable -> map_async(no-op) -> to_list`` (``core_map_async``'s
  realistic case), i.e. the slowdown wiring the counters into two stages
  (the bridge source and the stage) would cause at most if they did nothing
  else. Target (issue 14): <= 5% on the core benchmarks, checked for real
  once the counters are wired into the stages.

    .venv/bin/python -m benchmarks.stats_counters [--quick]
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import rxasync
from benchmarks._util import Trial, alternate, header, parse_args
from rxasync.operators import map_async
from rxasync.stats import stage_stats

TARGET_OVERHEAD = 0.05


def _plain(n: int) -> Trial:
    def run() -> float:
        out: list[int] = []
        emit = out.append

        def on_next(item: int) -> None:
            emit(item)

        start = time.perf_counter()
        for i in range(n):
            on_next(i)
        return time.perf_counter() - start

    return run


def _counted(n: int) -> Trial:
    def run() -> float:
        out: list[int] = []
        emit = out.append
        stats = stage_stats("bench", "counted")

        def on_next(item: int) -> None:
            stats.took()
            emit(item)
            stats.gave()

        start = time.perf_counter()
        for i in range(n):
            on_next(i)
        return time.perf_counter() - start

    return run


def _inline(n: int) -> Trial:
    def run() -> float:
        out: list[int] = []
        emit = out.append
        stats = stage_stats("bench", "inline")

        def on_next(item: int) -> None:
            stats.items_in += 1
            emit(item)
            stats.items_out += 1

        start = time.perf_counter()
        for i in range(n):
            on_next(i)
        return time.perf_counter() - start

    return run


def _waits(n: int, counted: bool) -> Trial:
    def run() -> float:
        stats = stage_stats("bench", "waits")
        wait = stats.wait_demand
        start = time.perf_counter()
        if counted:
            for _ in range(n):
                with wait():
                    pass
        else:
            for _ in range(n):
                pass
        return time.perf_counter() - start

    return run


async def _numbers(n: int) -> AsyncIterator[int]:
    for i in range(n):
        yield i


async def _noop(x: int) -> int:
    return x


def _pipeline(n: int) -> Trial:
    def run() -> float:
        async def go() -> float:
            start = time.perf_counter()
            got = await rxasync.to_list(
                rxasync.from_async_iterable(lambda: _numbers(n)).pipe(map_async(_noop))
            )
            assert len(got) == n
            return time.perf_counter() - start

        return asyncio.run(go())

    return run


def _line(what: str, n: int, with_s: float, without_s: float) -> float:
    extra_ns = (with_s - without_s) / n * 1e9
    print(
        f"{what}: {extra_ns:.1f} ns extra ({without_s / n * 1e9:.1f} -> {with_s / n * 1e9:.1f} ns)",
        flush=True,
    )
    return extra_ns


def main(argv: list[str] | None = None) -> None:
    """Print the per-item and per-wait costs and the projected overhead on the core pipeline."""
    args = parse_args(argv, __doc__ or "")
    n = 200_000 if args.quick else 1_000_000
    header(f"stats_counters: counters on vs off, {n:,} calls", args)
    med = alternate({"counted": _counted(n), "inline": _inline(n), "plain": _plain(n)}, args.reps)
    per_item = _line("per item (took + gave)", n, med["counted"], med["plain"])
    _line("per item (items_in += 1, items_out += 1 inline)", n, med["inline"], med["plain"])
    med = alternate({"counted": _waits(n, True), "plain": _waits(n, False)}, args.reps)
    _line("per wait (with wait_demand())", n, med["counted"], med["plain"])
    items = 20_000 if args.quick else 100_000
    pipe = alternate({"pipeline": _pipeline(items)}, args.reps)["pipeline"] / items * 1e9
    projected = 2 * per_item / pipe  # a source and a stage, each counting every item
    verdict = "met" if projected <= TARGET_OVERHEAD else "NOT met"
    print(
        f"projected on from_async_iterable -> map_async -> to_list ({pipe:.0f} ns/item): "
        f"+{projected:.1%} for two counted stages, target <= {TARGET_OVERHEAD:.0%}: {verdict}",
        flush=True,
    )


if __name__ == "__main__":
    main()
