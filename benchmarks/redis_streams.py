"""``read_stream`` and ``write_stream`` against raw redis-py, on a private redis-server, same run.

Issue 13's targets, each checked below (medians of alternating runs):

* ``read_stream`` over N entries (default 1,000,000) >= 0.8x a raw redis-py
  ``XREAD`` loop with the same ``COUNT``;
* ``write_stream`` >= 0.8x raw pipelined ``XADD`` in batches of the same size.

Both sides use the same ``redis.asyncio.Redis`` client (bytes, no
decoding: ``read_stream(..., decode=None)``), so what differs is rxasync's
source (the bridge, demand, ``StreamEntry``) and its sink (the batch stage).
The rxasync side subscribes with a plain callback that counts.

``read_stream`` reads the ``XREAD`` reply as hiredis parsed it and builds each
``StreamEntry`` (``str`` ID, ``fields`` dict) in one pass, where the raw
loop gets redis-py's reshaped reply (``(id, dict)`` pairs, built by a Python
callback). So a third line, for context and with no target, times the
fastest raw loop on this driver: the same ``XREAD`` with that callback
skipped, building the same ``(id, dict)`` pairs inline.

    .venv/bin/python -m benchmarks.redis_streams [--quick] [--entries N] [--reps N] [--only read|write]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import reactivex
import redis.asyncio as aioredis
from reactivex import Observable

from benchmarks._util import Trial, alternate, header, parse_args, report
from rxasync.redis import read_stream, write_stream
from rxasync.testing import RedisServer

COUNT = 1000
BATCH = 1000
_FILL = "for i = 1, tonumber(ARGV[1]) do redis.call('XADD', KEYS[1], '*', 'n', i, 'pad', ARGV[2]) end"


def _extra(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--entries", type=int, default=None, help="entries per run (default 1,000,000; quick 100,000)"
    )
    parser.add_argument("--only", choices=("read", "write"), default=None, help="run one of the two")


async def _count(source: Observable[Any], n: int) -> float:
    """Seconds until ``n`` items arrived through a plain callback (then dispose)."""
    start = time.perf_counter()
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    seen = 0

    def on_next(_: Any) -> None:
        nonlocal seen
        seen += 1
        if seen == n and not done.done():
            done.set_result(None)

    sub = source.subscribe(on_next, done.set_exception, lambda: None)
    await done
    elapsed = time.perf_counter() - start
    sub.dispose()
    return elapsed


async def _raw_read(client: aioredis.Redis, n: int) -> float:
    start = time.perf_counter()
    last, seen = "0", 0
    while seen < n:
        reply: Any = await client.xread({"r": last}, count=COUNT, block=1000)
        entries = reply[0][1]
        seen += len(entries)
        last = entries[-1][0]
    return time.perf_counter() - start


def _as_received(response: Any, **_options: Any) -> Any:
    return response


async def _raw_unparsed_read(client: aioredis.Redis, n: int) -> float:
    reader = aioredis.Redis(connection_pool=client.connection_pool)  # the reply as hiredis parsed it
    reader.set_response_callback("XREAD", _as_received)
    start = time.perf_counter()
    last, seen = "0", 0
    while seen < n:
        reply: Any = await reader.xread({"r": last}, count=COUNT, block=1000)
        raw = next(iter(reply.values())) if isinstance(reply, dict) else reply[0][1]
        entries = [(i, dict(zip(it, it))) for i, fields in raw for it in (iter(fields),)]  # noqa: B905
        seen += len(entries)
        last = entries[-1][0]
    return time.perf_counter() - start


async def _rx_read(client: aioredis.Redis, n: int) -> float:
    return await _count(read_stream(client, "r", start="0", count=COUNT, decode=None), n)


async def _raw_write(client: aioredis.Redis, items: list[dict[str, str]]) -> float:
    start = time.perf_counter()
    for i in range(0, len(items), BATCH):
        pipe = client.pipeline(transaction=False)
        for fields in items[i : i + BATCH]:
            pipe.xadd("w", fields)  # type: ignore[arg-type]
        await pipe.execute()
    return time.perf_counter() - start


async def _rx_write(client: aioredis.Redis, items: list[dict[str, str]]) -> float:
    src = reactivex.from_iterable(items).pipe(write_stream(client, "w", batch_size=BATCH))
    start = time.perf_counter()
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    src.subscribe(lambda _: None, done.set_exception, lambda: done.set_result(None))
    await done
    return time.perf_counter() - start


def _trial(url: str, body: Callable[[aioredis.Redis], Awaitable[float]]) -> Trial:
    """One timed run on a loop and a client of its own (their set-up is not timed)."""

    async def once() -> float:
        client = aioredis.Redis.from_url(url, socket_timeout=None)
        try:
            await client.delete("w")
            return await body(client)
        finally:
            await client.aclose()

    return lambda: asyncio.run(once())


async def _fill(url: str, n: int) -> None:
    client = aioredis.Redis.from_url(url, socket_timeout=None)
    await client.eval(_FILL, 1, "r", str(n), "x" * 32)  # server-side: a million XADDs in a second
    await client.aclose()


def _reads(url: str, n: int, reps: int) -> None:
    asyncio.run(_fill(url, n))
    reads = {
        "rxasync": _trial(url, lambda c: _rx_read(c, n)),
        "raw": _trial(url, lambda c: _raw_read(c, n)),
        "unparsed": _trial(url, lambda c: _raw_unparsed_read(c, n)),
    }
    times = alternate(reads, reps)
    report(f"read_stream, {n} entries, COUNT {COUNT}", n, times["rxasync"], times["raw"], target=0.8,
           baseline="raw XREAD loop")  # fmt: skip
    report(f"  context: the raw loop without redis-py's reply callback, {n} entries", n,
           times["rxasync"], times["unparsed"], baseline="raw unparsed XREAD loop")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv, __doc__ or "", _extra)
    n = args.entries or (100_000 if args.quick else 1_000_000)
    header("redis streams: rxasync vs raw redis-py", args)
    with RedisServer() as server:
        url = server.url
        if args.only != "write":
            _reads(url, n, args.reps)
        if args.only == "read":
            return
        items = [{"n": str(i), "pad": "x" * 32} for i in range(n)]
        writes = {
            "rxasync": _trial(url, lambda c: _rx_write(c, items)),
            "raw": _trial(url, lambda c: _raw_write(c, items)),
        }
        times = alternate(writes, args.reps)
        report(f"write_stream, {n} entries, batches of {BATCH}", n, times["rxasync"], times["raw"], target=0.8,
               baseline="raw pipelined XADD")  # fmt: skip


if __name__ == "__main__":
    main()
