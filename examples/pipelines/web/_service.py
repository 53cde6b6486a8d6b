"""The front service: ``GET /item/{n}`` fans out to the backends and answers one merged JSON.

``GET /stats`` shows what the service counted and the CPU time its process used. The handler is cancelled
when its client disconnects (``handler_cancellation``), which disposes the
fan-out: the backend requests in flight are aborted, nothing keeps running
for a client that went away.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from typing import Literal

import aiohttp
from aiohttp import web

from rxasync.http import Client

from ._backends import Backend, BackendSettings, serve_app, start_backends
from ._fanout import FanOut, Policies, rxasync_fan_out
from ._raw import raw_fan_out

__all__ = ["POOL", "Kind", "ServiceCounts", "Stack", "create_app", "run_stack"]

Kind = Literal["rxasync", "raw"]
#: connections the service may hold open to its backends, all together
POOL = 1000


@dataclass(slots=True)
class ServiceCounts:
    """What the service answered: requests, answers with a part missing, requests whose client left."""

    requests: int = 0
    answered: int = 0
    degraded: int = 0
    cancelled: int = 0


COUNTS = web.AppKey("counts", ServiceCounts)
FAN_OUT: web.AppKey[FanOut] = web.AppKey("fan_out")


async def _item(request: web.Request) -> web.Response:
    counts = request.app[COUNTS]
    counts.requests += 1
    try:
        answer = await request.app[FAN_OUT](int(request.match_info["item"]))
    except asyncio.CancelledError:
        counts.cancelled += 1  # the client went away, or the server stops
        raise
    counts.answered += 1
    counts.degraded += bool(answer["degraded"])
    return web.json_response(answer)


async def _stats(request: web.Request) -> web.Response:
    """The counts, and the CPU seconds this process has used (the benchmark's cost per request)."""
    return web.json_response({**asdict(request.app[COUNTS]), "cpu_s": time.process_time()})


def create_app(backends: Mapping[str, str], policy: Policies, kind: Kind = "rxasync") -> web.Application:
    """The service's app: its fan-out (``kind``: rxasync's or the raw baseline) opens on start-up.

    Args:
        backends: name → base URL of each backend.
        policy: each backend call's limits and retries: one for all, or one per backend.
        kind: ``"rxasync"`` (``map_async`` + ``rxasync.http``) or ``"raw"`` (``asyncio.gather`` + aiohttp).
    """
    app = web.Application()
    app[COUNTS] = ServiceCounts()
    app.cleanup_ctx.append(_pool(backends, policy, kind))
    app.router.add_get(r"/item/{item:\d+}", _item)
    app.router.add_get("/stats", _stats)
    return app


def _pool(
    backends: Mapping[str, str], policy: Policies, kind: Kind
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def pool(app: web.Application) -> AsyncIterator[None]:
        if kind == "rxasync":
            async with Client(limit=POOL) as client:
                app[FAN_OUT] = rxasync_fan_out(client, backends, policy)
                yield
        else:
            connector = aiohttp.TCPConnector(limit=POOL)
            async with aiohttp.ClientSession(connector=connector) as session:
                app[FAN_OUT] = raw_fan_out(session, backends, policy)
                yield

    return pool


@dataclass(slots=True)
class Stack:
    """The running service and its backends."""

    url: str
    backends: dict[str, Backend]
    counts: ServiceCounts = field(default_factory=ServiceCounts)


@asynccontextmanager
async def run_stack(
    settings: Mapping[str, BackendSettings], policy: Policies, kind: Kind = "rxasync", port: int = 0
) -> AsyncIterator[Stack]:
    """Start the backends, then the service on ``127.0.0.1:port``; stop all when the block ends.

    Example:
        >>> import asyncio, aiohttp
        >>> from examples.pipelines.web._backends import NAMES
        >>> from examples.pipelines.web._fanout import Policy
        >>> async def main() -> object:
        ...     async with run_stack({n: BackendSettings(delay=0) for n in NAMES}, Policy()) as stack:
        ...         async with aiohttp.ClientSession() as s, s.get(stack.url + "/item/1") as r:
        ...             return (await r.json())["degraded"]
        >>> asyncio.run(main())
        []
    """
    async with start_backends(settings) as backends:
        app = create_app({name: b.url for name, b in backends.items()}, policy, kind)
        async with serve_app(app, port) as url:
            yield Stack(url, backends, app[COUNTS])
