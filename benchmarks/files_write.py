"""``write`` against a plain ``f.write`` loop and raw aiofiles: 1 GiB in 1 MiB chunks.

Issue 4's target: ``write`` >= 0.7x the plain loop. The file is written to
a temporary folder on the same disk, into the page cache (no ``fsync``);
each run's file is deleted before the next, outside the timing. Reported:

* ``write`` atomic (the default: a temporary file renamed at the end), fed
  by ``from_async_iterable`` (so demand applies: the source waits while the
  writer thread is ``max_buffer`` behind) — the target;
* ``write(atomic=False)``, the same in place, for the cost of atomicity;
* raw aiofiles ``await f.write(chunk)``, one thread hop per chunk;
* a bare ``os.write`` loop on the file descriptor, no target: on this
  machine ``f.write`` of 1 MiB through Python's ``BufferedWriter`` is about
  half as fast as the bare system call, which the writer thread uses, so
  this ratio shows what is left of rxasync's own cost.

Every side writes the same 1 MiB ``bytes`` object, so the source costs
nothing and what is timed is the writing. Before each timed run a file of
the same size is written and deleted, untimed (:func:`_recycle`): on a VM
whose balloon hands free pages back to the host, that keeps the host's
page faults out of the timing, alike for every side.

    .venv/bin/python -m benchmarks.files_write [--quick] [--size MiB] [--reps N]
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator

import aiofiles

import rxasync
from benchmarks._util import Trial, alternate, header, parse_args, report
from benchmarks.files_common import MiB, add_size, free_page_reporting, scratch_dir, size_bytes
from rxasync.files import write

CHUNK = MiB


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _recycle(path: str, chunk: bytes, count: int) -> None:
    """Write ``count`` chunks to a scratch file beside ``path`` and delete it: untimed, before a run.

    On a VM whose balloon reports free pages to the host (virtio
    ``VIRTIO_BALLOON_F_REPORTING``, see :func:`~benchmarks.files_common.free_page_reporting`),
    the pages a deleted file frees go back to the host about 2 s later, and the
    next file of that size faults every page in again, in the host: on the
    2-core VM of issue 17 a bare ``os.write`` loop wrote 1 GiB at 1.4-1.6 GiB/s
    right after a delete and at 0.2-0.3 GiB/s 5 s later. Writing and deleting
    a file of the same size just before each timed run gives every side the
    same start: its pages freed a moment ago, still backed by the host. A
    ``write`` benchmark then measures the writer, not the order of the trials.
    """
    scratch = path + ".recycle"
    try:
        _bare(scratch, chunk, count)
    finally:
        _remove(scratch)


def _plain(path: str, chunk: bytes, count: int) -> float:
    _remove(path)
    start = time.perf_counter()
    with open(path, "wb") as f:
        for _ in range(count):
            f.write(chunk)
    return time.perf_counter() - start


def _bare(path: str, chunk: bytes, count: int) -> float:
    start = time.perf_counter()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        for _ in range(count):
            os.write(fd, chunk)
    finally:
        os.close(fd)
    return time.perf_counter() - start


async def _aiofiles(path: str, chunk: bytes, count: int) -> float:
    start = time.perf_counter()
    async with aiofiles.open(path, "wb") as f:
        for _ in range(count):
            await f.write(chunk)
    return time.perf_counter() - start


async def _rx(path: str, chunk: bytes, count: int, atomic: bool) -> float:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(count):
            yield chunk

    start = time.perf_counter()
    total = await rxasync.first(rxasync.from_async_iterable(chunks).pipe(write(path, atomic=atomic)))
    elapsed = time.perf_counter() - start
    assert total == count * len(chunk)
    return elapsed


def main(argv: list[str] | None = None) -> None:
    """Write the file each way and print rates, ratios and the target."""
    args = parse_args(argv, __doc__ or "", add_size)
    size = size_bytes(args)
    count = size // CHUNK
    note = ", free page reporting on" if free_page_reporting() else ""
    header(f"files_write: {count} x {CHUNK // 1024} KiB chunks, page cache{note}", args)
    chunk = os.urandom(CHUNK)
    with scratch_dir() as folder:
        path = os.path.join(folder, "out.bin")

        def fresh(run: Trial) -> Trial:
            def trial() -> float:
                _remove(path)
                _recycle(path, chunk, count)
                return run()

            return trial

        trials: dict[str, Trial] = {
            "rx": fresh(lambda: asyncio.run(_rx(path, chunk, count, atomic=True))),
            "rx in place": fresh(lambda: asyncio.run(_rx(path, chunk, count, atomic=False))),
            "plain": fresh(lambda: _plain(path, chunk, count)),
            "aiofiles": fresh(lambda: asyncio.run(_aiofiles(path, chunk, count))),
            "bare": fresh(lambda: _bare(path, chunk, count)),
        }
        t = alternate(trials, args.reps)
        _remove(path)
    total = count * CHUNK
    report("write (atomic) vs plain f.write", total, t["rx"], t["plain"], target=0.7, baseline="plain")
    report("write(atomic=False) vs plain f.write", total, t["rx in place"], t["plain"], baseline="plain")
    report("write (atomic) vs aiofiles", total, t["rx"], t["aiofiles"], baseline="aiofiles")
    report("write (atomic) vs bare os.write", total, t["rx"], t["bare"], baseline="os.write")


if __name__ == "__main__":
    main()
