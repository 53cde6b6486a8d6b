"""A four-stage pipeline of real rxasync stages watched live: which one are the others waiting on?

``read`` is a bridge source (``from_async_iterable``), ``parse``, ``score``
and ``write`` are ``map_async`` stages, each with a ``name=``: their
counters come from rxasync itself (the stage protocol and the pump), no
hand-made counting. ``score`` is the slow one: ``read`` and ``parse`` wait
for its demand, ``write`` waits for its output, and the live view marks it
as the bottleneck. With ``--jsonl`` the samples are recorded for
``python -m rxasync.stats chart``.

Run it: ``python -m examples.pipelines.observed --seconds 5 --jsonl run.jsonl``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import rxasync
from rxasync.operators import map_async
from rxasync.stats import Watcher, watch

#: Seconds of work per item in each stage: ``score`` is four times slower than ``parse``.
COSTS = {"parse": 0.001, "score": 0.004, "write": 0.0005}


async def numbers(items: int) -> AsyncIterator[int]:
    """The source's data: as fast as demand allows."""
    for i in range(items):
        yield i


def working(cost: float) -> Callable[[int], Awaitable[int]]:
    """A stage's work: ``cost`` seconds per item (I/O or a thread, as far as the loop can tell)."""

    async def work(item: int) -> int:
        await asyncio.sleep(cost)
        return item

    return work


async def run(
    items: int, seconds: float, watcher_args: dict[str, Any], costs: dict[str, float] = COSTS
) -> Watcher:
    """Run the pipeline for ``items`` items or ``seconds``, whichever ends first, under :func:`watch`."""
    async with watch(**watcher_args) as watcher:
        stream = rxasync.from_async_iterable(lambda: numbers(items), name="read")
        for name, cost in costs.items():
            stream = stream.pipe(map_async(working(cost), name=name))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        subscription = stream.subscribe(
            on_error=done.set_exception, on_completed=lambda: done.set_result(None)
        )
        try:
            await asyncio.wait_for(asyncio.shield(done), timeout=seconds)
        except TimeoutError:
            pass  # the time is up: dispose below stops every stage
        finally:
            subscription.dispose()
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
