"""The load test's chart: latency percentiles and throughput per concurrency level."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from ._load import LevelResult

__all__ = ["draw"]

_PERCENTILES = (("p50_ms", "p50", "-"), ("p95_ms", "p95", "--"), ("p99_ms", "p99", ":"))


def draw(runs: Mapping[str, Sequence[LevelResult]], out: Path, title: str = "web service load test") -> Path:
    """Draw ``runs`` (a label → its levels, e.g. ``{"rxasync": [...], "raw": [...]}``) into ``out`` (PNG).

    Left: p50/p95/p99 latency in ms per concurrency; right: requests/s per
    concurrency, one bar per run. Needs matplotlib (``rxasync[progress]``).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    fig, (lat, thr) = plt.subplots(1, 2, figsize=(11, 4.5), dpi=100)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    width = 0.8 / max(1, len(runs))
    for i, (label, levels) in enumerate(runs.items()):
        colour = colours[i % len(colours)]
        xs = [str(level.concurrency) for level in levels]
        for key, name, style in _PERCENTILES:
            ys = [getattr(level, key) for level in levels]
            lat.plot(xs, ys, style, marker="o", color=colour, label=f"{label} {name}")
        positions = [j + (i - (len(runs) - 1) / 2) * width for j in range(len(levels))]
        bars = thr.bar(positions, [level.rps for level in levels], width, color=colour, label=label)
        thr.bar_label(bars, fmt="%.0f", fontsize=8)
        thr.set_xticks(range(len(levels)), xs)
    lat.set(title="latency per request", xlabel="concurrency (requests in flight)", ylabel="ms (log scale)")
    thr.set(title="throughput", xlabel="concurrency (requests in flight)", ylabel="requests/s")
    lat.set_yscale("log")
    lat.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    lat.yaxis.set_minor_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}" if str(v)[0] in "25" else ""))
    tallest = max((level.rps for levels in runs.values() for level in levels), default=1.0)
    thr.set_ylim(0, 1.3 * tallest)  # room for the legend above the bars
    lat.legend(fontsize=8, ncol=max(1, len(runs)))
    thr.legend(fontsize=8, loc="upper center", ncol=max(1, len(runs)))
    for axis in (lat, thr):
        axis.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
