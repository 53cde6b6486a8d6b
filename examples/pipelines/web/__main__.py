"""A web service that fans each request out to three slow backends, and its load test.

``serve`` starts three backends (prices, stock, reviews: small aiohttp apps
with a delay, jitter and failure rate you choose) and the service on
127.0.0.1. ``GET /item/42`` asks the three at once (``map_async`` over
``rxasync.http`` calls, each with a timeout and retries) and answers one
JSON; a backend that is down or too slow is ``null`` and listed in
``"degraded"``, and the answer still comes, status 200, in at most
``--timeout`` seconds. Ctrl+C stops it.

``load`` starts the same in a child process (or uses ``--url``) and sends
requests at each concurrency of ``--levels`` (at most ``--requests`` and
``--seconds`` each), then prints requests/s and p50/p95/p99 latency, and
draws them with ``--png``.

    python -m examples.pipelines.web serve --port 8080 --down reviews
    python -m examples.pipelines.web load --levels 10,50,200 --requests 2000 --png web.png
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from .._cli import bar, finish, observing, parser
from ._chart import draw
from ._child import child_service
from ._load import LevelResult, Stage, run_levels
from ._options import add_stack_options, backend_settings, policy_of, stack_argv
from ._service import Stack, run_stack


def _levels(text: str) -> list[int]:
    try:
        levels = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of integers: {text!r}") from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError(f"concurrency levels must be >= 1: {text!r}")
    return levels


def _serve_options(serve: argparse.ArgumentParser) -> None:
    serve.add_argument("--port", type=int, default=8080, help="the service's port; 0 picks a free one (8080)")
    serve.add_argument(
        "--report", type=float, default=5.0, help="seconds between status lines; 0: none (default 5)"
    )
    add_stack_options(serve)


def _load_options(load: argparse.ArgumentParser) -> None:
    load.add_argument("--url", default=None, help="a running service (default: start one in a child process)")
    load.add_argument("--levels", type=_levels, default=[10, 50, 200], help="concurrency levels (10,50,200)")
    load.add_argument("--requests", type=int, default=2000, help="most requests per level (2000)")
    load.add_argument("--seconds", type=float, default=30.0, help="most seconds per level (30)")
    load.add_argument("--png", type=Path, default=None, help="draw latency and throughput into this PNG")
    load.add_argument("--json", type=Path, default=None, help="write the figures to this JSON file")
    add_stack_options(load)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line: ``serve`` or ``load`` (which has the pipelines' shared options too)."""
    main = argparse.ArgumentParser(
        prog="python -m examples.pipelines.web",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = main.add_subparsers(dest="command", required=True)
    _serve_options(commands.add_parser("serve", help="run the service and its backends until Ctrl+C"))
    shared = parser(None)  # --no-progress, --no-view, --interval, --jsonl, --chart
    help_ = "a bounded load test at several concurrency levels"
    _load_options(commands.add_parser("load", help=help_, parents=[shared], conflict_handler="resolve"))
    args = main.parse_args(argv)
    if args.command == "serve" and not 0 <= args.port <= 65535:
        main.error("--port must be between 0 and 65535")
    if args.command == "load" and (args.requests < 1 or args.seconds <= 0):
        main.error("--requests must be >= 1 and --seconds > 0")
    return args


def _describe(stack: Stack) -> str:
    parts = [f"{name} {b.url}{' (down)' if b.settings.down else ''}" for name, b in stack.backends.items()]
    return "backends: " + ", ".join(parts)


async def _report(stack: Stack, every: float) -> None:
    before = 0
    while True:
        await asyncio.sleep(every)
        c = stack.counts
        if c.requests == before:
            continue  # quiet while nothing happens
        print(
            f"{c.requests} requests ({(c.requests - before) / every:.0f}/s), "
            f"{c.degraded} degraded, {c.cancelled} cancelled by their client",
            flush=True,
        )
        before = c.requests


async def serve(args: argparse.Namespace) -> None:
    """Run the service and its backends until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with run_stack(backend_settings(args), policy_of(args), args.fanout, args.port) as stack:
            print(_describe(stack), flush=True)
            print(f"service on {stack.url} ({args.fanout} fan-out): try {stack.url}/item/42", flush=True)
            reporter = asyncio.create_task(_report(stack, args.report)) if args.report > 0 else None
            await stop.wait()
            if reporter is not None:
                reporter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reporter
    except OSError as exc:
        print(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print("stopped", flush=True)


async def load(args: argparse.Namespace, url: str) -> list[LevelResult]:
    """The load test against ``url``, under the shared progress bar and live view."""

    def stages(concurrency: int, requests: int) -> list[Stage]:
        return [bar(args, f"c={concurrency}", total=requests, unit="req")]

    async with observing(args, title="web load test"):
        return await run_levels(url, args.levels, args.requests, args.seconds, stages=stages)


def print_table(results: Sequence[LevelResult]) -> None:
    """The figures, one line per level."""
    print()  # after the live view's last frame
    print(f"{'concurrency':>11} {'requests':>8} {'ok':>6} {'degraded':>8} {'errors':>6} {'req/s':>8} "
          f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")  # fmt: skip
    for r in results:
        print(f"{r.concurrency:>11} {r.requests:>8} {r.ok:>6} {r.degraded:>8} {r.errors:>6} {r.rps:>8.0f} "
              f"{r.p50_ms:>7.1f} {r.p95_ms:>7.1f} {r.p99_ms:>7.1f}")  # fmt: skip


def run_load(args: argparse.Namespace) -> list[LevelResult]:
    """``load``: start the service if no ``--url``, run, print, write ``--json`` and ``--png``."""
    with contextlib.ExitStack() as stack:
        url = args.url or stack.enter_context(child_service(stack_argv(args)))
        print(f"load test on {url}: levels {args.levels}, at most {args.requests} requests and "
              f"{args.seconds:g} s each", flush=True)  # fmt: skip
        results = asyncio.run(load(args, url))
    print_table(results)
    if args.json is not None:
        args.json.write_text(json.dumps([r.as_dict() for r in results], indent=1) + "\n")
    if args.png is not None:
        label = args.url or f"{args.fanout} fan-out"
        print(f"chart: {draw({label: results}, args.png)}")
    finish(args, title="web load test")
    return results


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``python -m examples.pipelines.web``."""
    args = parse_args(argv)
    if args.command == "serve":
        asyncio.run(serve(args))
    else:
        run_load(args)


if __name__ == "__main__":
    main()
