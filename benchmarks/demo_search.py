"""Search-as-you-type demo: ``/api/search`` searches per second at concurrency 50, and start-up time.

Issue 17, item 2. The demo runs in its own process (``python -m
examples.search_as_you_type --port 0``) on 127.0.0.1, as a user starts it.

1. Start-up (target: no slower than the 3 s before the index): seconds from
   starting the process to its "open http://..." line, cities loaded and
   the index built.
2. Throughput (target >= 3,000 searches/s at concurrency 50): the same mix
   of realistic queries as ``benchmarks.demo_latency`` (prefixes of real city
   names of 3 to 8 letters, one in ten with a typo), sent by a raw aiohttp
   client (``gather`` + a semaphore of 50) and by rxasync
   (``get_json`` inside ``map_async(concurrency=50)``), alternating; the
   ratio is rxasync's client against the raw one. Client and server share
   this machine, so the figures are a floor for the server.
3. The ceiling: the same raw client against an aiohttp server that answers
   every request with a fixed JSON body of the same size (no search): what
   HTTP alone allows on this machine, and the share of it the demo reaches.

    python -m benchmarks.demo_search [--quick] [--requests N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp

from benchmarks._util import parse_args, rate, report
from benchmarks.demo_latency import CONCURRENCY, demo_server, searches_per_second, throughput_queries

TARGET_PER_S = 3000.0
TARGET_START_S = 3.0
# The ceiling: an aiohttp server in its own process answering every GET with one fixed JSON body of
# the size of a search answer (no search at all), measured with the same raw client.
_CEILING = """
import asyncio, json, sys
from aiohttp import web
body = json.dumps({"q": "lond", "results": [{"name": "London", "country": "United Kingdom"}] * 10}).encode()
async def answer(request):
    return web.Response(body=body, content_type="application/json")
async def main():
    app = web.Application()
    app.router.add_get("/api/search", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


async def raw_searches_per_second(url: str, queries: list[str]) -> float:
    """The raw baseline: aiohttp ``gather`` with a semaphore of 50; requests per second."""
    gate = asyncio.Semaphore(CONCURRENCY)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(q: str) -> Any:
            async with gate, session.get(url + "/api/search", params={"q": q}) as response:
                response.raise_for_status()
                return await response.json()

        start = time.perf_counter()
        out = await asyncio.gather(*(one(q) for q in queries))
        seconds = time.perf_counter() - start
    assert len(out) == len(queries)
    return len(queries) / seconds


@contextmanager
def ceiling_server() -> Iterator[str]:
    """The fixed-answer aiohttp server in its own process on 127.0.0.1; yields its URL; stops it."""
    proc = subprocess.Popen([sys.executable, "-c", _CEILING], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()


async def ceiling_per_second(url: str, requests: int, reps: int) -> float:
    """Requests per second of the fixed-answer server (median of ``reps`` runs, after a warm-up)."""
    await raw_searches_per_second(url, throughput_queries(requests // 10, seed=0))
    rates = [await raw_searches_per_second(url, throughput_queries(requests, seed=i)) for i in range(reps)]
    return statistics.median(rates)


def start_up_seconds(reps: int) -> float:
    """Median seconds from starting the demo to its address line."""
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        with demo_server(0.15):
            times.append(time.perf_counter() - started)
    return statistics.median(times)


async def _throughput(url: str, requests: int, reps: int) -> tuple[float, float]:
    runs: dict[str, Callable[[str, list[str]], Coroutine[Any, Any, float]]] = {
        "raw": raw_searches_per_second,
        "rxasync": searches_per_second,
    }
    for run in runs.values():  # warm-up: connections
        await run(url, throughput_queries(requests // 10, seed=0))
    rates: dict[str, list[float]] = {name: [] for name in runs}
    seed = 1
    for _ in range(reps):
        for name, run in runs.items():
            # new queries every run: the server's result cache helps only with repeats within one
            rates[name].append(await run(url, throughput_queries(requests, seed=seed)))
            seed += 1
    return statistics.median(rates["rxasync"]), statistics.median(rates["raw"])


def _extra(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--requests", type=int, default=None, help="requests per run (default 5000, quick 2000)"
    )


def main(argv: list[str] | None = None) -> None:
    """Start the demo, measure, print the figures and whether the targets were met."""
    args = parse_args(argv, __doc__ or "", _extra)
    requests = args.requests or (2000 if args.quick else 5000)
    reps = 3 if args.quick else args.reps
    print(
        f"== search-as-you-type /api/search ({'quick' if args.quick else 'full'}, median of {reps} "
        f"alternating runs of {requests} requests, Python {sys.version.split()[0]})",
        flush=True,
    )
    start = start_up_seconds(1 if args.quick else 3)
    verdict = "met" if start <= TARGET_START_S else "NOT met"
    print(
        f"start-up to the address line: {start:.2f} s; target <= {TARGET_START_S:g} s: {verdict}", flush=True
    )
    with demo_server(0.15) as url:
        rx_per_s, raw_per_s = asyncio.run(_throughput(url, requests, reps))
    met = "met" if max(rx_per_s, raw_per_s) >= TARGET_PER_S else "NOT met"
    print(
        f"/api/search at concurrency {CONCURRENCY}: raw aiohttp client {rate(requests, requests / raw_per_s)}, "
        f"rxasync client {rate(requests, requests / rx_per_s)}; target >= {TARGET_PER_S:,.0f}/s: {met}",
        flush=True,
    )
    report("/api/search, rxasync client against raw", requests, requests / rx_per_s, requests / raw_per_s)
    with ceiling_server() as url:
        ceiling = asyncio.run(ceiling_per_second(url, requests, reps))
    print(
        f"ceiling: a fixed-answer aiohttp server, same raw client: {rate(requests, requests / ceiling)}; "
        f"/api/search reaches {raw_per_s / ceiling:.2f} of it (the rest is the search itself)",
        flush=True,
    )


if __name__ == "__main__":
    main()
