"""``stream_response``: a streamed answer's head (status, headers, length) before its first chunk.

The source emits one :class:`StreamedResponse` as soon as the headers are in;
its ``body`` is an observable of the chunks on the same connection, read by
the same attempt loop as :func:`~rxasync.http.stream` (``Range`` resume,
demand, dispose). The connection lives until the body ends, so the body must
be subscribed while the head is delivered: inside ``on_next``, which is what
``flat_map``/``concat_map``/``switch_map`` do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Unpack

import aiohttp
import reactivex
from multidict import CIMultiDictProxy
from reactivex import Observable, abc
from reactivex.disposable import Disposable

from .._bridge import from_async_iterable
from .._errors import HttpError
from ._call import Call, SessionArg, open_session
from ._options import StreamOptions, check_options
from ._stream import call_of
from ._transfer import Transfer, check_chunk_size

__all__ = ["StreamedResponse", "stream_response"]


@dataclass(frozen=True, slots=True, eq=False)
class StreamedResponse:
    """The head of a streamed answer, and its body as an observable.

    Attributes:
        status: the status code (``200``).
        reason: the reason phrase (``"OK"``).
        url: the final URL, after redirects.
        headers: the response headers (case-insensitive).
        method: the request's method.
        content_length: the bytes ``body`` will deliver, from ``Content-Length``;
            ``None`` when the server did not say (chunked) or the body is
            compressed (the header then counts compressed bytes, and ``body``
            delivers them decompressed).
        body: the chunks, ``Observable[bytes]``. Subscribe once, from inside
            the ``on_next`` that delivers this head (``flat_map``); a later
            subscription fails with :class:`~rxasync.HttpError`, because the
            connection was released when ``on_next`` returned without it.
    """

    status: int
    reason: str
    url: str
    headers: CIMultiDictProxy[str]
    method: str
    content_length: int | None
    body: Observable[bytes] = field(repr=False)


class _Body:
    """The body of one head: claimed by one subscription, sealed when the head's ``on_next`` returns."""

    __slots__ = ("chunk_size", "done", "loop", "state", "transfer")

    def __init__(self, transfer: Transfer, chunk_size: int) -> None:
        self.transfer = transfer
        self.chunk_size = chunk_size
        self.state = "waiting"  # -> "claimed" (subscribed in time) or "sealed" (too late)
        self.done = asyncio.Event()
        self.loop = asyncio.get_running_loop()

    def observable(self) -> Observable[bytes]:
        source = from_async_iterable(self._chunks)

        def subscribe(
            observer: abc.ObserverBase[bytes], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            if self.state != "waiting":  # claimed synchronously: the pump has not started yet
                observer.on_error(self._late())
                return Disposable()
            self.state = "claimed"
            inner = source.subscribe(observer, scheduler=scheduler)

            def dispose() -> None:
                # A body disposed before its pump started the generator never runs
                # _chunks' finally: the head must not wait for it (nor hold the connection).
                inner.dispose()
                if not self.loop.is_closed():
                    self.loop.call_soon_threadsafe(self.done.set)

            return Disposable(dispose)

        return reactivex.create(subscribe)

    def seal(self) -> None:
        """The head's ``on_next`` returned: an unclaimed body will never be read."""
        if self.state == "waiting":
            self.state = "sealed"
            self.done.set()

    async def _chunks(self) -> AsyncIterator[bytes]:
        try:
            async with aclosing(self.transfer.chunks(self.chunk_size)) as chunks:
                async for chunk in chunks:
                    yield chunk
        finally:
            self.done.set()

    def _late(self) -> HttpError:
        call = self.transfer.call
        what = "was subscribed already" if self.state == "claimed" else "was not subscribed in time"
        return HttpError(
            f"the body of {call.method} {call.url} {what}: subscribe to it once, from inside the "
            "on_next that delivers its head (flat_map, concat_map), while the connection is open",
            method=call.method,
            url=call.url,
        )


def _length(resp: aiohttp.ClientResponse) -> int | None:
    encoding = resp.headers.get("Content-Encoding", "identity").lower()
    return resp.content_length if encoding == "identity" else None


async def _heads(call: Call, chunk_size: int) -> AsyncIterator[StreamedResponse]:
    async with open_session(call) as session:
        transfer = Transfer(session, call, replay=False)
        body = _Body(transfer, chunk_size)
        try:
            resp = await transfer.open()
            yield StreamedResponse(
                status=resp.status,
                reason=resp.reason or "",
                url=str(resp.url),
                headers=resp.headers,
                method=call.method,
                content_length=_length(resp),
                body=body.observable(),
            )
            body.seal()
            await body.done.wait()  # the body subscribed inside on_next is read to its end
        finally:
            body.seal()
            transfer.close()


def stream_response(
    url: str, *, session: SessionArg = None, **options: Unpack[StreamOptions]
) -> Observable[StreamedResponse]:
    """One :class:`StreamedResponse` per subscription: status and headers first, then its body.

    Use it where the head decides what to do with the body: a progress bar
    whose total is ``Content-Length``, a status or ``Content-Type`` check, a
    file name from ``Content-Disposition``. The body behaves as
    :func:`stream`'s (chunks of at most ``chunk_size``, resumed with
    ``Range`` after a break, demand, dispose closes the connection); the
    source completes when the body ends. Subscribe to ``body`` inside the
    head's ``on_next`` (``flat_map``): once that returns without it, the
    connection is closed.

    Marble::

        result:  ---h|                h = StreamedResponse(status=200, content_length=10, ...)
        h.body:      -ab-c|           (subscribed inside on_next, via flat_map)

    Args:
        url: the URL (or a path below the client's ``base_url``).
        session: as for :func:`~rxasync.http.request`.
        **options: a :class:`~rxasync.http.StreamOptions`, as for :func:`stream`.

    Returns:
        An ``Observable[StreamedResponse]`` with one item.

    Example:
        >>> import asyncio, rxasync
        >>> from aiohttp import web
        >>> from reactivex import operators as ops
        >>> from rxasync.http import stream_response
        >>> from rxasync.http._examples import serve  # a local server for the example
        >>> async def data(req: web.Request) -> web.Response:
        ...     return web.Response(body=bytes(10))
        >>> async def main() -> list[str]:
        ...     async with serve(data) as base:
        ...         return await rxasync.to_list(stream_response(base + "/", chunk_size=4).pipe(
        ...             ops.flat_map(lambda r: r.body.pipe(
        ...                 ops.map(lambda chunk: f"{len(chunk)} of {r.content_length}"))),
        ...         ))
        >>> asyncio.run(main())
        ['4 of 10', '4 of 10', '2 of 10']
    """
    check_options(options, StreamOptions, "stream_response")
    chunk_size = check_chunk_size(options.get("chunk_size", 65536))
    call = call_of(url, session, options)
    return from_async_iterable(lambda: _heads(call, chunk_size), name=options.get("name"))
