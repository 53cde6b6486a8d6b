"""The images pipeline: every output equals the NumPy reference; atomic writes; bad files; the CLI."""

from __future__ import annotations

import doctest
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import reactivex
from PIL import Image

import rxasync
from examples.pipelines._cli import parser
from examples.pipelines.images import Options, run
from examples.pipelines.images._generate import generate
from examples.pipelines.images._reference import read_rgb, reference
from examples.pipelines.images._stages import decoder, save_atomic
from examples.pipelines.images._transform import buckets, edges, levels
from rxasync.jax import map_batched

ROOT = Path(__file__).resolve().parents[2]
QUIET = parser(None).parse_args(["--no-progress", "--no-view"])
SIZE = 16


def local_stage(batch: int = 256) -> rxasync.jax.JaxOperator[object]:
    return map_batched(edges(SIZE), batch_size=batch, buckets=buckets(batch), name="jax")


def assert_matches_reference(source: Path, output: Path, names: list[str]) -> None:
    """Every output PNG is the reference's grey levels, each pixel within one level (rounding)."""
    worst = 0
    for name in names:
        expected = levels(reference(read_rgb(source / name), SIZE))
        with Image.open(output / name) as image:
            got = np.asarray(image)
        assert got.shape == (SIZE, SIZE), name
        worst = max(worst, int(np.abs(got.astype(int) - expected).max()))
    assert worst <= 1


@pytest.mark.slow
async def test_images_2000_outputs_equal_the_numpy_reference(tmp_path: Path) -> None:
    source, output = tmp_path / "in", tmp_path / "out"
    paths = generate(source, 2000, side=24, seed=1)  # 18..24 pixels a side: resized down to 16
    report = await run(Options(source, output, size=SIZE, canvas=24), local_stage(), QUIET)
    names = sorted(p.name for p in paths)
    assert sorted(p.name for p in report.written) == names
    assert report.skipped == []
    assert sorted(os.listdir(output)) == names  # nothing else: no temporary file left
    assert_matches_reference(source, output, names)


async def test_images_jax_stage_equals_the_reference_in_float(tmp_path: Path) -> None:
    """The floats themselves, before they are rounded to grey levels: up and down sampling."""
    paths = generate(tmp_path, 64, side=24, seed=2) + generate(tmp_path / "small", 64, side=12, seed=3)
    decode = decoder(24)
    elements = [decode(p).element for p in paths]  # type: ignore[union-attr]
    out = await rxasync.to_list(reactivex.from_iterable(elements).pipe(local_stage(32)))
    for path, got in zip(paths, out, strict=True):
        expected = reference(read_rgb(path), SIZE)
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4, err_msg=str(path))


async def test_images_subfolders_kept_and_large_images_shrunk_to_the_canvas(tmp_path: Path) -> None:
    source, output = tmp_path / "in", tmp_path / "out"
    generate(source / "a" / "b", 3, side=16)
    Image.new("RGB", (90, 30), (200, 10, 10)).save(source / "wide.png")  # larger than the canvas: shrunk
    report = await run(Options(source, output, size=SIZE, canvas=24), local_stage(), QUIET)
    written = sorted(p.relative_to(output).as_posix() for p in report.written)
    assert written == ["a/b/img00000.png", "a/b/img00001.png", "a/b/img00002.png", "wide.png"]
    with Image.open(output / "wide.png") as image:
        assert image.size == (SIZE, SIZE)


def write_bad_files(source: Path) -> list[str]:
    """A truncated PNG and a file that is not an image at all, both named .png."""
    whole = (source / "img00000.png").read_bytes()
    (source / "truncated.png").write_bytes(whole[: len(whole) // 2])
    (source / "text.png").write_text("not an image\n")
    return ["text.png", "truncated.png"]


async def test_images_bad_files_are_skipped_and_reported(tmp_path: Path) -> None:
    source, output = tmp_path / "in", tmp_path / "out"
    paths = generate(source, 10, side=16)
    bad = write_bad_files(source)
    report = await run(Options(source, output, size=SIZE, canvas=16), local_stage(), QUIET)
    assert sorted(s.path.name for s in report.skipped) == bad
    assert all(s.reason for s in report.skipped)
    assert sorted(os.listdir(output)) == sorted(p.name for p in paths)  # the others all written
    assert_matches_reference(source, output, [p.name for p in paths])


def test_save_atomic_leaves_the_old_file_and_no_temporary_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "x.png"
    target.mkdir()  # the rename over a folder fails
    with pytest.raises(OSError):
        save_atomic(target, b"new")
    assert os.listdir(tmp_path) == ["x.png"]
    assert target.is_dir()


def cli(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
    command = [sys.executable, "-m", "examples.pipelines.images", *argv]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=100)


def test_images_help_runs() -> None:
    done = cli("--help")
    assert done.returncode == 0, done.stderr
    assert "--cluster" in done.stdout
    assert "--input" in done.stdout


@pytest.mark.slow
def test_images_cli_generates_runs_and_records_every_named_stage(tmp_path: Path) -> None:
    jsonl, chart = tmp_path / "run.jsonl", tmp_path / "run.png"
    args = ["--count", "40", "--size", "16", "--no-view", "--output", str(tmp_path / "out")]
    done = cli(*args, "--interval", "0.05", "--jsonl", str(jsonl), "--chart", str(chart))
    assert done.returncode == 0, done.stderr
    assert "wrote 40 edge maps" in done.stdout
    assert len(os.listdir(tmp_path / "out")) == 40
    names = {s["name"] for line in jsonl.read_text().splitlines() for s in json.loads(line)["stages"]}
    assert {"list", "decode", "jax", "write", "images"} <= names
    assert chart.stat().st_size > 1000


def test_images_cli_names_a_bad_file_and_exits_1(tmp_path: Path) -> None:
    generate(tmp_path / "in", 3, side=16)
    write_bad_files(tmp_path / "in")
    done = cli(
        "--input", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--no-view", "--no-progress"
    )
    assert done.returncode == 1, done.stderr
    assert "wrote 3 edge maps" in done.stdout
    assert f"skipped {tmp_path / 'in' / 'truncated.png'}: " in done.stderr
    assert f"skipped {tmp_path / 'in' / 'text.png'}: " in done.stderr


@pytest.mark.parametrize("module", ["_generate", "_reference", "_stages", "_transform"])
def test_images_docstring_examples_run(module: str) -> None:
    """The examples' doctests (examples/ is not in pytest's testpaths)."""
    failed, tried = doctest.testmod(importlib.import_module(f"examples.pipelines.images.{module}"))
    assert tried > 0
    assert failed == 0
