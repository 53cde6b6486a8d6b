"""``read_chunks``, ``read_lines`` and ``read_line_batches``: a file as an observable.

All three are async generators turned into observables by
``from_async_iterable``, which owns cancellation and demand. Chunks come
from a :class:`~._reader.BlockReader` (a dedicated reader thread with bounded
read-ahead: each chunk is a new ``bytes`` anyway, and the thread overlaps
the kernel's copy with the consumer). Lines come from a
:class:`~._pagecache.PageCacheReader` (one reused buffer, read on the loop
while the page cache has the bytes, on a thread otherwise), split by the
shared :class:`~rxasync._text.LineDecoder`, and pulled through the bridge
as lists by ``from_async_batches``, which emits them one by one with demand
checked per line.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

from reactivex import Observable

from .._bridge import from_async_batches, from_async_iterable
from .._checks import PathArg, check_int, check_path
from .._text import DEFAULT_MAX_LINE_LENGTH, LineDecoder
from ._pagecache import PageCacheReader
from ._reader import BlockReader

__all__ = ["read_chunks", "read_line_batches", "read_lines"]

MiB = 1 << 20
# Bytes decoded and split at once. Measured (benchmarks/files_read.py): 128 KiB beats 64 KiB
# (per-block costs) and 256 KiB (the decoded str outgrows malloc's small-block heap and the
# L2 cache; throughput drops by a third).
_LINE_BLOCK = 128 * 1024
_LINE_READ_AHEAD = 8  # blocks, for pipes and devices read on a BlockReader thread


def read_chunks(
    path: PathArg,
    *,
    chunk_size: int = MiB,
    offset: int = 0,
    length: int | None = None,
    read_ahead: int = 8 * MiB,
    name: str | None = None,
) -> Observable[bytes]:
    """The bytes of a file, in chunks of ``chunk_size`` (the last may be shorter).

    The file is opened at subscription and read on a dedicated thread, at
    most ``read_ahead`` bytes ahead of the consumer: with a slow rxasync
    stage downstream (``map_async``, ``write``, ``to_async_iterable``) the
    thread waits, so memory stays at about ``read_ahead``. Disposing closes
    the file and stops the thread at once. Each subscription reads afresh.

    Reading goes on to the end of the file as it is when the reader gets
    there (bytes appended meanwhile are included). A file *truncated* while
    read, so that it ends before the size it had when opened, fails with
    :class:`FileChangedError` rather than ending early and silently. A file
    *renamed over* (or deleted) while read is read to its end all the same:
    you get the whole old file, never a mix (see :class:`FileChangedError`).

    Why not aiofiles: its every ``read`` is a hop to the default executor and
    back; this reads in ``chunk_size`` blocks on one thread and wakes the
    loop once per batch of blocks (see ``benchmarks/files_read.py``).

    Marble::

        file:    [aaaabbbbcc]
        read_chunks(chunk_size=4)
        result:  -aaaa-bbbb-cc|

    Args:
        path: the file (``str`` or ``os.PathLike``); pipes and devices work too.
        chunk_size: bytes per chunk; 1 MiB is fast, 64 KiB for lower latency.
        offset: byte to start at.
        length: read at most this many bytes (``None``: to the end).
        read_ahead: bytes read ahead of the consumer, at least one chunk.
        name: the name of its counters in :mod:`rxasync.stats` (default ``<kind>#<id>``).

    Returns:
        An ``Observable[bytes]``.

    Raises:
        FileNotFoundSourceError: (as ``on_error``) the path does not exist.
        IsADirectorySourceError: (as ``on_error``) the path is a directory.
        PermissionSourceError: (as ``on_error``) the file may not be read.
        FileChangedError: (as ``on_error``) the file was truncated while read.
        FileSourceError: (as ``on_error``) any other ``OSError``, errno kept.

    Example:
        >>> import asyncio, rxasync, tempfile
        >>> from rxasync.files import read_chunks
        >>> with tempfile.NamedTemporaryFile() as f:
        ...     _ = f.write(b"0123456789"); f.flush()
        ...     asyncio.run(rxasync.to_list(read_chunks(f.name, chunk_size=4)))
        [b'0123', b'4567', b'89']
    """
    where = check_path(path)
    check_int("chunk_size", chunk_size, 1)
    check_int("offset", offset, 0)
    if length is not None:
        check_int("length", length, 0)
    blocks = max(1, check_int("read_ahead", read_ahead, 1) // chunk_size)

    async def chunks() -> AsyncIterator[bytes]:
        reader = BlockReader(where, chunk_size, blocks, offset, length)
        try:
            while batch := await reader.blocks():
                for chunk in batch:
                    yield chunk
        finally:
            await reader.close()

    return from_async_iterable(chunks, name=name)


def read_lines(
    path: PathArg,
    *,
    encoding: str = "utf-8",
    errors: str = "strict",
    max_line_length: int = DEFAULT_MAX_LINE_LENGTH,
    keepends: bool = False,
    name: str | None = None,
) -> Observable[str]:
    r"""The lines of a text file, one item per line.

    Lines end at ``\n``, ``\r\n`` or ``\r``; the ending is dropped unless
    ``keepends``. A last line without a newline is emitted too. The file is
    decoded incrementally in 128 KiB blocks, so a multi-byte character or a
    ``\r\n`` split between blocks is handled.

    How it reads, and why: a block the page cache holds is copied into one
    reused buffer right on the loop (``preadv`` with ``RWF_NOWAIT``, which
    answers "would block" instead of waiting for the disk); only a block
    that needs the disk goes to a worker thread. So a hot file costs no
    thread hop at all (aiofiles makes one per line: measured 300-750x
    slower), and a cold one never blocks the loop; the reader yields to the
    loop every MiB.
    Pipes and devices are read on a reader thread. Lines cross the bridge in
    lists and are emitted one by one; demand is still per line: with a slow
    rxasync stage downstream, emission pauses mid-list and reading stops.

    While read, the file is handled as by :func:`read_chunks`: appended lines
    are included, a truncation fails with :class:`FileChangedError`, and a
    file renamed over is read whole from the old copy.

    Each item through an observable costs about 0.1 µs (two Python calls in
    RxPY); where that matters, :func:`read_line_batches` gives the same lines
    as lists, at about the speed of a plain ``for line in f``.

    Marble::

        file:    [ab\ncd\ne]
        result:  -ab-cd-e|

    Args:
        path: the file.
        encoding: any codec Python knows.
        errors: ``"strict"`` fails with :class:`DecodeError`; ``"replace"``
            substitutes U+FFFD (and ``"ignore"``... as in ``bytes.decode``).
        max_line_length: longest line allowed, in characters; a longer one
            fails with :class:`LineTooLongError` as soon as it is seen, so an
            endless line cannot fill memory.
        keepends: keep each line's ending.
        name: the name of its counters in :mod:`rxasync.stats` (default ``<kind>#<id>``).

    Returns:
        An ``Observable[str]``.

    Raises:
        DecodeError: (as ``on_error``) invalid data, naming the 1-based line
            and the 0-based byte offset; not with a lenient ``errors``.
        LineTooLongError: (as ``on_error``) a line over ``max_line_length``.
        FileChangedError: (as ``on_error``) the file was truncated while read.
        FileSourceError: (as ``on_error``, a subclass) as :func:`read_chunks`.

    Example:
        >>> import asyncio, rxasync, tempfile
        >>> from rxasync.files import read_lines
        >>> with tempfile.NamedTemporaryFile() as f:
        ...     _ = f.write("première\r\nseconde\nlast".encode()); f.flush()
        ...     asyncio.run(rxasync.to_list(read_lines(f.name)))
        ['première', 'seconde', 'last']
    """
    where = check_path(path)
    LineDecoder(encoding, errors, max_line_length, keepends, where)  # validates the arguments now

    return from_async_batches(
        lambda: _line_batches(where, encoding, errors, max_line_length, keepends), name=name
    )


def read_line_batches(
    path: PathArg,
    *,
    encoding: str = "utf-8",
    errors: str = "strict",
    max_line_length: int = DEFAULT_MAX_LINE_LENGTH,
    keepends: bool = False,
    name: str | None = None,
) -> Observable[list[str]]:
    r"""The lines of a text file as lists: the lines completed by each block read.

    The same lines as :func:`read_lines`, with the same arguments and errors,
    grouped: each list holds the lines that one 128 KiB block completed
    (thousands of short lines; never an empty list). Use it when throughput
    matters: the per-item cost of an observable is paid once per list, and
    demand counts lists. ``ops.flat_map(lambda b: b)`` gives single lines.

    Marble::

        file:    [ab\ncd\n|ef\n]   (| a block boundary)
        result:  -[ab,cd]-[ef]|

    Args:
        path: the file.
        encoding: any codec Python knows.
        errors: ``"strict"`` or a lenient handler such as ``"replace"``.
        max_line_length: longest line allowed, in characters.
        keepends: keep each line's ending.
        name: the name of its counters in :mod:`rxasync.stats` (default ``<kind>#<id>``).

    Returns:
        An ``Observable[list[str]]``.

    Example:
        >>> import asyncio, rxasync, tempfile
        >>> from rxasync.files import read_line_batches
        >>> with tempfile.NamedTemporaryFile() as f:
        ...     _ = f.write(b"a\nb\nc\n"); f.flush()
        ...     asyncio.run(rxasync.to_list(read_line_batches(f.name)))
        [['a', 'b', 'c']]
    """
    where = check_path(path)
    LineDecoder(encoding, errors, max_line_length, keepends, where)
    return from_async_iterable(
        lambda: _line_batches(where, encoding, errors, max_line_length, keepends), name=name
    )


async def _line_batches(
    path: str, encoding: str, errors: str, max_line_length: int, keepends: bool
) -> AsyncIterator[list[str]]:
    decoder = LineDecoder(encoding, errors, max_line_length, keepends, path)
    blocks: AsyncGenerator[memoryview | bytes, None]
    async with aclosing(_blocks(path)) as blocks:
        async for block in blocks:
            if lines := decoder.feed(block):
                yield lines
    if lines := decoder.close():
        yield lines


async def _blocks(path: str) -> AsyncGenerator[memoryview | bytes, None]:
    """A regular file from the page cache when it can (no thread hop); anything else on a reader thread."""
    cached = PageCacheReader(path, _LINE_BLOCK)
    try:
        if await cached.open():
            while block := await cached.read():
                yield block
            return
    finally:
        await cached.close()
    reader = BlockReader(path, _LINE_BLOCK, _LINE_READ_AHEAD)
    try:
        while batch := await reader.blocks():
            for data in batch:
                yield data
    finally:
        await reader.close()
