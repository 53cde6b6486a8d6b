"""Counters on against counters off, the same code otherwise, side by side in one process.

Target (issue 14): the core paths at most 5% slower with the counters.
"Off" is this checkout's package with the counting cut out
(``benchmarks/_stats_off.py``: the per-item counts and the timing of the
waits, nothing else), so the two differ by the counters alone. Both are
copied under other names (``rxoff``, ``rxobs``: the core imports only
relatively); each scenario runs on and off in turn, ``--reps`` times,
starting with the other one every second pair, after a collection of the
garbage, so load on the machine hits both alike. Each run has ``--items``
items (50,000: tens of milliseconds, so the fixed costs of a subscription
do not weigh). Printed: the median times, the median of the per-pair
ratios, and the load average.

``--clock cpu`` times each run by the thread's CPU time rather than the
wall clock, so that the time another process takes from this one on a
busy machine does not count; "fastest" is the ratio of the two fastest
runs.

``--base DIR`` compares against another checkout's package instead (the
way this benchmark ran first, against the commit before the counters:
that also measures whatever else changed since).

    .venv/bin/python -m benchmarks.stats_overhead [--items 50000] [--reps 21] [--only TEXT] [--clock cpu] [--base DIR]

On a loaded machine the times swing by 10% and more; instructions do not.
``--once on|off --only TEXT`` runs one scenario once, for callgrind: the
difference of two counts (``--items 5000`` and ``25000``) over 20,000 is
the instructions per item, the same on any load::

    PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null .venv/bin/python \\
        -m benchmarks.stats_overhead --once on --only subscriber --items 5000 --sample-every 1

(``PYTHONHASHSEED=0``: with a random seed the same code read up to 36 an item apart.)

``--sample-every 1`` (both sides alike): under callgrind the code runs
about 50 times slower, so the counters' clock, which times one item in
however many pass in ``SAMPLE_EVERY`` (2 ms), would time one in a few
dozen, and ``map_async``'s sampled waits for upstream would all look long
enough to time each: the counts would be those of a slow pipeline, not of
this one at full speed. 50 times 2 ms (0.1) gives the sampling of a real
run on a quiet machine; 1 keeps it so on a loaded one.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import reactivex
from reactivex import operators as ops

from benchmarks._stats_off import cut_counters

HERE = Path(__file__).resolve().parent.parent
N = 50_000
REPS = 21


async def numbers(n: int) -> AsyncIterator[int]:
    for i in range(n):
        yield i


async def batches(n: int, size: int = 64) -> AsyncIterator[list[int]]:
    for start in range(0, n, size):
        yield list(range(start, min(n, start + size)))


async def noop(x: int) -> int:
    return x


def scenarios(rx: Any, ma: Any) -> dict[str, Callable[[], Awaitable[object]]]:
    """The same pipelines, built with package ``rx`` (and its ``map_async``)."""

    async def subscriber() -> None:
        done = asyncio.get_running_loop().create_future()
        rx.from_async_iterable(lambda: numbers(N)).subscribe(
            lambda _: None, done.set_exception, lambda: done.set_result(None)
        )
        await done

    async def batch_subscriber() -> None:  # the pump's batched loop (file lines, HTTP lines)
        done = asyncio.get_running_loop().create_future()
        rx.from_async_batches(lambda: batches(N)).subscribe(
            lambda _: None, done.set_exception, lambda: done.set_result(None)
        )
        await done

    async def iterate(source: reactivex.Observable[int]) -> None:
        async for _ in rx.to_async_iterable(source):
            pass

    def bridge(n: int = N) -> reactivex.Observable[int]:
        return rx.from_async_iterable(lambda: numbers(n))  # type: ignore[no-any-return]

    return {
        "bridge -> subscriber": subscriber,
        "batches -> subscriber": batch_subscriber,
        "bridge -> ops.count -> last": lambda: rx.last(bridge().pipe(ops.count())),
        "bridge -> to_list (direct)": lambda: rx.to_list(bridge()),
        "from_iterable -> to_async_iterable": lambda: iterate(reactivex.from_iterable(range(N))),
        "bridge -> to_async_iterable": lambda: iterate(bridge()),
        "bridge -> map_async(1) -> to_list": lambda: rx.to_list(bridge(N // 5).pipe(ma(noop, concurrency=1))),
        "bridge -> map_async(64) -> to_list": lambda: rx.to_list(
            bridge(N // 5).pipe(ma(noop, concurrency=64))
        ),
        "from_iterable -> map_async(64)": lambda: rx.to_list(
            reactivex.from_iterable(range(N // 5)).pipe(ma(noop, concurrency=64))
        ),
    }


async def compare(off: Any, on: Any, ma_off: Any, ma_on: Any, only: str, clock: Callable[[], float]) -> None:
    a, b = scenarios(off, ma_off), scenarios(on, ma_on)
    for name in a:
        if only not in name:
            continue
        times: dict[str, list[float]] = {"off": [], "on": []}
        await a[name]()
        await b[name]()
        for i in range(REPS):
            order = (("off", a[name]), ("on", b[name]))
            for side, fn in order if i % 2 == 0 else order[::-1]:
                gc.collect()
                start = clock()
                await fn()
                times[side].append(clock() - start)
        t_off, t_on = statistics.median(times["off"]), statistics.median(times["on"])
        pair = statistics.median(y / x for x, y in zip(times["off"], times["on"], strict=True))
        verdict = "met" if pair <= 1.05 else "NOT met"
        fastest = min(times["on"]) / min(times["off"])
        print(
            f"{name:36s} off {t_off * 1e3:7.2f} ms  on {t_on * 1e3:7.2f} ms  "
            f"median pair ratio {pair:.3f}: {verdict}  (fastest {fastest:.3f}; load {os.getloadavg()[0]:.1f})",
            flush=True,
        )


def main(argv: list[str] | None = None) -> None:
    """Copy both packages, run every scenario alternately, print the ratios."""
    global N, REPS
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", type=Path, default=None, help="compare against this checkout instead")
    parser.add_argument("--items", type=int, default=N)
    parser.add_argument("--reps", type=int, default=REPS)
    parser.add_argument("--only", default="", help="run the scenarios whose name contains this")
    parser.add_argument("--quick", action="store_true", help="10,000 items, 7 runs")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="time each run by the wall clock, or by this thread's CPU time (what another process's "
        "load takes from it does not count; what it does to the caches still does)",
    )
    parser.add_argument(
        "--sample-every",
        type=float,
        default=None,
        help="the pump's SAMPLE_EVERY, both sides (callgrind: 0.1)",
    )
    parser.add_argument(
        "--once",
        choices=("on", "off"),
        help="run the first --only scenario once, on one side (for callgrind)",
    )
    args = parser.parse_args(argv)
    N, REPS = (10_000, 7) if args.quick else (args.items, args.reps)
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(HERE / "rxasync", Path(tmp, "rxobs"))
        shutil.copytree((args.base or HERE) / "rxasync", Path(tmp, "rxoff"))
        if args.base is None:
            cuts = cut_counters(Path(tmp, "rxoff"))
            print(f"off: this checkout without {len(cuts)} cuts: " + "; ".join(cuts))
        else:
            print(f"off: the package of {args.base}")
        if args.sample_every is not None:
            for package in ("rxobs", "rxoff"):
                pump = Path(tmp, package, "_pump.py")
                text, n = re.subn(
                    r"^SAMPLE_EVERY = .*$",
                    f"SAMPLE_EVERY = {args.sample_every!r}",
                    pump.read_text(),
                    flags=re.M,
                )
                if n != 1:
                    raise SystemExit("stats_overhead: SAMPLE_EVERY not found in _pump.py")
                pump.write_text(text)
        sys.path.insert(0, tmp)
        import rxobs
        import rxoff
        from rxobs.operators import map_async as ma_on
        from rxoff.operators import map_async as ma_off

        if args.once:
            rx, ma = (rxobs, ma_on) if args.once == "on" else (rxoff, ma_off)
            asyncio.run(next(fn for name, fn in scenarios(rx, ma).items() if args.only in name)())
            return
        print(f"== stats_overhead: {N:,} items, {REPS} alternating runs; target <= 1.05")
        clock = time.perf_counter if args.clock == "wall" else time.thread_time
        asyncio.run(compare(rxoff, rxobs, ma_off, ma_on, args.only, clock))


if __name__ == "__main__":
    main()
