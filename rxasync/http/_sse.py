"""Server-Sent Events: the WHATWG event-stream format, parsed incrementally, with reconnection.

The parser follows the HTML standard's "Interpreting an event stream"
(https://html.spec.whatwg.org/multipage/server-sent-events.html): UTF-8 with
one leading BOM ignored, lines ending in CRLF, LF or CR, ``:`` comments,
fields without a colon, one space after the colon dropped, ``data`` lines
joined with ``\\n``, ``id`` values containing NUL ignored, ``retry`` only
when all ASCII digits, an event dispatched at a blank line (and only if it
has data), and an unfinished event at the end of the stream discarded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, Unpack

import aiohttp
from reactivex import Observable

from .._bridge import from_async_iterable
from .._errors import HttpConnectionError, HttpError, SourceTimeoutError
from .._text import DEFAULT_MAX_LINE_LENGTH, LineDecoder
from ._call import Attempts, Call, SessionArg, make_call, open_session, send_with_retries
from ._options import SseOptions, check_options
from ._response import decode_json
from ._translate import translate_errors

__all__ = ["ServerSentEvent", "SseParser", "sse"]


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One event of an event stream.

    Attributes:
        data: the ``data`` lines, joined with ``\\n``.
        event: the event type (``"message"`` when the server named none).
        id: the last event ID when it was dispatched (``""`` if none yet).
        retry: the reconnection time in milliseconds if this event's block
            set one, else ``None``.
    """

    data: str
    event: str = "message"
    id: str = ""
    retry: int | None = None

    def json(self) -> Any:
        """``data`` decoded as JSON (msgspec when installed, the stdlib's results and errors).

        Raises:
            DecodeError: ``data`` is not JSON; names the line and offset in ``data``.

        Example:
            >>> ServerSentEvent('{"n": [1, 2]}').json()
            {'n': [1, 2]}
        """
        return decode_json(self.data, f"the data of event {self.event!r} (id {self.id!r})")


class SseParser:
    """Feed lines (without endings) of an event stream; get events at blank lines.

    Example:
        >>> p = SseParser()
        >>> [p.feed(line) for line in ["event: tick", "data: 1", "data:2", ""]][-1]
        ServerSentEvent(data='1\\n2', event='tick', id='', retry=None)
    """

    __slots__ = ("_data", "_event", "_id", "_retry", "last_event_id", "reconnect_ms")

    def __init__(self, last_event_id: str = "") -> None:
        self.last_event_id = last_event_id  # sent as Last-Event-ID when reconnecting
        self.reconnect_ms: int | None = None  # the stream's latest valid retry: field
        self._id = last_event_id  # the last event ID buffer
        self._data: list[str] = []
        self._event = ""
        self._retry: int | None = None

    def feed(self, line: str) -> ServerSentEvent | None:
        """Process one line; return the event a blank line dispatches, if any."""
        if not line:
            return self._dispatch()
        if line[0] == ":":
            return None
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.reconnect_ms = self._retry = int(value)
        return None

    def discard(self) -> None:
        """Drop an unfinished event (the connection ended before its blank line)."""
        self._data.clear()
        self._event = ""
        self._retry = None
        self._id = self.last_event_id

    def _dispatch(self) -> ServerSentEvent | None:
        self.last_event_id = self._id
        data, event, retry = self._data, self._event, self._retry
        self._data, self._event, self._retry = [], "", None
        if not data:
            return None
        return ServerSentEvent("\n".join(data), event or "message", self._id, retry)


