"""The three slow backends: small aiohttp apps on free ports of 127.0.0.1.

Each answers ``GET /item/{n}`` with a JSON object made from ``n`` alone (so
the same question always gets the same answer) after ``delay`` plus up to
``jitter`` seconds; ``failure_rate`` of its answers (and its first
``fail_first``) are a ``503``; a backend that is ``down`` is not started at
all, so its port refuses connections. Each counts what it saw in
:class:`Counts`, including the requests whose client went away mid-answer.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = [
    "HOST",
    "NAMES",
    "Backend",
    "BackendSettings",
    "Counts",
    "payload",
    "refusing_url",
    "serve_app",
    "start_backends",
]

HOST = "127.0.0.1"  # everything this program starts listens here only
NAMES = ("prices", "stock", "reviews")


@dataclass(frozen=True, slots=True)
class BackendSettings:
    """How one backend behaves.

    Args:
        delay: seconds before each answer.
        jitter: up to this many seconds more, at random.
        failure_rate: share of requests answered ``503 Service Unavailable``, 0 to 1.
        fail_first: the first this-many requests are answered ``503`` (a transient failure).
        down: do not start it: its port refuses connections.
        seed: the random generator's seed (jitter and failures repeat run to run).
    """

    delay: float = 0.02
    jitter: float = 0.01
    failure_rate: float = 0.0
    fail_first: int = 0
    down: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if self.delay < 0 or self.jitter < 0 or not 0 <= self.failure_rate <= 1 or self.fail_first < 0:
            raise ValueError(f"invalid backend settings: {self!r}")


@dataclass(slots=True)
class Counts:
    """What a backend saw: requests, 503s sent, answers sent, requests cut by their client."""

    requests: int = 0
    failed: int = 0
    answered: int = 0
    cancelled: int = 0


@dataclass(slots=True)
class Backend:
    """A started (or, when ``down``, deliberately absent) backend: its name, URL and counts."""

    name: str
    url: str
    settings: BackendSettings
    counts: Counts = field(default_factory=Counts)


def payload(name: str, item: int) -> dict[str, Any]:
    """The answer of backend ``name`` for item ``item``: the same every time.

    Example:
        >>> payload("prices", 7)
        {'item': 7, 'price': 17.99, 'currency': 'EUR'}
    """
    if name == "prices":
        return {"item": item, "price": round(10 + item % 90 + 0.99, 2), "currency": "EUR"}
    if name == "stock":
        return {"item": item, "in_stock": (item * 7) % 23, "warehouse": f"W{item % 4}"}
    return {"item": item, "stars": round(1 + (item * 37) % 40 / 10, 1), "reviews": (item * 13) % 500}


def _app(backend: Backend) -> web.Application:
    rng = random.Random(backend.settings.seed)
    settings, counts = backend.settings, backend.counts

    async def item(request: web.Request) -> web.Response:
        counts.requests += 1
        if counts.requests <= settings.fail_first or rng.random() < settings.failure_rate:
            counts.failed += 1
            return web.json_response({"error": "unavailable"}, status=503)
        try:
            await asyncio.sleep(settings.delay + rng.uniform(0, settings.jitter))
        except asyncio.CancelledError:
            counts.cancelled += 1  # the caller went away: aiohttp cancels this handler
            raise
        counts.answered += 1
        return web.json_response(payload(backend.name, int(request.match_info["item"])))

    app = web.Application()
    app.router.add_get(r"/item/{item:\d+}", item)
    return app


@asynccontextmanager
async def serve_app(app: web.Application, port: int = 0) -> AsyncIterator[str]:
    """Serve ``app`` on ``127.0.0.1:port`` (0: a free port) until the block ends; yields its URL.

    Handlers are cancelled when their client disconnects (``handler_cancellation``),
    so work for a caller that went away stops at once.
    """
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
    await runner.setup()
    try:
        site = web.TCPSite(runner, HOST, port)
        await site.start()
        yield f"http://{HOST}:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def refusing_url() -> str:
    """A URL on a port of 127.0.0.1 where nothing listens (a backend that is down)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port = sock.getsockname()[1]
    return f"http://{HOST}:{port}"


@asynccontextmanager
async def start_backends(settings: Mapping[str, BackendSettings]) -> AsyncIterator[dict[str, Backend]]:
    """Start one backend per entry of ``settings`` (name → settings); stop them when the block ends."""
    async with AsyncExitStack() as stack:
        backends: dict[str, Backend] = {}
        for name, one in settings.items():
            if one.down:
                backends[name] = Backend(name, refusing_url(), one)
                continue
            backend = Backend(name, "", one)
            backend.url = await stack.enter_async_context(serve_app(_app(backend)))
            backends[name] = backend
        yield backends
