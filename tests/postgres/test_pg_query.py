"""query against a real PostgreSQL: rows, errors with SQLSTATE, dispose, restart and SIGKILL mid-query, cycles."""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from reactivex import operators as ops

import rxasync
from rxasync.operators import map_async
from rxasync.postgres import query
from rxasync.testing import PostgresServer, assert_run

SERIES = "SELECT n, repeat('x', 10) AS pad FROM generate_series(1, $1) AS n"


@pytest.fixture
async def pool(postgres_server: PostgresServer) -> AsyncIterator[asyncpg.Pool]:
    p = await asyncpg.create_pool(postgres_server.dsn, min_size=1, max_size=2)
    try:
        yield p
    finally:
        await p.close()


async def states(conn: asyncpg.Connection, app: str | None = None) -> list[str]:
    """The state (``idle``, ``active``, ``idle in transaction``...) of every other client backend,
    or of those whose ``application_name`` is ``app`` (other tests' sessions may still be ending)."""
    rows = await conn.fetch(
        "SELECT state FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        " AND ($1::text IS NULL OR application_name = $1)",
        app,
    )
    return sorted(r["state"] for r in rows)


async def test_query_rows_in_order_from_a_dsn(postgres_server: PostgresServer) -> None:
    rows = await assert_run(lambda: query(postgres_server.dsn, SERIES, 2500, prefetch=300))
    assert [r["n"] for r in rows] == list(range(1, 2501))


async def test_query_from_a_pool_and_a_connection(
    pool: asyncpg.Pool, postgres_connection: asyncpg.Connection
) -> None:
    assert [r[0] for r in await rxasync.to_list(query(pool, SERIES, 5))] == [1, 2, 3, 4, 5]
    assert [r[0] for r in await rxasync.to_list(query(postgres_connection, SERIES, 3))] == [1, 2, 3]
    assert not postgres_connection.is_closed()
    assert await postgres_connection.fetchval("SELECT 1") == 1  # back out of the read-only transaction


async def test_query_bad_sql_is_a_query_error_with_sqlstate(postgres_server: PostgresServer) -> None:
    with pytest.raises(rxasync.DatabaseQueryError) as info:
        await rxasync.to_list(query(postgres_server.dsn, "SELEC 1"))
    assert info.value.sqlstate == "42601"
    assert info.value.statement == "SELEC 1"
    assert "SQLSTATE 42601" in str(info.value)
    assert isinstance(info.value.__cause__, asyncpg.PostgresSyntaxError)


async def test_query_is_read_only(
    postgres_connection: asyncpg.Connection, postgres_server: PostgresServer
) -> None:
    await postgres_connection.execute("CREATE TABLE t (n int)")
    with pytest.raises(rxasync.DatabaseQueryError) as info:
        await rxasync.to_list(query(postgres_server.dsn, "INSERT INTO t VALUES (1) RETURNING n"))
    assert info.value.sqlstate == "25006"  # read_only_sql_transaction
    assert await postgres_connection.fetchval("SELECT count(*) FROM t") == 0


async def test_query_dispose_mid_result_returns_the_connection_clean(
    pool: asyncpg.Pool, postgres_connection: asyncpg.Connection
) -> None:
    got = await rxasync.to_list(query(pool, SERIES, 100_000, prefetch=50).pipe(ops.take(120)))
    assert [r[0] for r in got] == list(range(1, 121))
    for _ in range(250):  # the cursor's transaction rolls back, then the connection goes back
        if pool.get_idle_size() == pool.get_size():
            break
        await asyncio.sleep(0.02)
    assert pool.get_idle_size() == pool.get_size()  # given back
    assert "idle in transaction" not in await states(postgres_connection)
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT 42") == 42
        assert not conn.is_in_transaction()


async def test_query_fetches_no_more_than_demand(postgres_server: PostgresServer) -> None:
    taken = 0
    most_ahead = 0

    def on_row(_: asyncpg.Record) -> None:
        nonlocal taken
        taken += 1

    async def slow(row: asyncpg.Record) -> int:
        await asyncio.sleep(0)
        return int(row[0])

    # Rows fetched ahead of the slow stage are at most its demand (2 * concurrency).
    async def watch(row: int) -> int:
        nonlocal most_ahead
        most_ahead = max(most_ahead, taken - row)
        return row

    src = query(postgres_server.dsn, SERIES, 3000, prefetch=1000)
    out = await rxasync.to_list(
        src.pipe(ops.do_action(on_row), map_async(slow, concurrency=2), map_async(watch))
    )
    assert out == list(range(1, 3001))
    assert most_ahead <= 4 + 2


@pytest.fixture
def own_server() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