def sse(
    url: str, *, session: SessionArg = None, **options: Unpack[SseOptions]
) -> Observable[ServerSentEvent]:
    """Server-Sent Events from ``url``, reconnecting as a browser's ``EventSource`` does.

    When the connection drops or the stream ends, it reconnects after the
    server's ``retry:`` delay (``reconnect_delay`` until the server sets one),
    sending ``Last-Event-ID`` so the server resumes after the last *complete*
    event: an event cut off by the drop is discarded and comes again, none
    is delivered twice. An answer ``204 No Content`` ends the stream
    (completes). A non-2xx answer, or one that is not ``text/event-stream``,
    fails it. After ``retry.attempts`` connections in a row end without an
    event (or fail to connect), the last error is delivered.

    Marble::

        server:  -a-b-(drop)  ...retry ms...  -c-(204)
        result:  -a-b-------------------------c-|

    Args:
        url: the URL (or a path below the client's ``base_url``).
        session: as for :func:`~rxasync.http.request`.
        **options: a :class:`~rxasync.http.SseOptions`:

            last_event_id: the ``Last-Event-ID`` of the first request (to
                resume a stream consumed earlier; ``None``).
            reconnect: reconnect when the stream ends or drops (``True``);
                ``False`` completes at the end and fails on a drop.
            reconnect_delay: seconds before reconnecting until the server's
                ``retry:`` field says otherwise (3.0).
            max_line_length: the longest line allowed, in characters (1 MiB).
            method: ``"GET"``; and the :class:`~rxasync.http.RequestOptions`
                as for :func:`~rxasync.http.request`: set
                ``timeout=Timeout(idle=...)`` to reconnect a silent stream.

    Returns:
        An ``Observable[ServerSentEvent]``.

    Example:
        >>> import asyncio, rxasync
        >>> from aiohttp import web
        >>> from rxasync.http import sse
        >>> from rxasync.http._examples import serve  # a local server for the example
        >>> async def ticks(req: web.Request) -> web.Response:
        ...     body = ": hello\\n\\nevent: tick\\nid: 1\\ndata: one\\n\\ndata: two\\ndata: lines\\n\\n"
        ...     return web.Response(text=body, content_type="text/event-stream")
        >>> async def main() -> list[tuple[str, str, str]]:
        ...     async with serve(ticks) as base:
        ...         events = await rxasync.to_list(sse(base + "/", reconnect=False))
        ...     return [(e.event, e.id, e.data) for e in events]
        >>> asyncio.run(main())
        [('tick', '1', 'one'), ('message', '1', 'two\\nlines')]
    """
    check_options(options, SseOptions, "sse")
    last_event_id = options.get("last_event_id")
    reconnect = options.get("reconnect", True)
    reconnect_delay = options.get("reconnect_delay", 3.0)
    max_line_length = options.get("max_line_length", DEFAULT_MAX_LINE_LENGTH)
    if not reconnect_delay >= 0:
        raise ValueError(f"reconnect_delay must be >= 0 seconds, got {reconnect_delay!r}")
    LineDecoder("utf-8", "replace", max_line_length)  # bad arguments fail here
    call = make_call(options.get("method", "GET"), url, session, options)
    headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
    call = call.with_headers({**headers, **(call.headers or {})})

    async def gen() -> AsyncIterator[ServerSentEvent]:
        parser = SseParser(last_event_id or "")
        failures = 0
        async with open_session(call) as session:
            while True:
                extra = {"Last-Event-ID": parser.last_event_id} if parser.last_event_id else {}
                attempt = call.with_headers(extra)
                resp = await send_with_retries(session, attempt, Attempts(attempt))
                if resp.status == 204:
                    resp.release()
                    return
                got_any = False
                error: HttpConnectionError | SourceTimeoutError | None = None
                try:
                    async with aclosing(_events(resp, attempt, parser, max_line_length)) as events:
                        async for event in events:
                            got_any = True
                            yield event
                except (HttpConnectionError, SourceTimeoutError) as exc:
                    error = exc
                finally:
                    resp.close()
                parser.discard()
                failures = 0 if got_any else failures + 1
                if not reconnect:
                    if error is not None:
                        raise error
                    return
                if failures >= call.retry.attempts:
                    if error is not None:
                        raise error
                    raise HttpConnectionError(
                        f"GET {call.url}: the event stream ended {failures} times in a row without an event",
                        method=call.method,
                        url=call.url,
                    )
                delay = reconnect_delay if parser.reconnect_ms is None else parser.reconnect_ms / 1000
                await asyncio.sleep(delay * (2 ** max(0, failures - 1)))

    return from_async_iterable(gen, name=options.get("name"))


async def _events(
    resp: aiohttp.ClientResponse, call: Call, parser: SseParser, max_line_length: int
) -> AsyncGenerator[ServerSentEvent]:
    """The events of one connection, until its body ends."""
    mime = resp.content_type
    if mime != "text/event-stream":
        raise HttpError(
            f"{call.method} {call.url}: expected Content-Type text/event-stream, got {mime!r}",
            method=call.method,
            url=call.url,
        )
    decoder = LineDecoder("utf-8", "replace", max_line_length, source=call.url)
    first = True
    with translate_errors(call.method, call.url):
        while chunk := await resp.content.readany():
            lines = decoder.feed(chunk)
            if first and lines:
                first = False
                lines[0] = lines[0].removeprefix("\ufeff")
            for line in lines:
                event = parser.feed(line)
                if event is not None:
                    yield event
            decoder.raise_pending()  # a too-long line after those: now, not with the next chunk
    # the body ended: a last line without its newline belongs to an unfinished event
