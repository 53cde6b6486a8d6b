"""rxasync.http.stream over a large body vs raw aiohttp ``resp.content.iter_chunked(65536)``.

Target (issue 3): ``stream`` moves >= 0.9x the MB/s of the raw loop, over a
1 GiB body served by another process on 127.0.0.1. Both read 64 KiB chunks
through the same kind of ``aiohttp.ClientSession`` and only count bytes.

    python -m benchmarks.http_stream [--size MiB] [--quick] [--reps N]
"""

from __future__ import annotations

import argparse
import time

import aiohttp
from reactivex import operators as ops

import rxasync
from benchmarks._util import alternate, header, parse_args, report
from benchmarks.http_common import server, trial
from rxasync.http import Timeout, stream

TARGET = 0.9
CHUNK = 65536
# aiohttp's default is a 300 s *total* timer, checked on every read; rxasync's
# default Timeout has no total and a 300 s idle limit. The extra baseline uses
# rxasync's, to show what is left of the difference.
LIKE_FOR_LIKE = Timeout().to_aiohttp()


def _add_len(total: int, chunk: bytes) -> int:
    return total + len(chunk)


async def rx_stream(url: str, size: int) -> float:
    async with aiohttp.ClientSession() as session:
        start = time.perf_counter()
        total = await rxasync.last(
            stream(url, session=session, chunk_size=CHUNK).pipe(ops.reduce(_add_len, 0))
        )
        seconds = time.perf_counter() - start
    assert total == size, (total, size)
    return seconds


async def raw_stream(url: str, size: int, limits: aiohttp.ClientTimeout | None = None) -> float:
    async with aiohttp.ClientSession() as session:
        start = time.perf_counter()
        total = 0
        async with session.get(url, timeout=limits or session.timeout) as resp:
            async for chunk in resp.content.iter_chunked(CHUNK):
                total += len(chunk)
        seconds = time.perf_counter() - start
    assert total == size, (total, size)
    return seconds


def _extra(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", type=int, default=None, help="body size in MiB (default 1024, quick 128)")


def main(argv: list[str] | None = None) -> float:
    """Run the comparison; print medians, the ratio and whether the target was met."""
    args = parse_args(argv, __doc__ or "", _extra)
    mib = args.size or (128 if args.quick else 1024)
    size = mib << 20
    header(f"http_stream: {mib} MiB body, 64 KiB chunks", args)
    with server() as base:
        url = f"{base}/bytes?size={size}"
        medians = alternate(
            {
                "rxasync": trial(lambda: rx_stream(url, size)),
                "aiohttp": trial(lambda: raw_stream(url, size)),
                "aiohttp, rxasync's timeouts": trial(lambda: raw_stream(url, size, LIKE_FOR_LIKE)),
            },
            args.reps,
        )
    for name, seconds in medians.items():
        print(f"  {name}: median {seconds:.3f} s = {mib / seconds:.0f} MiB/s", flush=True)
    report(
        "http_stream MiB/s, like for like (no total timer, idle timeout per read)",
        mib,
        medians["rxasync"],
        medians["aiohttp, rxasync's timeouts"],
        baseline="raw aiohttp with rxasync's default timeouts",
    )
    return report(
        "http_stream MiB/s",
        mib,
        medians["rxasync"],
        medians["aiohttp"],
        target=TARGET,
        baseline="raw aiohttp iter_chunked",
    )


if __name__ == "__main__":
    main()
