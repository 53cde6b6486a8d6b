"""Search-as-you-type demo: ``/api/search`` searches per second at concurrency 50, measured with ``wrk``.

Issue 17, item 2 (target >= 3,000 searches/s at concurrency 50). The
Python clients of ``benchmarks.demo_search`` share the two cores with the
server and cannot send much more than 3,000 requests/s even to a server
that does nothing, so this benchmark drives the demo with ``wrk`` (C, one
thread, 50 connections, 127.0.0.1 only), cycling through realistic
queries from a Lua script: prefixes of city names of 3 to 8 letters (one
in ten with a typo) and prefixes of their names in other scripts (北京,
Москва, القاهرة...). Install it with ``apt-get install wrk``; without it
the benchmark says so and stops.

1. Warm cache: 2,000 queries cycled (search-as-you-type repeats its
   prefixes), after one untimed pass that sends each once.
2. Cold cache: a fresh demo process per run and 40,000 distinct queries,
   none sent twice within the run: every answer is searched and encoded.
   The run starts once ``/api/stats`` says ``index_ready`` (the indexes
   the demo builds on a thread in its first second are there; before that
   change the run started at the address line, so on a loaded machine it
   measured the scan that stands in while they are built).
3. The ceiling: the fixed-answer aiohttp server of ``benchmarks.demo_search``
   under the same ``wrk`` command: what HTTP alone allows here, and the
   share of it the demo reaches.

First, without HTTP and without ``wrk``: the CPU time of one cold search
in-process (``CityIndex.search_json``, the endpoint's work: search and
encode, on 4,000 distinct queries of the same mix, no cache), so the
search's share and HTTP's can be told apart.

``--workers N`` runs the demo (warm and cold) with ``--workers N``: N
server processes, each with its own index, sharing the port (the default,
``auto``, is the demo's: one per core, at most 4).

    python -m benchmarks.demo_wrk [--quick] [--seconds S] [--workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

from benchmarks._util import parse_args
from benchmarks.demo_latency import CONCURRENCY, demo_server, throughput_queries
from benchmarks.demo_search import TARGET_PER_S, ceiling_server, raw_searches_per_second
from examples.search_as_you_type import CityIndex, load_cities, normalise
from examples.search_as_you_type._workers import worker_count

_LUA = """
local paths = {}
for line in io.lines(os.getenv("RXASYNC_WRK_PATHS")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"""
_OTHER_SCRIPTS = 0.2  # share of queries typed in a script other than Latin


def wrk_queries(n: int, seed: int, *, distinct: bool = False) -> list[str]:
    """``n`` realistic queries (all different when ``distinct``), in a fixed random order."""
    rng = random.Random(seed)
    others = [a for c in load_cities()[:3000] for a in c.alternates if not a.isascii() and len(a) >= 2]
    out: list[str] = []
    seen: set[str] = set()
    batch = 0
    while len(out) < n:
        batch += 1
        for q in throughput_queries(n, seed=seed * 1000 + batch):
            if rng.random() < _OTHER_SCRIPTS:
                name = rng.choice(others)
                q = name[: rng.randint(1 if ord(name[0]) >= 0x2E80 else 2, min(len(name), 6))]
            if distinct and normalise(q) in seen:
                continue
            seen.add(normalise(q))
            out.append(q)
    return out[:n]


def wrk_per_second(url: str, queries: list[str], seconds: float) -> tuple[float, str]:
    """Run ``wrk`` against ``url``'s /api/search cycling through ``queries``; requests/s and any errors."""
    with tempfile.TemporaryDirectory() as tmp:
        paths, script = Path(tmp, "paths.txt"), Path(tmp, "queries.lua")
        paths.write_text("".join(f"/api/search?q={quote(q)}\n" for q in queries), encoding="utf-8")
        script.write_text(_LUA, encoding="utf-8")
        command = ["wrk", "-t1", f"-c{CONCURRENCY}", f"-d{max(1, round(seconds))}s", "-s", str(script), url]
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            env={"RXASYNC_WRK_PATHS": str(paths), "PATH": "/usr/bin:/bin"},
            check=True,
        )
    found = re.search(r"Requests/sec:\s*([\d.]+)", done.stdout)
    if found is None:
        raise SystemExit(f"wrk gave no rate:\n{done.stdout}\n{done.stderr}")
    errors = [
        line.strip() for line in done.stdout.splitlines() if "Non-2xx" in line or "Socket errors" in line
    ]
    return float(found.group(1)), "; ".join(errors)


