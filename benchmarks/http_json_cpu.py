"""Where ``get_json``'s client CPU goes, per request: variants of one fetch, in ``gather``.

Not a target check (``http_json`` is): this measures the client process's CPU
time (``time.process_time``) per request for each variant below, the server
in another process on 127.0.0.1, alternating variant by variant, and prints
the median microseconds per request and each one's difference from raw
aiohttp. CPU time per request is far steadier than wall-clock rates on a
shared machine, so it resolves costs of a few microseconds.

    python -m benchmarks.http_json_cpu [--requests N] [--reps N] [--profile VARIANT] [--once VARIANT]

``--profile VARIANT`` runs that variant once under ``cProfile`` and prints the
functions with the most time of their own. ``--once VARIANT`` runs it once
and prints nothing: the client's instructions per request, immune to the
load, are the difference of two runs under callgrind (the server, a child
process, is not traced), divided by the requests::

    export PYTHONHASHSEED=0  # the same start-up in both runs
    valgrind --tool=callgrind python -m benchmarks.http_json_cpu --once aiohttp --requests 0
    valgrind --tool=callgrind python -m benchmarks.http_json_cpu --once aiohttp --requests 1000

Part of a request's count is the garbage collector's, which depends on when
a full collection falls; ``callgrind_annotate --inclusive=yes`` gives
``gc_collect_main``'s share, to subtract.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

import rxasync
from benchmarks.http_common import server
from rxasync.http import Timeout, get_json
from rxasync.http._json import loads  # get_json's decoder: msgspec when installed

CONCURRENCY = 100
# rxasync's default limits before it took aiohttp's for whole bodies (no total, sock_read re-armed at each read)
IDLE_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=300)
ACCEPT = {"Accept": "application/json"}
TOTAL_TIMEOUT = aiohttp.ClientTimeout(total=300, sock_connect=30)  # get_json's default, as aiohttp's

Fetch = Callable[[aiohttp.ClientSession, str, int], Awaitable[Any]]


async def _raw(session: aiohttp.ClientSession, url: str, i: int) -> Any:
    async with session.get(url, params={"i": i}) as resp:
        resp.raise_for_status()
        return await resp.json()


async def _raw_idle(session: aiohttp.ClientSession, url: str, i: int) -> Any:
    async with session.get(url, params={"i": i}, timeout=IDLE_TIMEOUT) as resp:
        resp.raise_for_status()
        return await resp.json()


async def _raw_accept(session: aiohttp.ClientSession, url: str, i: int) -> Any:
    async with session.get(url, params={"i": i}, headers=ACCEPT) as resp:
        resp.raise_for_status()
        return await resp.json()


async def _raw_as_get_json(session: aiohttp.ClientSession, url: str, i: int) -> Any:
    """What ``get_json`` asks aiohttp for and how it reads, inline: its floor in aiohttp."""
    resp = await session.request("GET", url, params={"i": i}, headers=ACCEPT, timeout=TOTAL_TIMEOUT)
    if not 200 <= resp.status < 300:
        raise RuntimeError(resp.status)
    parts = []
    while chunk := await resp.content.readany():
        parts.append(chunk)
    if not resp.closed:
        resp.release()
    return loads(parts[0] if len(parts) == 1 else b"".join(parts))


async def _get_json(session: aiohttp.ClientSession, url: str, i: int) -> Any:
    return await rxasync.first(get_json(url, session=session, params={"i": i}))


_IDLE = Timeout(total=None, connect=30, idle=300)


async def _get_json_idle(session: aiohttp.ClientSession, url: str, i: int) -> Any:
    return await rxasync.first(get_json(url, session=session, params={"i": i}, timeout=_IDLE))


VARIANTS: dict[str, Fetch] = {
    "aiohttp": _raw,
    "aiohttp, sock_read=300 no total": _raw_idle,
    "aiohttp, Accept header": _raw_accept,
    "aiohttp as get_json does it, inline": _raw_as_get_json,
    "get_json (default: total=300)": _get_json,
    "get_json, Timeout(idle=300) no total (old)": _get_json_idle,
}


async def _cpu_per_request(fetch: Fetch, url: str, n: int) -> float:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:
        sem = asyncio.Semaphore(CONCURRENCY)

        async def one(i: int) -> Any:
            async with sem:
                return await fetch(session, url, i)

        await asyncio.gather(*(one(i) for i in range(CONCURRENCY)))  # the pool's connections opened
        start = time.process_time()
        out = await asyncio.gather(*(one(i) for i in range(n)))
        cpu = time.process_time() - start
    assert [o["i"] for o in out] == list(range(n))
    return cpu / n * 1e6


def main(argv: list[str] | None = None) -> None:
    """Print the client CPU microseconds per request of every variant (medians)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=None, help="GETs per run (default 2000, quick 500)")
    parser.add_argument("--reps", type=int, default=None, help="runs per variant (default 5, quick 3)")
    parser.add_argument(
        "--quick", action="store_true", help="fewer requests and runs (python -m benchmarks --quick)"
    )
    parser.add_argument("--profile", choices=sorted(VARIANTS), default=None)
    parser.add_argument("--once", choices=sorted(VARIANTS), default=None)
    args = parser.parse_args(argv)
    args.requests = args.requests if args.requests is not None else 500 if args.quick else 2000
    args.reps = args.reps or (3 if args.quick else 5)
    with server() as base:
        url = f"{base}/json"
        if args.once is not None:
            asyncio.run(_cpu_per_request(VARIANTS[args.once], url, args.requests))
            return
        if args.profile is not None:
            profiler = cProfile.Profile()
            profiler.runcall(asyncio.run, _cpu_per_request(VARIANTS[args.profile], url, args.requests))
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
            return
        times: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for _ in range(args.reps):
            for name, fetch in VARIANTS.items():
                times[name].append(asyncio.run(_cpu_per_request(fetch, url, args.requests)))
    base_us = statistics.median(times["aiohttp"])
    print(f"== http_json_cpu: {args.requests} GETs x {args.reps}, client CPU us per request (median)")
    for name, us in times.items():
        med = statistics.median(us)
        print(
            f"  {name:40s} {med:7.1f} us  ({med - base_us:+6.1f})  runs {', '.join(f'{u:.0f}' for u in us)}"
        )


if __name__ == "__main__":
    main()
