"""The ``pool`` argument: an asyncpg pool or connection the user owns, or a DSN rxasync opens and closes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeAlias

import asyncpg

from ._translate import translate_errors

__all__ = ["PoolArg", "acquire", "check_pool"]

#: An ``asyncpg.Pool``, an ``asyncpg.Connection`` or a DSN (asyncpg has no type information: Any).
PoolArg: TypeAlias = Any


def check_pool(pool: object) -> None:
    """Raise ``TypeError`` at the call (not at subscribe) for a wrong ``pool`` argument."""
    if not isinstance(pool, asyncpg.Pool | asyncpg.Connection | str):
        raise TypeError(f"pool must be an asyncpg.Pool, an asyncpg.Connection or a DSN, got {pool!r}")


@asynccontextmanager
async def acquire(pool: PoolArg) -> AsyncIterator[asyncpg.Connection]:
    """One connection for one subscription: from the pool (given back), as given, or opened from a DSN."""
    if isinstance(pool, asyncpg.Connection):
        yield pool
        return
    if isinstance(pool, asyncpg.Pool):
        with translate_errors("connect"):
            conn = await pool.acquire()
        try:
            yield conn
        finally:
            await pool.release(conn)
        return
    with translate_errors("connect"):
        conn = await asyncpg.connect(pool)
    try:
        yield conn
    finally:
        if not conn.is_closed():
            try:
                await conn.close()
            except Exception:  # the server went away meanwhile: nothing left to close politely
                conn.terminate()
