"""The images pipeline with its JAX stage on the test cluster: the same PNGs as the local run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from distributed import Client
from PIL import Image

from examples.pipelines._cli import parser
from examples.pipelines.images import Options, run
from examples.pipelines.images._generate import generate
from examples.pipelines.images._reference import reference
from examples.pipelines.images._transform import buckets, edges, edges_on_worker, levels
from rxasync.dask import map_on_cluster
from rxasync.jax import map_batched

QUIET = parser(None).parse_args(["--no-progress", "--no-view"])


def grey(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image).astype(int)


async def test_dask_images_pipeline_on_the_cluster_writes_what_the_local_run_writes(
    client: Client, tmp_path: Path
) -> None:
    source = tmp_path / "in"
    paths = generate(source, 60, side=24, seed=4)
    opts = Options(source, tmp_path / "local", size=16, canvas=24)
    local = map_batched(edges(16), batch_size=32, buckets=buckets(32), name="jax")
    await run(opts, local, QUIET)
    # the one changed line:
    remote = map_on_cluster(edges_on_worker, client, args=(16,), concurrency=32, name="jax")
    report = await run(Options(source, tmp_path / "cluster", size=16, canvas=24), remote, QUIET)
    names = sorted(p.name for p in paths)
    assert sorted(p.name for p in report.written) == names
    assert sorted(os.listdir(tmp_path / "cluster")) == names
    for name in names:
        here, there = grey(tmp_path / "local" / name), grey(tmp_path / "cluster" / name)
        # one jit(vmap) batch here, one jitted call per image there: floats may differ in the last
        # bit, so a pixel on a rounding boundary may land one grey level apart; none more
        assert np.abs(here - there).max() <= 1, name
        with Image.open(source / name) as image:
            expected = levels(reference(np.asarray(image.convert("RGB")), 16)).astype(int)
        assert np.abs(there - expected).max() <= 1, name


def test_dask_images_command_line_runs_on_the_cluster_at_an_address(
    cluster_address: str, tmp_path: Path
) -> None:
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-m", "examples.pipelines.images", "--cluster", cluster_address]
    options = [
        "--count",
        "20",
        "--size",
        "16",
        "--no-view",
        "--no-progress",
        "--output",
        str(tmp_path / "out"),
    ]
    env = {**os.environ, "PYTHONPATH": str(root), "JAX_PLATFORMS": "cpu"}
    done = subprocess.run(
        [*command, *options], cwd=root, env=env, capture_output=True, text=True, timeout=100, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "wrote 20 edge maps" in done.stdout
    assert len(os.listdir(tmp_path / "out")) == 20
