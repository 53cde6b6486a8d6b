"""Demand end to end: a million rows of about 1 KiB through query into a slow map_async, in bounded memory.

Two measures. The million rows (1 GB through the cursor) run with the
process's resident high-water mark reset first (``/proc/self/clear_refs``)
and read after: it must grow by less than 64 MiB. The same pipeline over
100,000 rows runs under ``tracemalloc`` (which slows every allocation about
five times, too slow for a million here): its traced peak must stay under
64 MiB as well, and in fact under a tenth of what the rows weigh.
"""

from __future__ import annotations

import asyncio
import operator
import re
import tracemalloc
from pathlib import Path

import asyncpg
import pytest
from reactivex import operators as ops

import rxasync
from rxasync.operators import map_async
from rxasync.postgres import query
from rxasync.testing import PostgresServer

MiB = 1024 * 1024
SQL = "SELECT n, repeat('x', 1000) AS pad FROM generate_series(1, $1) AS n"


def reset_high_water() -> None:
    """Reset the resident high-water mark to the current size (Linux ``clear_refs``)."""
    Path("/proc/self/clear_refs").write_text("5")


def high_water_kib() -> int:
    status = Path("/proc/self/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert found is not None
    return int(found.group(1))


async def run(dsn: str, rows: int) -> int:
    """``rows`` rows into a slow ``map_async``; returns how many came out."""
    seen = 0

    async def slow(row: asyncpg.Record) -> int:
        nonlocal seen
        seen += 1
        if seen % 2000 == 0:
            await asyncio.sleep(0.001)  # slower than the server now and then: the cursor must wait
        return len(row["pad"])

    sizes = await rxasync.to_list(
        query(dsn, SQL, rows, prefetch=1000).pipe(
            map_async(slow, concurrency=256), ops.reduce(operator.add, 0)
        )
    )
    assert sizes == [rows * 1000]
    return seen


@pytest.mark.slow
async def test_query_million_1kib_rows_into_slow_map_async_resident_growth_under_64_mib(
    postgres_server: PostgresServer,
) -> None:
    await run(postgres_server.dsn, 10_000)  # warm up: codecs, prepared statements, allocator arenas
    before = high_water_kib()
    reset_high_water()
    assert await run(postgres_server.dsn, 1_000_000) == 1_000_000
    grown = (high_water_kib() - min(before, high_water_kib())) * 1024
    assert grown < 64 * MiB, f"resident memory grew {grown / MiB:.1f} MiB"


@pytest.mark.slow
async def test_query_rows_into_slow_map_async_traced_peak_under_64_mib(
    postgres_server: PostgresServer,
) -> None:
    rows = 100_000  # 100 MB of rows
    tracemalloc.start()
    try:
        assert await run(postgres_server.dsn, rows) == rows
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * MiB, f"traced peak {peak / MiB:.1f} MiB"
    assert peak < rows * 1000 / 10
