"""``map_on_cluster`` against Dask's own ``client.map`` + ``as_completed``, ~1 ms tasks.

20,000 tasks (``--quick``: 1,000) of about 1 ms of CPU each on a
``LocalCluster`` of 2 single-thread worker processes on 127.0.0.1. Both
sides use an asynchronous client on the same cluster in the same run,
alternating, and collect every result:

* baseline: ``futures = client.map(burn, xs)``, then ``async for`` over
  ``as_completed(futures, with_results=True)``: every task submitted at once
  (``burn``'s ``loops`` passed as a keyword, in each task, as the partial is);
* rxasync: ``from_iterable(xs).pipe(map_on_cluster(partial(burn, loops=L), client, concurrency=C))``
  with the default concurrency (2 x threads = 4) and with C = 1,000
  (``--concurrency``; a stream of several times C is what exercises the
  stage's chunked submission).

Target (issue 15): >= 0.8x the baseline's throughput, with the wide C.
``map_on_cluster`` releases each task once its result is taken (that is what
bounds the scheduler's memory), and the scheduler's work of forgetting it
falls inside the timing; the plain baseline holds every future to the end
and forgets them after its timing. So a third way is timed too: the baseline
dropping each future as ``as_completed`` yields it (``del futures`` first),
which pays the same release work; the target is checked against both.
With ~1 ms tasks the default concurrency of 4 is bound by the round trip
(client -> scheduler -> worker -> scheduler -> client), not by the workers;
its ratio is reported, no target.

    .venv/bin/python -m benchmarks.dask_cluster [--quick] [--tasks N] [--concurrency C] [--reps N]
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import reactivex
from distributed import Client, as_completed

import rxasync
from benchmarks._dask_common import burn, calibrate, local_cluster, on_client
from benchmarks._util import Trial, alternate, header, parse_args, report
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


def _trials(address: str, n: int, loops: int, wide: int) -> dict[str, Trial]:
    return {
        "baseline": lambda: on_client(address, lambda c: _baseline(c, n, loops)),
        "released": lambda: on_client(address, lambda c: _baseline_released(c, n, loops)),
        "wide": lambda: on_client(address, lambda c: _rxasync(c, n, loops, wide)),
        "default": lambda: on_client(address, lambda c: _rxasync(c, n, loops, None)),
    }


def _extra(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tasks", type=int, default=None, help="tasks per run (default 20,000; quick 1,000)")
    parser.add_argument(
        "--concurrency", type=int, default=WIDE, help=f"map_on_cluster's wide concurrency (default {WIDE:,})"
    )


def main(argv: list[str] | None = None) -> None:
    """Run the comparison and print tasks/s, the ratios and whether the target is met."""
    args = parse_args(argv, __doc__ or "", _extra)
    if args.reps == 5 and args.quick:
        args.reps = 3
    n = args.tasks or (1_000 if args.quick else 20_000)
    loops = calibrate(0.001)
    header(f"dask_cluster: map_on_cluster vs client.map + as_completed, {n:,} tasks of ~1 ms", args)
    with local_cluster() as address:
        med = alternate(_trials(address, n, loops, args.concurrency), args.reps, warmup=True)
    base = "client.map+as_completed"
    report(
        f"map_on_cluster concurrency={args.concurrency}",
        n,
        med["wide"],
        med["baseline"],
        target=TARGET,
        baseline=base,
    )
    report("map_on_cluster default concurrency (4)", n, med["default"], med["baseline"], baseline=base)
    report(
        f"map_on_cluster concurrency={args.concurrency} vs the baseline releasing as it goes",
        n,
        med["wide"],
        med["released"],
        target=TARGET,
        baseline="client.map+as_completed, released",
    )


if __name__ == "__main__":
    main()
