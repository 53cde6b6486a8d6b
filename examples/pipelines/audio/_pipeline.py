"""The pipeline: list → decode (threads) → stft (JAX) → peaks → png (threads) → PostgreSQL ``COPY``.

Every rxasync stage has a ``name=``, so the live view and ``--jsonl`` show
them: ``list`` (a bridge source over the sorted paths), ``decode``
(``map_on``: soundfile on the thread pool), ``stft`` (``map_batched``,
``chunked=True``: a file's segments in one compiled call), ``png``
(``map_on``: matplotlib on the thread pool), ``files`` (the progress bar)
and ``copy`` (``copy_records``: the peaks, one binary ``COPY`` per batch).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import reactivex
from reactivex import Observable
from reactivex import operators as ops

import rxasync
from rxasync.jax import JaxOperator, map_batched
from rxasync.operators import map_on

from .._cli import bar
from ._draw import draw_spectrogram
from ._stft import Peak, peaks, segment_spectrum
from ._wav import Clip, decode

__all__ = ["Analysed", "Report", "list_wavs", "run", "spectra"]

Row = tuple[str, int, float, float]


@dataclass(frozen=True, slots=True)
class Analysed:
    """One file done: its name, duration, dominant frequencies and spectrogram PNG."""

    name: str
    seconds: float
    peaks: list[Peak]
    png: Path | None  # None with --no-png


@dataclass(frozen=True, slots=True)
class Report:
    """What a run did: the files (in input order), the rows copied, and the wall-clock time."""

    files: list[Analysed]
    rows: int
    seconds: float

    @property
    def audio_seconds(self) -> float:
        """The duration of all the audio analysed."""
        return sum(f.seconds for f in self.files)


def list_wavs(folder: Path) -> list[Path]:
    """The ``.wav`` files under ``folder`` (any depth), sorted."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".wav" and p.is_file())


def spectra(
    segments_to_spectra: Callable[[Observable[Any]], Observable[Any]],
) -> Callable[[Observable[Clip]], Observable[tuple[Clip, np.ndarray]]]:
    """Run the JAX operator on each clip's segments; emit ``(clip, (frames, bins) spectrogram)``.

    ``map_batched`` takes arrays, not clips: each clip waits in a queue (one
    per subscription) while its segments are on the device, and is paired
    again with its result, which comes back in the same order.
    """

    def operator(source: Observable[Clip]) -> Observable[tuple[Clip, np.ndarray]]:
        def subscribed(_: Any) -> Observable[tuple[Clip, np.ndarray]]:
            waiting: deque[Clip] = deque()

            def pair(result: np.ndarray) -> tuple[Clip, np.ndarray]:
                clip = waiting.popleft()
                return clip, result.reshape(-1, result.shape[-1])[: clip.frames]

            return source.pipe(
                ops.do_action(waiting.append),
                ops.map(_segments),
                segments_to_spectra,
                ops.map(pair),
            )

        return reactivex.defer(subscribed)

    return operator


def _segments(clip: Clip) -> np.ndarray:
    return clip.segments


def _analyse(args: argparse.Namespace, item: tuple[Clip, np.ndarray]) -> Analysed:
    """Thread work: the peaks of one spectrogram, and its PNG."""
    clip, spectrogram = item
    found = peaks(spectrogram, clip.rate, most=args.peaks, threshold=args.threshold)
    if not args.png:
        return Analysed(clip.name, clip.seconds, found, None)
    target = args.output / Path(clip.name).with_suffix(".png")
    draw_spectrogram(spectrogram, clip.rate, target, clip.name, found)
    return Analysed(clip.name, clip.seconds, found, target)


def rows(done: Analysed) -> Observable[Row]:
    """The table rows of one file: ``(file, rank, hz, magnitude)``."""
    return reactivex.from_iterable([(done.name, p.rank, p.hz, p.magnitude) for p in done.peaks])


async def _paths(paths: Sequence[Path]) -> AsyncIterator[Path]:
    for path in paths:
        yield path


@functools.cache
def stft_operator(segments: int) -> JaxOperator[Any]:
    """The STFT stage: one operator per batch size, kept, so every run after the first reuses its
    compiled programs (one per bucket of segment counts) instead of compiling again."""
    return map_batched(segment_spectrum, batch_size=segments, chunked=True, name="stft")


def analysed(
    args: argparse.Namespace, paths: Sequence[Path], pool: ThreadPoolExecutor
) -> Observable[Analysed]:
    """Every file of ``paths`` decoded, transformed, its peaks found and its PNG drawn, in order."""
    return rxasync.from_async_iterable(lambda: _paths(paths), name="list").pipe(
        map_on(partial(decode, root=args.input), pool, name="decode"),
        spectra(stft_operator(args.segments)),
        map_on(partial(_analyse, args), pool, name="png"),
        bar(args, "files", total=len(paths), unit="file"),
    )


async def run(args: argparse.Namespace) -> Report:
    """Run the pipeline as ``args`` say (``input``, ``output``, ``threads``, ``dsn`` or ``no_db``...)."""
    from . import _db

    started = time.perf_counter()
    paths = await asyncio.to_thread(list_wavs, args.input)
    done: list[Analysed] = []
    with ThreadPoolExecutor(args.threads, thread_name_prefix="audio") as pool:
        stream = analysed(args, paths, pool).pipe(ops.do_action(done.append))
        if args.dsn is None:
            await rxasync.to_list(stream)
            copied = 0
        else:
            await _db.prepare(args.dsn, args.table, [p.relative_to(args.input).as_posix() for p in paths])
            rows_in = stream.pipe(ops.flat_map(rows))
            copied = sum(await rxasync.to_list(rows_in.pipe(_db.sink(args.dsn, args.table))))
    return Report(done, copied, time.perf_counter() - started)


def mismatches(found: list[Analysed], expected: dict[str, list[float]], tolerance: float) -> list[str]:
    """Files whose detected frequencies are not the generated ones within ``tolerance`` Hz."""
    wrong = []
    for item in found:
        want = sorted(expected.get(item.name, []))
        got = sorted(p.hz for p in item.peaks)
        if len(got) != len(want) or any(abs(g - w) > tolerance for g, w in zip(got, want, strict=True)):
            wrong.append(f"{item.name}: generated {want}, detected {[round(g, 1) for g in got]}")
    return wrong
