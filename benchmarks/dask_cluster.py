"""``map_on_cluster`` against Dask's own ``client.map`` + ``as_completed``, ~1 ms tasks.

20,000 tasks (``--quick``: 1,000) of about 1 ms of CPU each on a
``LocalCluster`` of 2 single-thread worker processes on 127.0.0.1. Both
sides use an asynchronous client on the same cluster in the same run,
alternating, and collect every result:

* baseline: ``futures = client.map(burn, xs)``, then ``async for`` over
  ``as_completed(futures, with_results=True)``: every task submitted at once
  (``burn``'s ``loops`` passed as a keyword, in each task, as the partial is);
* rxasync: ``from_iterable(xs).pipe(map_on_cluster(partial(burn, loops=L), client))``
  at the **default** concurrency (a window measured from completed tasks,
  between 2 and 64 x the worker threads: see ``rxasync/dask/_window.py``).

Target (issue 15): >= 0.8x the baseline's throughput at the default
concurrency. ``--more`` adds two variants: ``map_on_cluster`` with a fixed
``concurrency=C`` (``--concurrency``, default 1,000), and the baseline
dropping each future as ``as_completed`` yields it (``del futures`` first),
which pays inside its timing the scheduler's work of forgetting each task,
as ``map_on_cluster`` does (the plain baseline holds every future to the end
and forgets them after its timing).

Each trial is printed (flushed) as it ends, so a run that is cut short
still gives figures; the warm-up is one small run of each variant
(``--warmup`` tasks, default 200), not one of full size.

    .venv/bin/python -m benchmarks.dask_cluster [--quick] [--tasks N] [--reps N] [--more] [--concurrency C]
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import reactivex
from distributed import Client, as_completed

import rxasync
from benchmarks._dask_common import alternate_printing, burn, calibrate, local_cluster, on_client
from benchmarks._util import Trial, header, parse_args, report
from rxasync.dask import map_on_cluster

TARGET = 0.8
WIDE = 1_000


async def _baseline(client: Client, n: int, loops: int) -> float:
    start = time.perf_counter()
    futures = client.map(burn, range(n), loops=loops, pure=False)
    results = [result async for _, result in as_completed(futures, with_results=True)]
    elapsed = time.perf_counter() - start
    assert len(results) == n
    return elapsed


async def _baseline_released(client: Client, n: int, loops: int) -> float:
    start = time.perf_counter()
    futures = client.map(burn, range(n), loops=loops, pure=False)
    done = as_completed(futures, with_results=True)
    del futures  # each future goes (is released) once its result is taken, as map_on_cluster's do
    results = [result async for _, result in done]
    elapsed = time.perf_counter() - start
    assert len(results) == n
    return elapsed


async def _rxasync(client: Client, n: int, loops: int, concurrency: int | None) -> float:
    start = time.perf_counter()
    stage = map_on_cluster(partial(burn, loops=loops), client, concurrency=concurrency)
    results = await rxasync.to_list(reactivex.range(n).pipe(stage))
    elapsed = time.perf_counter() - start
    assert len(results) == n
    return elapsed


def _trials(address: str, n: int, loops: int, more: int | None) -> dict[str, Trial]:
    trials: dict[str, Trial] = {
        "baseline": lambda: on_client(address, lambda c: _baseline(c, n, loops)),
        "default": lambda: on_client(address, lambda c: _rxasync(c, n, loops, None)),
    }
    if more is not None:
        trials["released"] = lambda: on_client(address, lambda c: _baseline_released(c, n, loops))
        trials["fixed"] = lambda: on_client(address, lambda c: _rxasync(c, n, loops, more))
    return trials


def _extra(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tasks", type=int, default=None, help="tasks per run (default 20,000; quick 1,000)")
    parser.add_argument("--warmup", type=int, default=200, help="tasks of each variant's warm-up run")
    parser.add_argument(
        "--more", action="store_true", help="also time a fixed concurrency and a releasing baseline"
    )
    parser.add_argument(
        "--concurrency", type=int, default=WIDE, help=f"the fixed concurrency of --more (default {WIDE:,})"
    )


def main(argv: list[str] | None = None) -> None:
    """Run the comparison, printing each trial, then tasks/s, the ratios and whether the target is met."""
    args = parse_args(argv, __doc__ or "", _extra)
    if args.reps == 5 and args.quick:
        args.reps = 3
    n = args.tasks or (1_000 if args.quick else 20_000)
    loops = calibrate(0.001)
    header(f"dask_cluster: map_on_cluster vs client.map + as_completed, {n:,} tasks of ~1 ms", args)
    more = args.concurrency if args.more else None
    with local_cluster() as address:
        for warm in _trials(address, args.warmup, loops, more).values():
            warm()
        med = alternate_printing(_trials(address, n, loops, more), args.reps, n)
    base = "client.map+as_completed"
    report(
        "map_on_cluster, default concurrency",
        n,
        med["default"],
        med["baseline"],
        target=TARGET,
        baseline=base,
    )
    if more is not None:
        report(f"map_on_cluster concurrency={more}", n, med["fixed"], med["baseline"], baseline=base)
        released = "client.map+as_completed, released"
        report("map_on_cluster, default concurrency", n, med["default"], med["released"], baseline=released)


if __name__ == "__main__":
    main()
