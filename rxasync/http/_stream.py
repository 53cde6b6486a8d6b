"""Streamed bodies: ``stream`` (bytes), ``lines`` (text lines) and ``ndjson`` (JSON values)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any, Unpack

from reactivex import Observable

from .._bridge import from_async_batches, from_async_iterable
from .._errors import DecodeError, LineTooLongError
from .._text import DEFAULT_MAX_LINE_LENGTH, LineDecoder
from ._call import Call, SessionArg, make_call
from ._options import LinesOptions, NdjsonOptions, StreamOptions, check_options
from ._response import decode_json
from ._transfer import Transfer, check_chunk_size

__all__ = ["body_chunks", "call_of", "lines", "ndjson", "stream"]


def call_of(url: str, session: SessionArg, options: StreamOptions) -> Call:
    """Resolve a source's URL and options into a :class:`Call` (``GET`` unless ``method`` says)."""
    return make_call(options.get("method", "GET"), url, session, options)


def body_chunks(call: Call, chunk_size: int) -> AsyncGenerator[bytes]:
    """The body of ``call`` in chunks, on a session of its own or the one given, resumed across breaks."""
    return Transfer(None, call, replay=False).chunks(chunk_size)


def stream(url: str, *, session: SessionArg = None, **options: Unpack[StreamOptions]) -> Observable[bytes]:
    """The response body as it arrives, in chunks of at most ``chunk_size`` bytes.

    Chunks are emitted as the network delivers them (a chunk may be shorter
    than ``chunk_size``). With an rxasync consumer downstream the download
    pauses while it is busy (demand), so memory stays at a few chunks. If
    the connection breaks mid-body, the rest is fetched with a ``Range``
    request when the server allows it (``Accept-Ranges: bytes``, a strong
    ``ETag`` that the rest must carry too, no ``Content-Encoding``; a weak
    ``ETag`` or a ``Last-Modified`` date alone is not enough); otherwise the
    stream fails with :class:`~rxasync.HttpResumeError` — bytes are never
    delivered twice, nor spliced from two versions.
    Disposing closes the connection at once.

    Marble::

        body:    [ab][cd]--[e]|
        result:  -ab-cd----e--|

    Args:
        url: the URL (or a path below the client's ``base_url``).
        session: as for :func:`~rxasync.http.request`.
        **options: a :class:`~rxasync.http.StreamOptions`: ``chunk_size``, the
            most bytes per item (if in doubt, 64 KiB, the default); ``method``
            (``"GET"``); and the :class:`~rxasync.http.RequestOptions` as for
            :func:`~rxasync.http.request` (``params``, ``headers``, ``json``,
            ``data``, ``timeout``, ``retry``, ``raise_for_status``...).

    Returns:
        An ``Observable[bytes]``.

    Example:
        >>> import asyncio, rxasync
        >>> from aiohttp import web
        >>> from rxasync.http import stream
        >>> from rxasync.http._examples import serve  # a local server for the example
        >>> async def data(req: web.Request) -> web.Response:
        ...     return web.Response(body=bytes(range(10)))
        >>> async def main() -> list[bytes]:
        ...     async with serve(data) as base:
        ...         return await rxasync.to_list(stream(base + "/", chunk_size=4))
        >>> asyncio.run(main())
        [b'\\x00\\x01\\x02\\x03', b'\\x04\\x05\\x06\\x07', b'\\x08\\t']
    """
    check_options(options, StreamOptions, "stream")
    chunk_size = check_chunk_size(options.get("chunk_size", 65536))
    call = call_of(url, session, options)
    return from_async_iterable(lambda: body_chunks(call, chunk_size), name=options.get("name"))


def _decoder(encoding: str, errors: str, max_line_length: int, source: str) -> LineDecoder:
    return LineDecoder(encoding, errors, max_line_length, source=source)


async def _line_batches(call: Call, decoder: LineDecoder, chunk_size: int) -> AsyncGenerator[list[str]]:
    """The body's lines, a list per chunk (maybe empty), then the last unterminated one.

    Before a :class:`DecodeError` the lines complete ahead of the bad bytes in
    the same chunk are still yielded, so nothing good is lost.
    """
    async with aclosing(body_chunks(call, chunk_size)) as chunks:
        async for chunk in chunks:
            try:
                batch = decoder.feed(chunk)
            except LineTooLongError:
                raise
            except DecodeError as exc:
                good = exc.offset - decoder.offset  # the decoder is unchanged by a failed feed
                if good > 0:
                    yield decoder.feed(chunk[:good])
                raise
            yield batch
            decoder.raise_pending()  # a too-long line after those: now, not with the next chunk
    yield decoder.close()


