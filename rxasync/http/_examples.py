"""A throwaway aiohttp server on 127.0.0.1 for the docstring examples to talk to.

Not public API: it lets every example in ``rxasync.http`` run for real as a
doctest, with no network. ``serve`` yields the server's base URL and stops the
server when the block ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web

__all__ = ["serve"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def serve(handler: Handler, path: str = "/{tail:.*}") -> AsyncIterator[str]:
    """Serve ``handler`` for every method and path under ``path`` on a free loopback port.

    Yields the base URL, ``http://127.0.0.1:PORT``.
    """
    app = web.Application()
    app.router.add_route("*", path, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
