"""Small helpers shared by the benchmark modules: argument parsing, alternating runs, reporting.

A *trial* is a zero-argument callable that runs the workload once and
returns the seconds it took (measured inside with :func:`time.perf_counter`,
so event-loop start-up is not counted). :func:`alternate` runs the trials of
one comparison in turn, rxasync then baseline then rxasync..., so that the
noise of a shared machine falls on both alike, and reports medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Mapping

Trial = Callable[[], float]


def parse_args(
    argv: list[str] | None,
    description: str,
    extra: Callable[[argparse.ArgumentParser], object] | None = None,
) -> argparse.Namespace:
    """The common command line: ``--quick`` (smaller sizes, fewer repetitions), ``--reps``,
    and whatever ``extra`` adds to the parser."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    if extra is not None:
        extra(parser)
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repetitions")
    parser.add_argument("--reps", type=int, default=None, help="repetitions per trial (default 7, quick 5)")
    args = parser.parse_args(argv)
    if args.reps is None:
        args.reps = 5 if args.quick else 7
    return args


def alternate(trials: Mapping[str, Trial], reps: int, *, warmup: bool = True) -> dict[str, float]:
    """Run every trial ``reps`` times, interleaved; return the median seconds of each."""
    if warmup:
        for trial in trials.values():
            trial()
    times: dict[str, list[float]] = {name: [] for name in trials}
    for _ in range(reps):
        for name, trial in trials.items():
            times[name].append(trial())
    return {name: statistics.median(ts) for name, ts in times.items()}


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def rate(items: int, seconds: float) -> str:
    """``items / seconds`` as a short human number: ``1.23M/s``."""
    per_s = items / seconds if seconds > 0 else float("inf")
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if per_s >= scale:
            return f"{per_s / scale:.3g}{unit}/s"
    return f"{per_s:.3g}/s"


def verdict(value: float, target: float | None) -> str:
    """``"target >= T: met"`` / ``"NOT met"``, or ``"no target (report)"``."""
    if target is None:
        return "no target (report)"
    return f"target >= {target:g}: {'met' if value >= target else 'NOT met'}"


def report(
    name: str,
    items: int,
    rx_seconds: float,
    base_seconds: float,
    *,
    target: float | None = None,
    baseline: str = "baseline",
    subject: str = "rxasync",
) -> float:
    """Print ``name: rxasync X/s, <baseline> Y/s, ratio Z, target >= T: met`` and return the ratio."""
    ratio = base_seconds / rx_seconds
    print(
        f"{name}: {subject} {rate(items, rx_seconds)}, {baseline} {rate(items, base_seconds)}, "
        f"ratio {ratio:.3g}, {verdict(ratio, target)}",
        flush=True,
    )
    return ratio


def header(title: str, args: argparse.Namespace) -> None:
    """One line saying what runs, how often, and on which Python."""
    mode = "quick" if args.quick else "full"
    print(
        f"== {title} ({mode}, median of {args.reps} alternating runs, Python {sys.version.split()[0]})",
        flush=True,
    )
