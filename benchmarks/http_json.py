"""5,000 small JSON GETs: ``get_json`` inside ``map_async(concurrency=100)`` vs raw aiohttp.

Target (issue 3): >= 0.8x the requests/s of raw aiohttp with ``asyncio.gather``
and a semaphore of 100. Both use one ``aiohttp.ClientSession`` (pool limit
100) against a server in another process on 127.0.0.1.

    python -m benchmarks.http_json [--requests N] [--quick] [--reps N]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import aiohttp
import reactivex

import rxasync
from benchmarks._util import alternate, header, parse_args, report
from benchmarks.http_common import server, trial
from rxasync.http import get_json
from rxasync.operators import map_async

TARGET = 0.8
CONCURRENCY = 100


async def rx_json(url: str, n: int) -> float:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:

        async def fetch(i: int) -> Any:
            return await rxasync.first(get_json(url, session=session, params={"i": i}))

        start = time.perf_counter()
        out = await rxasync.to_list(reactivex.range(n).pipe(map_async(fetch, concurrency=CONCURRENCY)))
        seconds = time.perf_counter() - start
    assert [o["i"] for o in out] == list(range(n))
    return seconds


async def raw_json(url: str, n: int) -> float:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:
        sem = asyncio.Semaphore(CONCURRENCY)

        async def fetch(i: int) -> Any:
            async with sem, session.get(url, params={"i": i}) as resp:
                resp.raise_for_status()
                return await resp.json()

        start = time.perf_counter()
        out = await asyncio.gather(*(fetch(i) for i in range(n)))
        seconds = time.perf_counter() - start
    assert [o["i"] for o in out] == list(range(n))
    return seconds


def _extra(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--requests", type=int, default=None, help="GETs per run (default 5000, quick 1000)")


def main(argv: list[str] | None = None) -> float:
    """Run the comparison; print medians, the ratio and whether the target was met."""
    args = parse_args(argv, __doc__ or "", _extra)
    n = args.requests or (1000 if args.quick else 5000)
    header(f"http_json: {n} GETs, concurrency {CONCURRENCY}", args)
    with server() as base:
        url = f"{base}/json"
        medians = alternate(
            {"rxasync": trial(lambda: rx_json(url, n)), "aiohttp": trial(lambda: raw_json(url, n))},
            args.reps,
        )
    for name, seconds in medians.items():
        print(f"  {name}: median {seconds:.3f} s = {n / seconds:.0f} requests/s", flush=True)
    return report(
        "http_json requests/s",
        n,
        medians["rxasync"],
        medians["aiohttp"],
        target=TARGET,
        baseline="raw aiohttp gather+semaphore",
    )


if __name__ == "__main__":
    main()
