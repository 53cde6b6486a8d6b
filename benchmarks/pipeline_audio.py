"""The audio pipeline (``examples.pipelines.audio``) against a plain sequential loop, same run.

Both do the same work on the same generated WAV files (default 60 files of
2 s, 16 kHz): decode with soundfile, the same jitted STFT kernel (frames,
Hann window, rfft, magnitude), the same peak finding, a spectrogram PNG per
file (matplotlib, Agg), and the peaks into PostgreSQL. The loop does one
file after another on one thread and copies all its rows with one raw
asyncpg ``copy_records_to_table`` at the end; the pipeline decodes and draws
on 4 threads, runs the STFT through ``rxasync.jax.map_batched`` and copies
through ``rxasync.postgres.copy_records``. Both start by creating the table
and deleting the files' old rows; each time includes its connections. The
same comparison runs again with ``--no-png`` (peaks only), where the STFT,
decoding and the database are the whole job (those runs are short, so
three times as many of them). No target is set in the issue:
the ratios are reported.

    .venv/bin/python -m benchmarks.pipeline_audio [--quick] [--files N] [--reps N]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import asyncpg
import jax
import numpy as np

from benchmarks._util import Trial, alternate, header, parse_args, report
from examples.pipelines.audio import _db, _draw, _stft, _wav
from examples.pipelines.audio.__main__ import parse
from examples.pipelines.audio._pipeline import list_wavs, run
from rxasync.testing import PostgresServer

SECONDS = 2.0


def _extra(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--files", type=int, default=None, help="WAV files (default 60; quick 20)")


_kernel = jax.jit(jax.vmap(_stft.segment_spectrum))


async def _sequential(folder: Path, out: Path, dsn: str, png: bool) -> float:
    start = time.perf_counter()
    paths = list_wavs(folder)
    await _db.prepare(dsn, "tones", [p.name for p in paths])
    rows: list[tuple[str, int, float, float]] = []
    for path in paths:
        clip = _wav.decode(path, folder)
        result = np.asarray(_kernel(clip.segments))
        spectrogram = result.reshape(-1, result.shape[-1])[: clip.frames]
        found = _stft.peaks(spectrogram, clip.rate)
        if png:
            _draw.draw_spectrogram(spectrogram, clip.rate, out / f"{path.stem}.png", clip.name, found)
        rows += [(clip.name, p.rank, p.hz, p.magnitude) for p in found]
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.copy_records_to_table("tones", records=rows, columns=list(_db.COLUMNS))
    finally:
        await conn.close()
    return time.perf_counter() - start


async def _pipeline(folder: Path, out: Path, dsn: str, png: bool) -> float:
    argv = ["--input", str(folder), "--output", str(out), "--dsn", dsn, "--no-progress", "--no-view"]
    args = parse(argv + ([] if png else ["--no-png"]))
    start = time.perf_counter()
    await run(args)
    return time.perf_counter() - start


def _trial(body: Callable[[Path, Path, str, bool], Coroutine[Any, Any, float]], *args: Any) -> Trial:
    return lambda: asyncio.run(body(*args))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv, __doc__ or "", _extra)
    files = args.files or (20 if args.quick else 60)
    header(f"audio pipeline: {files} WAVs of {SECONDS:g} s, rxasync vs a sequential loop", args)
    with PostgresServer() as server, tempfile.TemporaryDirectory() as tmp:
        folder, out = Path(tmp, "wav"), Path(tmp, "png")
        _wav.generate(folder, files, seconds=SECONDS)
        audio = files * SECONDS
        for png in (True, False):
            trials = {
                "rxasync": _trial(_pipeline, folder, out, server.dsn, png),
                "loop": _trial(_sequential, folder, out, server.dsn, png),
            }
            times = alternate(trials, args.reps if png else 3 * args.reps)  # peaks only: short runs, more
            what = "with PNGs" if png else "peaks only (--no-png)"
            report(f"{what}, files", files, times["rxasync"], times["loop"], baseline="sequential loop")
            print(
                f"{what}, audio: rxasync {audio / times['rxasync']:.1f} s/s, "
                f"loop {audio / times['loop']:.1f} s/s",
                flush=True,
            )


if __name__ == "__main__":
    main()
