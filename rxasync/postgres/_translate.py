"""The one place where asyncpg's and the OS's exceptions become rxasync errors.

Every await on asyncpg in ``rxasync.postgres`` runs inside :func:`translate_errors`,
so this table is the whole story; each error is chained from the original.

==============================================================  ===========================
asyncpg / OS                                                    rxasync
==============================================================  ===========================
``PostgresConnectionError`` (SQLSTATE class 08), a shutdown     ``DatabaseConnectionError``
(``AdminShutdownError``, ``CrashShutdownError``,
``CannotConnectNowError``), ``ConnectionError``, ``OSError``,
``TimeoutError``, ``InterfaceError`` on a closed connection
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

import asyncpg

from .._errors import DatabaseConnectionError, DatabaseError, DatabaseQueryError, RxAsyncError

__all__ = ["translate", "translate_errors"]

_SHUTDOWN = (
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
)
_LOST = (asyncpg.PostgresConnectionError, *_SHUTDOWN, ConnectionError, OSError, TimeoutError)


def translate(exc: Exception, statement: str, target: str = "", context: str = "") -> Exception:
    """The rxasync error for ``exc`` (see the module table), or ``exc`` if it maps to none.

    ``context`` starts the message (``"COPY into 'items', batch starting with row (1, 'a')"``).
    """
    if isinstance(exc, RxAsyncError):
        return exc
    reason = str(exc) or type(exc).__name__
    where = context or f"postgres {_short(statement)}"
    if isinstance(exc, _LOST) or (isinstance(exc, asyncpg.InterfaceError) and "closed" in reason):
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


@contextmanager
def translate_errors(statement: str, target: str = "", context: str = "") -> Iterator[None]:
    """Run the block with what it raises translated by :func:`translate`, chained."""
    try:
        yield
    except Exception as exc:
        error = translate(exc, statement, target, context)
        if error is exc:
            raise
        raise error from exc


def _short(statement: str, limit: int = 200) -> str:
    one_line = " ".join(statement.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 3] + "..."
