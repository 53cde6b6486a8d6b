"""A regular file read into one reused buffer: on the loop while the page cache has it.

For lines, bytes objects are not needed: the decoder reads any buffer. So
:class:`PageCacheReader` reads each block into the same ``bytearray`` with
``os.preadv(..., RWF_NOWAIT)`` right on the event loop: the kernel copies
what the page cache holds and answers ``EAGAIN`` instead of waiting for the
disk. Only then does the read go to a worker thread (one hop, into the same
buffer). A hot file thus costs no thread hop, no wake-up and no allocation
per block, and the buffer stays in the CPU cache; a cold one still never
blocks the loop. Every ``_YIELD_EVERY`` bytes the reader yields to the loop
once, so a long hot file does not starve other tasks.

Where ``RWF_NOWAIT`` does not exist (not Linux) or is refused, every read
goes to the thread. Pipes and devices are not handled here (see
:class:`~._reader.BlockReader`).
"""

from __future__ import annotations

import asyncio
import errno
import os
import stat

from ._offload import Offload
from ._oserror import os_errors, truncated, truncated_error

__all__ = ["PageCacheReader"]

_NOWAIT: int | None = getattr(os, "RWF_NOWAIT", None)
_YIELD_EVERY = 1 << 20  # bytes read on the loop between two yields to it


class PageCacheReader:
    """Read ``path`` block by block into one buffer. Loop thread only."""

    __slots__ = ("_buffer", "_fd", "_nowait", "_offload", "_since_yield", "_size", "_view", "path", "pos")

    def __init__(self, path: str, block_size: int) -> None:
        self.path = path
        self.pos = 0
        self._buffer = bytearray(block_size)
        self._view = memoryview(self._buffer)
        self._fd = -1
        self._size = 0  # at open: a read that ends before it finds the file truncated
        self._nowait = _NOWAIT
        self._offload = Offload()
        self._since_yield = 0

    async def open(self) -> bool:
        """Open the file; False if it is not a regular file (nothing is left open then).

        Raises:
            FileSourceError: (a subclass) it cannot be opened, or is a directory.
        """
        return await self._offload.call(self._open)

    def _open(self) -> bool:
        """On the worker thread; sets ``_fd`` there, so that a cancelled open is still closed."""
        with os_errors(self.path):
            # Look before opening: opening a FIFO, even for a moment, would let its writer in.
            mode = os.stat(self.path).st_mode
            if stat.S_ISDIR(mode):
                raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), self.path)
            if not stat.S_ISREG(mode):
                return False
            # O_NONBLOCK: should the path become a FIFO meanwhile, do not wait for a writer
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
            info = os.fstat(fd)
            if stat.S_ISREG(info.st_mode):
                self._fd, self._size = fd, info.st_size
                return True
            os.close(fd)
            return False

    async def read(self) -> memoryview:
        """The next block (empty at the end), valid until the next call.

        Raises:
            FileChangedError: the file ends before the size it had when opened,
                and is shorter now (see :func:`~._oserror.truncated`).
            FileSourceError: (a subclass) reading failed.
        """
        n = -1
        if self._nowait is not None:
            try:
                n = os.preadv(self._fd, [self._buffer], self.pos, self._nowait)
            except BlockingIOError:
                pass  # not in the page cache: read it on a thread
            except OSError as exc:
                if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                    with os_errors(self.path):
                        raise
                self._nowait = None  # this file system refuses RWF_NOWAIT
        if n < 0:
            n = await self._offload.call(self._read_blocking)
            self._since_yield = 0
        else:
            self._since_yield += n
            if self._since_yield >= _YIELD_EVERY:
                self._since_yield = 0
                await asyncio.sleep(0)
        if n == 0 and self.pos < self._size and self._truncated():
            raise truncated_error(self.path, self._size, self.pos)
        self.pos += n
        return self._view[:n]

    def _truncated(self) -> bool:
        with os_errors(self.path):
            return truncated(self._fd, self._size)

    def _read_blocking(self) -> int:
        with os_errors(self.path):
            return os.preadv(self._fd, [self._buffer], self.pos)

    async def close(self) -> None:
        """Wait for a read in flight on the thread, then close the file."""
        await self._offload.drain()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
