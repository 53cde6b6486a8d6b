"""Watch a running pipeline: a live terminal table (rich) and/or a JSON-lines file of snapshots."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .._stats import StageSnapshot, StageStats, collect
from ._rates import FOLD_AT, StageRate, fold, group, merge, rates

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

__all__ = ["Watcher", "render", "watch"]


def _rich() -> Any:
    try:
        import rich.box
        import rich.live
        import rich.table
    except ImportError as exc:  # pragma: no cover - tested in a subprocess
        raise ImportError(
            "the live view needs rich, which is not installed: install rxasync[progress]"
        ) from exc
    return rich


def _bar(share: float, width: int = 8) -> str:
    full = round(share * width)
    return "█" * full + "·" * (width - full)


_HEADERS = ("stage", "items", "items/s", "flight", "err", "drop", "busy", "demand", "input")
_NUMBERS = {"items", "items/s", "flight", "err", "drop", "demand", "input"}


def _label(row: StageRate) -> str:
    label = row["name"] + (" ◀" if row["bottleneck"] else "")
    return label if row["state"] == "running" else f"{label} ({row['state']})"


def render(rows: Sequence[StageRate], title: str = "rxasync pipeline") -> Table:
    """The live view's table for ``rows`` (from :func:`~rxasync.stats.rates`); needs rich.

    *busy* is the share of the last interval the stage spent not waiting;
    *waits* the shares it spent waiting for downstream demand and for input.
    The bottleneck's row is red.

    Example:
        >>> import io
        >>> from rich.console import Console
        >>> from rxasync.stats import rates, render
        >>> console = Console(width=100, record=True, file=io.StringIO())
        >>> console.print(render(rates([], [])))
        >>> "no stages" in console.export_text()
        True
    """
    rich = _rich()
    worst = next((r for r in rows if r["bottleneck"]), None)
    caption = f"bottleneck: {worst['name']}" if worst else ("no stages" if not rows else "no bottleneck")
    table: Table = rich.table.Table(
        title=f"{title} · {caption}",
        title_justify="left",
        caption="busy: time not waiting · demand, input: time waiting for each",
        caption_justify="left",
        box=rich.box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
        collapse_padding=True,
    )
    drops = any(r.get("dropped") for r in rows)  # the "drop" column only once a stage has dropped items
    for header in _HEADERS:
        if header != "drop" or drops:
            table.add_column(header, justify="right" if header in _NUMBERS else "left", no_wrap=True)
    for r in rows:
        active = not r["passive"]
        style = "bold red" if r["bottleneck"] else ("dim" if r["state"] != "running" else None)
        dropped = [f"{r['dropped']:,}" if r["dropped"] else ""] if drops else []
        table.add_row(
            _label(r),
            f"{r['items_out']:,}",
            f"{r['rate']:,.0f}",
            str(r["in_flight"]),
            str(r["errors"]),
            *dropped,
            f"{_bar(r['busy'])} {r['busy']:4.0%}" if active else "(pass-through)",
            f"{r['wait_demand']:.0%}" if active else "",
            f"{r['wait_upstream']:.0%}" if active else "",
            style=style,
        )
    return table


class Watcher:
    """What :func:`watch` yields: the latest rows, and a way to take a sample now."""

    def __init__(self, jsonl: IO[str] | None, title: str) -> None:
        self.rows: list[StageRate] = []  #: the latest sample, bottleneck marked
        self.title = title
        self._seen: dict[int, StageStats] = {}  # the stages running at the last sample
        # finished stages stay in view until the end, summed per name (or kind): a pipeline
        # that builds a stage per item keeps one snapshot per group, not one per item
        self._retired: dict[tuple[str, str], tuple[StageSnapshot, int]] = {}
        self._before: list[StageSnapshot] = []
        self._jsonl = jsonl
        self._start = time.perf_counter()

    def keep(self, stats: StageStats) -> None:
        """Keep ``stats`` in view (called for every stage begun while watching)."""
        self._seen[stats.id] = stats

    def sample(self, *, summary: bool = False) -> list[StageRate]:
        """Read every stage now; update :attr:`rows` and write a JSON line if asked.

        Rates are over the time since the last sample, or with ``summary=True``
        over each stage's whole life (the last frame of :func:`watch`).
        """
        snaps = {stats.id: stats.snapshot() for stats in self._seen.values()}
        sizes = Counter(group(snap) for snap in snaps.values())
        live: list[StageSnapshot] = []
        for id_, snap in snaps.items():
            key = group(snap)
            size = sizes[key] + self._retired.get(key, (None, 0))[1]
            if snap["state"] == "running" or size < FOLD_AT:  # a small group keeps its stages
                live.append(snap)
                continue
            del self._seen[id_]
            summed, n = self._retired.get(key, (None, 0))
            self._retired[key] = merge(summed, snap), n + 1
        done = list(self._retired.values())
        members = [s for s, _ in done] + live
        counts = [n for _, n in done] + [1] * len(live)
        now = fold(members, time.perf_counter() - self._start, counts)
        self.rows = rates([] if summary else self._before, now)
        self._before = now
        if self._jsonl is not None:
            line = {"t": round(time.perf_counter() - self._start, 4), "stages": now}
            self._jsonl.write(json.dumps(line) + "\n")
            self._jsonl.flush()
        return self.rows

    def table(self) -> Table:
        """The live view of the latest sample (needs rich)."""
        return render(self.rows, self.title)


@asynccontextmanager
async def watch(
    *,
    interval: float = 0.5,
    view: bool = True,
    jsonl: str | Path | None = None,
    console: Console | None = None,
    title: str = "rxasync pipeline",
) -> AsyncIterator[Watcher]:
    """Sample every stage started inside the block each ``interval`` seconds.

    With ``view=True`` (needs rich: ``rxasync[progress]``) a table on the
    terminal shows each stage's rate, busy share and waits, the bottleneck
    in red (the rule: :mod:`rxasync.stats._rates`). With ``jsonl=`` each
    sample is appended to that file as one JSON line ``{"t": seconds,
    "stages": [snapshot...]}``, which ``python -m rxasync.stats chart`` draws.

    Args:
        interval: seconds between samples (loop time), > 0.
        view: draw the live table.
        jsonl: a file to append samples to.
        console: the rich console to draw on (default: the terminal).
        title: the table's title.

    Example:
        >>> import asyncio, pathlib, tempfile, reactivex, rxasync
        >>> from rxasync.operators import progress
        >>> from rxasync.stats import watch
        >>> async def main(path: pathlib.Path) -> int:
        ...     async with watch(interval=0.01, view=False, jsonl=path):
        ...         await rxasync.to_list(reactivex.range(3).pipe(progress(desc="n", disable=True)))
        ...     return len(path.read_text().splitlines())
        >>> with tempfile.TemporaryDirectory() as d:
        ...     asyncio.run(main(pathlib.Path(d, "run.jsonl"))) >= 1
        True
    """
    if not interval > 0:
        raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
    live: Any = None
    if view:
        live = _rich().live.Live(render([], title), console=console, auto_refresh=False)
    # one short line per interval: too little to be worth a thread
    file = Path(jsonl).open("a", encoding="utf-8") if jsonl is not None else None  # noqa: SIM115, ASYNC230
    watcher = Watcher(file, title)
    stop = asyncio.Event()

    def draw(summary: bool) -> None:
        watcher.sample(summary=summary)
        if live is not None:
            live.update(watcher.table(), refresh=True)

    async def sampler() -> None:
        while True:
            try:
                async with asyncio.timeout(interval):
                    await stop.wait()
                return
            except TimeoutError:
                draw(summary=False)

    collect(watcher.keep)
    try:
        if live is not None:
            live.start()
        task = asyncio.create_task(sampler())
        try:
            yield watcher
        finally:
            stop.set()
            await task
            draw(summary=True)
    finally:
        collect(watcher.keep, remove=True)
        if live is not None:
            live.stop()
        if file is not None:
            file.close()
