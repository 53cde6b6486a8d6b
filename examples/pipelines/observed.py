"""A four-stage pipeline watched live: which stage are the others waiting on?

Stages joined by bounded queues (each queue is a stage's demand: a full one
makes the stage above wait), each keeping :mod:`rxasync.stats` counters
exactly as rxasync's own stages do. ``score`` is the slow one: ``read`` and
``parse`` wait for its demand, ``write`` waits for its output, and the live
view marks it as the bottleneck. With ``--jsonl`` the samples are recorded
for ``python -m rxasync.stats chart``.

Run it: ``python -m examples.pipelines.observed --seconds 5 --jsonl run.jsonl``.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from rxasync.stats import StageStats, Watcher, stage_stats, watch

#: Seconds of work per item in each stage: ``score`` is four times slower than ``parse``.
COSTS = {"parse": 0.001, "score": 0.004, "write": 0.0005}
_END = object()


async def read(out: asyncio.Queue[Any], items: int, stats: StageStats) -> None:
    """The source: items as fast as demand allows."""
    for i in range(items):
        stats.took()
        with stats.wait_demand():
            await out.put(i)
        stats.gave()
    await out.put(_END)
    stats.finished()


async def work(
    inp: asyncio.Queue[Any], out: asyncio.Queue[Any] | None, cost: float, stats: StageStats
) -> None:
    """A stage: take an item (waiting for upstream), work on it, hand it on (waiting for demand)."""
    while True:
        with stats.wait_upstream():
            item = await inp.get()
        if item is _END:
            break
        stats.took()
        stats.in_flight = 1
        await asyncio.sleep(cost)  # the work: I/O or a thread, as far as the loop can tell
        stats.in_flight = 0
        if out is not None:
            with stats.wait_demand():
                await out.put(item)
        stats.gave()
    if out is not None:
        await out.put(_END)
    stats.finished()


async def run(
    items: int, seconds: float, watcher_args: dict[str, Any], costs: dict[str, float] = COSTS
) -> Watcher:
    """Run the pipeline for ``items`` items or ``seconds``, whichever ends first, under :func:`watch`."""
    queues: list[asyncio.Queue[Any]] = [asyncio.Queue(maxsize=8) for _ in costs]
    async with watch(**watcher_args) as watcher:
        stats = [stage_stats("source", "read")] + [stage_stats("stage", name) for name in costs]
        tasks = [asyncio.create_task(read(queues[0], items, stats[0]))]
        for i, (name, cost) in enumerate(costs.items()):
            out = queues[i + 1] if i + 1 < len(queues) else None
            tasks.append(asyncio.create_task(work(queues[i], out, cost, stats[i + 1]), name=name))
        try:
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=seconds)
        except TimeoutError:
            pass  # wait_for cancelled the stages
    return watcher


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, run, print where the time went."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument("--jsonl", type=Path, default=None)
    args = parser.parse_args(argv)
    watcher = asyncio.run(run(args.items, args.seconds, {"interval": args.interval, "jsonl": args.jsonl}))
    worst = next((r["name"] for r in watcher.rows if r["bottleneck"]), None)
    print(f"bottleneck: {worst}")


if __name__ == "__main__":
    main()
