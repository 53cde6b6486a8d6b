"""``query``: the rows of a SQL query, read through a server-side cursor with demand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from reactivex import Observable

from .._bridge import from_async_batches
from .._checks import check_int
from .._flow import demand_room
from ._pool import PoolArg, acquire, check_pool
from ._translate import translate_errors

__all__ = ["query"]


def query(
    pool: PoolArg, sql: str, *args: Any, prefetch: int = 1000, name: str | None = None
) -> Observable[asyncpg.Record]:
    """The rows of ``sql`` as ``asyncpg.Record`` items, through a server-side cursor.

    The query runs in a read-only transaction on a connection of its own
    (from ``pool``), fetching at most ``prefetch`` rows at a time and no more
    than demand downstream leaves room for: a slow consumer holds a bounded
    number of rows whatever the size of the result. Disposing mid-result
    closes the cursor, rolls the transaction back and returns the connection
    to the pool clean; a connection that broke is not returned but closed.

    Marble::

        rows:    --[r1 r2]--[r3]--|
        result:  --r1-r2----r3----|

    Args:
        pool: an ``asyncpg.Pool`` or ``asyncpg.Connection`` you own (never
            closed here; a connection must not be used by anything else
            meanwhile), or a DSN: a connection of its own, closed at the end.
        sql: the query, with ``$1``, ``$2``... placeholders.
        args: the placeholders' values.
        prefetch: most rows per round trip; if in doubt, 1000 (fewer for
            very wide rows).
        name: the name of its counters in :mod:`rxasync.stats` (default ``<kind>#<id>``).

    Returns:
        An ``Observable[asyncpg.Record]``.

    Raises:
        DatabaseQueryError: (as ``on_error``) the server refused the SQL;
            carries ``sqlstate`` and ``statement``.
        DatabaseConnectionError: (as ``on_error``) the connection was lost.

    Example:
        >>> import asyncio, rxasync
        >>> from rxasync.postgres import query
        >>> from rxasync.postgres._examples import dsn  # a private server for the example
        >>> rows = asyncio.run(rxasync.to_list(query(dsn(), "SELECT generate_series(1, $1) AS n", 3)))
        >>> [r["n"] for r in rows]
        [1, 2, 3]
    """
    check_pool(pool)
    check_int("prefetch", prefetch)

    async def batches() -> AsyncIterator[list[asyncpg.Record]]:
        async with acquire(pool) as conn:
            # A managed transaction: its exit rolls back after an error or a dispose (also
            # one that cancelled a fetch in flight: asyncpg waits for the cancel first).
            with translate_errors(sql, conn=conn):
                async with conn.transaction(readonly=True):
                    cursor = await conn.cursor(sql, *args)
                    while True:
                        n = demand_room(prefetch)
                        rows = await cursor.fetch(n)
                        if rows:
                            yield rows
                        if len(rows) < n:
                            break

    return from_async_batches(batches, name=name)
