"""The images pipeline: list a folder, decode on threads, a JAX stage in batches, PNGs written atomically."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reactivex import Observable
from reactivex import operators as ops

from rxasync.files import walk
from rxasync.operators import map_on

from .._cli import bar
from ._stages import Decoded, Skipped, decoder, keyed, writer

__all__ = ["Options", "Report", "Stage", "pipeline", "run"]

Stage = Callable[[Observable[Any]], Observable[Any]]


@dataclass(frozen=True)
class Options:
    """What a run reads, writes and how: the folders, the sizes, the threads."""

    source: Path
    output: Path
    size: int = 64  # output side, pixels
    canvas: int = 128  # every image is padded (or first shrunk) to this square
    pattern: str = "*.png"
    threads: int = 4
    batch_size: int = 256


@dataclass
class Report:
    """What a run did: the PNGs written and the files skipped (with the reason)."""

    written: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0  #: the run's, set by the caller (compiling and starting a cluster excluded)


def pipeline(
    opts: Options,
    stage: Stage,
    pool: ThreadPoolExecutor,
    report: Report,
    args: argparse.Namespace,
    total: int | None = None,
) -> Observable[Path]:
    """The whole pipeline as one observable; ``stage`` is the JAX step (here or on a cluster)."""

    def readable(item: Decoded | Skipped) -> bool:
        if isinstance(item, Skipped):
            report.skipped.append(item)
        return isinstance(item, Decoded)

    def pair(item: Decoded | Skipped) -> tuple[Path, Any]:
        assert isinstance(item, Decoded)  # the Skipped are filtered out
        return item.path, item.element

    return walk(opts.source, pattern=opts.pattern, name="list").pipe(
        map_on(decoder(opts.canvas), pool, name="decode"),
        ops.filter(readable),
        ops.map(pair),
        keyed(stage),
        map_on(writer(opts.source, opts.output), pool, name="write"),
        bar(args, "images", total=total, unit="img"),
    )


async def run(opts: Options, stage: Stage, args: argparse.Namespace, total: int | None = None) -> Report:
    """Run the pipeline to the end; what it wrote and skipped.

    It subscribes with plain callbacks (no ``rxasync.to_list``), so the
    stages in the live view and the chart are the pipeline's own.
    """
    report = Report()
    opts.output.mkdir(parents=True, exist_ok=True)
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    with ThreadPoolExecutor(opts.threads, thread_name_prefix="images") as pool:
        subscription = pipeline(opts, stage, pool, report, args, total).subscribe(
            on_next=report.written.append,
            on_error=done.set_exception,
            on_completed=lambda: done.set_result(None),
        )
        try:
            await done
        finally:
            subscription.dispose()
    return report
