"""The two pipelines: ``Ingest`` (log → counts in PostgreSQL, alerts into a Redis stream) and
``Consumer`` (the alerts stream, through a consumer group, acknowledged after handling).

Ingest::

    tail ─ batch ─ parse ─ (progress) ─ Counts ─┬─ rows outbox ── copy_records  (PostgreSQL)
                                                └─ alerts outbox ─ write_stream (Redis stream)

Consumer::

    read_stream(group=) ─ handle ─ ack
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from reactivex import Observable
from reactivex import operators as ops
from reactivex.subject import AsyncSubject

from rxasync.operators import batch, map_async
from rxasync.postgres import copy_records
from rxasync.redis import StreamEntry, ack, read_stream, write_stream

from ._counts import AlertRule, Counts, Minute, Row
from ._outbox import Outbox, delivered
from ._parse import Parsed, parse_lines

__all__ = ["COLUMNS", "Consumer", "Ingest", "Settings", "both", "create_table"]

COLUMNS = ["minute", "status", "path", "requests"]

#: A pass-through stage over the parsed batches: the progress bar.
Meter = Callable[[Observable[Parsed]], Observable[Parsed]]


@dataclass
class Settings:
    """Where the pipelines read and write, and the alert rule."""

    dsn: str
    redis: str
    table: str = "log_counts"
    stream: str = "log-alerts"
    group: str = "alerting"
    consumer: str = "consumer-1"
    rule: AlertRule = field(default_factory=AlertRule)
    batch_lines: int = 1000  #: lines per parse batch (or fewer, 0.1 s after the first)
    attempts: int = 30  #: sink subscriptions in all before a lost server is an error


async def create_table(dsn: str, table: str) -> None:
    """Create the counts table if it is missing (one row per minute, status and path; sum them)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (minute timestamptz NOT NULL, "
            "status smallint NOT NULL, path text NOT NULL, requests integer NOT NULL)"
        )
    finally:
        await conn.close()


def _identity(source: Observable[Parsed]) -> Observable[Parsed]:
    return source


async def _parse(lines: list[str]) -> Parsed:
    return parse_lines(lines)  # CPU, short: on the loop (a thread would not run it faster under the GIL)


async def _drain(source: Observable[Any]) -> list[Any]:
    """``rxasync.to_list`` without a stage of its own (it would be one more row in the live view)."""
    done: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
    items: list[Any] = []

    def completed() -> None:
        if not done.done():
            done.set_result(items)

    def failed(error: Exception) -> None:
        if not done.done():
            done.set_exception(error)

    subscription = source.subscribe(items.append, failed, completed)
    try:
        return await done
    finally:
        subscription.dispose()  # cancelled (a sibling failed): stop the stages


