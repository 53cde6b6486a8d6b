"""The ``redis`` argument: a client or pool the user owns, or a URL rxasync opens and closes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as DriverRetry
from redis.backoff import NoBackoff

__all__ = ["RedisArg", "check_redis", "open_client", "unparsed_reads"]

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


#: The stream reads whose replies ``read_stream`` takes as the server sent them.
_UNPARSED = ("XREAD", "XREADGROUP", "XAUTOCLAIM")


def unparsed_reads(client: aioredis.Redis) -> aioredis.Redis:
    """A client on ``client``'s pool whose stream reads return the reply as it was received.

    redis-py reshapes each ``XREAD`` reply into a list of ``(id, dict)``
    pairs, which ``read_stream`` would then walk again to build its
    entries; reading the reply as it came (``[id, [field, value...]]``; a
    map of stream to entries over RESP3) builds each entry in one pass.
    The commands are still redis-py's (arguments, connection, parser); only
    their response callbacks are replaced, on a client of rxasync's own,
    so the ``client`` passed in is left as it was. The new client takes a
    connection from the pool per command and holds none between commands,
    so it needs no closing.
    """
    reader = aioredis.Redis(connection_pool=client.connection_pool)
    for command in _UNPARSED:
        reader.set_response_callback(command, _as_received)
    return reader


def _as_received(response: Any, **_options: Any) -> Any:
    return response
