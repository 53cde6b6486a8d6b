"""The one place where ``OSError`` becomes an rxasync file error.

Every file operation in ``rxasync.files`` runs inside :func:`os_errors` (or
calls :func:`file_error`), so the same errno always gives the same class,
and the error keeps ``errno``, ``strerror`` and ``filename`` with the
original chained as ``__cause__``. Every reader that finds the end of a
file before the size it had when opened asks :func:`truncated` whether it
was cut, and raises :func:`truncated_error` if so.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager

from .._errors import (
    FileChangedError,
    FileNotFoundSourceError,
    FileSourceError,
    IsADirectorySourceError,
    PermissionSourceError,
)

__all__ = ["file_error", "os_errors", "truncated", "truncated_error"]

_BY_ERRNO: dict[int, type[FileSourceError]] = {
    errno.ENOENT: FileNotFoundSourceError,
    errno.EISDIR: IsADirectorySourceError,
    errno.EACCES: PermissionSourceError,
    errno.EPERM: PermissionSourceError,
}


def file_error(exc: OSError, path: str) -> FileSourceError:
    """The rxasync error for ``exc``, naming ``path`` when the OS did not.

    ``FileSourceError`` subclasses pass through unchanged; others keep their
    errno (``ENOSPC``, ``EIO``...) as a plain :class:`FileSourceError`.

    Example:
        >>> e = file_error(FileNotFoundError(2, "No such file or directory"), "/x")
        >>> type(e).__name__, e.errno, e.filename
        ('FileNotFoundSourceError', 2, '/x')
    """
    if isinstance(exc, FileSourceError):
        return exc
    cls = _BY_ERRNO.get(exc.errno or 0, FileSourceError)
    filename = exc.filename if exc.filename is not None else path
    if exc.errno is None:
        error = cls(f"{exc} ({filename})")
        error.filename = filename
    else:
        error = cls(exc.errno, exc.strerror or str(exc), filename)
    error.__cause__ = exc
    return error


def truncated(fd: int, size_at_open: int) -> bool:
    """At an end of file found before ``size_at_open``: was the file truncated since it was opened?

    Ending early is not enough: a sysfs attribute (``/sys/devices/system/cpu/online``)
    has a size of 4096 by ``stat`` whatever it holds, and ends where its text
    does. So the size is asked again: a truncated file is shorter now than it
    was at open; a file whose size never said what it holds is not.
    """
    return os.fstat(fd).st_size < size_at_open


def truncated_error(path: str, size_at_open: int, pos: int) -> FileChangedError:
    """The error of a reader that found the end of ``path`` at ``pos``, before its size at open.

    Example:
        >>> e = truncated_error("/x", 10, 4)
        >>> str(e), e.errno, e.filename
        ('/x was truncated while read: it had 10 bytes when opened, but ended at byte 4', None, '/x')
    """
    error = FileChangedError(
        f"{path} was truncated while read: it had {size_at_open} bytes when opened, but ended at byte {pos}"
    )
    error.filename = path
    return error


@contextmanager
def os_errors(path: str) -> Iterator[None]:
    """Translate any ``OSError`` raised in the block with :func:`file_error`."""
    try:
        yield
    except OSError as exc:
        raise file_error(exc, path) from exc
