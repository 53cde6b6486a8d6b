"""Helpers for the ``files_*`` benchmarks: ``--size``, temporary data files hot in the page cache.

No ``main``: the runner skips it.
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from reactivex import Observable

MiB = 1 << 20


def add_size(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--size",
        type=int,
        default=None,
        help="file size in MiB (default 1024, quick 128)",
    )


def size_bytes(args: argparse.Namespace) -> int:
    return (args.size or (128 if args.quick else 1024)) * MiB


@contextmanager
def scratch_dir() -> Iterator[str]:
    """A temporary folder, removed with what is in it however the benchmark ends."""
    folder = tempfile.mkdtemp(prefix="rxasync-bench-")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def make_binary(path: str, size: int) -> None:
    block = os.urandom(MiB)
    with open(path, "wb") as f:
        for _ in range(size // MiB):
            f.write(block)
        f.write(block[: size % MiB])
    warm(path)


def make_text(path: str, size: int) -> int:
    """Write ``size`` bytes of short log-like lines (about 60 bytes); return the line count."""
    lines = [
        f"2026-11-26T16:{i % 60:02}:00 INFO worker-{i % 8} handled request {i} in {i % 97} ms\n"
        for i in range(20_000)
    ]
    block = "".join(lines).encode()
    with open(path, "wb") as f:
        written = 0
        while written + len(block) <= size:
            f.write(block)
            written += len(block)
    warm(path)
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(MiB), b""))


def free_page_reporting() -> bool:
    """Whether a virtio balloon reports free pages to the host (Linux; False elsewhere).

    Feature bit 5 (``VIRTIO_BALLOON_F_REPORTING``) of a virtio device of type
    5 (balloon): memory the guest frees goes back to the host a few seconds
    later and costs a host page fault per page when used again, which slows
    a large write that follows a pause (see ``files_write._recycle``).
    """
    for device in glob.glob("/sys/bus/virtio/devices/*"):
        try:
            with open(os.path.join(device, "device")) as f:
                if int(f.read(), 16) != 5:
                    continue
            with open(os.path.join(device, "features")) as f:
                if f.read()[5:6] == "1":
                    return True
        except (OSError, ValueError):
            continue
    return False


def warm(path: str) -> None:
    """Read the file once so that every run finds it in the page cache."""
    with open(path, "rb", buffering=0) as f:
        while f.read(8 * MiB):
            pass


async def drain(source: Observable[Any], on_item: Any) -> float:
    """Subscribe with ``on_item`` as the only work per item; seconds until completion."""
    start = time.perf_counter()
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    source.subscribe(on_item, done.set_exception, lambda: done.set_result(None))
    await done
    return time.perf_counter() - start
