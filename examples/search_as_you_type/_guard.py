"""What keeps the demo answering under attack: Host checks and a bounded set of connections.

* **DNS rebinding.** A page on ``attacker.example`` whose name is made to
  resolve to 127.0.0.1 reaches this server with ``Host: attacker.example:PORT``
  (and the same ``Origin``). :func:`host_check` answers 421 to any request
  whose ``Host`` is not a name the server is bound to (``127.0.0.1:PORT``,
  ``localhost:PORT``), the page, the API and the WebSocket alike.
* **Slowloris.** A request head must be complete within
  ``ConnectionLimits.head_timeout`` of the connection opening (aiohttp's
  keep-alive timer, which also closes idle keep-alive connections), and
  :class:`ConnectionGuard` caps the connections open in all and per client
  address. When a new connection would pass a cap, the *oldest idle* one
  (no request in progress: a half-open head, an idle keep-alive) is closed
  to make room, so a client that sends whole requests always gets in,
  however many half-open connections an attacker holds; only when every
  connection is busy is the new one refused. The total cap stays below the
  process's file-descriptor limit, so ``accept()`` never fails (asyncio
  would log every failure, hundreds of thousands of lines).
"""

from __future__ import annotations

import asyncio
import resource
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from ._settings import ConnectionLimits, Stats

__all__ = ["ConnectionGuard", "allowed_hosts", "fd_headroom", "host_check"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_FD_RESERVE = 64  # descriptors kept for files, the loop, the server's own HTTP client


def allowed_hosts(port: int) -> frozenset[str]:
    """The ``Host`` values a request to this server on ``port`` may carry.

    Example:
        >>> sorted(allowed_hosts(8080))
        ['127.0.0.1:8080', 'localhost:8080']
    """
    return frozenset({f"127.0.0.1:{port}", f"localhost:{port}"})


def _port(request: web.Request) -> int | None:
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    return int(sockname[1]) if sockname else None


@web.middleware
async def host_check(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse (421) a request whose ``Host`` is not one this server is bound to."""
    port = _port(request)
    if port is None or request.host.lower() not in allowed_hosts(port):
        return web.Response(status=421, text=f"this server answers only to 127.0.0.1:{port}\n")
    return await handler(request)


def fd_headroom() -> int:
    """How many connections fit under this process's soft file-descriptor limit, with a reserve."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(16, soft - _FD_RESERVE) if soft != resource.RLIM_INFINITY else 1 << 20


class ConnectionGuard:
    """Caps the open connections in all and per client address; evicts the oldest idle one first.

    Install with :meth:`install` on the runner's low-level server (it hooks
    the server's ``connection_made``/``connection_lost``) and :meth:`middleware`
    on the app (which tells busy connections from idle ones).
    """

    def __init__(self, limits: ConnectionLimits, stats: Stats) -> None:
        self.total = min(limits.max_connections, fd_headroom())
        self.per_client = limits.max_per_client
        self.stats = stats
        self.idle: OrderedDict[asyncio.Transport, str] = OrderedDict()  # oldest first
        self.busy: dict[asyncio.Transport, str] = {}
        self.per_ip: Counter[str] = Counter()

    def install(self, server: Any) -> None:
        """Wrap ``server.connection_made``/``connection_lost`` (an aiohttp ``web.Server``)."""
        made, lost = server.connection_made, server.connection_lost
        transports: dict[Any, asyncio.Transport] = {}

        def connection_made(handler: Any, transport: asyncio.Transport) -> None:
            made(handler, transport)
            transports[handler] = transport
            self.opened(transport)

        def connection_lost(handler: Any, exc: BaseException | None = None) -> None:
            lost(handler, exc)
            transport = transports.pop(handler, None)
            if transport is not None:
                self.closed(transport)

        server.connection_made, server.connection_lost = connection_made, connection_lost

    def opened(self, transport: asyncio.Transport) -> None:
        """A new connection: make room under the caps, or refuse it if all are busy."""
        peer = transport.get_extra_info("peername")
        ip = str(peer[0]) if peer else "?"
        self.idle[transport] = ip
        self.per_ip[ip] += 1
        while self.per_ip[ip] > self.per_client and self._evict(ip, transport):
            pass
        while len(self.idle) + len(self.busy) > self.total and self._evict(None, transport):
            pass
        if self.per_ip[ip] > self.per_client or len(self.idle) + len(self.busy) > self.total:
            self.stats.connections_refused += 1
            self._forget(transport)
            transport.abort()

    def _evict(self, ip: str | None, keep: asyncio.Transport) -> bool:
        for transport, owner in self.idle.items():
            if transport is not keep and (ip is None or owner == ip):
                self.stats.connections_evicted += 1
                self._forget(transport)
                transport.abort()
                return True
        return False

    def _forget(self, transport: asyncio.Transport) -> None:
        ip = self.idle.pop(transport, None) or self.busy.pop(transport, None)
        if ip is not None:
            self.per_ip[ip] -= 1
            if not self.per_ip[ip]:
                del self.per_ip[ip]

    def closed(self, transport: asyncio.Transport) -> None:
        """A connection went away (``connection_lost``)."""
        self._forget(transport)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Mark the connection busy while a request is in progress, idle (and newest) after."""
        transport = request.transport
        ip = self.idle.pop(transport, None) if transport is not None else None
        if transport is None or ip is None:
            return await handler(request)
        self.busy[transport] = ip
        try:
            return await handler(request)
        finally:
            if self.busy.pop(transport, None) is not None:  # still open: idle until the next request
                self.idle[transport] = ip
