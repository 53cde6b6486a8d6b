"""Pytest fixtures for pipelines on Redis and PostgreSQL: private servers, started once per session.

Load it from your top-level ``conftest.py``::

    pytest_plugins = ["rxasync.testing.pytest_plugin"]

(or import the fixtures you need into a ``conftest.py``). ``redis_server``
and ``postgres_server`` start one private server each on 127.0.0.1 for the
whole session (``RedisServer`` / ``PostgresServer`` from ``rxasync.testing``;
``.url`` / ``.dsn`` to connect) and stop it by PID at the end.
``redis_client`` and ``postgres_connection`` give a test a client on them,
with the data of earlier tests wiped. Tests that kill or restart a server
should start their own with those classes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from ._servers import PostgresServer, RedisServer

__all__ = ["postgres_connection", "postgres_server", "redis_client", "redis_server"]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One private ``redis-server`` for the session."""
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One private PostgreSQL for the session."""
    with PostgresServer() as server:
        yield server


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[Any]:
    """A ``redis.asyncio.Redis`` on the session's server, its data wiped first (``FLUSHALL``)."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_server.url)
    await client.flushall()
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def postgres_connection(postgres_server: PostgresServer) -> AsyncIterator[Any]:
    """An ``asyncpg.Connection`` to the session's server, schema ``public`` emptied first."""
    import asyncpg

    conn = await asyncpg.connect(postgres_server.dsn)
    await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    try:
        yield conn
    finally:
        await conn.close()
