"""websocket: an observable of incoming messages and an observer that sends."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
import reactivex
from aiohttp import web
from reactivex import operators as ops

import rxasync
from rxasync import HttpConnectionError, HttpStatusError, RxAsyncError
from rxasync.http import Client, InvalidUrlError, WebSocket, websocket


def ws_url(server, path: str, handler) -> str:
    return server.route(path, handler).replace("http://", "ws://")


def echo_handler(closed: asyncio.Event):
    async def echo(req: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(req)
        try:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    await ws.send_str("echo " + msg.data)
                elif msg.type == aiohttp.WSMsgType.BINARY:
                    await ws.send_bytes(msg.data[::-1])
        finally:
            closed.set()
        return ws

    return echo


async def test_websocket_echo_text_and_binary(server) -> None:
    closed = asyncio.Event()
    ws = websocket(ws_url(server, "/echo", echo_handler(closed)))
    assert isinstance(ws, WebSocket)
    ws.on_next("hi")
    ws.on_next(b"\x01\x02")
    assert await rxasync.to_list(ws.pipe(ops.take(2))) == ["echo hi", b"\x02\x01"]
    await asyncio.wait_for(closed.wait(), 1.0)  # take(2) disposed: the socket closed


async def test_websocket_observer_completion_closes_socket(server) -> None:
    closed = asyncio.Event()
    ws = websocket(ws_url(server, "/echo", echo_handler(closed)))
    got: list[str | bytes] = []
    done, replied = asyncio.Event(), asyncio.Event()
    ws.subscribe(lambda m: (got.append(m), replied.set()), lambda e: done.set(), done.set)
    ws.on_next("a")
    await asyncio.wait_for(replied.wait(), 5)
    reactivex.empty().subscribe(ws)  # an outgoing stream that completes: close
    await asyncio.wait_for(done.wait(), 1.0)
    await asyncio.wait_for(closed.wait(), 1.0)
    assert got == ["echo a"]


async def test_websocket_server_close_completes(server) -> None:
    async def bye(req: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(req)
        await ws.send_str("bye")
        await ws.close()
        return ws

    ws = websocket(ws_url(server, "/bye", bye))
    assert await rxasync.to_list(ws) == ["bye"]


async def test_websocket_dispose_server_sees_disconnect(server) -> None:
    closed = asyncio.Event()
    ws = websocket(ws_url(server, "/echo", echo_handler(closed)))
    got = asyncio.Event()
    sub = ws.subscribe(lambda m: got.set())
    ws.on_next("ping")
    await asyncio.wait_for(got.wait(), 5)
    sub.dispose()
    await asyncio.wait_for(closed.wait(), 1.0)


async def test_websocket_through_client(server) -> None:
    closed = asyncio.Event()
    url = ws_url(server, "/echo", echo_handler(closed))
    async with Client() as client:
        ws = client.websocket(url)
        ws.on_next("x")
        assert await rxasync.first(ws) == "echo x"


async def test_websocket_one_subscription_at_a_time(server) -> None:
    closed = asyncio.Event()
    ws = websocket(ws_url(server, "/echo", echo_handler(closed)))
    first = asyncio.Event()
    sub = ws.subscribe(lambda m: first.set())
    ws.on_next("x")
    await asyncio.wait_for(first.wait(), 5)
    with pytest.raises(RxAsyncError, match="already subscribed"):
        await rxasync.first(ws)
    sub.dispose()
    await asyncio.wait_for(closed.wait(), 1.0)


async def test_websocket_invalid_url_and_bad_message() -> None:
    with pytest.raises(InvalidUrlError, match="ftp://x"):
        await rxasync.first(websocket("ftp://x/"))
    with pytest.raises(TypeError):
        websocket("ws://127.0.0.1:1/").on_next(42)  # type: ignore[arg-type]


async def test_websocket_refused_handshake_is_status_error(server) -> None:
    async def not_ws(req: web.Request) -> web.Response:
        return web.Response(status=403, text="no sockets for you")

    with pytest.raises(HttpStatusError) as info:
        await rxasync.first(websocket(ws_url(server, "/plain", not_ws)))
    assert info.value.status == 403


async def test_websocket_connection_refused(closed_port: int) -> None:
    with pytest.raises(HttpConnectionError):
        await rxasync.first(websocket(f"ws://127.0.0.1:{closed_port}/"))
