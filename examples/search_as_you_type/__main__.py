"""``python -m examples.search_as_you_type [--port 8080] [--latency 0.5]``: run the demo on 127.0.0.1."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

from ._server import HOST, create_app, serve
from ._settings import Settings


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line: ``--host`` (127.0.0.1 only), ``--port``, ``--latency``, ``--debounce``."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.search_as_you_type",
        description="Search the world's cities as you type (rxasync demo).",
    )
    parser.add_argument("--host", default=HOST, choices=[HOST], help="the demo listens on 127.0.0.1 only")
    parser.add_argument("--port", type=int, default=8080, help="TCP port; 0 picks a free one (default 8080)")
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="add a random delay of 0 to SECONDS to every search, to watch stale answers being dropped",
    )
    parser.add_argument(
        "--debounce",
        type=float,
        default=Settings().debounce,
        metavar="SECONDS",
        help="quiet time before a search",
    )
    args = parser.parse_args(argv)
    if args.latency < 0 or args.debounce < 0:
        parser.error("--latency and --debounce must be >= 0")
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    return args


async def run(args: argparse.Namespace) -> None:
    """Serve until interrupted (Ctrl+C or SIGTERM)."""
    app = create_app(settings=Settings(latency=args.latency, debounce=args.debounce))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with serve(app, args.port) as url:
            extra = f" (random latency up to {args.latency:g}s)" if args.latency else ""
            print(f"Search-as-you-type demo on {url}/{extra} — press Ctrl+C to stop", flush=True)
            await stop.wait()
    except OSError as exc:
        print(f"cannot listen on {HOST}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print("stopped", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``python -m examples.search_as_you_type``."""
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
