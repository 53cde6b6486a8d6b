"""``tail``: follow a file by name, like ``tail -F``.

The blocking part, :class:`_Follower`, runs on the default executor once per
poll (one thread hop per ``poll_interval``, or back to back while there is
more to read). Where it starts is taken at subscription, with one ``stat``
in ``subscribe`` (the file's identity and size), not at its first poll,
which runs later on a worker thread. It notices the three things
``tail -F`` survives:

* **not there yet** (or removed): it retries the name at every poll;
* **rotated** (the name now points to another file): it reads the old file
  to its end, then follows the new one from its start;
* **truncated** (the file got shorter than what was read): it goes on from
  the start, where the new content begins.

At each switch the line in progress, if any, is emitted as a line: that
file will not complete it. On dispose a line without its newline yet is
dropped: ``tail`` never emits half a line the writer is still writing.
"""

from __future__ import annotations

import asyncio
import errno
import os
import stat
from collections.abc import AsyncIterator

import reactivex
from reactivex import Observable, abc

from .._bridge import from_async_iterable
from .._checks import PathArg, check_number, check_path
from .._text import DEFAULT_MAX_LINE_LENGTH, LineDecoder
from ._offload import Offload
from ._oserror import os_errors

__all__ = ["tail"]

_MAX_READ = 4 << 20  # bytes per poll; more waiting means poll again at once
_BLOCK = 1 << 20


def tail(
    path: PathArg,
    *,
    from_start: bool = False,
    poll_interval: float = 0.1,
    encoding: str = "utf-8",
    errors: str = "strict",
    max_line_length: int = DEFAULT_MAX_LINE_LENGTH,
    keepends: bool = False,
    name: str | None = None,
) -> Observable[str]:
    """The lines appended to a file, following it by name like ``tail -F``; never completes.

    Starts at the end of the file as it is at subscription, like
    ``tail -n 0 -F`` (``from_start``: at its beginning): ``subscribe`` looks
    at the file once (one ``stat``, on the subscribing thread), so a line
    written right after it is not missed; if the file is replaced or
    truncated before the first poll, all of what is there then is new and
    read. Every ``poll_interval`` seconds it reads what was appended and
    emits each complete line. It survives:

    * the file **not existing yet**, or being deleted: it waits for it, and
      reads a file that appears from its start;
    * **rotation** (renamed away and recreated, as logrotate does): the rest
      of the old file is read, then the new one from its start;
    * **truncation** (``copytruncate``, ``> file``): it goes on from the
      start of the new content. A file truncated and then grown past the
      point already read between two polls cannot be told from one only
      appended to.

    A line is emitted when its newline arrives. When the file is rotated or
    truncated, a last line without newline is emitted as it is (that file
    will not complete it). On dispose, a partial line is **dropped**, never
    emitted. Disposing closes the file.

    Marble::

        file:    ab\\n  c    d\\n  (rotated)  e\\n
        result:  -ab--------cd-------------e--->

    Args:
        path: the file to follow.
        from_start: emit the lines already in the file first.
        poll_interval: seconds between looks at the file, > 0.
        encoding: any codec Python knows.
        errors: ``"strict"`` fails with :class:`DecodeError`; ``"replace"``
            substitutes (a good choice for logs of unknown hygiene).
        max_line_length: longest line allowed, in characters.
        keepends: keep each line's ending.
        name: the name of its counters in :mod:`rxasync.stats` (default ``<kind>#<id>``).

    Returns:
        An ``Observable[str]`` that never completes; dispose it to stop.

    Raises:
        IsADirectorySourceError: (as ``on_error``) the path is a directory.
        PermissionSourceError: (as ``on_error``) the file may not be read.
        DecodeError: (as ``on_error``) invalid data with ``errors="strict"``.
        LineTooLongError: (as ``on_error``) a line over ``max_line_length``.

    Example:
        >>> import asyncio, pathlib, rxasync, tempfile
        >>> from reactivex import operators as ops
        >>> from rxasync.files import tail
        >>> async def main(path: pathlib.Path) -> list[str]:
        ...     path.write_text("old\\n")
        ...     lines = tail(path, from_start=True, poll_interval=0.01).pipe(ops.take(2))
        ...     task = asyncio.ensure_future(rxasync.to_list(lines))
        ...     await asyncio.sleep(0.05)
        ...     with path.open("a") as f:
        ...         _ = f.write("new\\n")
        ...     return await task
        >>> with tempfile.TemporaryDirectory() as d:
        ...     asyncio.run(main(pathlib.Path(d, "app.log")))
        ['old', 'new']
    """
    where = check_path(path)
    LineDecoder(encoding, errors, max_line_length, keepends, where)  # validates now
    check_number("poll_interval", poll_interval, strict=True)

    async def lines(follower: _Follower) -> AsyncIterator[str]:
        offload = Offload()

        def decoder() -> LineDecoder:
            return LineDecoder(encoding, errors, max_line_length, keepends, where)

        current = decoder()
        try:
            while True:
                pieces, more = await offload.call(follower.poll)
                for piece in pieces:
                    if piece is None:  # that file ended: flush its partial line
                        done, current = current.close(), decoder()
                    else:
                        done = current.feed(piece)
                    for line in done:
                        yield line
                current.raise_pending()  # a too-long line after those: now, not when more bytes come
                if not more:
                    await asyncio.sleep(poll_interval)
        finally:
            await offload.drain()
            follower.close()

    def subscribed(_: abc.SchedulerBase | None) -> Observable[str]:
        follower = _Follower(where, None if from_start else _end_now(where))
        return from_async_iterable(lambda: lines(follower), name=name)

    return reactivex.defer(subscribed)  # the file's end is taken in subscribe, not at the first poll