async def test_query_server_restart_mid_query_is_a_connection_error(own_server: PostgresServer) -> None:
    pool = await asyncpg.create_pool(own_server.dsn, min_size=1, max_size=1)
    try:
        seen = 0

        async def slow(row: asyncpg.Record) -> None:
            nonlocal seen
            seen += 1
            if seen == 500:
                own_server.stop()  # fast shutdown: the server ends our session mid-result
            await asyncio.sleep(0)

        with pytest.raises(rxasync.DatabaseConnectionError) as info:
            await rxasync.to_list(query(pool, SERIES, 1_000_000, prefetch=100).pipe(map_async(slow)))
        assert info.value.__cause__ is not None
        assert 500 <= seen < 1_000_000
        own_server.start()
        async with pool.acquire() as conn:  # not the half-read connection: a new one that works
            assert await conn.fetchval("SELECT count(*) FROM generate_series(1, 10)") == 10
            assert not conn.is_in_transaction()
    finally:
        await pool.close()


async def test_query_backend_sigkilled_mid_query_is_a_connection_error_and_not_pooled_again(
    own_server: PostgresServer,
) -> None:
    # The hardest way to lose the server mid-result: the backend process serving the query dies at
    # once (SIGKILL, no goodbye on the socket), and the postmaster resets every session while it recovers.
    pool = await asyncpg.create_pool(own_server.dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:  # the pool's one connection: the one the query will get
            victim = conn.get_server_pid()
        seen = 0

        async def slow(row: asyncpg.Record) -> None:
            nonlocal seen
            seen += 1
            if seen == 500:
                os.kill(victim, signal.SIGKILL)  # that backend of our own server, by its pid
            await asyncio.sleep(0)

        with pytest.raises(rxasync.DatabaseConnectionError) as info:
            await rxasync.to_list(query(pool, SERIES, 1_000_000, prefetch=100).pipe(map_async(slow)))
        assert info.value.__cause__ is not None  # chained to asyncpg's own error
        assert info.value.statement == SERIES
        assert 500 <= seen < 1_000_000
        conn = await acquire_when_recovered(pool)
        try:  # not the half-read connection: a new session that works, outside any transaction
            assert conn.get_server_pid() != victim
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT count(*) FROM generate_series(1, 10)") == 10
        finally:
            await pool.release(conn)
    finally:
        await pool.close()


async def acquire_when_recovered(pool: asyncpg.Pool) -> asyncpg.Connection:
    """A working connection from ``pool`` once the server has finished its crash recovery (at most 20 s).

    A session that started just before the postmaster noticed the crash is ended by its reset
    (``ConnectionDoesNotExistError`` at its first statement): that one is given back and another taken.
    """
    for _ in range(200):
        try:
            conn: asyncpg.Connection = await pool.acquire()
        except (asyncpg.CannotConnectNowError, asyncpg.ConnectionDoesNotExistError, OSError):
            await asyncio.sleep(0.1)  # "the database system is in recovery mode"
            continue
        try:
            await conn.fetchval("SELECT 1")
        except (asyncpg.ConnectionDoesNotExistError, asyncpg.CannotConnectNowError, OSError):
            await pool.release(conn)
            await asyncio.sleep(0.1)
            continue
        return conn
    raise AssertionError("the server did not recover")


async def test_query_1000_subscribe_dispose_cycles_leave_nothing(
    postgres_server: PostgresServer, postgres_connection: asyncpg.Connection
) -> None:
    app = "cycles-pool"
    before = await states(postgres_connection, app)
    pool = await asyncpg.create_pool(
        postgres_server.dsn, min_size=1, max_size=3, server_settings={"application_name": app}
    )
    rng = random.Random(13)
    try:
        for _ in range(1000):
            sub = query(pool, SERIES, 10_000, prefetch=100).subscribe(lambda _: None, lambda _: None)
            for _ in range(rng.randrange(8)):
                await asyncio.sleep(0)
            sub.dispose()
        for _ in range(250):  # the last disposed query is rolling back and giving its connection back
            if pool.get_idle_size() == pool.get_size():
                break
            await asyncio.sleep(0.02)
        assert pool.get_idle_size() == pool.get_size()
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT 1") == 1
    finally:
        await pool.close()
    for _ in range(100):
        if await states(postgres_connection, app) == before:
            break
        await asyncio.sleep(0.02)
    assert await states(postgres_connection, app) == before


async def test_query_cycles_from_a_dsn_close_their_connections(
    postgres_server: PostgresServer, postgres_connection: asyncpg.Connection
) -> None:
    rng = random.Random(7)
    app = "cycles-dsn"
    before = await states(postgres_connection, app)
    for _ in range(100):
        dsn = f"{postgres_server.dsn}&application_name={app}"
        sub = query(dsn, SERIES, 10_000).subscribe(lambda _: None, lambda _: None)
        await asyncio.sleep(rng.random() * 0.01)
        sub.dispose()
    for _ in range(100):
        if await states(postgres_connection, app) == before:
            break
        await asyncio.sleep(0.02)
    assert await states(postgres_connection, app) == before
