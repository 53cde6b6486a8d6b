"""Demand end to end: a million rows of about 1 KiB through query into a slow map_async, in bounded memory.

The million rows (1 GB through the cursor) run under ``tracemalloc``, which
slows every allocation several times: about 40 s on a loaded 2-core
machine, hence the ``slow`` mark and a longer timeout. The traced peak must
stay under 64 MiB (it is about 2 MiB: a few batches of rows, whatever the
size of the result).
"""

from __future__ import annotations

import asyncio
import operator
import tracemalloc

import asyncpg
import pytest
from reactivex import operators as ops

import rxasync
from rxasync.operators import map_async
from rxasync.postgres import query
from rxasync.testing import PostgresServer

MiB = 1024 * 1024
ROWS = 1_000_000
SQL = "SELECT n, repeat('x', 1000) AS pad FROM generate_series(1, $1) AS n"


@pytest.mark.slow
@pytest.mark.timeout(360)
async def test_query_million_1kib_rows_into_slow_map_async_traced_peak_under_64_mib(
    postgres_server: PostgresServer,
) -> None:
    seen = 0

    async def slow(row: asyncpg.Record) -> int:
        nonlocal seen
        seen += 1
        if seen % 2000 == 0:
            await asyncio.sleep(0.001)  # slower than the server now and then: the cursor must wait
        return len(row["pad"])

    pipeline = query(postgres_server.dsn, SQL, ROWS, prefetch=1000).pipe(
        map_async(slow, concurrency=256), ops.reduce(operator.add, 0)
    )
    tracemalloc.start()
    try:
        total = await rxasync.to_list(pipeline)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == ROWS
    assert total == [ROWS * 1000]
    assert peak < 64 * MiB, f"traced peak {peak / MiB:.1f} MiB"
