"""The logs pipeline on real servers: a rotation and a Redis SIGKILL mid-run, nothing lost or doubled."""

from __future__ import annotations

import asyncio
import doctest
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import ModuleType

import asyncpg
import pytest
import reactivex
import redis.asyncio as aioredis
from reactivex import Observable, abc
from reactivex import operators as ops

import rxasync
from examples.pipelines.logs import _counts, _generate, _outbox, _parse, _pipeline
from examples.pipelines.logs._counts import AlertRule, Counts
from examples.pipelines.logs._generate import Log, make_log, write_log
from examples.pipelines.logs._parse import Parsed
from examples.pipelines.logs._pipeline import Consumer, Ingest, Settings, both, create_table
from rxasync.files import tail
from rxasync.testing import PostgresServer, RedisServer

N, MINUTES, ALERTS = 6000, 12, (2, 7, 10)  # 500 lines a minute: minute m starts at line 500 * m
RULE = AlertRule(threshold=0.2, min_requests=20)


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A server of this test's own (it is killed), append-only file fsynced before each reply."""
    with RedisServer(appendonly=True) as server:
        yield server


def reference_counts(log: Log) -> Counter[tuple[datetime, int, str]]:
    """What the table must sum to: the generated hits, counted by a plain loop."""
    return Counter(hit for hit in log.truth if hit is not None)


def reference_alerts(log: Log, rule: AlertRule) -> set[str]:
    """The minutes that must alert, by the rule's definition, from the generated hits."""
    requests: Counter[datetime] = Counter()
    errors: Counter[datetime] = Counter()
    for hit in log.truth:
        if hit is not None:
            requests[hit[0]] += 1
            errors[hit[0]] += hit[1] >= 500
    return {
        m.isoformat()
        for m, n in requests.items()
        if n >= rule.min_requests and errors[m] >= rule.threshold * n
    }


async def table_sums(dsn: str, table: str) -> Counter[tuple[datetime, int, str]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            f"SELECT minute, status, path, SUM(requests) AS n FROM {table} GROUP BY 1, 2, 3"
        )
    finally:
        await conn.close()
    return Counter({(r["minute"], r["status"], r["path"]): r["n"] for r in rows})


