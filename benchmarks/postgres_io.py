"""``query`` and ``copy_records`` against raw asyncpg, on a private PostgreSQL, same run.

Issue 13's targets, each checked below (medians of alternating runs):

* ``query`` over N rows (default 1,000,000) >= 0.8x a raw asyncpg cursor
  loop (``cursor.fetch(prefetch)`` in a read-only transaction) with the
  same ``prefetch``;
* ``copy_records`` >= 0.8x raw ``copy_records_to_table`` with the same
  batches, each in its own transaction. The rows come from an rxasync
  source (``from_async_batches`` over the list in chunks); the same run
  with ``reactivex.from_iterable`` is reported too (no target): RxPY's own
  per-item cost is then part of the figure.

Rows are ``(n int, pad text)`` with 32 bytes of text. Both sides use one
connection of their own per run; the rxasync side subscribes with a plain
callback that counts.

    .venv/bin/python -m benchmarks.postgres_io [--quick] [--rows N] [--reps N]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import reactivex
from reactivex import Observable

import rxasync
from benchmarks._util import Trial, alternate, header, parse_args, report
from rxasync.postgres import copy_records, query
from rxasync.testing import PostgresServer

PREFETCH = 1000
BATCH = 10_000
SQL = "SELECT n, repeat('x', 32) AS pad FROM generate_series(1, $1) AS n"


def _extra(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rows", type=int, default=None, help="rows per run (default 1,000,000; quick 100,000)"
    )


async def _drain(source: Observable[Any]) -> int:
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    seen = 0

    def on_next(_: Any) -> None:
        nonlocal seen
        seen += 1

    source.subscribe(on_next, done.set_exception, lambda: done.set_result(None))
    await done
    return seen


async def _raw_query(conn: asyncpg.Connection, n: int) -> float:
    start = time.perf_counter()
    seen = 0
    async with conn.transaction(readonly=True):
        cursor = await conn.cursor(SQL, n)
        while rows := await cursor.fetch(PREFETCH):
            seen += len(rows)
    elapsed = time.perf_counter() - start
    assert seen == n
    return elapsed


async def _rx_query(conn: asyncpg.Connection, n: int) -> float:
    start = time.perf_counter()
    seen = await _drain(query(conn, SQL, n, prefetch=PREFETCH))
    elapsed = time.perf_counter() - start
    assert seen == n
    return elapsed


async def _raw_copy(conn: asyncpg.Connection, rows: list[tuple[int, str]]) -> float:
    start = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        async with conn.transaction():
            await conn.copy_records_to_table("t", records=rows[i : i + BATCH], columns=["n", "pad"])
    return time.perf_counter() - start


def _rows_from_bridge(rows: list[tuple[int, str]]) -> Observable[tuple[int, str]]:
    """The rows from an rxasync source (the bridge, in lists of 1000, paced by the sink's demand)."""

    async def chunks() -> AsyncIterator[list[tuple[int, str]]]:
        for i in range(0, len(rows), 1000):
            yield rows[i : i + 1000]

    return rxasync.from_async_batches(chunks)


async def _rx_copy(conn: asyncpg.Connection, rows: list[tuple[int, str]], bridged: bool = True) -> float:
    source = _rows_from_bridge(rows) if bridged else reactivex.from_iterable(rows)
    start = time.perf_counter()
    batches = await _drain(source.pipe(copy_records(conn, "t", columns=["n", "pad"], batch_size=BATCH)))
    elapsed = time.perf_counter() - start
    assert batches >= -(-len(rows) // BATCH)
    return elapsed


def _trial(dsn: str, body: Callable[[asyncpg.Connection], Awaitable[float]]) -> Trial:
    """One timed run on a loop and a connection of its own (their set-up is not timed)."""

    async def once() -> float:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("TRUNCATE t")
            return await body(conn)
        finally:
            await conn.close()

    return lambda: asyncio.run(once())


async def _setup(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    await conn.execute("CREATE UNLOGGED TABLE t (n int, pad text)")
    await conn.close()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv, __doc__ or "", _extra)
    n = args.rows or (100_000 if args.quick else 1_000_000)
    header("postgres: rxasync vs raw asyncpg", args)
    with PostgresServer() as server:
        dsn = server.dsn
        asyncio.run(_setup(dsn))
        reads = {
            "rxasync": _trial(dsn, lambda c: _rx_query(c, n)),
            "raw": _trial(dsn, lambda c: _raw_query(c, n)),
        }
        times = alternate(reads, args.reps)
        report(f"query, {n} rows, prefetch {PREFETCH}", n, times["rxasync"], times["raw"], target=0.8,
               baseline="raw cursor loop")  # fmt: skip
        rows = [(i, "x" * 32) for i in range(n)]
        copies = {
            "rxasync": _trial(dsn, lambda c: _rx_copy(c, rows)),
            "from_iterable": _trial(dsn, lambda c: _rx_copy(c, rows, bridged=False)),
            "raw": _trial(dsn, lambda c: _raw_copy(c, rows)),
        }
        times = alternate(copies, args.reps)
        report(f"copy_records, {n} rows from an rxasync source, batches of {BATCH}", n, times["rxasync"],
               times["raw"], target=0.8, baseline="raw copy_records_to_table")  # fmt: skip
        report(f"copy_records, {n} rows from reactivex.from_iterable (RxPY's per-item cost included)", n,
               times["from_iterable"], times["raw"], baseline="raw copy_records_to_table")  # fmt: skip


if __name__ == "__main__":
    main()
