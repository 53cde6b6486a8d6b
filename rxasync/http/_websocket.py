"""``websocket``: one object that is an observable of incoming messages and an observer that sends."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Mapping
from typing import Any, Unpack

import aiohttp
from reactivex import Observable, abc

from .._bridge import from_async_iterable
from .._checks import check_int
from .._errors import HttpConnectionError, RxAsyncError, WebSocketClosedError
from ._call import SessionArg, make_call, open_session
from ._options import WebSocketOptions, check_options
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
    subscription closes the socket too. The server's Close frame completes
    the incoming side, whatever its code; a connection that ends *without*
    one (the server died, a reset: code 1006) fails it with
    :class:`~rxasync.WebSocketClosedError`. One subscription at a time; a
    later one reconnects, also at once after the previous one ended (the old
    close handshake finishes in the background).

    Attributes:
        close_code: the close code of the last connection once its incoming
            side ended (the server's: ``1000``, ``1011``, ``4001``...; after
            ``on_completed``/``on_error`` or a dispose, the code of the close
            handshake, ``1000`` or ``1011`` (after a dispose: once that
            handshake, run in the background, ends); ``1006``
            without a Close frame; ``1009`` for a message over
            ``max_msg_size``), or ``None`` while it runs or before. Read it in
            ``on_completed``/``on_error`` to tell a normal end from another.
        close_reason: the reason text of the server's Close frame (``""`` if none).

    Call ``on_next``/``on_completed`` from the event loop's thread.

    Why a subclass of ``Observable``: a WebSocket is both ends of one
    connection, like RxPY's own ``Subject``. It adds no operator and no
    subscription logic of its own: ``subscribe`` goes to a plain observable
    made by ``from_async_iterable``, so the bridge owns the pump, dispose and
    demand as for every other source.
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
        name: str | None = None,
    ) -> None:
        super().__init__()
        self._call = make_call("GET", url, session, {"params": params, "headers": headers})
        self._options: dict[str, Any] = {
            "protocols": protocols,
            "heartbeat": heartbeat,
            "max_msg_size": max_msg_size + 1 if max_msg_size else 0,  # aiohttp refuses len >= its limit
            "timeout": aiohttp.ClientWSTimeout(ws_receive=receive_timeout, ws_close=10.0),
        }
        self._outbox: deque[Message] = deque()
        self._wakeup = asyncio.Event()
        self._close_code: int | None = None  # set by on_completed / on_error
        self._running = False
        self._connection = 0  # counts subscriptions: a late close handshake reports only its own
        self.close_code: int | None = None
        self.close_reason = ""
        self._source = from_async_iterable(self._run, name=name)

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
        self._connection += 1
        connection = self._connection
        self.close_code = None
        self.close_reason = ""
        call = self._call
        try:
            async with open_session(call, schemes=("ws", "wss", "http", "https")) as session:
                with translate_errors("GET", call.url):
                    ws = await session.ws_connect(
                        call.url, params=call.params, headers=call.headers, **self._options
                    )
                sender = asyncio.create_task(self._send(ws))
                try:
                    async for message in self._receive(ws):
                        yield message
                    failed = sender.exception() if sender.done() and not sender.cancelled() else None
                    if failed is not None:
                        raise failed
                finally:
                    # This subscription is over: a new one may connect while the old
                    # socket's close handshake still runs (a task of its own, so a
                    # dispose that cancels this one mid-cleanup cannot cut it short).
                    self._running = False
                    closer = asyncio.ensure_future(self._finish(ws, sender, connection))
                    _CLOSING.add(closer)
                    closer.add_done_callback(_CLOSING.discard)
                    await asyncio.shield(closer)
        finally:
            self._running = False

    async def _receive(self, ws: aiohttp.ClientWebSocketResponse) -> AsyncIterator[Message]:
        """The data frames of ``ws`` until a Close frame; an error if it ends without one."""
        url = self.url
        with translate_errors("GET", url):
            while True:
                msg = await ws.receive()
                kind = msg.type
                if kind is aiohttp.WSMsgType.TEXT or kind is aiohttp.WSMsgType.BINARY:
                    yield msg.data
                elif kind is aiohttp.WSMsgType.CLOSE:  # the server's Close frame: a clean end
                    self.close_code, self.close_reason = msg.data, msg.extra or ""
                    return
                elif kind is aiohttp.WSMsgType.ERROR:
                    self.close_code = ws.close_code
                    reason = str(msg.data)
                    if ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG:  # aiohttp names limit + 1
                        limit = self._options["max_msg_size"] - 1
                        reason = f"a message larger than max_msg_size={limit} bytes (code 1009)"
                    raise HttpConnectionError(
                        f"websocket {url}: {reason}", method="GET", url=url
                    ) from msg.data
                elif kind is aiohttp.WSMsgType.CLOSING or kind is aiohttp.WSMsgType.CLOSED:
                    self.close_code = ws.close_code
                    if self._close_code is not None:  # we closed it (on_completed/on_error)
                        return
                    raise WebSocketClosedError(
                        f"websocket {url}: the connection ended without a Close frame "
                        "(code 1006, abnormal closure: the server died or the connection was cut)",
                        method="GET",
                        url=url,
                    )

    async def _finish(
        self, ws: aiohttp.ClientWebSocketResponse, sender: asyncio.Task[None], connection: int
    ) -> None:
        if not sender.done() and self._close_code is None:
            sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        await ws.close()
        if self.close_code is None and connection == self._connection:  # we closed it: the code now known
            self.close_code = ws.close_code

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


def websocket(url: str, *, session: SessionArg = None, **options: Unpack[WebSocketOptions]) -> WebSocket:
    """A WebSocket: an observable of incoming messages, and an observer whose ``on_next`` sends.

    See :class:`WebSocket`. Pipe an observable into it to send
    (``outgoing.subscribe(ws)``: its completion closes the socket, so
    replies still in flight are not received) and subscribe to it to receive.

    Marble::

        on_next:   --a----b--|            (sent)
        incoming:  ----A------B---|       (received; completes at the server's Close frame)
        incoming:  ----A------#           (# = WebSocketClosedError: cut without a Close frame)

    Args:
        url: a ``ws://``/``wss://`` (or ``http(s)://``) URL, or a path below the client's ``base_url``.
        session: an ``aiohttp.ClientSession``, a :class:`~rxasync.http.Client`, or ``None``.
        **options: a :class:`~rxasync.http.WebSocketOptions`:

            params: query parameters of the handshake.
            headers: headers of the handshake.
            protocols: subprotocols to offer (``()``).
            heartbeat: seconds between pings (the socket closes if a pong is
                late), or ``None`` (the default).
            receive_timeout: fail with :class:`~rxasync.SourceTimeoutError`
                after this many seconds without a message, or ``None``.
            max_msg_size: the largest message accepted, in bytes, this size
                included (4 MiB; 0: no limit). A larger one fails the incoming
                side with :class:`~rxasync.HttpConnectionError` (close code 1009).

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
        ...     await ws.close(code=4001, message=b"bye")  # a Close frame completes the observable
        ...     return ws
        >>> async def main() -> tuple[list[str | bytes], int | None, str]:
        ...     async with serve(upper) as base:
        ...         ws = websocket(base.replace("http", "ws") + "/")
        ...         for word in ("hello", "world"):
        ...             ws.on_next(word)  # queued until the socket opens
        ...         return await rxasync.to_list(ws), ws.close_code, ws.close_reason
        >>> asyncio.run(main())
        (['HELLO', 'WORLD'], 4001, 'bye')
    """
    check_options(options, WebSocketOptions, "websocket")
    receive_timeout = options.get("receive_timeout")
    if receive_timeout is not None and not receive_timeout > 0:
        raise ValueError(f"receive_timeout must be > 0 seconds or None, got {receive_timeout!r}")
    return WebSocket(
        url,
        session=session,
        params=options.get("params"),
        headers=options.get("headers"),
        protocols=tuple(options.get("protocols", ())),
        heartbeat=options.get("heartbeat"),
        receive_timeout=receive_timeout,
        max_msg_size=check_int("max_msg_size", options.get("max_msg_size", 4 * 1024 * 1024), 0),
        name=options.get("name"),
    )
