"""The one place where asyncpg's and the OS's exceptions become rxasync errors.

Every await on asyncpg in ``rxasync.postgres`` runs inside :func:`translate_errors`,
so this table is the whole story; each error is chained from the original.

==============================================================  ===========================
asyncpg / OS                                                    rxasync
==============================================================  ===========================
``PostgresConnectionError`` (SQLSTATE class 08), a shutdown     ``DatabaseConnectionError``
(``AdminShutdownError``, ``CrashShutdownError``,
``CannotConnectNowError``), ``ConnectionError``, ``OSError``,
``TimeoutError``; an ``InterfaceError`` or ``InternalClientError``
on a closed connection (``conn`` given and closed, "closed" in
its message, or a lost connection in its ``__cause__`` /
``__context__`` chain)
any other ``PostgresError`` (bad SQL, a constraint, a type)     ``DatabaseQueryError`` with ``sqlstate``
any other ``InterfaceError``, ``InternalClientError``           ``DatabaseError``
``DataError``, ``TypeError``, ``ValueError`` (a Python value    ``DatabaseQueryError`` (no SQLSTATE)
asyncpg cannot encode: a row with a bad type)
==============================================================  ===========================

rxasync's own errors and cancellation pass through untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg

from .._errors import DatabaseConnectionError, DatabaseError, DatabaseQueryError, RxAsyncError

__all__ = ["translate", "translate_errors"]

_SHUTDOWN = (
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
)
_LOST = (asyncpg.PostgresConnectionError, *_SHUTDOWN, ConnectionError, OSError, TimeoutError)


_CLIENT = (asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError)


def translate(
    exc: Exception, statement: str, target: str = "", context: str = "", conn: Any = None
) -> Exception:
    """The rxasync error for ``exc`` (see the module table), or ``exc`` if it maps to none.

    ``context`` starts the message (``"COPY into 'items', batch starting with row (1, 'a')"``);
    ``conn``, the connection the statement ran on, tells a client-side error on a lost
    connection (asyncpg's ``InternalClientError`` during a shutdown) from a plain one.
    """
    if isinstance(exc, RxAsyncError):
        return exc
    reason = str(exc) or type(exc).__name__
    where = context or f"postgres {_short(statement)}"
    if _lost(exc, reason, conn):
        return DatabaseConnectionError(f"{where}: {reason}", statement=statement, target=target)
    if isinstance(exc, asyncpg.PostgresError):
        sqlstate = str(getattr(exc, "sqlstate", "") or "")
        message = f"{where}: {reason} (SQLSTATE {sqlstate})"
        return DatabaseQueryError(message, statement=statement, target=target, sqlstate=sqlstate)
    if isinstance(exc, asyncpg.DataError | TypeError | ValueError):
        return DatabaseQueryError(f"{where}: {reason}", statement=statement, target=target)
    if isinstance(exc, asyncpg.InterfaceError | asyncpg.exceptions.InternalClientError):
        return DatabaseError(f"{where}: {reason}", statement=statement, target=target)
    return exc


def _lost(exc: Exception, reason: str, conn: Any) -> bool:
    """Is ``exc`` a lost connection: a network or shutdown error, or a client-side one on a closed connection?"""
    if isinstance(exc, _LOST):
        return True
    if not isinstance(exc, _CLIENT) or isinstance(exc, asyncpg.DataError):  # DataError: a value, not the link
        return False
    if "closed" in reason or (conn is not None and _closed(conn)):
        return True
    seen: BaseException | None = exc.__cause__ or exc.__context__
    for _ in range(8):  # the chain asyncpg and our own ``except`` blocks make is short
        if seen is None:
            return False
        if isinstance(seen, _LOST):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _closed(conn: Any) -> bool:
    """``conn.is_closed()``; a pool's proxy that asyncpg detached (it does so when the connection is lost) is closed."""
    try:
        return bool(conn.is_closed())
    except asyncpg.InterfaceError:  # "connection has been released back to the pool"
        return True


@contextmanager
def translate_errors(statement: str, target: str = "", context: str = "", conn: Any = None) -> Iterator[None]:
    """Run the block with what it raises translated by :func:`translate`, chained."""
    try:
        yield
    except Exception as exc:
        error = translate(exc, statement, target, context, conn)
        if error is exc:
            raise
        raise error from exc


def _short(statement: str, limit: int = 200) -> str:
    one_line = " ".join(statement.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 3] + "..."
