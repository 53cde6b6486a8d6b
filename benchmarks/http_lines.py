"""rxasync.http.lines vs raw aiohttp ``async for line in resp.content``, in lines per second.

Target (issue 3): >= 1x the lines/s of the raw loop over a 200 MB body of
100-byte lines served by another process on 127.0.0.1. rxasync decodes
each line to ``str`` (the raw loop yields undecoded ``bytes``); both only
count lines.

    python -m benchmarks.http_lines [--size MB] [--quick] [--reps N]
"""

from __future__ import annotations

import argparse
import time

import aiohttp
from reactivex import operators as ops

import rxasync
from benchmarks._util import alternate, header, parse_args, report
from benchmarks.http_common import server, trial
from rxasync.http import lines

TARGET = 1.0
LINE = 100


async def rx_lines(url: str, expected: int) -> float:
    async with aiohttp.ClientSession() as session:
        start = time.perf_counter()
        count = await rxasync.last(lines(url, session=session).pipe(ops.count()))
        seconds = time.perf_counter() - start
    assert count == expected, (count, expected)
    return seconds


async def raw_lines(url: str, expected: int) -> float:
    async with aiohttp.ClientSession() as session:
        start = time.perf_counter()
        count = 0
        async with session.get(url) as resp:
            async for _line in resp.content:
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
    header(f"http_lines: {mb} MB of {LINE}-byte lines ({count:,} lines)", args)
    with server() as base:
        url = f"{base}/lines?size={count * LINE}"
        medians = alternate(
            {
                "rxasync": trial(lambda: rx_lines(url, count)),
                "aiohttp": trial(lambda: raw_lines(url, count)),
            },
            args.reps,
        )
    for name, seconds in medians.items():
        print(f"  {name}: median {seconds:.3f} s = {count / seconds / 1e6:.2f} M lines/s", flush=True)
    return report(
        "http_lines lines/s",
        count,
        medians["rxasync"],
        medians["aiohttp"],
        target=TARGET,
        baseline="raw aiohttp `async for line in resp.content`",
    )


if __name__ == "__main__":
    main()
