"""listen (LISTEN/NOTIFY, reconnect with a gap signal) and copy_records (whole batches) on real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest
import reactivex
from reactivex import operators as ops
from reactivex.scheduler import NewThreadScheduler

import rxasync
from rxasync.http import Retry
from rxasync.postgres import Notification, copy_records, listen
from rxasync.testing import PostgresServer


async def notify_until(
    conn: asyncpg.Connection, done: asyncio.Future[object], channel: str, payload: str
) -> None:
    for _ in range(200):  # until the listener has it (at most 10 s)
        if done.done():
            return
        await conn.execute(f"NOTIFY {channel}, '{payload}'")
        await asyncio.sleep(0.05)
    raise AssertionError("the listener never heard")


async def test_listen_delivers_channel_payload_and_pid(
    postgres_connection: asyncpg.Connection, postgres_server: PostgresServer
) -> None:
    got = asyncio.ensure_future(rxasync.first(listen(postgres_server.dsn, "jobs", "other")))
    await notify_until(postgres_connection, got, "other", "hello")
    note = await got
    assert note == Notification("other", "hello", postgres_connection.get_server_pid())


async def test_listen_on_a_pool_gives_the_connection_back_without_listening(
    postgres_server: PostgresServer,
) -> None:
    pool = await asyncpg.create_pool(postgres_server.dsn, min_size=1, max_size=1)
    try:
        got = asyncio.ensure_future(rxasync.first(listen(pool, "jobs")))
        sender = await asyncpg.connect(postgres_server.dsn)
        await notify_until(sender, got, "jobs", "x")
        await sender.close()
        await got
        async with pool.acquire() as conn:
            assert await conn.fetch("SELECT pg_listening_channels()") == []
    finally:
        await pool.close()


@pytest.fixture
def own_server() -> Iterator[PostgresServer]:
    with PostgresServer() as server:
        yield server


async def test_listen_reconnects_after_a_restart_and_signals_the_gap(own_server: PostgresServer) -> None:
    gaps: list[int] = []
    items: list[str] = []
    first = asyncio.get_running_loop().create_future()
    second = asyncio.get_running_loop().create_future()

    def on_item(note: Notification) -> None:
        items.append(note.payload)
        target = first if note.payload == "before" else second
        if not target.done():
            target.set_result(None)

    src = listen(own_server.dsn, "jobs", on_gap=lambda: gaps.append(len(items)), reconnect=Retry(attempts=20))
    sub = src.subscribe(on_item, lambda exc: None if second.done() else second.set_exception(exc))
    try:
        conn = await asyncpg.connect(own_server.dsn)
        await notify_until(conn, first, "jobs", "before")
        await conn.close()
        own_server.stop()
        await asyncio.sleep(0.2)
        own_server.start()
        conn = await asyncpg.connect(own_server.dsn)
        await notify_until(conn, second, "jobs", "after")
        await conn.close()
    finally:
        sub.dispose()
    assert len(gaps) == 1
    assert items[gaps[0] - 1] == "before"  # the gap is signalled between the two connections' items
    assert items[gaps[0]] == "after"


async def test_copy_records_whole_batches_and_row_counts(
    postgres_connection: asyncpg.Connection, postgres_server: PostgresServer
) -> None:
    await postgres_connection.execute("CREATE TABLE t (n int PRIMARY KEY, w text)")
    rows = [(i, f"w{i}") for i in range(2500)]
    counts = await rxasync.to_list(
        reactivex.from_iterable(rows).pipe(
            copy_records(postgres_server.dsn, "t", columns=["n", "w"], batch_size=1000)
        )
    )
    assert sum(counts) == 2500
    assert all(c <= 1000 for c in counts)
    assert await postgres_connection.fetchval("SELECT count(*) FROM t") == 2500


async def test_copy_records_refills_while_a_batch_is_copied_and_holds_at_most_three_batches(
    postgres_connection: asyncpg.Connection, postgres_server: PostgresServer
) -> None:
    # A batch's credits come back once asyncpg holds it whole, so the source refills the stage while
    # the server works on the COPY (speed: the source's cost overlaps the server's), and no further:
    # 2 * batch_size rows not yet handed over plus the one batch in flight.
    await postgres_connection.execute("CREATE TABLE t (n int, w text)")
    committed: list[int] = []
    ahead: list[int] = []

    async def produce():  # type: ignore[no-untyped-def]
        for i in range(2000):
            ahead.append(i - sum(committed))  # rows taken by the sink and not yet committed
            yield (i, "w")

    src = rxasync.from_async_iterable(produce).pipe(
        copy_records(postgres_server.dsn, "t", columns=["n", "w"], batch_size=100),
        ops.do_action(committed.append),
    )
    counts = await rxasync.to_list(src)
    assert sum(counts) == 2000 == await postgres_connection.fetchval("SELECT count(*) FROM t")
    assert 2 * 100 < max(ahead) <= 3 * 100


async def test_copy_records_takes_rows_from_another_thread_in_order(
    postgres_connection: asyncpg.Connection, postgres_server: PostgresServer
) -> None:
    # The batch stage has no thread hop of its own: the stage protocol's on_next brings the rows to the loop.
    await postgres_connection.execute("CREATE TABLE t (n int, w text)")
    rows = reactivex.from_iterable([(i, "w") for i in range(1500)]).pipe(
        ops.subscribe_on(NewThreadScheduler())
    )
    counts = await rxasync.to_list(rows.pipe(copy_records(postgres_server.dsn, "t", columns=["n", "w"])))
    assert sum(counts) == 1500
    assert await postgres_connection.fetchval("SELECT array_agg(n ORDER BY ctid) FROM t") == list(range(1500))


async def test_copy_records_batch_with_a_bad_row_rolls_back_whole(
    postgres_connection: asyncpg.Connection, postgres_server: PostgresServer
) -> None:
    await postgres_connection.execute("CREATE TABLE t (n int PRIMARY KEY, w text)")
    rows = [(i, "ok") for i in range(250)] + [(5, "duplicate")] + [(i, "ok") for i in range(300, 400)]
    committed: list[int] = []

    async def produce():  # type: ignore[no-untyped-def]
        for row in rows:  # an rxasync source: the sink's demand paces it, batches of 100
            yield row

    src = rxasync.from_async_iterable(produce).pipe(
        copy_records(postgres_server.dsn, "t", columns=["n", "w"], batch_size=100),
        ops.do_action(committed.append),
    )
    with pytest.raises(rxasync.DatabaseQueryError) as info:
        await rxasync.to_list(src)
    err = info.value
    assert err.sqlstate == "23505"  # unique_violation
    assert err.target == "t"
    assert "'t'" in str(err)
    assert "starting with row" in str(err)
    assert isinstance(err.__cause__, asyncpg.UniqueViolationError)
    count = await postgres_connection.fetchval("SELECT count(*) FROM t")
    assert count == sum(committed)  # only the batches that reported a count, each whole
    assert count % 100 == 0
    assert count < 251
    assert await postgres_connection.fetchval("SELECT count(*) FROM t WHERE w = 'duplicate'") == 0


async def test_copy_records_bad_type_names_the_table_and_first_row(
    postgres_connection: asyncpg.Connection,
) -> None:
    await postgres_connection.execute("CREATE TABLE t (n int, w text)")
    rows = reactivex.of((1, "a"), ("not a number", "b"))
    with pytest.raises(rxasync.DatabaseQueryError, match=r"'t'.*\(1, 'a'\)"):
        await rxasync.to_list(rows.pipe(copy_records(postgres_connection, "t", columns=["n", "w"])))
    assert await postgres_connection.fetchval("SELECT count(*) FROM t") == 0


def test_copy_records_and_listen_validate_their_arguments() -> None:
    with pytest.raises(TypeError):
        copy_records(3, "t", columns=["n"])
    with pytest.raises(ValueError, match="columns"):
        copy_records("postgresql://x", "t", columns=[])
    with pytest.raises(ValueError, match="batch_size"):
        copy_records("postgresql://x", "t", columns=["n"], batch_size=0)
    with pytest.raises(ValueError, match="channel"):
        listen("postgresql://x")
