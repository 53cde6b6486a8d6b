"""copy_records when the server goes away in the middle of a large batch: a connection error, never a hang.

The batches are big (16 MB) and the server slow (a CHECK that sleeps per row), so
the client is far ahead of the server, waiting for the socket to drain, when the
backend dies: the case where asyncpg's ``COPY`` used to wait for ever.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from reactivex import operators as ops

import rxasync
from rxasync.postgres import copy_records
from rxasync.postgres._translate import translate_errors
from rxasync.testing import PostgresServer

BATCH = 4000
PAD = "x" * 4000  # 4000 rows of 4 KB: 16 MB a batch, more than the sockets hold
ROWS = [(i, PAD) for i in range(3 * BATCH)]


@pytest.fixture(scope="module")
def own_server() -> Iterator[PostgresServer]:
    """A server of this module's own: its tests kill and stop it."""
    with PostgresServer() as server:
        yield server


async def connect_when_recovered(dsn: str) -> asyncpg.Connection:
    """A connection once the server accepts again after a crash reset (at most 20 s)."""
    for _ in range(200):
        try:
            conn: asyncpg.Connection = await asyncpg.connect(dsn)
            return conn
        except (asyncpg.CannotConnectNowError, asyncpg.ConnectionDoesNotExistError, OSError):
            await asyncio.sleep(0.1)
    raise AssertionError("the server did not recover")


async def copying_backend(watcher: asyncpg.Connection, committed: list[int]) -> int:
    """The pid of the backend running the second batch's COPY, once it has run a moment (at most 20 s)."""
    for _ in range(2000):
        if committed:
            pid: int | None = await watcher.fetchval(
                "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'COPY%'"
            )
            if pid is not None:
                await asyncio.sleep(0.2)  # the client has written what the sockets hold and waits
                return pid
        await asyncio.sleep(0.01)
    raise AssertionError("no COPY ran")


@pytest.mark.parametrize(
    ("how", "owner"),
    [("sigkill the backend", "dsn"), ("fast shutdown", "dsn"), ("sigkill the backend", "pool")],
)
async def test_copy_records_server_gone_mid_batch_is_a_connection_error_and_only_whole_batches_stay(
    own_server: PostgresServer, how: str, owner: str
) -> None:
    # With a pool, the connection is a proxy that asyncpg detaches when the connection is lost, before
    # the termination listener runs: the wake-up must not go through the proxy.
    setup = await connect_when_recovered(own_server.dsn)
    await setup.execute("DROP TABLE IF EXISTS t")
    await setup.execute(
        "CREATE OR REPLACE FUNCTION slow_ok() RETURNS boolean LANGUAGE plpgsql AS"
        " $$ BEGIN PERFORM pg_sleep(0.0002); RETURN true; END $$"
    )
    await setup.execute("CREATE TABLE t (n int, pad text CHECK (slow_ok()))")
    watcher, committed = setup, []

    async def chunks() -> AsyncIterator[list[tuple[int, str]]]:
        for i in range(0, len(ROWS), 500):
            yield ROWS[i : i + 500]

    pool = await asyncpg.create_pool(own_server.dsn, min_size=1, max_size=1) if owner == "pool" else None
    src = rxasync.from_async_batches(chunks).pipe(
        copy_records(pool or own_server.dsn, "t", columns=["n", "pad"], batch_size=BATCH),
        ops.do_action(committed.append),
    )
    copy = asyncio.ensure_future(rxasync.to_list(src))
    victim = await copying_backend(watcher, committed)
    if how == "fast shutdown":
        own_server.stop()
        own_server.start()
    else:
        os.kill(victim, signal.SIGKILL)  # a backend of our own server, by its pid
    watcher.terminate()
    try:
        with pytest.raises(rxasync.DatabaseConnectionError) as info:
            async with asyncio.timeout(30):  # before the fix: asyncpg's COPY waited for ever
                await copy
    finally:
        if pool is not None:
            pool.terminate()
    err = info.value
    assert isinstance(err.__cause__, asyncpg.ConnectionDoesNotExistError)  # chained to asyncpg's own error
    assert err.target == "t"
    assert "'t'" in str(err)
    assert "starting with row (4000, 'xxxx" in str(err)  # the failed (second) batch's first row
    assert committed == [BATCH]
    conn = await connect_when_recovered(own_server.dsn)
    try:  # the first batch whole, nothing of the second
        assert await conn.fetchval("SELECT count(*) FROM t") == BATCH
        assert await conn.fetchval("SELECT max(n) FROM t") == BATCH - 1
    finally:
        await conn.close()


async def test_internal_client_error_on_a_closed_connection_is_a_connection_error(
    own_server: PostgresServer,
) -> None:
    # asyncpg raises InternalClientError ("not connected", "cannot switch to state ...; protocol is in
    # the 'failed' state") when a shutdown catches its protocol between two steps; on a connection
    # that is closed it is a lost connection, not a plain DatabaseError. (The error is made here: no
    # server run reproduced that exact race on demand; the ones above reproduce the hang instead.)
    conn = await connect_when_recovered(own_server.dsn)
    internal = asyncpg.exceptions.InternalClientError("not connected")
    with pytest.raises(rxasync.DatabaseError) as open_info, translate_errors("COPY t", "t", conn=conn):
        raise internal
    assert type(open_info.value) is rxasync.DatabaseError  # on a live connection: asyncpg's own bug
    conn.terminate()
    with pytest.raises(rxasync.DatabaseConnectionError) as info, translate_errors("COPY t", "t", conn=conn):
        raise internal
    assert info.value.__cause__ is internal
    assert info.value.target == "t"


async def test_internal_client_error_on_a_pool_connection_lost_is_a_connection_error(
    own_server: PostgresServer,
) -> None:
    # A pool's proxy is detached by asyncpg as soon as its connection is lost: asking it is_closed()
    # then raises InterfaceError, which must not replace the translation (the query path hands
    # translate_errors the proxy).
    pool = await asyncpg.create_pool(own_server.dsn, min_size=0, max_size=1)
    try:
        proxy = await pool.acquire()
        proxy.terminate()  # lost: asyncpg releases the holder and detaches the proxy
        internal = asyncpg.exceptions.InternalClientError("not connected")
        with pytest.raises(rxasync.DatabaseConnectionError) as info, translate_errors("SELECT 1", conn=proxy):
            raise internal
        assert info.value.__cause__ is internal
    finally:
        pool.terminate()
