"""A forked process makes the pages it shares with its parent its own, at once (Linux).

After a fork, parent and child share every page until one of them writes
it; the first write then copies the page (a fault and 4 KiB each). In
CPython every reference count a search changes is a write, so a forked
worker's first searches paid for a copy of each page they touched (40%
slower at first). :func:`own_pages` asks the kernel to copy them all now,
with ``madvise(MADV_POPULATE_WRITE)`` (Linux 5.14+), but only the pages
that are there (``/proc/self/pagemap``: memory the parent reserved and never
touched stays unallocated). The call holds no GIL, so it can run on a thread
while the process serves. Elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import mmap
import sys
from array import array
from collections.abc import Callable

__all__ = ["own_pages", "supported"]

_MADV_POPULATE_WRITE = 23  # <linux/mman.h>
_PRESENT = 1 << 63  # a pagemap entry's "page present" bit
_Madvise = Callable[[int, int, int], int]


def _madvise() -> _Madvise | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        madvise = libc.madvise
    except (OSError, AttributeError):
        return None
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    madvise.restype = ctypes.c_int
    return madvise


def supported() -> bool:
    """Whether this kernel has ``MADV_POPULATE_WRITE`` (tried on a page of its own)."""
    madvise = _madvise()
    if madvise is None:
        return False
    probe = mmap.mmap(-1, mmap.PAGESIZE)
    try:
        view = ctypes.c_char.from_buffer(probe)
        try:
            return madvise(ctypes.addressof(view), mmap.PAGESIZE, _MADV_POPULATE_WRITE) == 0
        finally:
            del view  # the buffer is exported until then: mmap.close() would refuse
    finally:
        probe.close()


def own_pages() -> int:
    """Copy now the pages this process may share copy-on-write; the bytes asked for (0 if unsupported).

    Only the anonymous private writable mappings (the interpreter's heap and
    arenas), and in them only the pages present.

    Example:
        >>> own_pages() >= 0
        True
    """
    madvise = _madvise()
    if madvise is None or not supported():
        return 0
    page = mmap.PAGESIZE
    asked = 0
    with open("/proc/self/maps") as maps, open("/proc/self/pagemap", "rb", buffering=0) as pagemap:
        for line in maps:
            fields = line.split()
            if fields[1] != "rw-p" or (len(fields) > 5 and fields[5] != "[heap]"):
                continue  # files, the stack and such: not the interpreter's objects
            start, end = (int(x, 16) for x in fields[0].split("-"))
            entries = array("Q")
            try:
                pagemap.seek(start // page * 8)
                entries.frombytes(pagemap.read((end - start) // page * 8))
            except OSError:
                continue
            for first, count in _present_runs(entries):
                # EINVAL or ENOMEM: the mapping changed since maps was read (the loop thread
                # maps and unmaps meanwhile); the rest is copied when first written, as without
                if madvise(start + first * page, count * page, _MADV_POPULATE_WRITE) == 0:
                    asked += count * page
    return asked


def _present_runs(entries: array[int]) -> list[tuple[int, int]]:
    """``(first page, pages)`` of each run of present pages."""
    runs: list[tuple[int, int]] = []
    first = -1
    for i, entry in enumerate(entries):
        if entry & _PRESENT:
            if first < 0:
                first = i
        elif first >= 0:
            runs.append((first, i - first))
            first = -1
    if first >= 0:
        runs.append((first, len(entries) - first))
    return runs
