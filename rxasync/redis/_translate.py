"""The one place where redis-py's and the OS's exceptions become rxasync errors.

Every await on redis-py in ``rxasync.redis`` runs inside :func:`translate_errors`,
so this table is the whole story; each error is chained from the original.

=====================================================  ===========================
redis-py / OS                                          rxasync
=====================================================  ===========================
``ConnectionError`` (``BusyLoadingError`` too),        ``DatabaseConnectionError``
``TimeoutError``, ``OSError``, ``asyncio`` timeouts
``ResponseError`` (the server refused the command)     ``DatabaseQueryError``
any other ``RedisError``                               ``DatabaseError``
=====================================================  ===========================

rxasync's own errors and cancellation pass through untouched. After every
call, :func:`check_cancelled` re-raises a cancellation that redis-py's own
``wait_for`` may have swallowed (Python 3.11).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import redis.exceptions as rex

from .._errors import DatabaseConnectionError, DatabaseError, DatabaseQueryError, RxAsyncError

__all__ = ["check_cancelled", "translate", "translate_errors"]


def translate(exc: Exception, command: str, target: str) -> Exception:
    """The rxasync error for ``exc`` (see the module table), or ``exc`` if it maps to none."""
    if isinstance(exc, RxAsyncError):
        return exc
    where = f"redis {command} {target}".rstrip()
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, rex.ConnectionError | rex.TimeoutError | OSError | asyncio.TimeoutError):
        return DatabaseConnectionError(f"{where}: {reason}", statement=command, target=target)
    if isinstance(exc, rex.ResponseError):
        return DatabaseQueryError(f"{where}: {reason}", statement=command, target=target)
    if isinstance(exc, rex.RedisError):
        return DatabaseError(f"{where}: {reason}", statement=command, target=target)
    return exc


@contextmanager
def translate_errors(command: str, target: str) -> Iterator[None]:
    """Run the block with what it raises translated by :func:`translate`, chained."""
    try:
        yield
    except Exception as exc:
        error = translate(exc, command, target)
        if error is exc:
            raise
        raise error from exc
    check_cancelled()


def check_cancelled() -> None:
    """Raise ``CancelledError`` if this task was cancelled and the driver swallowed it."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
