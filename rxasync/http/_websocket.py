"""``websocket``: one object that is an observable of incoming messages and an observer that sends."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
from reactivex import Observable, abc

from .._bridge import from_async_iterable
from .._errors import HttpConnectionError, RxAsyncError
from ._call import SessionArg, make_call, open_session
from ._translate import translate_errors

__all__ = ["WebSocket", "websocket"]

Message = str | bytes

_CLOSING: set[asyncio.Task[None]] = set()  # close handshakes under way (strong references)


class WebSocket(Observable[Message], abc.ObserverBase[Message]):
    """A WebSocket connection as an ``Observable`` of messages and an ``Observer`` that sends.

    Subscribing opens the connection; each text frame arrives as ``str``,
    each binary frame as ``bytes``. ``on_next(message)`` sends ``message``
    (``str`` as text, ``bytes`` as binary); messages sent before the
    connection is open wait for it, in order. ``on_completed()`` closes the
    socket once they are sent (code 1000), ``on_error()`` closes it with
    code 1011; either way the incoming side then completes. Disposing the
    subscription closes the socket too, and the server closing it completes
    the incoming side. One subscription at a time; a later one reconnects.

    Call ``on_next``/``on_completed`` from the event loop's thread.
    """

    def __init__(
        self,
        url: str,
        *,
        session: SessionArg,
        params: Any,
        headers: Mapping[str, str] | None,
        protocols: tuple[str, ...],
        heartbeat: float | None,
        receive_timeout: float | None,
        max_msg_size: int,
    ) -> None:
        super().__init__()
        self._call = make_call("GET", url, session=session, params=params, headers=headers)
        self._options: dict[str, Any] = {
            "protocols": protocols,
            "heartbeat": heartbeat,
            "max_msg_size": max_msg_size,
            "timeout": aiohttp.ClientWSTimeout(ws_receive=receive_timeout, ws_close=10.0),
        }
        self._outbox: deque[Message] = deque()
        self._wakeup = asyncio.Event()
        self._close_code: int | None = None  # set by on_completed / on_error
        self._running = False
        self._source = from_async_iterable(self._run)

    @property
    def url(self) -> str:
        """The URL the socket connects to."""
        return self._call.url

    # -- observer side: what we send ---------------------------------------
    def on_next(self, value: Message) -> None:
        """Send ``value`` (``str``: a text frame, ``bytes``: a binary frame)."""
        if not isinstance(value, str | bytes | bytearray | memoryview):
            raise TypeError(f"a WebSocket sends str or bytes, got {type(value).__name__}")
        if self._close_code is None:
            self._outbox.append(value)
            self._wakeup.set()

    def on_error(self, error: Exception) -> None:
        """Close the socket with code 1011 (internal error) after the queued messages."""
        self._close(aiohttp.WSCloseCode.INTERNAL_ERROR)

    def on_completed(self) -> None:
        """Close the socket normally (code 1000) after the queued messages."""
        self._close(aiohttp.WSCloseCode.OK)

    def _close(self, code: int) -> None:
        if self._close_code is None:
            self._close_code = code
            self._wakeup.set()

    # -- observable side: what we receive ----------------------------------
    def _subscribe_core(
        self, observer: abc.ObserverBase[Message], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        return self._source.subscribe(observer, scheduler=scheduler)

    async def _run(self) -> AsyncIterator[Message]:
        if self._running:
            raise RxAsyncError(f"websocket {self.url!r} is already subscribed; subscribe once (or share())")
        self._running = True
        call = self._call
        try:
            async with open_session(call, schemes=("ws", "wss", "http", "https")) as session:
                with translate_errors("GET", call.url):
                    ws = await session.ws_connect(
                        call.url, params=call.params, headers=call.headers, **self._options
                    )
                sender = asyncio.create_task(self._send(ws))
                try:
                    with translate_errors("GET", call.url):
                        async for msg in ws:
                            if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                                yield msg.data
                            elif msg.type == aiohttp.WSMsgType.ERROR:
                                raise HttpConnectionError(
                                    f"websocket {call.url}: {msg.data}", method="GET", url=call.url
                                ) from msg.data
                    failed = sender.exception() if sender.done() and not sender.cancelled() else None
                    if failed is not None:
                        raise failed
                finally:
                    # The close handshake runs as its own task: a dispose that cancels
                    # this one mid-cleanup cannot cut it short and leak the connection.
                    closer = asyncio.ensure_future(self._finish(ws, sender))
                    _CLOSING.add(closer)
                    closer.add_done_callback(_CLOSING.discard)
                    await asyncio.shield(closer)
        finally:
            self._running = False

    async def _finish(self, ws: aiohttp.ClientWebSocketResponse, sender: asyncio.Task[None]) -> None:
        if not sender.done() and self._close_code is None:
            sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        await ws.close()

    async def _send(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Send the outbox as it fills; close the socket when asked to."""
        outbox = self._outbox
        with translate_errors("GET", self.url):
            while True:
                while outbox:
                    message = outbox.popleft()
                    if isinstance(message, str):
                        await ws.send_str(message)
                    else:
                        await ws.send_bytes(bytes(message))
                if self._close_code is not None:
                    await ws.close(code=self._close_code)
                    return
                self._wakeup.clear()
                await self._wakeup.wait()


