"""Follow an access log (combined format) like ``tail -F``: counts per minute, status and path into
PostgreSQL (``COPY``), and an alert into a Redis stream for every minute whose 5xx share is over a
threshold; a second pipeline reads the alerts through a consumer group and acknowledges them.

With no --log the program writes a log itself (a writer task appending lines, with a rotation halfway)
and follows it; with no --dsn / --redis it starts private servers (rxasync.testing) for the run.

  python -m examples.pipelines.logs                                # everything made up, private servers
  python -m examples.pipelines.logs --dsn postgresql://... --redis redis://127.0.0.1:6379/0
  python -m examples.pipelines.logs --log /var/log/nginx/access.log --dsn ... --redis ...   # Ctrl-C stops
  python -m examples.pipelines.logs --role consume --redis ...    # the alerts consumer alone
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from reactivex import Observable
from reactivex import operators as ops
from reactivex.subject import AsyncSubject

from examples.pipelines._cli import bar, finish, observing, parser
from rxasync.files import tail

from ._counts import AlertRule
from ._generate import make_log, write_log
from ._parse import Parsed
from ._pipeline import Consumer, Ingest, Settings, both, create_table


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    p = parser(__doc__)
    p.prog = "python -m examples.pipelines.logs"
    p.add_argument("--role", choices=["both", "ingest", "consume"], default="both", help="default both")
    source = p.add_argument_group("the log")
    source.add_argument("--log", type=Path, default=None, help="follow this file (default: write one)")
    source.add_argument("--from-start", action="store_true", help="--log: read what is in it already")
    source.add_argument(
        "--seconds", type=float, default=None, help="stop reading after this long (also Ctrl-C); then flush"
    )
    source.add_argument("--lines", type=int, default=20_000, help="lines to write without --log")
    source.add_argument("--minutes", type=int, default=12, help="minutes they span (event time)")
    source.add_argument("--write-seconds", type=float, default=5.0, help="how long writing them takes")
    where = p.add_argument_group("the servers")
    where.add_argument("--dsn", default=None, help="PostgreSQL DSN (default: a private server)")
    where.add_argument("--redis", default=None, help="Redis URL (default: a private server)")
    where.add_argument("--table", default="log_counts")
    where.add_argument("--stream", default="log-alerts")
    where.add_argument("--group", default="alerting")
    where.add_argument("--consumer", default="consumer-1")
    rule = p.add_argument_group("the alert")
    rule.add_argument("--threshold", type=float, default=0.2, help="5xx share of a minute (default 0.2)")
    rule.add_argument("--min-requests", type=int, default=20, help="fewer requests never alert (20)")
    return p.parse_args(argv)


@contextlib.contextmanager
def _servers(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    """The DSN and URL given, or those of private servers started for the run."""
    with contextlib.ExitStack() as stack:
        dsn, url = args.dsn, args.redis
        if dsn is None:
            from rxasync.testing import PostgresServer

            dsn = stack.enter_context(PostgresServer()).dsn
        if url is None:
            from rxasync.testing import RedisServer

            url = stack.enter_context(RedisServer(appendonly=True)).url
        yield dsn, url


def _show_alert(alert: dict[str, str]) -> None:
    print(f"ALERT {alert['minute']}: {alert['errors']} of {alert['requests']} requests 5xx ({alert['rate']})")


def _stopper(seconds: float | None) -> AsyncSubject[None]:
    """Fires on Ctrl-C or after ``seconds``."""
    stop: AsyncSubject[None] = AsyncSubject()

    def fire() -> None:
        stop.on_next(None)
        stop.on_completed()

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, fire)
    if seconds is not None:
        loop.call_later(seconds, fire)
    return stop


async def _run(args: argparse.Namespace, settings: Settings, folder: Path) -> tuple[Ingest, Consumer]:
    ingest, consumer = Ingest(settings), Consumer(settings, _show_alert)
    stop = _stopper(args.seconds)
    meter = bar(args, "lines", total=None if args.log else args.lines, unit="line", weight=_lines)
    writer = None
    if args.log is not None:
        lines: Observable[str] = tail(args.log, from_start=args.from_start, name="tail")
        lines = lines.pipe(ops.take_until(stop))
    else:
        path, log = folder / "access.log", make_log(args.lines, minutes=args.minutes)
        path.touch()
        lines = tail(path, from_start=True, name="tail").pipe(ops.take(len(log.lines)), ops.take_until(stop))
        pause = args.write_seconds / max(1, len(log.lines) // 500)
        writer = write_log(path, log.lines, rotate_at=len(log.lines) // 2, chunk=500, pause=pause)
    async with observing(args, title="logs"), asyncio.TaskGroup() as group:
        if writer is not None:
            group.create_task(writer)
        if args.role == "both":
            await both(ingest, consumer, lines, meter)
        elif args.role == "ingest":
            await ingest.run(lines, meter)
        else:
            stop.subscribe(lambda _: consumer.stop())
            await consumer.run()
    return ingest, consumer


def _lines(parsed: Parsed) -> float:
    return parsed.lines


def _report(args: argparse.Namespace, ingest: Ingest, consumer: Consumer) -> None:
    c = ingest.counts
    if args.role != "consume":
        print(f"lines {c.lines}: {c.hits} counted, {c.bad} bad, {c.late} late")
        for example in c.examples:
            print(f"  bad: {example!r}")
        print(f"rows committed to {args.table}: {ingest.copied}; alerts written: {len(ingest.alert_ids)}")
        print(f"sink subscriptions: copy {ingest.rows.subscriptions}, xadd {ingest.alerts.subscriptions}")
    if args.role != "ingest":
        print(
            f"consumer: {len(consumer.handled)} alerts handled, {consumer.entries} entries read, "
            f"{consumer.duplicates} repeats dropped"
        )


def main(argv: list[str] | None = None) -> None:
    """Run the command line."""
    args = _arguments(argv)
    with _servers(args) as (dsn, url), tempfile.TemporaryDirectory() as folder:
        rule = AlertRule(args.threshold, args.min_requests)
        settings = Settings(dsn, url, args.table, args.stream, args.group, args.consumer, rule)
        if args.role != "consume":
            asyncio.run(create_table(dsn, args.table))
        ingest, consumer = asyncio.run(_run(args, settings, Path(folder)))
        _report(args, ingest, consumer)
    chart = finish(args, title="logs")
    if chart is not None:
        print(f"chart: {chart}", file=sys.stderr)


if __name__ == "__main__":
    main()
