"""The async-iterator path (issue 17 item 3), each side against its baseline in one run.

Targets:

* ``to_async_iterable(reactivex.from_iterable(range(N)))`` → ``async for``
  >= 0.5x a raw ``async for`` over an async generator yielding the same
  items (N = 1,000,000). A plain ``from_iterable`` (no scheduler) is taken
  in one ``deque.extend`` (``rxasync/_fused_iterable.py``). For context: the
  same source given ``CurrentThreadScheduler`` (the same trampoline, so the
  same emission, but not fused: RxPY's own loop calls ``on_next`` per item,
  through RxPY's ``subscribe``, as for every other source); a bridge source
  (``from_async_iterable`` → ``to_async_iterable``, demand between them);
  and the *floor*: RxPY's ``Observable.subscribe`` of ``from_iterable`` into
  a bare ``deque.append`` (through its ``AutoDetachObserver``) drained by an
  async generator, the least a bridge through RxPY's ``subscribe`` can cost.
* ``from_async_iterable(gen)`` → ``map_async(no-op, concurrency=1)`` →
  ``to_list`` >= 0.6x the same pipeline from a synchronous source
  (``reactivex.from_iterable``), N = 100,000. Straight on the bridge source
  the stage's one worker pulls the generator itself (fused: one task, no
  hand-over); the synchronous source emits everything at subscribe. For
  context, the same two with an identity ``ops.map`` in between on both
  sides: that keeps the pump task, which hands each item to the worker
  (held by demand to the stage's two credits, the memory bound of
  ``tests/core/test_demand.py``), a future and a loop turn an item.

    .venv/bin/python -m benchmarks.core_async_iter [--quick] [--part iter|map]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator

import reactivex
from reactivex import Observable
from reactivex import operators as ops
from reactivex.scheduler import CurrentThreadScheduler

import rxasync
from benchmarks._util import alternate, header, parse_args, report
from benchmarks.core_bridge import _raw, numbers  # the same raw baseline
from rxasync.operators import map_async

TARGET_ITER = 0.5
TARGET_MAP = 0.6


async def noop(x: int) -> int:
    return x


def _same(x: int) -> int:
    return x


async def _iterate(source: Observable[int], n: int) -> float:
    start = time.perf_counter()
    count = 0
    async with rxasync.to_async_iterable(source) as items:
        async for _ in items:
            count += 1
    elapsed = time.perf_counter() - start
    assert count == n
    return elapsed


async def _floor(n: int) -> float:
    """The least a bridge through RxPY's ``subscribe`` can cost: its emission into a bare
    ``deque.append``, then an async generator popping the deque (no wake-up test, no counters)."""
    start = time.perf_counter()
    buf: deque[int] = deque()
    reactivex.from_iterable(range(n)).subscribe(buf.append)

    async def drain() -> AsyncIterator[int]:
        while buf:
            yield buf.popleft()

    count = 0
    async for _ in drain():
        count += 1
    elapsed = time.perf_counter() - start
    assert count == n
    return elapsed


async def _mapped(source: Observable[int], n: int, pumped: bool = False) -> float:
    start = time.perf_counter()
    if pumped:  # an RxPY operator between the source and the stage: no fusion, the pump hands over
        source = source.pipe(ops.map(_same))
    results = await rxasync.to_list(source.pipe(map_async(noop, concurrency=1)))
    elapsed = time.perf_counter() - start
    assert len(results) == n
    assert results[-1] == n - 1
    return elapsed


def main(argv: list[str] | None = None) -> None:
    """Run both comparisons (or the one ``--part`` names) and print the medians, ratios and verdicts."""
    args = parse_args(argv, __doc__ or "", _part_option)
    n = 200_000 if args.quick else 1_000_000
    if args.part in ("all", "iter"):
        _iter_part(n, args)
    if args.part in ("all", "map"):
        _map_part(n // 10, args)


def _part_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--part", choices=("all", "iter", "map"), default="all", help="which comparison to run"
    )


def _iter_part(n: int, args: argparse.Namespace) -> None:
    header(f"core_async_iter: to_async_iterable -> async for, {n:,} items", args)
    med = alternate(
        {
            "from_iterable": lambda: asyncio.run(_iterate(reactivex.from_iterable(range(n)), n)),
            "scheduled": lambda: asyncio.run(
                _iterate(reactivex.from_iterable(range(n), CurrentThreadScheduler.singleton()), n)
            ),
            "bridge": lambda: asyncio.run(_iterate(rxasync.from_async_iterable(lambda: numbers(n)), n)),
            "raw": lambda: asyncio.run(_raw(n)),
            "floor": lambda: asyncio.run(_floor(n)),
        },
        args.reps,
    )
    report(
        "to_async_iterable(from_iterable) -> async for",
        n,
        med["from_iterable"],
        med["raw"],
        target=TARGET_ITER,
        baseline="raw async for over an async generator",
    )
    report(
        "to_async_iterable(from_iterable on CurrentThreadScheduler: per item, not fused) -> async for (context)",
        n,
        med["scheduled"],
        med["raw"],
        baseline="raw async for over an async generator",
    )
    report(
        "floor: from_iterable -> deque.append, async generator drain (context)",
        n,
        med["floor"],
        med["raw"],
        baseline="raw async for over an async generator",
        subject="floor",
    )
    report(
        "to_async_iterable(from_async_iterable) -> async for (context)",
        n,
        med["bridge"],
        med["raw"],
        baseline="raw async for over an async generator",
    )


def _map_part(m: int, args: argparse.Namespace) -> None:
    header(f"core_async_iter: from_async_iterable -> map_async(concurrency=1) -> to_list, {m:,} items", args)
    med = alternate(
        {
            "bridge": lambda: asyncio.run(_mapped(rxasync.from_async_iterable(lambda: numbers(m)), m)),
            "sync": lambda: asyncio.run(_mapped(reactivex.from_iterable(range(m)), m)),
            "bridge_pumped": lambda: asyncio.run(
                _mapped(rxasync.from_async_iterable(lambda: numbers(m)), m, pumped=True)
            ),
            "sync_pumped": lambda: asyncio.run(_mapped(reactivex.from_iterable(range(m)), m, pumped=True)),
        },
        args.reps,
    )
    report(
        "from_async_iterable -> map_async(1) -> to_list (fused)",
        m,
        med["bridge"],
        med["sync"],
        target=TARGET_MAP,
        baseline="the same from reactivex.from_iterable",
    )
    report(
        "from_async_iterable -> ops.map -> map_async(1) -> to_list (pump hands over; context)",
        m,
        med["bridge_pumped"],
        med["sync_pumped"],
        baseline="the same from reactivex.from_iterable",
    )


if __name__ == "__main__":
    main()
