"""What every example pipeline's command line shares: a progress bar, the live
stage view, a JSON-lines record of the stage statistics, and a chart of it.

A pipeline's ``__main__`` builds its parser with :func:`parser`, adds its own
options, and runs its pipeline inside :func:`observing`; its stages take
:func:`bar` for the progress bar::

    args = parser(__doc__).parse_args(argv)
    async with observing(args, title="images"):
        await rxasync.last(source.pipe(..., bar(args, "images", total=n)))
    finish(args)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from reactivex import Observable

from rxasync.operators import progress
from rxasync.stats import Watcher, watch

_T = TypeVar("_T")


def parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser with the shared options: ``--no-progress``, ``--no-view``, ``--jsonl``, ``--chart``."""
    result = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    shown = result.add_argument_group("watching the pipeline")
    shown.add_argument(
        "--no-progress", dest="progress", action="store_false", help="do not draw the progress bar"
    )
    shown.add_argument("--no-view", dest="view", action="store_false", help="do not draw the live stage view")
    shown.add_argument(
        "--interval", type=float, default=0.5, help="seconds between stage samples (default 0.5)"
    )
    shown.add_argument(
        "--jsonl", type=Path, default=None, help="append the stage samples to this JSON-lines file"
    )
    shown.add_argument(
        "--chart",
        type=Path,
        default=None,
        help="draw items/s per stage from --jsonl into this PNG when the run ends",
    )
    return result


def bar(
    args: argparse.Namespace,
    desc: str,
    *,
    total: float | None = None,
    unit: str = "it",
    weight: Callable[[_T], float] | None = None,
) -> Callable[[Observable[_T]], Observable[_T]]:
    """The progress-bar operator, drawn unless ``--no-progress`` (on standard error)."""
    return progress(
        desc=desc,
        total=total,
        unit=unit,
        weight=weight,
        disable=not args.progress,
        file=sys.stderr,
        leave=True,
    )


@asynccontextmanager
async def observing(args: argparse.Namespace, *, title: str) -> AsyncIterator[Watcher]:
    """:func:`rxasync.stats.watch` as the shared options say."""
    options: dict[str, Any] = {"interval": args.interval, "view": args.view, "title": title}
    if args.jsonl is not None:
        options["jsonl"] = args.jsonl
    async with watch(**options) as watcher:
        yield watcher
    if args.view:
        print(flush=True)  # the view's last frame ends without a newline: what follows starts a line


def finish(args: argparse.Namespace, *, title: str | None = None) -> Path | None:
    """Draw ``--chart`` from ``--jsonl`` (needs matplotlib); the PNG's path, or None."""
    if args.chart is None:
        return None
    if args.jsonl is None:
        raise SystemExit("--chart needs --jsonl: the chart is drawn from the recorded samples")
    from rxasync.stats import chart

    return chart(args.jsonl, args.chart, title=title)