def wait_for_index(url: str, workers: str = "1", within: float = 60.0) -> None:
    """Wait (at most ``within`` seconds) until ``/api/stats`` says ``index_ready`` in every worker.

    Each request is a new connection (urllib), so the kernel spreads them
    among the workers; their ``pid`` tells them apart.
    """
    deadline, want, ready = time.monotonic() + within, worker_count(workers), set()
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url + "/api/stats", timeout=5) as response:
            stats = json.load(response)
        if stats.get("index_ready", True):
            ready.add(stats.get("pid"))
            if len(ready) >= want:
                return
        else:
            time.sleep(0.1)
    raise SystemExit(f"the demo's index was not ready in all {want} workers within {within:g} s")


def _runs(name: str, rates: list[float], errors: list[str]) -> float:
    median = statistics.median(rates)
    shown = ", ".join(f"{r:,.0f}" for r in rates)
    print(f"{name}: median {median:,.0f}/s (runs: {shown}){' ERRORS: ' + errors[0] if any(errors) else ''}")
    return median


def _warm(reps: int, seconds: float, workers: str) -> float:
    queries = wrk_queries(2000, seed=1)
    with demo_server(0.15, workers) as url:
        asyncio.run(raw_searches_per_second(url, queries))  # untimed: every query once, fills the cache
        runs = [wrk_per_second(url, queries, seconds) for _ in range(reps)]
    return _runs("demo, warm cache (2,000 queries cycled)", [r for r, _ in runs], [e for _, e in runs])


def _cold(reps: int, seconds: float, workers: str) -> float:
    runs = []
    for rep in range(reps):
        queries = wrk_queries(40_000, seed=100 + rep, distinct=True)
        with demo_server(0.15, workers) as url:
            wait_for_index(url, workers)
            runs.append(wrk_per_second(url, queries, seconds))
    return _runs(
        "demo, cold cache (fresh process, no query twice)", [r for r, _ in runs], [e for _, e in runs]
    )


def _ceiling(reps: int, seconds: float) -> float:
    queries = wrk_queries(2000, seed=1)
    with ceiling_server() as url:
        wrk_per_second(url, queries, max(2, round(seconds / 3)))
        runs = [wrk_per_second(url, queries, seconds) for _ in range(reps)]
    return _runs("ceiling: fixed-answer aiohttp server", [r for r, _ in runs], [e for _, e in runs])


def compute_per_query(reps: int) -> float:
    """Median CPU microseconds of one cold ``search_json`` (fresh queries every run, no cache)."""
    index = CityIndex(load_cities(), cache_size=1)
    index._n.trigrams_ready.wait(60)
    index._n.typos  # noqa: B018  (waits for the typo index)
    runs = []
    for rep in range(reps):
        queries = wrk_queries(4000, seed=200 + rep, distinct=True)
        started = time.process_time()
        for q in queries:
            index.search_json(q, 10)
        runs.append((time.process_time() - started) / len(queries) * 1e6)
    median = statistics.median(runs)
    shown = ", ".join(f"{r:.0f}" for r in runs)
    print(
        f"in-process, cold: {median:.0f} µs of CPU per search (runs: {shown}) = {1e6 / median:,.0f}/s of one core"
    )
    return median


def _extra(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seconds", type=float, default=None, help="seconds per wrk run (default 10, quick 5)"
    )
    parser.add_argument(
        "--workers", default="auto", help="the demo's --workers (default auto, as `make demo` runs it)"
    )


def main(argv: list[str] | None = None) -> None:
    """Measure the demo warm and cold and the ceiling with wrk; print the ratios and the verdict."""
    args = parse_args(argv, __doc__ or "", _extra)
    compute_per_query(3)
    if shutil.which("wrk") is None:
        print("skip demo_wrk: wrk is not installed (apt-get install wrk)")
        return
    seconds = args.seconds or (5.0 if args.quick else 10.0)
    reps = 3 if args.quick else min(args.reps, 5)
    print(
        f"== /api/search with wrk -t1 -c{CONCURRENCY} -d{seconds:g}s, median of {reps} runs "
        f"(Python {sys.version.split()[0]}), the demo with --workers {args.workers}",
        flush=True,
    )
    warm, cold = _warm(reps, seconds, args.workers), _cold(reps, seconds, args.workers)
    ceiling = _ceiling(reps, seconds)
    for name, value in (("warm", warm), ("cold", cold)):
        verdict = "met" if value >= TARGET_PER_S else "NOT met"
        print(
            f"{name} cache: {value:,.0f}/s = {value / ceiling:.2f}x the fixed-answer ceiling; "
            f"target >= {TARGET_PER_S:,.0f}/s: {verdict}"
        )


if __name__ == "__main__":
    main()
