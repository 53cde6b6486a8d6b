"""``Client``: one connection pool and shared defaults for applications that make many calls."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, Unpack

import aiohttp
from reactivex import Observable

from .._checks import check_int
from . import _request, _response, _sse, _stream, _streamed, _websocket
from ._call import ClientBase
from ._options import BodyOptions, LinesOptions, NdjsonOptions, SseOptions, StreamOptions, WebSocketOptions
from ._policy import RetryArg, TimeoutArg

__all__ = ["Client"]


class Client(ClientBase):
    """A pool of connections and the defaults its calls share; an async context manager.

    Inside ``async with Client(...) as client:`` every call made through it
    (``client.get_json(...)``, or ``get_json(..., session=client)``) shares
    one ``aiohttp.ClientSession`` with at most ``limit`` open connections;
    leaving the block closes them. Relative URLs are appended to
    ``base_url``; ``headers`` are sent with every request; ``retry`` and
    ``timeout`` are the defaults a call's own arguments override.

    Args:
        base_url: prefix of relative URLs (``"http://api.local/v1"``).
        headers: headers sent with every request.
        retry: the default :class:`~rxasync.http.Retry` (``None``: 3 attempts).
        timeout: the default :class:`~rxasync.http.Timeout`, or total seconds
            (``None``: each source's own: 300 s in all for a whole body, 300 s idle for a stream).
        limit: most connections open at once, all hosts together. Calls
            beyond it wait for a free connection. If in doubt, 100.
        limit_per_host: most connections to one host (0: only ``limit``).

    Example:
        >>> import asyncio, rxasync, reactivex
        >>> from aiohttp import web
        >>> from rxasync.http import Client
        >>> from rxasync.operators import map_async
        >>> from rxasync.http._examples import serve  # a local server for the example
        >>> async def square(req: web.Request) -> web.Response:
        ...     return web.json_response(int(req.match_info["tail"].split("/")[-1]) ** 2)
        >>> async def main() -> list[int]:
        ...     async with serve(square) as base, Client(base_url=base + "/sq", limit=4) as client:
        ...         fetch = lambda n: rxasync.first(client.get_json(str(n)))
        ...         return await rxasync.to_list(reactivex.range(5).pipe(map_async(fetch, concurrency=4)))
        >>> asyncio.run(main())
        [0, 1, 4, 9, 16]
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        retry: RetryArg = None,
        timeout: TimeoutArg = None,
        limit: int = 100,
        limit_per_host: int = 0,
    ) -> None:
        super().__init__(base_url, headers, retry, timeout)
        self.limit = check_int("limit", limit, 1)
        self.limit_per_host = check_int("limit_per_host", limit_per_host, 0)

    def __repr__(self) -> str:
        state = "open" if self._session is not None and not self._session.closed else "closed"
        return f"<rxasync.http.Client base_url={str(self.base_url)!r} limit={self.limit} {state}>"

    async def __aenter__(self) -> Client:
        if self._session is not None and not self._session.closed:
            raise RuntimeError(f"{self!r} is already open")
        connector = aiohttp.TCPConnector(limit=self.limit, limit_per_host=self.limit_per_host)
        self._session = aiohttp.ClientSession(connector=connector, headers=self.headers)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pool. Subscriptions still running fail with a connection error."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def request(
        self, method: str, url: str, **options: Unpack[BodyOptions]
    ) -> Observable[_response.Response]:
        """:func:`rxasync.http.request` through this client (same arguments but ``session``)."""
        return _request.request(method, url, session=self, **options)

    def get(self, url: str, **options: Unpack[BodyOptions]) -> Observable[_response.Response]:
        """:func:`rxasync.http.get` through this client."""
        return _request.get(url, session=self, **options)

    def get_json(self, url: str, **options: Unpack[BodyOptions]) -> Observable[Any]:
        """:func:`rxasync.http.get_json` through this client."""
        return _request.get_json(url, session=self, **options)

    def stream(self, url: str, **options: Unpack[StreamOptions]) -> Observable[bytes]:
        """:func:`rxasync.http.stream` through this client."""
        return _stream.stream(url, session=self, **options)

    def stream_response(
        self, url: str, **options: Unpack[StreamOptions]
    ) -> Observable[_streamed.StreamedResponse]:
        """:func:`rxasync.http.stream_response` through this client."""
        return _streamed.stream_response(url, session=self, **options)

    def lines(self, url: str, **options: Unpack[LinesOptions]) -> Observable[str]:
        """:func:`rxasync.http.lines` through this client."""
        return _stream.lines(url, session=self, **options)

    def ndjson(self, url: str, **options: Unpack[NdjsonOptions]) -> Observable[Any]:
        """:func:`rxasync.http.ndjson` through this client."""
        return _stream.ndjson(url, session=self, **options)

    def sse(self, url: str, **options: Unpack[SseOptions]) -> Observable[_sse.ServerSentEvent]:
        """:func:`rxasync.http.sse` through this client."""
        return _sse.sse(url, session=self, **options)

    def websocket(self, url: str, **options: Unpack[WebSocketOptions]) -> _websocket.WebSocket:
        """:func:`rxasync.http.websocket` through this client."""
        return _websocket.websocket(url, session=self, **options)