def lines(url: str, *, session: SessionArg = None, **options: Unpack[LinesOptions]) -> Observable[str]:
    """The response body decoded and split into lines, without their line endings.

    Lines end at ``\\n``, ``\\r\\n`` or ``\\r`` — also when a multi-byte
    character or a ``\\r\\n`` is split between two network chunks. A last
    line without a newline is emitted too. Unlike aiohttp's own line reader,
    the longest line is yours to set: past ``max_line_length`` the stream
    fails with :class:`~rxasync.LineTooLongError` as soon as it is passed.

    Marble::

        body:    [a\\nb][c\\r][\\nd]|
        result:  -a------bc----d|

    Args:
        url: the URL (or a path below the client's ``base_url``).
        session: as for :func:`~rxasync.http.request`.
        **options: a :class:`~rxasync.http.LinesOptions`: ``encoding``, the
            body's text encoding (``"utf-8"``); ``errors``: ``"strict"`` (the
            default) fails with :class:`~rxasync.DecodeError` naming the byte
            offset and line, ``"replace"`` substitutes U+FFFD;
            ``max_line_length``, the longest line allowed, in characters
            (1 MiB); and the options of :func:`stream`.

    Returns:
        An ``Observable[str]`` of lines.

    Example:
        >>> import asyncio, rxasync
        >>> from aiohttp import web
        >>> from rxasync.http import lines
        >>> from rxasync.http._examples import serve  # a local server for the example
        >>> async def log(req: web.Request) -> web.Response:
        ...     return web.Response(body="café\\r\\nbar\\nlast".encode())
        >>> async def main() -> list[str]:
        ...     async with serve(log) as base:
        ...         return await rxasync.to_list(lines(base + "/", chunk_size=4))
        >>> asyncio.run(main())
        ['café', 'bar', 'last']
    """
    check_options(options, LinesOptions, "lines")
    chunk_size = check_chunk_size(options.get("chunk_size", 65536))
    encoding, errors = options.get("encoding", "utf-8"), options.get("errors", "strict")
    max_line_length = options.get("max_line_length", DEFAULT_MAX_LINE_LENGTH)
    _decoder(encoding, errors, max_line_length, url)  # bad arguments fail here, not at subscribe
    call = call_of(url, session, options)

    def gen() -> AsyncIterator[list[str]]:
        return _line_batches(call, _decoder(encoding, errors, max_line_length, call.url), chunk_size)

    return from_async_batches(gen, name=options.get("name"))  # one async step per chunk; demand counts lines


def ndjson(url: str, *, session: SessionArg = None, **options: Unpack[NdjsonOptions]) -> Observable[Any]:
    """Newline-delimited JSON: one decoded value per line of the body; blank lines are skipped.

    Marble::

        body:    [{"a":1}\\n{"a"][:2}\\n]|
        result:  -{a:1}-------{a:2}--|

    Args:
        url: the URL (or a path below the client's ``base_url``).
        session: as for :func:`~rxasync.http.request`.
        **options: a :class:`~rxasync.http.NdjsonOptions`:
            ``max_line_length``, the longest line allowed, in characters
            (1 MiB), and the options of :func:`stream`.

    Returns:
        An ``Observable`` of the decoded values.

    Raises:
        DecodeError: (as ``on_error``) a line is not JSON; the error names its
            line number and the URL, and its ``offset`` is the byte offset in
            the body where parsing failed. Values before it were delivered.

    Example:
        >>> import asyncio, rxasync
        >>> from aiohttp import web
        >>> from rxasync.http import ndjson
        >>> from rxasync.http._examples import serve  # a local server for the example
        >>> async def events(req: web.Request) -> web.Response:
        ...     return web.Response(text='{"n": 1}\\n\\n{"n": 2}\\n', content_type="application/x-ndjson")
        >>> async def main() -> list[object]:
        ...     async with serve(events) as base:
        ...         return await rxasync.to_list(ndjson(base + "/"))
        >>> asyncio.run(main())
        [{'n': 1}, {'n': 2}]
    """
    check_options(options, NdjsonOptions, "ndjson")
    chunk_size = check_chunk_size(options.get("chunk_size", 65536))
    max_line_length = options.get("max_line_length", DEFAULT_MAX_LINE_LENGTH)
    _decoder("utf-8", "strict", max_line_length, url)
    call = call_of(url, session, options)

    async def gen() -> AsyncIterator[list[Any]]:
        decoder = LineDecoder("utf-8", "strict", max_line_length, keepends=True, source=call.url)
        async with aclosing(_line_batches(call, decoder, chunk_size)) as batches:
            async for batch in batches:
                first = decoder.line - len(batch) + 1
                values: list[Any] = []
                try:
                    for index, line in enumerate(batch):
                        if line and not line.isspace():
                            values.append(decode_json(line.rstrip("\r\n"), call.url, first + index))
                except DecodeError as exc:  # its offset is the column: make it the body's byte offset
                    exc.offset = decoder.offset_of(batch, index, exc.offset)
                    yield values  # the values before the bad line are delivered first
                    raise
                yield values

    return from_async_batches(gen, name=options.get("name"))