_Mark = tuple[int, int, int] | None  # (st_dev, st_ino, st_size) of the file at subscription


def _end_now(path: str) -> _Mark:
    """Where the file ends now, on the subscribing thread: one ``stat`` (no file is opened).

    ``None`` if it does not exist (it will be read from its start when it
    appears) or cannot be looked at (the first poll reports why).
    """
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino, info.st_size


class _Follower:
    """The file followed: its descriptor, identity and read position. Worker thread only.

    ``start``: the file's identity and size at subscription, where reading
    starts if the file first opened is still that file; ``None``: from the
    start of the first file opened.
    """

    def __init__(self, path: str, start: _Mark) -> None:
        self.path = path
        self.start = start  # only the first file opened may skip its content
        self.fd = -1
        self.ident = (0, 0)
        self.pos = 0

    def poll(self) -> tuple[list[bytes | None], bool]:
        """What was appended since the last poll (``None``: the file ended), and whether more waits."""
        with os_errors(self.path):
            pieces: list[bytes | None] = []
            if self.fd < 0 and not self._open():
                return pieces, False
            if os.fstat(self.fd).st_size < self.pos:  # truncated
                pieces.append(None)
                self.pos = 0
            if self._read(pieces):
                return pieces, True
            if self._replaced():
                pieces.append(None)
                self.close()
                return pieces, True  # the new file is read at once
            return pieces, False

    def _open(self) -> bool:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            self.start = None  # it will appear: read it from its start
            return False
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            os.close(fd)
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), self.path)
        self.fd, self.ident = fd, (info.st_dev, info.st_ino)
        start, self.start = self.start, None
        # The file seen at subscription: go on from its end then (if it is shorter now, poll
        # sees a truncation). Another file, replaced since: all of it is new.
        self.pos = start[2] if start is not None and start[:2] == self.ident else 0
        return True

    def _read(self, pieces: list[bytes | None]) -> bool:
        """Read up to ``_MAX_READ`` bytes; True if that limit stopped it."""
        budget = _MAX_READ
        while budget > 0:
            data = os.pread(self.fd, min(_BLOCK, budget), self.pos)
            if not data:
                return False
            pieces.append(data)
            self.pos += len(data)
            budget -= len(data)
        return True

    def _replaced(self) -> bool:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return False  # removed, or renamed and not recreated yet: keep the old one
        return (info.st_dev, info.st_ino) != self.ident

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
