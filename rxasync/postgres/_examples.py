"""One private PostgreSQL for the docstring examples of ``rxasync.postgres`` (not public API).

Starting a cluster takes seconds, so the examples share one: :func:`dsn`
starts it on first use and it stops when the interpreter exits.
"""

from __future__ import annotations

from ..testing._servers import PostgresServer

__all__ = ["dsn"]

_server: PostgresServer | None = None


def dsn() -> str:
    """The DSN of the examples' server, started on the first call."""
    global _server
    if _server is None:
        _server = PostgresServer()
        _server.start()
    return _server.dsn
