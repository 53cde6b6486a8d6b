"""The logs pipeline's ingest (tail → parse → count per minute → ``copy_records``) against a plain loop.

Issue 16, item 3 (no target: the figure is reported). The log is made by
``examples.pipelines.logs._generate.make_log`` (N lines over 60 minutes,
one bad line in 250) and written to a file before the runs. Both sides end
with the counts committed in PostgreSQL:

* **rxasync**: the program's own ``Ingest.run`` on
  ``files.tail(from_start=True)`` + ``take(N)``: ``batch(1000)``, the
  ``parse`` stage, the per-minute counts, the rows outbox into
  ``copy_records``, the alerts outbox into ``write_stream`` (a private
  Redis; a handful of alerts);
* the same stages on ``files.read_line_batches`` (the file read in lists
  of lines, not followed): what ``tail``'s one item per line costs;
* **plain loop**: ``readlines()``, the same ``parse_lines``, a ``dict``
  of counts, one ``copy_records_to_table`` in a transaction.

Lines/s are of the whole run; the ratio is plain / rxasync time (1.0: as
fast as the loop).

    .venv/bin/python -m benchmarks.pipeline_logs [--quick] [--lines N] [--reps N]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path

import asyncpg
from reactivex import operators as ops

from benchmarks._util import Trial, alternate, header, parse_args, report
from examples.pipelines.logs._generate import make_log
from examples.pipelines.logs._parse import parse_lines
from examples.pipelines.logs._pipeline import COLUMNS, Ingest, Settings, create_table
from rxasync.files import read_line_batches, tail
from rxasync.testing import PostgresServer, RedisServer

TABLE = "bench_logs"


def _extra(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lines", type=int, default=None, help="lines per run (default 300,000; quick 50,000)"
    )


async def _truncate(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"TRUNCATE {TABLE}")
    finally:
        await conn.close()


async def _rx(settings: Settings, path: Path, n: int) -> float:
    await _truncate(settings.dsn)
    ingest = Ingest(settings)
    start = time.perf_counter()
    await ingest.run(tail(path, from_start=True, poll_interval=0.01).pipe(ops.take(n)))
    elapsed = time.perf_counter() - start
    assert ingest.counts.lines == n, ingest.counts.lines
    return elapsed


async def _rx_batches(settings: Settings, path: Path, n: int) -> float:
    await _truncate(settings.dsn)
    ingest = Ingest(settings)
    start = time.perf_counter()
    await ingest.run_batches(read_line_batches(path))
    elapsed = time.perf_counter() - start
    assert ingest.counts.lines == n, ingest.counts.lines
    return elapsed


async def _plain(dsn: str, path: Path, n: int) -> float:
    await _truncate(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        start = time.perf_counter()
        with path.open(encoding="utf-8") as file:
            lines = [line.rstrip("\n") for line in file.readlines()]
        counts: Counter[tuple[object, ...]] = Counter(parse_lines(lines).hits)
        rows = [(*key, requests) for key, requests in counts.items()]
        async with conn.transaction():
            await conn.copy_records_to_table(TABLE, records=rows, columns=COLUMNS)
        elapsed = time.perf_counter() - start
    finally:
        await conn.close()
    assert len(lines) == n
    return elapsed


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv, __doc__ or "", _extra)
    n = args.lines or (50_000 if args.quick else 300_000)
    header("pipeline logs: ingest vs a plain loop", args)
    with PostgresServer() as pg, RedisServer() as redis_server, tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "access.log")
        path.write_text("".join(line + "\n" for line in make_log(n, minutes=60).lines), encoding="utf-8")
        asyncio.run(create_table(pg.dsn, TABLE))
        settings = Settings(pg.dsn, redis_server.url, table=TABLE)
        trials: dict[str, Trial] = {
            "rxasync": lambda: asyncio.run(_rx(settings, path, n)),
            "batches": lambda: asyncio.run(_rx_batches(settings, path, n)),
            "plain": lambda: asyncio.run(_plain(pg.dsn, path, n)),
        }
        times = alternate(trials, args.reps)
        report(
            f"tail → parse → counts → copy_records, {n} lines",
            n,
            times["rxasync"],
            times["plain"],
            baseline="plain readlines + dict + copy_records_to_table",
        )
        report(
            f"read_line_batches (a finished file, no tail) → parse → counts → copy_records, {n} lines",
            n,
            times["batches"],
            times["plain"],
            baseline="plain loop",
        )


if __name__ == "__main__":
    main()
