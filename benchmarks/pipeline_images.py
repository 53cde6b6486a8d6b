"""The images pipeline (``examples/pipelines/images``): images/s against two hand-made versions.

The same work four ways, in one run, alternating (medians): list a folder of
generated PNGs (64 pixels a side, give or take a quarter), decode with
Pillow, resize to 64x64 + normalise + 3x3 Sobel in JAX, write each edge map
as a PNG (temporary file + rename):

* **rxasync**: the example's pipeline, ``map_batched`` (batch 256) between
  two ``map_on`` stages on a 4-thread pool;
* **sequential**: a plain loop, one image at a time: decode, one jitted call,
  write;
* **hand-written**: asyncio + the same 4-thread pool + jax, chunk by chunk
  (256 images: decode them all on the pool, one ``jit(vmap)`` call on a
  thread, write them all on the pool), no overlap between the steps;
* **cluster**: the rxasync pipeline with its one changed line,
  ``map_on_cluster`` on a LocalCluster of 2 single-thread worker processes
  (one task per image, at most 32 on the cluster at once).

The decode and write functions are the example's own in every variant, and
every JIT program is compiled in the warm-up run, before timing. No target
(issue 16 asks for the figures); the ratios are rxasync's images/s over the
other's.

    .venv/bin/python -m benchmarks.pipeline_images [--quick] [--reps N] [--count N]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import jax
import numpy as np
from distributed import Client

from benchmarks._dask_common import local_cluster, on_client
from benchmarks._util import Trial, alternate, header, parse_args, rate, report
from examples.pipelines._cli import parser
from examples.pipelines.images import Options, run
from examples.pipelines.images._generate import generate
from examples.pipelines.images._stages import Decoded, decoder, writer
from examples.pipelines.images._transform import buckets, edges, edges_on_worker
from rxasync.dask import map_on_cluster
from rxasync.jax import map_batched

QUIET = parser(None).parse_args(["--no-progress", "--no-view"])
BATCH = 256


def _opts(source: Path, output: Path) -> Options:
    return Options(source, output, size=64, canvas=128, threads=4, batch_size=BATCH)


def _sequential(opts: Options, fn: Any) -> float:
    decode, write = decoder(opts.canvas), writer(opts.source, opts.output)
    start = time.perf_counter()
    for path in sorted(opts.source.glob(opts.pattern)):
        item = decode(path)
        if isinstance(item, Decoded):
            write((path, np.asarray(fn(item.element))))
    return time.perf_counter() - start


async def _hand_written(opts: Options, pool: ThreadPoolExecutor, fn: Any) -> float:
    loop = asyncio.get_running_loop()
    decode, write = decoder(opts.canvas), writer(opts.source, opts.output)
    start = time.perf_counter()
    paths = await loop.run_in_executor(pool, lambda: sorted(opts.source.glob(opts.pattern)))
    for i in range(0, len(paths), BATCH):
        items = await asyncio.gather(*(loop.run_in_executor(pool, decode, p) for p in paths[i : i + BATCH]))
        good = [item for item in items if isinstance(item, Decoded)]
        batch = (np.stack([d.element[0] for d in good]), np.stack([d.element[1] for d in good]))
        out = await loop.run_in_executor(pool, lambda b=batch: np.asarray(fn(b)))  # type: ignore[misc]
        await asyncio.gather(
            *(loop.run_in_executor(pool, write, (d.path, out[k])) for k, d in enumerate(good))
        )
    return time.perf_counter() - start


async def _rxasync(opts: Options, stage: Any, count: int) -> float:
    start = time.perf_counter()
    done = await run(opts, stage, QUIET)
    assert len(done.written) == count
    return time.perf_counter() - start


def _trials(source: Path, out: Path, address: str | None, count: int) -> dict[str, Trial]:
    stage = map_batched(edges(64), batch_size=BATCH, buckets=buckets(BATCH), name="jax")
    one, batched = jax.jit(edges(64)), jax.jit(jax.vmap(edges(64)))
    pool = ThreadPoolExecutor(4)
    trials: dict[str, Trial] = {
        "rxasync": lambda: asyncio.run(_rxasync(_opts(source, out / "rx"), stage, count)),
        "sequential": lambda: _sequential(_opts(source, out / "seq"), one),
        "hand": lambda: asyncio.run(_hand_written(_opts(source, out / "hand"), pool, batched)),
    }
    if address is not None:

        async def cluster(client: Client) -> float:
            remote = map_on_cluster(edges_on_worker, client, args=(64,), concurrency=32, name="jax")
            return await _rxasync(_opts(source, out / "cluster"), remote, count)

        trials["cluster"] = lambda: on_client(address, cluster)
    return trials


def _extra(p: argparse.ArgumentParser) -> None:
    p.add_argument("--count", type=int, default=None, help="images (default 1000, quick 300)")
    p.add_argument("--no-cluster", dest="cluster", action="store_false", help="skip the cluster variant")


def main(argv: list[str] | None = None) -> None:
    """Generate the images, run the variants alternately, print images/s and the ratios."""
    args = parse_args(argv, __doc__ or "", _extra)
    count = args.count or (300 if args.quick else 1000)
    header(f"pipeline_images: {count:,} PNGs -> decode -> JAX 64x64 resize/normalise/Sobel -> PNGs", args)
    work = Path(tempfile.mkdtemp(prefix="bench-images-"))
    try:
        generate(work / "in", count, side=64)
        with local_cluster() if args.cluster else nullcontext() as address:
            med = alternate(_trials(work / "in", work / "out", address, count), args.reps)
    finally:
        shutil.rmtree(work)
    for name, seconds in med.items():
        print(f"  {name}: {rate(count, seconds).replace('/s', ' images/s')} (median {seconds:.2f} s)")
    report("rxasync vs sequential loop", count, med["rxasync"], med["sequential"], baseline="sequential")
    report("rxasync vs hand-written asyncio+threads+jax", count, med["rxasync"], med["hand"], baseline="hand")
    if "cluster" in med:
        report("cluster vs local", count, med["cluster"], med["rxasync"], baseline="local", subject="cluster")


if __name__ == "__main__":
    main()
