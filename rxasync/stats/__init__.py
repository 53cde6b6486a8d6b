"""See inside a running pipeline: per-stage counters, a live view, JSON-lines records, charts.

Every stage keeps a :class:`StageStats` per subscription (items in and out,
in flight, errors, time spent waiting for downstream demand and for
upstream items). :func:`snapshot` reads them all as plain data;
:func:`watch` samples them while a block runs, draws a live table (rich)
that marks the bottleneck, and can write a JSON-lines file that
``python -m rxasync.stats chart FILE.jsonl -o out.png`` draws.

Example:
    >>> import asyncio, reactivex, rxasync
    >>> from rxasync.operators import progress
    >>> from rxasync.stats import watch
    >>> async def main() -> list[tuple[str, int]]:
    ...     async with watch(view=False) as w:
    ...         await rxasync.to_list(reactivex.range(5).pipe(progress(desc="count", disable=True)))
    ...     return [(r["kind"], r["name"], r["items_out"]) for r in w.rows]
    >>> [row[::2] for row in asyncio.run(main())]  # the terminal's name is to_list#<id>
    [('to_list', 5), ('progress', 5)]
"""

from .._exports import export as _export
from .._stats import StageSnapshot, StageStats, live_stages, snapshot, stage_stats
from ._chart import chart, load
from ._live import Watcher, render, watch
from ._rates import BUSY_THRESHOLD, StageRate, bottleneck, fold, rates

__all__ = [
    "BUSY_THRESHOLD",
    "StageRate",
    "StageSnapshot",
    "StageStats",
    "Watcher",
    "bottleneck",
    "chart",
    "fold",
    "live_stages",
    "load",
    "rates",
    "render",
    "snapshot",
    "stage_stats",
    "watch",
]

_export(globals())