async def row_count(dsn: str, table: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        n: int = await conn.fetchval(f"SELECT count(*) FROM {table}")
    finally:
        await conn.close()
    return n


async def stream_state(url: str, stream: str, group: str) -> tuple[list[str], int]:
    """The minutes of every entry in the stream (repeats included), and the group's pending count."""
    client = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        entries = await client.xrange(stream)
        pending = (await client.xpending(stream, group))["pending"]
    finally:
        await client.aclose()
    return [fields["minute"] for _, fields in entries], pending


async def test_logs_survive_a_rotation_and_a_redis_kill_with_nothing_lost_or_doubled(
    tmp_path: Path, own_redis: RedisServer, postgres_server: PostgresServer
) -> None:
    log = make_log(N, minutes=MINUTES, alert_minutes=ALERTS, bad_every=250)
    expected = reference_alerts(log, RULE)
    assert len(expected) == len(ALERTS)  # the data alerts where it is meant to, and only there
    settings = Settings(postgres_server.dsn, own_redis.url, table="logs_fault", rule=RULE)
    await create_table(settings.dsn, settings.table)
    ingest, consumer = Ingest(settings), Consumer(settings)
    path = tmp_path / "access.log"
    path.touch()
    events: list[str] = []

    async def faults(written: int) -> None:
        if written == 3500 and own_redis.process is not None:  # minute 7 (an alert minute) begins
            await asyncio.to_thread(own_redis.kill)
            events.append("killed")
        if written == 4500 and own_redis.process is None:  # minute 8 under way: minute 7 was flushed
            async with asyncio.timeout(20):
                while ingest.counts.lines < 4500:  # noqa: ASYNC110 - the pipeline's own counter, bounded
                    await asyncio.sleep(0.02)
            await asyncio.sleep(0.3)  # the alert's XADD fails and is retried meanwhile
            await asyncio.to_thread(own_redis.start)
            events.append("restarted")

    lines = tail(path, from_start=True, poll_interval=0.02, name="tail").pipe(ops.take(N))
    writer = write_log(path, log.lines, rotate_at=N // 2, chunk=250, pause=0.01, on_written=faults)
    async with asyncio.timeout(60):
        await asyncio.gather(both(ingest, consumer, lines), writer)

    assert events == ["killed", "restarted"]
    assert len((tmp_path / "access.log.1").read_text().splitlines()) == N // 2  # it was rotated
    # every line read once: counted or bad, and the table sums equal a plain count of what was written
    bad = sum(hit is None for hit in log.truth)
    assert (ingest.counts.lines, ingest.counts.bad, ingest.counts.late) == (N, bad, 0)
    sums = await table_sums(settings.dsn, settings.table)
    assert sum(sums.values()) == N - bad
    assert ingest.copied == await row_count(settings.dsn, settings.table)
    assert sums == reference_counts(log)
    # the alerts: written at least once each (the kill made the writer resubscribe), nothing else
    assert ingest.alerts.subscriptions >= 2
    in_stream, pending = await stream_state(settings.redis, settings.stream, settings.group)
    assert set(in_stream) == expected
    # the consumer handled each alert once, dropped only repeats, and acknowledged everything
    assert set(consumer.handled) == expected
    assert consumer.entries == len(expected) + consumer.duplicates == consumer.acknowledged
    assert pending == 0


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A server of this test's own (it is stopped and started again)."""
    with PostgresServer() as server:
        yield server


async def test_logs_survive_a_postgres_restart_with_every_row_once(
    tmp_path: Path, own_postgres: PostgresServer
) -> None:
    log = make_log(N, minutes=MINUTES, alert_minutes=ALERTS, bad_every=250)
    with RedisServer() as redis_server:
        settings = Settings(own_postgres.dsn, redis_server.url, table="logs_pg", rule=RULE)
        await create_table(settings.dsn, settings.table)
        ingest, consumer = Ingest(settings), Consumer(settings)
        path = tmp_path / "access.log"
        path.touch()
        events: list[str] = []

        async def faults(written: int) -> None:
            if written == 2000:  # minute 4 begins: minutes 0-3 are flushed and being copied
                await asyncio.to_thread(own_postgres.stop)
                events.append("stopped")
            if written == 3000:
                async with asyncio.timeout(20):
                    while ingest.counts.lines < 3000:  # noqa: ASYNC110 - the pipeline's own counter, bounded
                        await asyncio.sleep(0.02)
                await asyncio.sleep(0.3)  # the COPY of minutes 4 and 5 fails and is retried meanwhile
                await asyncio.to_thread(own_postgres.start)
                events.append("started")

        lines = tail(path, from_start=True, poll_interval=0.02, name="tail").pipe(ops.take(N))
        writer = write_log(path, log.lines, chunk=250, pause=0.01, on_written=faults)
        async with asyncio.timeout(60):
            await asyncio.gather(both(ingest, consumer, lines), writer)
    assert events == ["stopped", "started"]
    assert ingest.rows.subscriptions >= 2
    assert await table_sums(settings.dsn, settings.table) == reference_counts(log)
    assert ingest.copied == await row_count(settings.dsn, settings.table)
    assert set(consumer.handled) == reference_alerts(log, RULE)


async def test_consumer_handles_a_repeated_alert_once_and_acknowledges_both(
    redis_server: RedisServer,
) -> None:
    settings = Settings("unused", redis_server.url, stream="repeats")
    alert = {"minute": "2026-12-01T09:02:00+00:00", "requests": "100", "errors": "40", "rate": "0.400"}
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        for _ in range(2):  # what a re-sent XADD leaves in the stream
            await client.xadd("repeats", alert)
    finally:
        await client.aclose()
    seen: list[dict[str, str]] = []
    consumer = Consumer(settings, seen.append)
    running = asyncio.ensure_future(consumer.run())
    async with asyncio.timeout(20):
        while consumer.acknowledged < 2:  # noqa: ASYNC110 - the pipeline's own counter, bounded
            await asyncio.sleep(0.02)
        consumer.stop()
        await running
    assert (seen, consumer.entries, consumer.duplicates) == ([alert], 2, 1)
    assert (await stream_state(redis_server.url, "repeats", settings.group))[1] == 0


def test_a_late_line_is_counted_as_rows_of_its_own_and_never_alerts() -> None:
    m0, m1 = (datetime.fromisoformat(f"2026-12-01T09:0{i}:00+00:00") for i in (0, 1))
    counts = Counts()
    assert counts.add(Parsed(hits=[(m0, 500, "/")] * 30)) == []
    first = counts.add(Parsed(hits=[(m1, 200, "/")]))
    assert [m.alert(RULE) is not None for m in first] == [True]  # m0 final when m1 came
    again = counts.add(Parsed(hits=[(m0, 500, "/"), (m1, 200, "/")]))  # a late m0 line
    assert [(m.minute, m.late, m.rows(), m.alert(RULE)) for m in again] == [
        (m0, True, [(m0, 500, "/", 1)], None)
    ]
    assert counts.late == 1
    assert [(m.minute, m.rows()) for m in counts.close()] == [(m1, [(m1, 200, "/", 2)])]


def test_bad_lines_are_counted_and_kept_as_examples_not_raised() -> None:
    good = make_log(3, minutes=1, bad_every=0).lines
    parsed = _parse.parse_lines(
        ["", "x" * 10_000, good[0], '1 - - [1/Jan/2026:00:00:00 +0000] "GET" 200 1', *good[1:]]
    )
    assert (len(parsed.hits), parsed.bad, parsed.examples[0], len(parsed.examples[1])) == (3, 3, "", 200)


@pytest.mark.parametrize("module", [_counts, _generate, _outbox, _parse, _pipeline], ids=lambda m: m.__name__)
def test_docstring_examples_run(module: ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0


def test_help_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "examples.pipelines.logs", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "--dsn" in done.stdout
    assert "--role" in done.stdout


def test_the_command_line_runs_on_its_own_log(
    postgres_server: PostgresServer, redis_server: RedisServer
) -> None:
    argv = ["--no-progress", "--no-view", "--lines", "3000", "--minutes", "6", "--write-seconds", "0.3"]
    argv += [
        "--dsn",
        postgres_server.dsn,
        "--redis",
        redis_server.url,
        "--table",
        "logs_cli",
        "--stream",
        "cli",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "examples.pipelines.logs", *argv], capture_output=True, text=True, timeout=90
    )
    assert done.returncode == 0, done.stderr
    log = make_log(3000, minutes=6)
    bad = sum(hit is None for hit in log.truth)
    assert f"lines 3000: {3000 - bad} counted, {bad} bad, 0 late" in done.stdout
    alerts = reference_alerts(log, AlertRule())
    assert f"consumer: {len(alerts)} alerts handled" in done.stdout
    assert done.stdout.count("ALERT ") == len(alerts)
    assert asyncio.run(table_sums(postgres_server.dsn, "logs_cli")) == reference_counts(log)


async def test_logs_outbox_retry_budget_is_per_outage_not_per_run() -> None:
    # the sink loses its connection after every two confirmed items: six outages, each followed
    # by deliveries; a budget of 3 attempts counted over the run gave up at the third
    box: _outbox.Outbox[int] = _outbox.Outbox()
    subscriptions = 0

    def sink(source: Observable[int]) -> Observable[int]:
        def subscribe(
            observer: abc.ObserverBase[int], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            nonlocal subscriptions
            subscriptions += 1
            taken = 0

            def on_next(item: int) -> None:
                nonlocal taken
                taken += 1
                if taken == 3:
                    observer.on_error(rxasync.DatabaseConnectionError("the server restarted"))
                else:
                    observer.on_next(1)

            return source.subscribe(on_next, observer.on_error, observer.on_completed, scheduler=scheduler)

        return reactivex.create(subscribe)

    for i in range(12):
        box.put([i])
    box.close()
    out = await rxasync.to_list(
        _outbox.delivered(box, sink, lambda n: n, name="box", attempts=3, max_delay=0.01)
    )
    assert sum(out) == 12
    assert box.unconfirmed == 0
    assert subscriptions >= 6
