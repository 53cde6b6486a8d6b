"""Edge maps of a folder of images: list -> decode (threads) -> JAX in batches -> PNGs written atomically.

Every image is resized to --size x --size (bilinear), normalised (mean 0,
standard deviation 1) and filtered with a 3x3 Sobel edge filter in one
jitted JAX function, in batches; the gradient magnitude is written as a grey
PNG (temporary file + rename) under --output. Without --input it first
generates --count PNGs of random shapes, in a temporary folder (removed at
the end when --output is given). A file that is not a readable image is
skipped, and listed at the end (the exit status is then 1).

With --cluster the JAX stage runs on a Dask cluster (rxasync.dask), one task
per image: --cluster alone starts a local one of --workers processes,
--cluster tcp://HOST:8786 connects to a running scheduler.

Run it: python -m examples.pipelines.images --count 500 --jsonl run.jsonl --chart run.png
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._cli import finish, observing, parser
from ._pipeline import Options, Report, run

if TYPE_CHECKING:
    from rxasync.jax import JaxOperator

LOCAL = "local"


def _parser() -> argparse.ArgumentParser:
    result = parser(__doc__)
    result.prog = "python -m examples.pipelines.images"
    result.add_argument("--input", type=Path, default=None, help="folder of images (default: generate them)")
    result.add_argument(
        "--output", type=Path, default=None, help="folder for the edge maps (default: a new one)"
    )
    result.add_argument("--count", type=int, default=200, help="images to generate without --input (200)")
    result.add_argument("--pattern", default="*.png", help="file names to read under --input (*.png)")
    result.add_argument("--size", type=int, default=64, help="side of the output images, pixels (64)")
    result.add_argument("--canvas", type=int, default=128, help="larger inputs are first shrunk to fit (128)")
    result.add_argument("--batch-size", type=int, default=256, help="images per JAX call (256)")
    result.add_argument("--threads", type=int, default=4, help="threads that decode and write (4)")
    result.add_argument(
        "--cluster", nargs="?", const=LOCAL, default=None, metavar="ADDRESS",
        help="run the JAX stage on Dask: a local cluster, or the scheduler at ADDRESS",
    )  # fmt: skip
    result.add_argument("--workers", type=int, default=2, help="workers of the local --cluster (2)")
    return result


async def _run(opts: Options, args: argparse.Namespace, total: int | None) -> Report:
    size, batch = opts.size, opts.batch_size
    if args.cluster is None:
        from rxasync.jax import map_batched

        from ._transform import buckets, edges

        stage = map_batched(edges(size), batch_size=batch, buckets=buckets(batch), name="jax")
        await _compile(stage, opts.canvas)
        async with observing(args, title="images"):
            return await _timed(run(opts, stage, args, total))
    from rxasync.dask import connect, map_on_cluster

    from ._transform import edges_on_worker

    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # workers share a GPU
    address = None if args.cluster == LOCAL else args.cluster
    async with connect(address, n_workers=args.workers, threads_per_worker=1) as client:
        remote = map_on_cluster(edges_on_worker, client, args=(size,), concurrency=32, name="jax")
        async with observing(args, title="images on a cluster"):
            return await _timed(run(opts, remote, args, total))


async def _timed(running: Awaitable[Report]) -> Report:
    """The run's report with its seconds: the rate excludes compiling and starting a cluster."""
    started = time.perf_counter()
    report = await running
    report.seconds = time.perf_counter() - started
    return report


async def _compile(stage: JaxOperator[Any], canvas: int) -> None:
    """Compile every bucket before the first image, on a thread (seconds on a CPU)."""
    started = time.perf_counter()
    example = (np.zeros((canvas, canvas, 3), np.uint8), np.array([canvas, canvas], np.int32))
    made = await asyncio.to_thread(stage.compile, example)
    print(f"compiled {made} batch sizes in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def _inputs(args: argparse.Namespace, work: Path) -> tuple[Path, int | None]:
    if args.input is not None:
        return args.input, None
    from ._generate import generate

    folder = work / "input"
    generate(folder, args.count)
    print(f"generated {args.count} images in {folder}", file=sys.stderr)
    return folder, args.count


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run, say what was written and skipped; the exit status.

    Generated input goes to a new temporary folder: with ``--output`` it is
    removed at the end; without, the output goes beside it and both stay.
    """
    args = _parser().parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="rxasync-images-"))
    try:
        source, total = _inputs(args, work)
        output = args.output if args.output is not None else work / "output"
        opts = Options(source, output, args.size, args.canvas, args.pattern, args.threads, args.batch_size)
        report = asyncio.run(_run(opts, args, total))
        seconds = max(report.seconds, 1e-9)
    finally:
        if args.output is not None:
            shutil.rmtree(work)
    print(f"wrote {len(report.written)} edge maps to {output} in {seconds:.2f} s "
          f"({len(report.written) / seconds:.0f} images/s)")  # fmt: skip
    for skipped in report.skipped:
        print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    finish(args, title="images")
    return 1 if report.skipped else 0


if __name__ == "__main__":
    sys.exit(main())
