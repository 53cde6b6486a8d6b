"""``glob`` and ``walk``: the paths of a folder tree as an observable.

Listing folders blocks, so it runs on the default executor, a batch of up
to 256 paths per thread hop (:class:`~._offload.Offload`); the paths are
emitted one by one, and a slow consumer pauses the listing (demand).
"""

from __future__ import annotations

import fnmatch
import glob as _glob
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

from reactivex import Observable

from .._bridge import from_async_iterable
from .._checks import PathArg, check_path
from ._offload import Offload
from ._oserror import os_errors

__all__ = ["glob", "walk"]

_BATCH = 256


def glob(pattern: PathArg, *, recursive: bool = True, name: str | None = None) -> Observable[Path]:
    """The paths matching a shell pattern: ``*``, ``?``, ``[ab]``, and ``**`` for any depth.

    Patterns are those of :func:`glob.glob`; with ``recursive=True``, ``**``
    matches any number of folders (``logs/**/*.log``). Paths come in the
    order the file system lists them (sort downstream if order matters). A
    pattern that matches nothing, or a missing folder, gives an empty
    observable, as :func:`glob.glob` does. Hidden names (starting with
    ``.``) match only a pattern that starts with ``.``.

    Marble::

        folder:  a.log b.txt c.log
        glob("folder/*.log")
        result:  -a.log-c.log|

    Args:
        pattern: a path with wildcards, relative to the current folder or absolute.
        recursive: let ``**`` match any depth.
        name: the name of its counters in :mod:`rxasync.stats` (default ``from_async_iterable#<id>``).

    Returns:
        An ``Observable[pathlib.Path]``.

    Example:
        >>> import asyncio, pathlib, rxasync, tempfile
        >>> from rxasync.files import glob
        >>> with tempfile.TemporaryDirectory() as d:
        ...     for name in ("a.log", "b.txt", "sub/c.log"):
        ...         p = pathlib.Path(d, name); p.parent.mkdir(exist_ok=True); p.touch()
        ...     paths = asyncio.run(rxasync.to_list(glob(f"{d}/**/*.log")))
        ...     sorted(p.name for p in paths)
        ['a.log', 'c.log']
    """
    text = check_path(pattern)
    return from_async_iterable(
        lambda: _paths(lambda: _glob.iglob(text, recursive=recursive), text), name=name
    )


def walk(
    folder: PathArg, *, pattern: str | None = None, follow_symlinks: bool = False, name: str | None = None
) -> Observable[Path]:
    """Every file under ``folder``, at any depth, optionally those whose name matches ``pattern``.

    Files only (not folders), each folder's entries in name order, a folder's
    files before its subfolders'. Symbolic links to folders are not
    followed unless ``follow_symlinks`` (beware of loops); links to files
    are listed. Then ``ops.flat_map(read_lines)`` reads them all.

    Marble::

        folder:  a  b/c  b/d
        walk(folder)
        result:  -a-b/c-b/d|

    Args:
        folder: the folder to walk.
        pattern: a shell pattern matched against each file's *name*
            (``"*.log"``); ``None`` lists every file.
        follow_symlinks: descend into symbolic links to folders.
        name: the name of its counters in :mod:`rxasync.stats` (default ``from_async_iterable#<id>``).

    Returns:
        An ``Observable[pathlib.Path]``.

    Raises:
        FileNotFoundSourceError: (as ``on_error``) ``folder`` does not exist.
        PermissionSourceError: (as ``on_error``) a folder may not be listed.
        FileSourceError: (as ``on_error``) ``folder`` is a file (errno
            ``ENOTDIR``) or listing failed otherwise.

    Example:
        >>> import asyncio, pathlib, rxasync, tempfile
        >>> from rxasync.files import walk
        >>> with tempfile.TemporaryDirectory() as d:
        ...     for name in ("b.log", "a.txt", "sub/c.log"):
        ...         p = pathlib.Path(d, name); p.parent.mkdir(exist_ok=True); p.touch()
        ...     paths = asyncio.run(rxasync.to_list(walk(d, pattern="*.log")))
        ...     [p.relative_to(d).as_posix() for p in paths]
        ['b.log', 'sub/c.log']
    """
    root = check_path(folder)
    return from_async_iterable(lambda: _paths(lambda: _walk(root, pattern, follow_symlinks), root), name=name)


async def _paths(make: Callable[[], Iterator[str]], where: str) -> AsyncIterator[Path]:
    offload = Offload()
    entries = make()

    def next_batch() -> list[str]:
        with os_errors(where):
            return [path for _, path in zip(range(_BATCH), entries, strict=False)]

    try:
        while batch := await offload.call(next_batch):
            for path in batch:
                yield Path(path)
    finally:
        await offload.drain()
        close = getattr(entries, "close", None)
        if close is not None:
            close()  # closes the folder listings still open


def _walk(root: str, pattern: str | None, follow: bool) -> Iterator[str]:
    folders = [root]
    while folders:
        folder = folders.pop()
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
        subfolders = []
        for entry in entries:
            if entry.is_dir(follow_symlinks=follow):
                subfolders.append(entry.path)
            elif pattern is None or fnmatch.fnmatch(entry.name, pattern):
                yield entry.path
        folders.extend(reversed(subfolders))
