"""5,000 small JSON GETs: ``get_json`` inside ``map_async(concurrency=100)`` vs raw aiohttp.

Target (issue 17; issue 3's was 0.8x): >= 1.0x the requests/s of raw aiohttp
with ``asyncio.gather`` and a semaphore of 100 (``await resp.json()``). Both use one ``aiohttp.ClientSession`` (pool limit
100) against a server in another process on 127.0.0.1.

    python -m benchmarks.http_json [--requests N] [--quick] [--reps N]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import reactivex

import rxasync
from benchmarks._util import alternate, header, parse_args, report
from benchmarks.http_common import server, trial
from rxasync.http import get_json
from rxasync.operators import map_async

TARGET = 1.0
CONCURRENCY = 100


Fetch = Callable[[aiohttp.ClientSession, str, int], Awaitable[Any]]


async def via_get_json(session: aiohttp.ClientSession, url: str, i: int) -> Any:
    return await rxasync.first(get_json(url, session=session, params={"i": i}))


async def via_aiohttp(session: aiohttp.ClientSession, url: str, i: int) -> Any:
    async with session.get(url, params={"i": i}) as resp:
        resp.raise_for_status()
        return await resp.json()


async def in_map_async(fetch: Fetch, url: str, n: int) -> float:
    """``n`` calls of ``fetch`` through ``map_async(concurrency=100)``."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:

        async def one(i: int) -> Any:
            return await fetch(session, url, i)

        start = time.perf_counter()
        out = await rxasync.to_list(reactivex.range(n).pipe(map_async(one, concurrency=CONCURRENCY)))
        seconds = time.perf_counter() - start
    assert [o["i"] for o in out] == list(range(n))
    return seconds


async def in_gather(fetch: Fetch, url: str, n: int) -> float:
    """``n`` calls of ``fetch`` through ``asyncio.gather`` and a semaphore of 100."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:
        sem = asyncio.Semaphore(CONCURRENCY)

        async def one(i: int) -> Any:
            async with sem:
                return await fetch(session, url, i)

        start = time.perf_counter()
        out = await asyncio.gather(*(one(i) for i in range(n)))
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
            {
                "rxasync": trial(lambda: in_map_async(via_get_json, url, n)),
                "aiohttp": trial(lambda: in_gather(via_aiohttp, url, n)),
                # where the difference goes: the map_async stage alone, get_json alone
                "aiohttp in map_async": trial(lambda: in_map_async(via_aiohttp, url, n)),
                "get_json in gather": trial(lambda: in_gather(via_get_json, url, n)),
            },
            args.reps,
        )
    for name, seconds in medians.items():
        print(f"  {name}: median {seconds:.3f} s = {n / seconds:.0f} requests/s", flush=True)
    baseline_s = medians["aiohttp"]
    print(
        f"  breakdown: map_async stage alone {baseline_s / medians['aiohttp in map_async']:.3g}x, "
        f"get_json (bridge + first + rxasync.http) alone {baseline_s / medians['get_json in gather']:.3g}x",
        flush=True,
    )
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