class Ingest:
    """Pipeline A. Its state is public so that a caller can watch it: :attr:`counts`, the outboxes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.counts = Counts()
        self.rows: Outbox[Row] = Outbox()
        self.alerts: Outbox[dict[str, str]] = Outbox()
        self.alerted: list[str] = []  #: the minutes alerted, in order
        self.copied = 0  #: rows committed
        self.alert_ids: list[str] = []  #: the stream IDs of the alerts written

    def _take(self, minutes: list[Minute]) -> None:
        for minute in minutes:
            self.rows.put(minute.rows())
            alert = minute.alert(self.settings.rule)
            if alert is not None:
                self.alerted.append(alert["minute"])
                self.alerts.put([alert])

    def _count(self, parsed: Parsed) -> None:
        self._take(self.counts.add(parsed))

    def _end(self) -> None:
        self._take(self.counts.close())
        self.rows.close()
        self.alerts.close()

    def parsing(self, batches: Observable[list[str]], meter: Meter) -> Observable[Any]:
        """Batches of lines parsed and counted; each final minute goes to the outboxes."""
        return batches.pipe(
            map_async(_parse, name="parse"),
            meter,
            ops.do_action(self._count, on_completed=self._end),
            ops.ignore_elements(),
        )

    async def run(self, lines: Observable[str], meter: Meter = _identity) -> None:
        """Run until ``lines`` completes and both sinks confirmed everything."""
        await self.run_batches(lines.pipe(batch(self.settings.batch_lines, 0.1)), meter)

    async def run_batches(self, batches: Observable[list[str]], meter: Meter = _identity) -> None:
        """:meth:`run` for a source of lists of lines (``files.read_line_batches``)."""
        s = self.settings
        copy = copy_records(s.dsn, s.table, columns=COLUMNS, batch_size=5000, name="copy")
        xadd = write_stream(s.redis, s.stream, name="xadd")
        copying = delivered(self.rows, copy, lambda n: n, name="rows", attempts=s.attempts)
        alerting = delivered(self.alerts, xadd, lambda _: 1, name="alerts", attempts=s.attempts)
        async with asyncio.TaskGroup() as group:
            group.create_task(_drain(self.parsing(batches, meter)))
            copied = group.create_task(_drain(copying))
            ids = group.create_task(_drain(alerting))
        self.copied, self.alert_ids = sum(copied.result()), ids.result()


class Consumer:
    """Pipeline B: the alerts through a consumer group, handled once per minute, acknowledged after.

    Delivery is at least once: an entry read but not acknowledged when
    Redis (or this process) died is read again, and an alert whose
    ``XADD`` reply was lost may be in the stream twice. :meth:`_handle`
    drops a repeat of a minute already handled (counted in
    :attr:`duplicates`) and still acknowledges it.
    """

    def __init__(
        self, settings: Settings, on_alert: Callable[[dict[str, str]], None] = lambda _: None
    ) -> None:
        self.settings = settings
        self.on_alert = on_alert
        self.handled: dict[str, str] = {}  #: minute → the ID of the entry that brought it first
        self.acked: set[str] = set()  #: minutes whose entry was acknowledged
        self.entries = 0  #: entries read, repeats included
        self.acknowledged = 0  #: entries acknowledged, repeats included
        self.duplicates = 0  #: entries of a minute handled before
        self.expected: set[str] | None = None
        self._stop: AsyncSubject[None] = AsyncSubject()
        self._stopped = False

    def stop(self) -> None:
        """End the pipeline (what is read and not acknowledged stays pending: read again next time)."""
        if not self._stopped:
            self._stopped = True
            self._stop.on_next(None)
            self._stop.on_completed()

    def expect(self, minutes: list[str]) -> None:
        """Stop once these minutes are all acknowledged."""
        self.expected = set(minutes)
        self._check()

    def _check(self) -> None:
        if self.expected is not None and self.expected <= self.acked:
            self.stop()

    async def _handle(self, entry: StreamEntry) -> StreamEntry:
        self.entries += 1
        minute = entry.fields["minute"]
        if minute in self.handled:
            self.duplicates += 1
        else:
            self.handled[minute] = entry.id
            self.on_alert(dict(entry.fields))
        return entry

    def _acked(self, entry: StreamEntry) -> None:
        self.acknowledged += 1
        self.acked.add(entry.fields["minute"])
        self._check()

    async def run(self) -> None:
        """Follow the stream until :meth:`stop` (or every expected minute is acknowledged)."""
        s = self.settings
        entries = read_stream(
            s.redis, s.stream, group=s.group, consumer=s.consumer, start="0", block=0.5, name="read alerts"
        )
        await _drain(
            entries.pipe(
                ops.take_until(self._stop),
                map_async(self._handle, name="handle"),
                ack(name="ack"),
                ops.do_action(self._acked),
                ops.ignore_elements(),
            )
        )


async def both(
    ingest: Ingest,
    consumer: Consumer,
    lines: Observable[str],
    meter: Meter = _identity,
) -> None:
    """Ingest and consume together; the consumer stops once it acknowledged every alert ingest wrote.

    Args:
        ingest: pipeline A.
        consumer: pipeline B, on the same stream.
        lines: the log's lines; ingest ends when this completes.
        meter: a pass-through stage over the parsed batches (the progress bar).

    Example:
        >>> import asyncio, reactivex
        >>> from rxasync.postgres._examples import dsn  # a private server for the example
        >>> from rxasync.testing import RedisServer
        >>> from examples.pipelines.logs._generate import make_log
        >>> async def main(settings: Settings) -> tuple[int, int, int]:
        ...     await create_table(settings.dsn, settings.table)
        ...     ingest, consumer = Ingest(settings), Consumer(settings)
        ...     await both(ingest, consumer, reactivex.from_iterable(make_log(2000, minutes=4).lines))
        ...     return ingest.counts.hits, ingest.counts.bad, len(consumer.handled)
        >>> with RedisServer() as server:
        ...     asyncio.run(main(Settings(dsn(), server.url, table="doc_logs")))
        (1992, 8, 1)
    """
    async with asyncio.TaskGroup() as group:
        group.create_task(consumer.run())
        await ingest.run(lines, meter)
        consumer.expect(ingest.alerted)
