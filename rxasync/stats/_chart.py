"""Draw a JSON-lines file of snapshots (from ``watch(jsonl=...)``) as a PNG: items/s per stage over time."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from .._stats import StageSnapshot
from ._rates import StageRate, rates

__all__ = ["chart", "load"]


def load(path: str | Path) -> list[tuple[float, list[StageSnapshot]]]:
    """The samples of a JSON-lines file: ``(seconds, snapshots)`` per line."""
    samples: list[tuple[float, list[StageSnapshot]]] = []
    with Path(path).open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                samples.append((float(record["t"]), list(record["stages"])))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a snapshot line ({exc})") from exc
    return samples


def _series(samples: list[tuple[float, list[StageSnapshot]]]) -> tuple[dict[int, list[Any]], Counter[int]]:
    """Per stage id: ``[(t, StageRate), ...]``; and how many intervals each was the bottleneck."""
    series: dict[int, list[Any]] = {}
    marked: Counter[int] = Counter()
    before: list[StageSnapshot] = []
    for t, now in samples:
        rows: list[StageRate] = rates(before, now)
        for row in rows:
            series.setdefault(row["id"], []).append((t, row))
            marked[row["id"]] += row["bottleneck"]
        before = now
    return series, marked


def chart(path: str | Path, out: str | Path, *, title: str | None = None) -> Path:
    """Draw ``path`` (JSON lines) into ``out`` (PNG): items/s and busy share per stage over time.

    The stage most often marked as the bottleneck is drawn thick and red in
    both panels and named in the title. Needs matplotlib (``rxasync[progress]``).

    Example:
        >>> import json, pathlib, tempfile
        >>> from rxasync.stats import chart
        >>> def snap(i, name, out, t, up):
        ...     return {"id": i, "name": name, "kind": "demo", "state": "running", "items_in": out,
        ...             "items_out": out, "in_flight": 0, "errors": 0, "wait_demand_s": 0.0,
        ...             "wait_upstream_s": up, "age_s": t, "passive": False}
        >>> lines = [{"t": t, "stages": [snap(1, "a", 10 * t, t, 0.0), snap(2, "b", 10 * t, t, 0.8 * t)]}
        ...          for t in (1, 2, 3)]
        >>> with tempfile.TemporaryDirectory() as d:
        ...     src = pathlib.Path(d, "run.jsonl")
        ...     _ = src.write_text("".join(json.dumps(x) + "\\n" for x in lines))
        ...     chart(src, pathlib.Path(d, "run.png")).stat().st_size > 1000
        True
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - tested in a subprocess
        raise ImportError(
            "the chart needs matplotlib, which is not installed: install rxasync[progress]"
        ) from exc
    series, marked = _series(load(path))
    worst = max(marked, key=lambda i: marked[i]) if marked and max(marked.values()) > 0 else None
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True, height_ratios=(3, 2))
    # red is the bottleneck's alone; the others take the rest of the palette in turn
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    palette = [c for c in cycle if matplotlib.colors.to_hex(c) != "#d62728"] or cycle
    for n, (stage_id, points) in enumerate(series.items()):
        ts = [t for t, _ in points]
        name = points[-1][1]["name"]
        hot = stage_id == worst
        style: dict[str, Any] = (
            {"linewidth": 3.5, "color": "tab:red"}
            if hot
            else {"linewidth": 1.5, "alpha": 0.8, "color": palette[n % len(palette)]}
        )
        label = f"{name}  ◀ bottleneck" if hot else name
        top.plot(ts, [r["rate"] for _, r in points], label=label, **style)
        if not points[-1][1]["passive"]:
            bottom.plot(ts, [100 * r["busy"] for _, r in points], label=name, **style)
    worst_name = series[worst][-1][1]["name"] if worst is not None else None
    heading = title or (f"bottleneck: {worst_name}" if worst_name else "no bottleneck")
    top.set_title(heading, loc="left", fontsize=13, fontweight="bold")
    peaks = [max(r["rate"] for _, r in points) for points in series.values()]
    moving = [p for p in peaks if p > 0]
    if moving and max(moving) > 100 * min(moving):  # a fast stage would flatten the others at 0
        top.set_yscale("symlog", linthresh=1.0)
        top.set_ylabel("items / s (log scale)")
    else:
        top.set_ylabel("items / s")
    top.set_ylim(bottom=0)
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    top.grid(alpha=0.3)
    bottom.set_title(
        "busy: share of each interval not spent waiting (the bottleneck never waits)", loc="left", fontsize=10
    )
    bottom.set_ylabel("busy %")
    bottom.set_ylim(0, 105)
    bottom.set_xlabel("seconds")
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    target = Path(out)
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target
