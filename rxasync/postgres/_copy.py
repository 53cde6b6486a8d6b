"""``copy_records``: a sink of row tuples into a table, one ``COPY`` per batch, each batch whole or not at all."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import asyncpg
from reactivex import Observable

from .._batching import batch_stage, check_batch_size, then
from ._pool import PoolArg, acquire, check_pool
from ._translate import translate_errors

__all__ = ["copy_records"]

Row = Sequence[Any]


def copy_records(
    pool: PoolArg,
    table: str,
    *,
    columns: Sequence[str],
    schema: str | None = None,
    batch_size: int = 1000,
    name: str | None = None,
) -> Callable[[Observable[Row]], Observable[int]]:
    """An operator: row tuples in, one binary ``COPY`` per batch into ``table``, the row count per batch out.

    Each batch is copied in its own transaction: one that fails (a
    constraint, a bad type, a lost connection) is rolled back whole, so the
    table only ever holds whole batches; the error names the table and the
    batch's first row, and the batches before it stay committed. Batches
    hold up to ``batch_size`` rows (fewer when the source is slower than the
    server). The stage takes up to ``2 * batch_size`` rows ahead of the
    batch being copied (at most ``3 * batch_size`` in memory) and pauses an
    rxasync source upstream while the server is behind; the source refills
    it while the server works on a batch, so its cost and the server's overlap.

    Marble::

        source:  -r1-r2-r3-|
        result:  -------2--1|   (rows per committed batch)

    Args:
        pool: a pool or connection you own, or a DSN (a connection of its own).
        table: the table's name.
        columns: the columns the tuples fill, in order.
        schema: the table's schema (default: the search path).
        batch_size: most rows per ``COPY``; if in doubt, 1000 to 10000.
        name: the name of its counters in :mod:`rxasync.stats` (default ``<kind>#<id>``).

    Raises:
        DatabaseQueryError: (as ``on_error``) the server refused a batch;
            carries ``sqlstate``, ``target`` (the table) and the first row in its message.
        DatabaseConnectionError: (as ``on_error``) the connection was lost (the
            backend died, the server shut down), chained from asyncpg's error;
            the batch in flight was rolled back. Never a hang: a ``COPY`` that
            waits for the socket to drain when the connection goes is woken.

    Example:
        >>> import asyncio, asyncpg, reactivex, rxasync
        >>> from rxasync.postgres import copy_records
        >>> from rxasync.postgres._examples import dsn  # a private server for the example
        >>> async def main(dsn: str) -> list[int]:
        ...     conn = await asyncpg.connect(dsn)
        ...     await conn.execute("CREATE TABLE IF NOT EXISTS words (n int, w text)")
        ...     rows = reactivex.of((1, "a"), (2, "b"), (3, "c"))
        ...     counts = await rxasync.to_list(rows.pipe(copy_records(conn, "words", columns=["n", "w"])))
        ...     await conn.close()
        ...     return counts
        >>> asyncio.run(main(dsn()))
        [3]
    """
    check_pool(pool)
    check_batch_size(batch_size)
    cols = list(columns)
    if not cols:
        raise ValueError("copy_records needs the columns the tuples fill")
    statement = f"COPY {table} ({', '.join(cols)}) FROM STDIN"

    async def send(conn: asyncpg.Connection, batch: list[Row], handed: Callable[[], None]) -> list[int]:
        context = f"COPY into {table!r}, batch of {len(batch)} starting with row {_row_repr(batch[0])}"
        # asyncpg encodes and writes the rows without yielding, then awaits the server: handed() when the
        # last row is encoded lets the source refill the stage during that wait, not before the COPY.
        records = then(batch, handed)
        conn = _unwrapped(conn)
        with translate_errors(statement, table, context, conn), _resumed_when_lost(conn):
            await _copy_whole(conn, table, records, cols, schema)
        return [len(batch)]

    return lambda source: batch_stage(source, "copy_records", batch_size, lambda: acquire(pool), send, name)


def _unwrapped(conn: Any) -> asyncpg.Connection:
    """The connection itself, not a pool's proxy of it: asyncpg detaches the proxy when the connection
    is lost, and the batch's error handling (``is_closed``, removing the listener) must still reach it."""
    inner = conn._con if isinstance(conn, asyncpg.pool.PoolConnectionProxy) else conn
    return inner if inner is not None else conn


def _row_repr(row: Row, limit: int = 200) -> str:
    """The row as the error shows it: its ``repr``, cut at ``limit`` characters (a row may hold megabytes)."""
    text = repr(tuple(row))
    return text if len(text) <= limit else text[: limit - 4] + "...)"


async def _copy_whole(
    conn: asyncpg.Connection, table: str, records: Iterable[Row], columns: list[str], schema: str | None
) -> None:
    """One ``COPY`` in a transaction of its own (a savepoint inside the caller's): all of it or nothing.

    When the connection is lost, the ``COPY``'s own error goes up (``async with conn.transaction()``
    would raise its rollback's "the underlying connection is closed" instead, the real one as context).
    """
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.copy_records_to_table(table, records=records, columns=columns, schema_name=schema)
    except BaseException:
        if not conn.is_closed():
            await transaction.rollback()
        raise
    await transaction.commit()


@contextmanager
def _resumed_when_lost(conn: asyncpg.Connection) -> Iterator[None]:
    """Wake a ``COPY`` that waits to write when the connection is lost, so it fails instead of hanging.

    asyncpg (0.32) waits for the socket to drain (``writing_allowed``) before each 512 KiB of
    ``COPY`` data, and nothing sets it again when the connection is lost meanwhile (a backend
    killed or shut down while the client is ahead of the server): the ``COPY`` would wait for
    ever. A termination listener resumes writing (asyncio's ``Protocol.resume_writing``), and the
    ``COPY`` goes on to the error asyncpg has set for it (``ConnectionDoesNotExistError``).
    """

    # Taken now: with a pool, ``conn`` is a proxy that asyncpg detaches when the connection is lost,
    # before the listener runs (it is called soon after), so it cannot be reached through ``conn`` then.
    resume = getattr(getattr(conn, "_protocol", None), "resume_writing", None)

    def lost(_: object) -> None:
        if resume is not None:
            resume()

    conn.add_termination_listener(lost)
    try:
        yield
    finally:
        conn.remove_termination_listener(lost)
