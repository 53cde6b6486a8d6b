"""``write`` and ``write_lines``: a sink operator that writes on its own thread.

One subscription is one :class:`~._sink.Sink`: items are queued on the loop
thread and written by a dedicated writer thread (``os.writev`` of everything
queued since its last write, so many small items cost one system call). The
stage counts queued bytes as its :class:`~rxasync._flow.Demand`, so a bridge
source upstream pauses while the writer is ``max_buffer`` bytes behind.
"""

from __future__ import annotations

from collections.abc import Callable

from reactivex import Observable

from .._checks import PathArg, check_int, check_path
from .._stage import stage_observable
from ._sink import Sink
from ._target import SinkOptions

__all__ = ["write", "write_lines"]

MiB = 1 << 20
_BINARY_MODES = ("wb", "ab")
_TEXT_MODES = ("w", "a")


def write(
    path: PathArg,
    *,
    mode: str = "wb",
    atomic: bool = True,
    fsync: bool = False,
    encoding: str = "utf-8",
    max_buffer: int = 16 * MiB,
    name: str | None = None,
) -> Callable[[Observable[bytes | bytearray | memoryview | str]], Observable[int]]:
    """Write every item of the source to ``path``; emit the bytes written, then complete.

    Binary modes (``"wb"``, ``"ab"``) take ``bytes``/``bytearray``/``memoryview``
    items (do not change a buffer after emitting it); text modes (``"w"``,
    ``"a"``) take ``str`` items, encoded with ``encoding``. A wrong type fails
    with ``TypeError`` as the item arrives.

    With ``atomic=True`` (default) the items go to a temporary file in the
    same folder (``.<name>.<random>.tmp``), renamed over ``path`` only when
    the source completes (after ``fsync`` if asked): readers see the old file
    or the whole new one, never a part. If the source errors, a write fails
    (``ENOSPC``: disk full...) or the subscription is disposed, ``path`` is
    untouched and the temporary file removed; the error is delivered after
    the removal. In append modes the old content is copied to the temporary
    file first. A new file gets the default permissions (umask); a replaced
    one keeps its permission bits. A file the process may not write (mode
    ``444``...) is not replaced, even in a folder it may write: the write
    fails with :class:`PermissionSourceError` before anything is written,
    atomic or not, in every mode. Through a symbolic link, the file it
    points to is replaced and the link kept. ``path`` that is a device or a pipe
    (``/dev/stdout``) cannot be replaced: it is written in place.

    With ``atomic=False`` the file is opened at subscription (truncated in
    ``"wb"``/``"w"``) and written in place; on failure it holds what was
    written so far.

    Writes run on a dedicated thread, never on the loop. At most
    ``max_buffer`` bytes wait for it: past that, an rxasync source upstream
    (``read_chunks``, an HTTP body...) pauses until the writer catches up.
    (A plain RxPY source that cannot pause, such as ``reactivex.from_iterable``,
    is queued in full.) The thread writes everything queued since its last write with one
    ``os.writev``, and tells the loop what it wrote in batches; aiofiles'
    ``await f.write`` would cost a thread hop per item instead.

    Marble::

        source:  -a--b--c--|
        write(path)
        result:  ----------(n|)      n = len(a + b + c), after the rename

    Args:
        path: the file to write.
        mode: ``"wb"`` (replace, bytes), ``"ab"`` (append, bytes), ``"w"`` or
            ``"a"`` (the same for ``str``).
        atomic: write a temporary file and rename it on completion.
        fsync: flush the file (and the folder, after the rename) to the disk
            before completing; slower, survives a power cut.
        encoding: for text modes.
        max_buffer: bytes queued for the writer before the source is paused;
            the default 16 MiB keeps a fast disk busy, if in doubt keep it.
        name: the name of its counters in :mod:`rxasync.stats` (default ``<kind>#<id>``).

    Returns:
        An operator: ``Observable`` of items -> ``Observable[int]``.

    Raises:
        PermissionSourceError: (as ``on_error``) the file or its folder may
            not be written.
        FileSourceError: (as ``on_error``, a subclass where one fits) opening,
            writing or renaming failed; ``errno`` says why (``ENOSPC``...).

    Example:
        >>> import asyncio, pathlib, reactivex, rxasync, tempfile
        >>> from rxasync.files import write
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = pathlib.Path(folder, "out.bin")
        ...     asyncio.run(rxasync.to_list(reactivex.of(b"ab", b"cd").pipe(write(path))))
        ...     path.read_bytes()
        [4]
        b'abcd'
    """
    if mode not in _BINARY_MODES + _TEXT_MODES:
        raise ValueError(f"mode must be one of {_BINARY_MODES + _TEXT_MODES}, got {mode!r}")
    options = _options(path, mode, atomic, fsync, encoding, max_buffer, None, name)
    return lambda source: _observable(source, options)


def write_lines(
    path: PathArg,
    *,
    mode: str = "w",
    newline: str = "\n",
    atomic: bool = True,
    fsync: bool = False,
    encoding: str = "utf-8",
    max_buffer: int = 16 * MiB,
    name: str | None = None,
) -> Callable[[Observable[str]], Observable[int]]:
    r"""Write each ``str`` item as a line (followed by ``newline``); emit the bytes written.

    The text counterpart of :func:`write`, with the same atomicity, errors
    and demand; lines are joined on the writer thread, so a million short
    lines cost a few hundred writes, not a million.

    Marble::

        source:  -"a"--"b"--|
        write_lines(path)
        result:  -----------(4|)      the file holds "a\nb\n"

    Args:
        path: the file to write.
        mode: ``"w"`` (replace) or ``"a"`` (append).
        newline: written after every line.
        atomic: write a temporary file and rename it on completion.
        fsync: flush to the disk before completing.
        encoding: how lines are encoded.
        max_buffer: characters queued for the writer before the source pauses.
        name: the name of its counters in :mod:`rxasync.stats` (default ``<kind>#<id>``).

    Returns:
        An operator: ``Observable[str]`` -> ``Observable[int]``.

    Example:
        >>> import asyncio, pathlib, reactivex, rxasync, tempfile
        >>> from rxasync.files import write_lines
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = pathlib.Path(folder, "out.txt")
        ...     asyncio.run(rxasync.to_list(reactivex.of("é", "b").pipe(write_lines(path))))
        ...     path.read_text(encoding="utf-8")
        [5]
        'é\nb\n'
    """
    if mode not in _TEXT_MODES:
        raise ValueError(f"mode must be one of {_TEXT_MODES}, got {mode!r}")
    if not isinstance(newline, str):
        raise TypeError(f"newline must be a str, got {newline!r}")
    options = _options(path, mode, atomic, fsync, encoding, max_buffer, newline, name)
    return lambda source: _observable(source, options)


def _options(
    path: PathArg,
    mode: str,
    atomic: bool,
    fsync: bool,
    encoding: str,
    max_buffer: int,
    newline: str | None,
    name: str | None,
) -> SinkOptions:
    "".encode(encoding)  # LookupError for an unknown encoding, now rather than at the first item
    return SinkOptions(
        path=check_path(path),
        append=mode.startswith("a"),
        text=not mode.endswith("b"),
        atomic=bool(atomic),
        fsync=bool(fsync),
        encoding=encoding,
        max_buffer=check_int("max_buffer", max_buffer, 1),
        newline=newline,
        name=name,
    )


def _observable(source: Observable[object], options: SinkOptions) -> Observable[int]:
    return stage_observable(source, "write", lambda observer, loop: Sink(options, observer, loop))
