"""``read_chunks``, ``read_lines`` and ``read_line_batches`` against plain Python and raw aiofiles.

Issue 4's targets, each checked below (file hot in the page cache, medians
of alternating runs, so the noise of a shared machine falls on all alike):

* ``read_chunks``: >= 0.8x a plain ``f.read(n)`` loop at 1 MiB chunks,
  >= 0.4x at 64 KiB, and >= 5x raw aiofiles (``await f.read(n)``) at 64 KiB;
* ``read_lines``, one item per line: >= 0.3x plain ``for line in f``, and
  >= 250x aiofiles' ``async for line in f``;
* ``read_line_batches`` (lists of lines): >= 0.8x plain ``for line in f``.

Every side does the least work per item: it adds ``len(chunk)`` or counts
lines. The rxasync side subscribes with a plain callback, so what is timed is
the source (reader thread, hand-off to the loop, decoding, the bridge).
aiofiles' ``async for line`` is so slow (one thread hop per line) that it
reads a 4 MiB file of the same lines, once; its ratio compares rates.

    .venv/bin/python -m benchmarks.files_read [--quick] [--size MiB] [--reps N]
"""

from __future__ import annotations

import asyncio
import os
import time

import aiofiles

from benchmarks._util import Trial, alternate, header, parse_args, report
from benchmarks.files_common import MiB, add_size, drain, make_binary, make_text, scratch_dir, size_bytes
from rxasync.files import read_chunks, read_line_batches, read_lines

_AIOFILES_LINES_BYTES = 4 * MiB


def _plain_chunks(path: str, chunk: int) -> float:
    start = time.perf_counter()
    total = 0
    with open(path, "rb") as f:
        while data := f.read(chunk):
            total += len(data)
    elapsed = time.perf_counter() - start
    assert total == os.path.getsize(path)
    return elapsed


async def _aiofiles_chunks(path: str, chunk: int, size: int) -> float:
    start = time.perf_counter()
    total = 0
    async with aiofiles.open(path, "rb") as f:
        while data := await f.read(chunk):
            total += len(data)
    elapsed = time.perf_counter() - start
    assert total == size
    return elapsed


async def _rx_chunks(path: str, chunk: int, size: int) -> float:
    total = 0

    def add(data: bytes) -> None:
        nonlocal total
        total += len(data)

    elapsed = await drain(read_chunks(path, chunk_size=chunk), add)
    assert total == size
    return elapsed


def _plain_lines(path: str, expected: int) -> float:
    start = time.perf_counter()
    count = 0
    with open(path, encoding="utf-8") as f:
        for _line in f:
            count += 1
    elapsed = time.perf_counter() - start
    assert count == expected
    return elapsed


async def _aiofiles_lines(path: str) -> float:
    start = time.perf_counter()
    async with aiofiles.open(path, encoding="utf-8") as f:
        async for _line in f:
            pass
    return time.perf_counter() - start


async def _rx_lines(path: str, expected: int, batches: bool) -> float:
    count = 0

    def one(_line: str) -> None:
        nonlocal count
        count += 1

    def many(lines: list[str]) -> None:
        nonlocal count
        count += len(lines)

    source = read_line_batches(path) if batches else read_lines(path)
    elapsed = await drain(source, many if batches else one)  # type: ignore[arg-type]
    assert count == expected, (count, expected)
    return elapsed


def main(argv: list[str] | None = None) -> None:
    """Run the chunk and line comparisons and print rates, ratios and targets."""
    args = parse_args(argv, __doc__ or "", add_size)
    size = size_bytes(args)
    header(f"files_read: {size // MiB} MiB file, page cache hot", args)
    with scratch_dir() as folder:
        binary = os.path.join(folder, "data.bin")
        make_binary(binary, size)
        for chunk, target in ((MiB, 0.8), (64 * 1024, 0.4)):
            trials: dict[str, Trial] = {
                "rx": lambda c=chunk: asyncio.run(_rx_chunks(binary, c, size)),
                "plain": lambda c=chunk: _plain_chunks(binary, c),
                "aiofiles": lambda c=chunk: asyncio.run(_aiofiles_chunks(binary, c, size)),
            }
            t = alternate(trials, args.reps)
            label = f"read_chunks {chunk // 1024} KiB"
            report(f"{label} vs plain f.read", size, t["rx"], t["plain"], target=target, baseline="plain")
            report(
                f"{label} vs aiofiles",
                size,
                t["rx"],
                t["aiofiles"],
                target=5 if chunk == 64 * 1024 else None,
                baseline="aiofiles",
            )
        os.unlink(binary)

        text = os.path.join(folder, "lines.txt")
        lines = make_text(text, size)
        sample = os.path.join(folder, "sample.txt")
        sample_lines = make_text(sample, _AIOFILES_LINES_BYTES)
        print(f"   ({lines} lines of about {size // max(lines, 1)} bytes)", flush=True)
        t = alternate(
            {
                "rx": lambda: asyncio.run(_rx_lines(text, lines, batches=False)),
                "batches": lambda: asyncio.run(_rx_lines(text, lines, batches=True)),
                "plain": lambda: _plain_lines(text, lines),
            },
            args.reps,
        )
        aio = alternate({"aiofiles": lambda: asyncio.run(_aiofiles_lines(sample))}, 1, warmup=False)
        aio_scaled = aio["aiofiles"] * lines / sample_lines  # its rate, applied to the whole file
        report("read_lines vs plain for-line", lines, t["rx"], t["plain"], target=0.3, baseline="plain")
        report(
            "read_lines vs aiofiles async-for-line",
            lines,
            t["rx"],
            aio_scaled,
            target=250,
            baseline="aiofiles",
        )
        report(
            "read_line_batches vs plain for-line",
            lines,
            t["batches"],
            t["plain"],
            target=0.8,
            baseline="plain",
        )


if __name__ == "__main__":
    main()
