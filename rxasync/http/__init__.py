"""HTTP as observables, on aiohttp: requests, streamed bodies, lines, NDJSON, SSE, WebSockets.

Every source sends nothing until subscribed, sends afresh on each
subscription, and aborts its request when disposed. Errors are rxasync's
(``HttpStatusError``, ``HttpConnectionError``, ``SourceTimeoutError``...),
chained from aiohttp's.

Example:
    >>> import asyncio, rxasync
    >>> from aiohttp import web
    >>> from rxasync import http
    >>> from rxasync.http._examples import serve  # a local server for the example
    >>> async def hello(req: web.Request) -> web.Response:
    ...     return web.json_response({"hello": "world"})
    >>> async def main() -> object:
    ...     async with serve(hello) as base:
    ...         return await rxasync.first(http.get_json(base + "/"))
    >>> asyncio.run(main())
    {'hello': 'world'}
"""

from .._errors import InvalidUrlError
from .._exports import export as _export
from ._client import Client
from ._options import (
    BodyOptions,
    LinesOptions,
    NdjsonOptions,
    RequestOptions,
    SseOptions,
    StreamOptions,
    WebSocketOptions,
)
from ._policy import Retry, Timeout
from ._request import get, get_json, request
from ._response import Response
from ._sse import ServerSentEvent, SseParser, sse
from ._stream import lines, ndjson, stream
from ._streamed import StreamedResponse, stream_response
from ._websocket import WebSocket, websocket

__all__ = [
    "BodyOptions",
    "Client",
    "InvalidUrlError",
    "LinesOptions",
    "NdjsonOptions",
    "RequestOptions",
    "Response",
    "Retry",
    "ServerSentEvent",
    "SseOptions",
    "SseParser",
    "StreamOptions",
    "StreamedResponse",
    "Timeout",
    "WebSocket",
    "WebSocketOptions",
    "get",
    "get_json",
    "lines",
    "ndjson",
    "request",
    "sse",
    "stream",
    "stream_response",
    "websocket",
]

_export(globals())
