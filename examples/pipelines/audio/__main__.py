"""Audio through JAX into PostgreSQL: WAV files → decode on threads (soundfile) → a JAX short-time
Fourier transform (frames, Hann window, rfft, magnitude; jitted, one call per file of up to 33 s) → per file a
spectrogram PNG (matplotlib on threads, written atomically) and its dominant frequencies into a
PostgreSQL table ``tones(file, rank, hz, magnitude)`` through ``rxasync.postgres.copy_records``.

Without --input it first writes WAV files of known tones (1 to 3 sines each, plus noise) into
OUTPUT/wav and checks at the end that the frequencies it detected are the ones it wrote.

Where the peaks go (one of them is needed):
  --dsn postgresql://...   a PostgreSQL you run (the table is created if missing)
  --temp-db                a private PostgreSQL 15 started for the run on 127.0.0.1 and
                           stopped after it (needs Debian's postgresql package)
  --no-db                  no database: print the peaks

Examples:
  python -m examples.pipelines.audio --temp-db
  python -m examples.pipelines.audio --input ~/recordings --dsn postgresql://me@127.0.0.1/music
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from .._cli import finish, observing, parser

if TYPE_CHECKING:
    from ._pipeline import Report


def build_parser() -> argparse.ArgumentParser:
    """The command line: the shared options plus this pipeline's."""
    result = parser(__doc__)
    result.prog = "python -m examples.pipelines.audio"
    result.add_argument("--input", type=Path, default=None, help="folder of .wav files (default: generate)")
    result.add_argument(
        "--output", type=Path, default=Path("audio_out"), help="PNG folder (default audio_out)"
    )
    result.add_argument(
        "--files", type=int, default=50, help="files to generate without --input (default 50)"
    )
    result.add_argument("--seconds", type=float, default=2.0, help="seconds per generated file (default 2)")
    where = result.add_mutually_exclusive_group()
    where.add_argument("--dsn", default=None, help="PostgreSQL to copy the peaks into")
    where.add_argument("--temp-db", action="store_true", help="start a private PostgreSQL for the run")
    where.add_argument("--no-db", action="store_true", help="no database: print the peaks")
    result.add_argument("--table", default="tones", help="table for the peaks (default tones)")
    result.add_argument("--no-png", dest="png", action="store_false", help="peaks only: draw no spectrograms")
    result.add_argument("--threads", type=int, default=4, help="decode and drawing threads (default 4)")
    result.add_argument(
        "--segments", type=int, default=64, help="most STFT segments (32 frames) per JAX call"
    )
    result.add_argument("--peaks", type=int, default=5, help="most peaks per file (default 5)")
    result.add_argument(
        "--threshold", type=float, default=0.1, help="a peak's least height, times the file's strongest"
    )
    return result


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse ``argv``; refuse a run that has nowhere to put the peaks."""
    args = build_parser().parse_args(argv)
    if args.dsn is None and not (args.temp_db or args.no_db):
        raise SystemExit(
            "audio: the peaks go into PostgreSQL: give --dsn postgresql://..., or --temp-db to start a "
            "private server for this run, or --no-db to print them instead"
        )
    if args.input is not None and not args.input.is_dir():
        raise SystemExit(f"audio: --input {args.input}: no such folder")
    return args


@contextlib.contextmanager
def _database(args: argparse.Namespace) -> Iterator[None]:
    if not args.temp_db:
        yield
        return
    from rxasync.testing import PostgresServer

    with PostgresServer() as server:
        args.dsn = server.dsn
        print(f"audio: a private PostgreSQL at {server.dsn} for this run")
        yield


async def _observed(args: argparse.Namespace) -> Report:
    from ._pipeline import run

    async with observing(args, title="audio"):
        return await run(args)


def _summary(args: argparse.Namespace, report: Report) -> int:
    """Print what the run did; the number of files whose tones differ from those generated."""
    from ._pipeline import mismatches
    from ._wav import load_manifest

    n, s = len(report.files), report.seconds
    if n == 0:
        print(f"audio: no .wav files under {args.input}")
        return 0
    print(
        f"audio: {n} files, {report.audio_seconds:.1f} s of audio in {s:.2f} s "
        f"({n / s:.1f} files/s, {report.audio_seconds / s:.1f} audio s/s); PNGs in {args.output}"
    )
    if args.dsn is not None:
        print(f"audio: {report.rows} rows copied into {args.table}")
    if args.no_db or args.temp_db:
        for item in report.files[:20]:
            print(f"  {item.name}: " + ", ".join(f"{p.hz:.1f} Hz ({p.magnitude:.2f})" for p in item.peaks))
    expected = load_manifest(args.input)
    if expected is not None:
        from ._stft import N_FFT
        from ._wav import RATE

        wrong = mismatches(report.files, expected, tolerance=RATE / N_FFT)  # one bin
        print(f"audio: detected = generated tones in {n - len(wrong)} of {n} files")
        for line in wrong:
            print(f"  {line}")
        return len(wrong)
    return 0


def main(argv: list[str] | None = None) -> Report:
    """Parse, generate the input if none is given, run under the live view, report."""
    args = parse(argv)
    import rxasync

    if args.input is None:
        from ._wav import generate

        args.input = args.output / "wav"
        generate(args.input, args.files, seconds=args.seconds)
        print(f"audio: wrote {args.files} WAV files of known tones into {args.input}")
    with _database(args):
        try:
            report = asyncio.run(_observed(args))
        except rxasync.RxAsyncError as exc:
            raise SystemExit(f"audio: {exc}") from exc
        mismatched = _summary(args, report)
    finish(args, title="audio")
    if mismatched:
        raise SystemExit(f"audio: the tones detected differ from those generated in {mismatched} files")
    return report


if __name__ == "__main__":
    main()
