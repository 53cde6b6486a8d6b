"""``map_on_cluster`` with ~20 ms tasks, against ``map_on(ProcessPoolExecutor(2))`` and a plain loop.

2,000 tasks (``--quick``: 200) of about 20 ms of CPU each, three ways in
the same run, alternating:

* rxasync on a ``LocalCluster`` of 2 single-thread worker processes
  (``map_on_cluster``, default concurrency: a window from 2 x threads = 4,
  doubled while the workers idle);
* rxasync on one machine: ``map_on(burn, ProcessPoolExecutor(2))``;
* a plain loop in this process: ``[burn(x) for x in xs]``.

Each trial is printed as it ends; the warm-up is a small run (``--warmup``
tasks) of each. No target (issue 15 asks for the figures). With 20 ms of work per task the
per-task overhead of the cluster (a few ms, see ``dask_cluster``) is small
next to the work, so both pools of two processes should approach 2x the
loop on an idle two-core machine; ``docs/guides/scaling.md`` works out what
N machines give.

    .venv/bin/python -m benchmarks.dask_heavy [--quick] [--tasks N] [--reps N]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import reactivex
from distributed import Client

import rxasync
from benchmarks._dask_common import alternate_printing, burn, calibrate, local_cluster, on_client
from benchmarks._util import Trial, header, parse_args, report, timed
from rxasync.dask import map_on_cluster
from rxasync.operators import map_on


async def _cluster(client: Client, n: int, loops: int) -> float:
    start = time.perf_counter()
    out = await rxasync.to_list(reactivex.range(n).pipe(map_on_cluster(partial(burn, loops=loops), client)))
    elapsed = time.perf_counter() - start
    assert len(out) == n
    return elapsed


async def _pool(pool: ProcessPoolExecutor, n: int, loops: int) -> float:
    start = time.perf_counter()
    out = await rxasync.to_list(reactivex.range(n).pipe(map_on(partial(burn, loops=loops), pool)))
    elapsed = time.perf_counter() - start
    assert len(out) == n
    return elapsed


def _trials(address: str, pool: ProcessPoolExecutor, n: int, loops: int) -> dict[str, Trial]:
    return {
        "cluster": lambda: on_client(address, lambda c: _cluster(c, n, loops)),
        "pool": lambda: asyncio.run(_pool(pool, n, loops)),
        "loop": lambda: timed(lambda: [burn(x, loops) for x in range(n)]),
    }


def _extra(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tasks", type=int, default=None, help="tasks per run (default 2,000; quick 200)")
    parser.add_argument("--warmup", type=int, default=20, help="tasks of each variant's warm-up run")


def main(argv: list[str] | None = None) -> None:
    """Run the three ways and print tasks/s and the ratios (no target)."""
    args = parse_args(argv, __doc__ or "", _extra)
    if args.reps == 5 and args.quick:
        args.reps = 3
    n = args.tasks or (200 if args.quick else 2_000)
    loops = calibrate(0.020)
    header(
        f"dask_heavy: map_on_cluster vs map_on(ProcessPoolExecutor(2)) vs a loop, {n:,} tasks of ~20 ms", args
    )
    spawn = multiprocessing.get_context("spawn")  # no fork of a process running the cluster threads
    with local_cluster() as address, ProcessPoolExecutor(2, mp_context=spawn) as pool:
        for warm in _trials(address, pool, args.warmup, loops).values():
            warm()
        med = alternate_printing(_trials(address, pool, n, loops), args.reps, n)
    report("map_on_cluster (2 workers) vs plain loop", n, med["cluster"], med["loop"], baseline="loop")
    report("map_on(ProcessPoolExecutor(2)) vs plain loop", n, med["pool"], med["loop"], baseline="loop")
    report(
        "map_on_cluster vs map_on(ProcessPoolExecutor(2))", n, med["cluster"], med["pool"], baseline="pool"
    )


if __name__ == "__main__":
    main()
