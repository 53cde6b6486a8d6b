"""The file a ``write`` subscription writes: opened, written and ended on the writer thread.

:class:`Target` owns the descriptor. Atomic: a temporary file next to the
target (``.<name>.<random>.tmp``), renamed over it by :meth:`Target.commit`;
:meth:`Target.close` removes it unless committed. An existing target the
process may not write is refused before anything is written, as in place.
In place: the target itself.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from dataclasses import dataclass
from typing import Any

__all__ = ["SinkOptions", "Target"]

_IOV_MAX = 1024  # buffers per os.writev call (Linux's limit)


@dataclass(frozen=True)
class SinkOptions:
    """What ``write``/``write_lines`` were called with, checked."""

    path: str
    append: bool
    text: bool
    atomic: bool
    fsync: bool
    encoding: str
    max_buffer: int
    newline: str | None  # write_lines: added after every item
    name: str | None = None  # of the sink's counters in rxasync.stats


class Target:
    """The file descriptor the writer thread owns, and how it ends (commit or discard)."""

    def __init__(self, options: SinkOptions) -> None:
        self.options = options
        self.fd = -1
        self.temp: str | None = None
        self.final = options.path  # where the temporary file goes: a symlink's target
        self.committed = False

    def open(self) -> None:
        opts, path = self.options, self.options.path
        try:
            info: os.stat_result | None = os.stat(path)
        except FileNotFoundError:
            info = None
        if info is not None and stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        if not opts.atomic or (info is not None and not stat.S_ISREG(info.st_mode)):
            flags = os.O_APPEND if opts.append else os.O_TRUNC
            self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | flags, 0o666)
            return
        self.final = os.path.realpath(path)  # replace what a symlink points to, keep the link
        try:
            self.temp, self.fd = self._create_temp(*os.path.split(self.final))
        except OSError as exc:  # name the file the user asked for, not our temporary name
            raise OSError(exc.errno, exc.strerror, path) from exc
        if info is not None:
            _check_writable(self.final, path)
            os.fchmod(self.fd, stat.S_IMODE(info.st_mode))
            if opts.append:
                self._copy_old(path)

    def _create_temp(self, folder: str, name: str) -> tuple[str, int]:
        temp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
        return temp, os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)

    def _copy_old(self, path: str) -> None:
        src = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            while os.sendfile(self.fd, src, None, 1 << 30):
                pass
        finally:
            os.close(src)

    def write(self, batch: list[Any]) -> int:
        opts = self.options
        if opts.text:
            text = "".join(batch) if opts.newline is None else opts.newline.join(batch) + opts.newline
            batch = [text.encode(opts.encoding)]
        written = 0
        while batch:
            n = os.writev(self.fd, batch[:_IOV_MAX]) if len(batch) > 1 else os.write(self.fd, batch[0])
            written += n
            batch = _drop_front(batch, n)
        return written

    def commit(self) -> None:
        if self.options.fsync:
            os.fsync(self.fd)
        os.close(self.fd)
        self.fd = -1
        if self.temp is not None:
            os.replace(self.temp, self.final)
            self.committed = True
            if self.options.fsync:
                _fsync_folder(self.final)

    def close(self) -> None:
        """After success or failure: close the descriptor, remove an uncommitted temporary file."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self.temp is not None and not self.committed:
            with contextlib.suppress(OSError):
                os.unlink(self.temp)


def _check_writable(final: str, path: str) -> None:
    """Refuse to replace a file the process may not write, as opening it in place would.

    Renaming over a file needs only the folder's permission, so without this
    an atomic write would replace a read-only file (mode 444) that
    ``atomic=False`` may not open. The kernel's own check for an ``open``
    for writing is asked (``faccessat`` with the effective ids: permission
    bits, ACLs, read-only file systems and immutable files, and root's
    override, alike); the temporary file is removed by :meth:`Target.close`.
    """
    if not os.access(final, os.W_OK, effective_ids=_EFFECTIVE_IDS):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)


_EFFECTIVE_IDS = os.access in os.supports_effective_ids  # as open() checks; real ids where unsupported


def _drop_front(batch: list[Any], n: int) -> list[Any]:
    """``batch`` without its first ``n`` bytes (after a short write)."""
    i = 0
    if n == sum(len(memoryview(b).cast("B")) for b in batch):
        return []
    while i < len(batch):
        size = len(memoryview(batch[i]).cast("B"))
        if n < size:
            break
        n -= size
        i += 1
    rest = batch[i:]
    if rest and n:
        rest[0] = memoryview(rest[0]).cast("B")[n:]
    return rest


def _fsync_folder(path: str) -> None:
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
