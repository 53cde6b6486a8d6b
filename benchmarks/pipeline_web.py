"""The web-service pipeline (issue 16, item 4): req/s and p50/p95/p99 at three concurrency levels,
the fan-out written with rxasync against the same service with the fan-out in raw asyncio.

Two services run, each in its own child process on 127.0.0.1 (``python -m
examples.pipelines.web serve --port 0 --fanout rxasync|raw``), with the
same three backends (in the service's process: 20 ms + up to 10 ms jitter
each) and the same policy: 3 attempts, and limits (30 s) long enough that
no answer is degraded even when the machine is saturated, so both do the
same work (the figures say how many were degraded: 0 expected). The load
generator, here, is the same for both (``map_async`` over plain aiohttp
calls); runs alternate rxasync, raw, rxasync... and each figure is
the median over the runs. The ratio is rxasync's requests/s over raw's (no
target: reported). On a shared machine wall-clock rates are noisy, so the
service's own CPU time per request (from its ``/stats``, backends included)
is reported too: raw's over rxasync's, 1 meaning the same cost.

    python -m benchmarks.pipeline_web [--quick] [--reps N] [--requests N] [--png docs/images/pipeline_web.png]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from contextlib import ExitStack
from pathlib import Path

import aiohttp

from benchmarks._util import parse_args
from examples.pipelines.web._chart import draw
from examples.pipelines.web._child import child_service
from examples.pipelines.web._load import LevelResult, run_levels

LEVELS = [10, 50, 200]
KINDS = ("rxasync", "raw")
FIGURES = ("rps", "p50_ms", "p95_ms", "p99_ms")
PATIENT = ["--timeout", "30", "--attempt-timeout", "30"]


def _extra(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--requests", type=int, default=None, help="requests per level (default 1000, quick 300)"
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="most seconds per level (60)")
    parser.add_argument("--png", type=Path, default=None, help="draw the medians into this PNG")


def median_level(runs: list[LevelResult]) -> LevelResult:
    """A level whose figures are the medians of ``runs`` (counts summed)."""
    first = runs[0]
    medians = {name: statistics.median(getattr(r, name) for r in runs) for name in FIGURES}
    return LevelResult(
        concurrency=first.concurrency,
        requests=sum(r.requests for r in runs),
        ok=sum(r.ok for r in runs),
        degraded=sum(r.degraded for r in runs),
        errors=sum(r.errors for r in runs),
        seconds=sum(r.seconds for r in runs),
        **medians,
    )


async def _cpu_seconds(url: str) -> float:
    """CPU seconds the service's process has used (its ``/stats``)."""
    async with aiohttp.ClientSession() as session, session.get(url + "/stats") as resp:
        return float((await resp.json())["cpu_s"])


async def one_run(url: str, requests: int, seconds: float) -> tuple[list[LevelResult], float]:
    """The three levels once; and the service's CPU milliseconds per request over them."""
    before = await _cpu_seconds(url)
    levels = await run_levels(url, LEVELS, requests, seconds)
    spent = await _cpu_seconds(url) - before
    return levels, 1000 * spent / sum(level.requests for level in levels)


def measure(
    urls: dict[str, str], reps: int, requests: int, seconds: float
) -> tuple[dict[str, list[LevelResult]], dict[str, float]]:
    """Alternate the services, ``reps`` times after a warm-up.

    Returns the median figures per kind and level, and the median CPU ms per request per kind.
    """
    for url in urls.values():
        asyncio.run(run_levels(url, LEVELS, max(50, requests // 10), seconds))  # warm-up
    runs: dict[str, list[list[LevelResult]]] = {kind: [] for kind in urls}
    cpu: dict[str, list[float]] = {kind: [] for kind in urls}
    for rep in range(reps):
        for kind, url in urls.items():
            levels, cpu_ms = asyncio.run(one_run(url, requests, seconds))
            runs[kind].append(levels)
            cpu[kind].append(cpu_ms)
            rates = ", ".join(f"c={lv.concurrency} {lv.rps:.0f} req/s" for lv in levels)
            print(f"  run {rep + 1}/{reps} {kind}: {rates}; service CPU {cpu_ms:.2f} ms/req", flush=True)
    medians = {
        kind: [median_level(list(lv)) for lv in zip(*done, strict=True)] for kind, done in runs.items()
    }
    return medians, {kind: statistics.median(values) for kind, values in cpu.items()}


def report(medians: dict[str, list[LevelResult]]) -> None:
    """One line per level: both services' figures and the ratio of requests/s."""
    for rx, raw in zip(medians["rxasync"], medians["raw"], strict=True):
        cut = f"; degraded {rx.degraded}/{rx.requests} vs {raw.degraded}/{raw.requests}, errors {rx.errors} vs {raw.errors}"
        print(
            f"c={rx.concurrency}: rxasync {rx.rps:.0f} req/s, p50/p95/p99 {rx.p50_ms:.1f}/{rx.p95_ms:.1f}/"
            f"{rx.p99_ms:.1f} ms; raw asyncio.gather {raw.rps:.0f} req/s, {raw.p50_ms:.1f}/{raw.p95_ms:.1f}/"
            f"{raw.p99_ms:.1f} ms; ratio {rx.rps / raw.rps:.3g}{cut}; no target (report)",
            flush=True,
        )


def main(argv: list[str] | None = None) -> None:
    """Start both services, measure, print the figures and the ratios, draw ``--png``."""
    args = parse_args(argv, __doc__ or "", _extra)
    requests = args.requests or (300 if args.quick else 1000)
    print(
        f"== web-service fan-out, rxasync vs raw asyncio.gather ({'quick' if args.quick else 'full'}, "
        f"levels {LEVELS}, {requests} requests each, median of {args.reps} alternating runs, "
        f"Python {sys.version.split()[0]})",
        flush=True,
    )
    with ExitStack() as stack:
        urls = {kind: stack.enter_context(child_service(["--fanout", kind, *PATIENT])) for kind in KINDS}
        medians, cpu = measure(urls, args.reps, requests, args.seconds)
    report(medians)
    print(
        f"service CPU per request: rxasync {cpu['rxasync']:.2f} ms, raw asyncio.gather {cpu['raw']:.2f} ms; "
        f"ratio (raw / rxasync) {cpu['raw'] / cpu['rxasync']:.3g}; no target (report)",
        flush=True,
    )
    if args.png is not None:
        title = f"web service: 3 backends per request, median of {args.reps} runs (127.0.0.1)"
        print(
            f"chart: {draw({'rxasync': medians['rxasync'], 'raw asyncio.gather': medians['raw']}, args.png, title)}"
        )


if __name__ == "__main__":
    main()