def websocket(
    url: str,
    *,
    session: SessionArg = None,
    params: Any = None,
    headers: Mapping[str, str] | None = None,
    protocols: tuple[str, ...] = (),
    heartbeat: float | None = None,
    receive_timeout: float | None = None,
    max_msg_size: int = 4 * 1024 * 1024,
) -> WebSocket:
    """A WebSocket: an observable of incoming messages, and an observer whose ``on_next`` sends.

    See :class:`WebSocket`. Pipe an observable into it to send
    (``outgoing.subscribe(ws)``: its completion closes the socket, so
    replies still in flight are not received) and subscribe to it to receive.

    Marble::

        on_next:   --a----b--|            (sent)
        incoming:  ----A------B---|       (received; completes when the socket closes)

    Args:
        url: a ``ws://``/``wss://`` (or ``http(s)://``) URL, or a path below the client's ``base_url``.
        session: an ``aiohttp.ClientSession``, a :class:`~rxasync.http.Client`, or ``None``.
        params: query parameters of the handshake.
        headers: headers of the handshake.
        protocols: subprotocols to offer.
        heartbeat: seconds between pings (the socket closes if a pong is late), or ``None``.
        receive_timeout: fail with :class:`~rxasync.SourceTimeoutError` after
            this many seconds without a message, or ``None``.
        max_msg_size: the largest message accepted, in bytes (0: no limit).

    Returns:
        A :class:`WebSocket`.

    Example:
        >>> import asyncio, rxasync
        >>> from aiohttp import web
        >>> from rxasync.http import websocket
        >>> from rxasync.http._examples import serve  # a local server for the example
        >>> async def upper(req: web.Request) -> web.WebSocketResponse:
        ...     ws = web.WebSocketResponse()
        ...     await ws.prepare(req)
        ...     for _ in range(2):
        ...         msg = await ws.receive()
        ...         await ws.send_str(msg.data.upper())
        ...     await ws.close()  # the server closing the socket completes the observable
        ...     return ws
        >>> async def main() -> list[str | bytes]:
        ...     async with serve(upper) as base:
        ...         ws = websocket(base.replace("http", "ws") + "/")
        ...         for word in ("hello", "world"):
        ...             ws.on_next(word)  # queued until the socket opens
        ...         return await rxasync.to_list(ws)
        >>> asyncio.run(main())
        ['HELLO', 'WORLD']
    """
    if receive_timeout is not None and not receive_timeout > 0:
        raise ValueError(f"receive_timeout must be > 0 seconds or None, got {receive_timeout!r}")
    return WebSocket(
        url,
        session=session,
        params=params,
        headers=headers,
        protocols=tuple(protocols),
        heartbeat=heartbeat,
        receive_timeout=receive_timeout,
        max_msg_size=max_msg_size,
    )
