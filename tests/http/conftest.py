"""Real aiohttp servers on 127.0.0.1 for the HTTP tests, with fault injection and bookkeeping.

``server`` starts one ``aiohttp.web`` server per test on a free loopback port
and stops it in teardown. Tests register handlers at any time with
``server.route(path, handler)``; the server counts the TCP connections it
accepted and records when a client went away mid-answer.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Server:
    """A loopback server whose routes can be added while it runs."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[web.Request] = []
        self.connections: set[tuple[str, int]] = set()  # peer (host, port) of every request
        self.open_now = 0
        self.most_open = 0
        self.disconnected = asyncio.Event()  # a handler saw its client go away
        self.runner: web.AppRunner | None = None
        self.base = ""

    def route(self, path: str, handler: Handler) -> str:
        """Serve ``handler`` at ``path``; return its full URL."""
        self.routes[path] = handler
        return self.url(path)

    def url(self, path: str) -> str:
        return self.base + path

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if peer is not None:
            self.connections.add((peer[0], peer[1]))
        handler = self.routes.get(request.path)
        if handler is None:
            raise web.HTTPNotFound(text=f"no route {request.path}")
        try:
            return await handler(request)
        except (asyncio.CancelledError, ConnectionResetError):
            self.disconnected.set()  # handler_cancellation: the client went away
            raise

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self.runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.base = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv = Server()
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never answers; counts them."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []
        self.port = 0

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._on_client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for writer in self.writers:
            writer.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
async def silent_server() -> AsyncIterator[SilentServer]:
    srv = SilentServer()
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture(params=["msgspec", "stdlib"])
def json_decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with the fast JSON decoder, then with it disabled (the stdlib fallback)."""
    from rxasync.http import _json

    if request.param == "stdlib":
        monkeypatch.setattr(_json, "_fast", None)
    else:
        pytest.importorskip("msgspec")
    assert _json.decoder_name() == ("json" if request.param == "stdlib" else "msgspec")
    return str(request.param)
