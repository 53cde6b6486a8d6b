"""The ``redis`` argument: a client or pool the user owns, or a URL rxasync opens and closes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as DriverRetry
from redis.backoff import NoBackoff

__all__ = ["RedisArg", "check_redis", "open_client"]

RedisArg = aioredis.Redis | aioredis.ConnectionPool | str


def check_redis(redis: object) -> None:
    """Raise ``TypeError`` now (at the call, not at subscribe) for a wrong ``redis`` argument."""
    if not isinstance(redis, aioredis.Redis | aioredis.ConnectionPool | str):
        raise TypeError(f"redis must be a redis.asyncio.Redis, a ConnectionPool or a URL, got {redis!r}")


@asynccontextmanager
async def open_client(redis: RedisArg) -> AsyncIterator[aioredis.Redis]:
    """A client for one subscription; closed at the end only if it was opened here from a URL.

    A client opened from a URL has no socket timeout (reads block as long as
    ``block=`` says) and no driver-level retries: rxasync decides what is
    retried, so a pipelined ``XADD`` is never sent twice behind its back.
    """
    if isinstance(redis, aioredis.Redis):
        yield redis
        return
    if isinstance(redis, aioredis.ConnectionPool):
        yield aioredis.Redis(connection_pool=redis)
        return
    options: dict[str, Any] = {"socket_timeout": None, "retry": DriverRetry(NoBackoff(), 0)}
    client = aioredis.Redis.from_url(redis, **options)
    try:
        yield client
    finally:
        await client.aclose()
