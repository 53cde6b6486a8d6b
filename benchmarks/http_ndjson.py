"""rxasync.http.ndjson vs raw aiohttp ``async for line in resp.content`` + ``json.loads``, values/s.

Target (issue 17): >= 2x the values/s of the raw loop over a 200 MB body of
100-byte NDJSON lines (small objects) served by another process on
127.0.0.1. Both decode every line to a Python value and only count them.
The fast decoder (msgspec, the ``json`` extra) is measured when installed,
and ``ndjson`` with it disabled (``stdlib``) too.

    python -m benchmarks.http_ndjson [--size MB] [--quick] [--reps N]
"""

from __future__ import annotations

import argparse
import json
import time

import aiohttp
from reactivex import operators as ops

import rxasync
from benchmarks._util import alternate, header, parse_args, report
from benchmarks.http_common import server, trial
from rxasync.http import _json, ndjson

TARGET = 2.0
LINE = 100


async def rx_ndjson(url: str, expected: int, fast: bool = True) -> float:
    saved = _json._fast
    if not fast:
        _json._fast = None
    try:
        async with aiohttp.ClientSession() as session:
            start = time.perf_counter()
            count = await rxasync.last(ndjson(url, session=session).pipe(ops.count()))
            seconds = time.perf_counter() - start
    finally:
        _json._fast = saved
    assert count == expected, (count, expected)
    return seconds


async def raw_ndjson(url: str, expected: int) -> float:
    async with aiohttp.ClientSession() as session:
        start = time.perf_counter()
        count = 0
        loads = json.loads
        async with session.get(url) as resp:
            async for line in resp.content:
                loads(line)
                count += 1
        seconds = time.perf_counter() - start
    assert count == expected, (count, expected)
    return seconds


def _extra(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--size", type=int, default=None, help="body size in MB (default 200, quick 20)")


def main(argv: list[str] | None = None) -> float:
    """Run the comparison; print medians, the ratio and whether the target was met."""
    args = parse_args(argv, __doc__ or "", _extra)
    mb = args.size or (20 if args.quick else 200)
    count = mb * 1_000_000 // LINE
    header(
        f"http_ndjson: {mb} MB of {LINE}-byte NDJSON lines ({count:,} values), decoder {_json.decoder_name()}",
        args,
    )
    with server() as base:
        url = f"{base}/ndjson?size={count * LINE}"
        medians = alternate(
            {
                "rxasync": trial(lambda: rx_ndjson(url, count)),
                "aiohttp": trial(lambda: raw_ndjson(url, count)),
                "rxasync stdlib json": trial(lambda: rx_ndjson(url, count, fast=False)),
            },
            args.reps,
        )
    for name, seconds in medians.items():
        print(f"  {name}: median {seconds:.3f} s = {count / seconds / 1e6:.2f} M values/s", flush=True)
    print(
        f"  rxasync with the stdlib decoder: {medians['aiohttp'] / medians['rxasync stdlib json']:.3g}x",
        flush=True,
    )
    return report(
        "http_ndjson values/s",
        count,
        medians["rxasync"],
        medians["aiohttp"],
        target=TARGET,
        baseline="raw aiohttp `async for line` + json.loads",
    )


if __name__ == "__main__":
    main()
