"""Flat cost at scale (issue 17 item 4): every core, HTTP and files benchmark at three sizes.

Each *case* runs an existing benchmark's measured function (the rxasync side
and its raw baseline, alternating in one process, as :mod:`benchmarks._util`
does) at three sizes a factor of 10 apart, and prints the curve: the rate at
each size, and the rate at the largest size over the rate at the smallest.
Target: that ratio within 20% (``0.8 <= largest/smallest``); a ratio far above
1 means a fixed start-up cost weighs on the small size, not a cost that grows.

Sizes (``--quick`` in brackets): core 10k / 100k / 1M items (1k / 10k / 100k);
HTTP ``get_json`` 200 / 2,000 / 20,000 requests (100 / 1,000 / 10,000); HTTP
bodies and files 10 / 100 / 1000 MiB (or MB) (1 / 10 / 100). The smallest size
runs 10 times per timed trial (its rate counts all 10) so that a trial is not
all timer noise. The larger sizes run fewer trials (``--reps`` at the
smallest, 7; then 3 and ``--reps-large``, 3; quick 3, 3, 1). A baseline too slow or too big at a
size (RxPY's ``observe_on`` past 100k items, 1M tasks in ``gather``) is capped
and shown as ``-``. Files are written under the system temporary folder
(page cache hot); a 1000 MiB file needs about 1 GiB of free disk.

    python -m benchmarks.flat [--quick] [--reps N] [NAME ...]   # NAME: a part of a case's name
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from benchmarks import files_write
from benchmarks._flat_cases import CASES, Case, Env, Run
from benchmarks._util import rate

FLAT = 0.8  # the rate at the largest size over the rate at the smallest, at least


@dataclass
class Point:
    """The medians at one size: seconds per run of the rxasync side and of the baseline."""

    size: float  # in the case's unit (the size asked for, or what prepare made)
    rx: float
    base: float | None
    rx_cpu: float  # CPU seconds of this process per rxasync run: steadier than wall time on a busy machine


def _times(run: Run, env: Env, size: int, repeats: int, cpu: list[float] | None = None) -> float:
    """Seconds per run (as measured inside), averaged over ``repeats``; appends CPU seconds per run to ``cpu``."""
    start = time.process_time()
    seconds = sum(run(env, size) for _ in range(repeats)) / repeats
    if cpu is not None:  # all threads of this process (readers, writers), set-up included
        cpu.append((time.process_time() - start) / repeats)
    return seconds


def measure(case: Case, env: Env, sizes: tuple[int, int, int], reps: tuple[int, int, int]) -> list[Point]:
    """Alternate rxasync and baseline at each size; the medians of ``reps`` trials (after a warm-up run)."""
    points = []
    for i, size in enumerate(sizes):
        repeats = 10 if i == 0 else 1
        with _prepared(case, env, size) as made:
            base = case.base if case.base is not None and size <= case.base_max else None
            if i == 0:  # warm-up, at the smallest size only
                case.rx(env, size)
                if base is not None:
                    base(env, size)
            rx_t: list[float] = []
            rx_cpu: list[float] = []
            base_t: list[float] = []
            for _ in range(reps[i]):
                rx_t.append(_times(case.rx, env, size, repeats, rx_cpu))
                if base is not None:
                    base_t.append(_times(base, env, size, repeats))
        points.append(
            Point(
                made or size,
                statistics.median(rx_t),
                statistics.median(base_t) if base_t else None,
                statistics.median(rx_cpu),
            )
        )
    return points


@contextmanager
def _prepared(case: Case, env: Env, size: int) -> Iterator[float | None]:
    try:
        yield case.prepare(env, size)
    finally:
        files_write._remove(env.path)


def _size(n: float, unit: str) -> str:
    return f"{n:,.0f} {unit}" if n == int(n) else f"{n:,.1f} {unit}"


def _per_s(size: float, seconds: float, case: Case) -> str:
    if case.scale == 1:
        return rate(int(size), seconds)
    return f"{size / seconds:.4g} {case.unit}/s"


def show(case: Case, points: list[Point]) -> tuple[float, float, float | None]:
    """Print the curve of one case; return largest/smallest for rxasync (wall, CPU) and the baseline."""
    print(f"-- {case.name}", flush=True)
    for p in points:
        line = f"   {_size(p.size, case.unit):>18}: rxasync {_per_s(p.size, p.rx, case)}"
        if p.base is not None:
            line += f", {case.base_name} {_per_s(p.size, p.base, case)}, ratio {p.base / p.rx:.3g}"
        print(line, flush=True)
    first, last = points[0], points[-1]
    flat = (last.size / last.rx) / (first.size / first.rx)
    base_flat = None
    if first.base is not None and last.base is not None:
        base_flat = (last.size / last.base) / (first.size / first.base)
    cpu_flat = (last.size / last.rx_cpu) / (first.size / first.rx_cpu)
    where = f" (per CPU second {cpu_flat:.3g})"
    where += f"; baseline {base_flat:.3g}" if base_flat is not None else ""
    print(
        f"   largest/smallest rate: {flat:.3g}{where}; "
        f"flat within 20%: {'yes' if flat >= FLAT else 'NO'}"
        + (" (the small size pays a start-up cost)" if flat > 1 / FLAT else ""),
        flush=True,
    )
    return flat, cpu_flat, base_flat


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.flat",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="sizes 10x smaller, fewer repetitions")
    parser.add_argument(
        "--reps", type=int, default=None, help="trials at the smallest size (default 7, quick 3)"
    )
    parser.add_argument(
        "--reps-large", type=int, default=None, help="trials at the largest size (3, quick 1)"
    )
    parser.add_argument("names", nargs="*", help="run only cases whose name contains one of these")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run the selected cases; print each curve and a summary table (markdown)."""
    args = _parse(argv)
    first = args.reps or (3 if args.quick else 7)
    reps = (first, 3, args.reps_large or 1) if args.quick else (first, 3, args.reps_large or 3)
    cases = [c for c in CASES if not args.names or any(n in c.name for n in args.names)]
    mode = "quick" if args.quick else "full"
    print(f"== flat: {len(cases)} cases at three sizes ({mode}; trials per size {reps})", flush=True)
    rows = []
    with ExitStack() as stack:
        env = Env(stack)
        for case in cases:
            sizes = case.quick if args.quick else case.sizes
            points = measure(case, env, sizes, reps)
            rows.append((case, points, *show(case, points)))
    print(
        "\n| benchmark | rxasync's rate at the three sizes | largest/smallest (per CPU s) | baseline's |"
        "\n|---|---|---|---|"
    )
    for case, points, flat, cpu_flat, base_flat in rows:
        curve = " / ".join(_per_s(p.size, p.rx, case) for p in points)
        sizes_s = "/".join(_size(p.size, "").strip() for p in points)
        base_s = f"{base_flat:.2f}" if base_flat is not None else "-"
        print(
            f"| {case.name} | {curve} at {sizes_s} {case.unit} | {flat:.2f} ({cpu_flat:.2f}) | {base_s} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
