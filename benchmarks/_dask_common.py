"""What the Dask benchmarks share: a CPU-bound task of a given length, the cluster, timed runs.

The task is importable (``benchmarks._dask_common.burn``) so process
workers, which are spawned and inherit ``sys.path``, can unpickle it.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from distributed import Client, LocalCluster

from benchmarks._util import Trial, rate


def burn(x: int, loops: int) -> int:
    """``loops`` rounds of integer arithmetic: CPU work that holds the GIL."""
    acc = x
    for i in range(loops):
        acc = (acc * 31 + i) % 1_000_003
    return acc


def calibrate(seconds: float) -> int:
    """The ``loops`` for which ``burn`` takes about ``seconds`` of CPU here (best of 5)."""
    loops = 10_000
    best = min(_cpu_time(lambda: burn(1, loops)) for _ in range(5))
    return max(1, int(loops * seconds / best))


def _cpu_time(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


@contextmanager
def local_cluster(n_workers: int = 2) -> Iterator[str]:
    """A LocalCluster of ``n_workers`` single-thread processes on 127.0.0.1; yields its address."""
    with LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    ) as cluster:
        yield cluster.scheduler_address


def scheduler_tasks(dask_scheduler: Any = None) -> int:
    """How many tasks the scheduler knows (run with ``run_on_scheduler``)."""
    return len(dask_scheduler.tasks)


def on_client(address: str, run: Callable[[Client], Awaitable[float]]) -> float:
    """Connect an asynchronous client (not timed), return what ``run(client)`` measured.

    Afterwards, untimed, wait until the scheduler has forgotten every task,
    so that a run which held its futures to the end does not leave the work of
    forgetting them to the next trial's timing.
    """

    async def main() -> float:
        async with Client(address, asynchronous=True) as client:
            await client.wait_for_workers(1)
            elapsed = await run(client)
            gc.collect()  # the run's futures are garbage now: release them
            deadline = time.monotonic() + 60
            while await client.run_on_scheduler(scheduler_tasks) and time.monotonic() < deadline:  # noqa: ASYNC110 - polls the scheduler
                await asyncio.sleep(0.05)
            return elapsed

    return asyncio.run(main())


def alternate_printing(trials: dict[str, Trial], reps: int, items: int) -> dict[str, float]:
    """Run every trial ``reps`` times, interleaved, printing each as it ends; the median seconds of each.

    Each line (flushed) gives the trial's seconds, its rate and the load
    average then, so a run cut short still leaves figures. A run of a few
    minutes per trial has no room for a warm-up of full size: warm up with
    a small trial (see :func:`on_client`) before calling this.
    """
    times: dict[str, list[float]] = {name: [] for name in trials}
    for rep in range(1, reps + 1):
        for name, trial in trials.items():
            seconds = trial()
            times[name].append(seconds)
            load = os.getloadavg()[0]
            print(
                f"  trial {rep}/{reps} {name}: {seconds:.2f} s, {rate(items, seconds)} (load {load:.1f})",
                flush=True,
            )
    return {name: statistics.median(ts) for name, ts in times.items()}
