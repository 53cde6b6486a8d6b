"""pytest support: virtual time, and private Redis/PostgreSQL servers for pipeline tests.

Load it from your root ``conftest.py``::

    pytest_plugins = ["rxasync.testing.pytest_plugin"]

**Virtual time.** An async test either asks for the clock, or is marked::

    async def test_debounce(virtual_clock: VirtualClock) -> None:
        ...  # loop.time(), asyncio.sleep, call_later... are virtual here

    @pytest.mark.virtual_time
    async def test_retry() -> None:
        ...

    @pytest.mark.virtual_time(autojump_threshold=0.005)  # a server in another thread
    async def test_remote() -> None:
        ...

Both need pytest-asyncio: the clock is installed on the test's own loop
before the test starts and removed after it.

**Servers.** ``redis_server`` and ``postgres_server`` start one private
server each on 127.0.0.1 for the whole session (``RedisServer`` /
``PostgresServer`` from ``rxasync.testing``; ``.url`` / ``.dsn`` to connect)
and stop it by PID at the end. ``redis_client`` and ``postgres_connection``
give a test a client on them, with the data of earlier tests wiped. Tests
that kill or restart a server should start their own with those classes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from ._clock import VirtualClock
from ._servers import PostgresServer, RedisServer

__all__ = [
    "postgres_connection",
    "postgres_server",
    "pytest_configure",
    "redis_client",
    "redis_server",
    "virtual_clock",
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "virtual_time: run this async test on rxasync's virtual clock")


@pytest_asyncio.fixture
async def virtual_clock(request: pytest.FixtureRequest) -> AsyncIterator[VirtualClock]:
    """The running loop on a :class:`~rxasync.testing.VirtualClock` for the test.

    The ``virtual_time`` marker's keyword arguments (``autojump_threshold=``)
    configure it.
    """
    marker = request.node.get_closest_marker("virtual_time")
    clock = VirtualClock(**(marker.kwargs if marker else {}))
    clock.install()
    try:
        yield clock
    finally:
        clock.uninstall()


@pytest.fixture(autouse=True)
def _virtual_time_marker(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("virtual_time") is not None:
        request.getfixturevalue("virtual_clock")


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


@pytest_asyncio.fixture  # async: declared so in pytest-asyncio's strict mode too
async def redis_client(redis_server: RedisServer) -> AsyncIterator[Any]:
    """A ``redis.asyncio.Redis`` on the session's server, its data wiped first (``FLUSHALL``)."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_server.url)
    await client.flushall()
    try:
        yield client
    finally:
        await client.aclose()


@pytest_asyncio.fixture  # async: declared so in pytest-asyncio's strict mode too
async def postgres_connection(postgres_server: PostgresServer) -> AsyncIterator[Any]:
    """An ``asyncpg.Connection`` to the session's server, schema ``public`` emptied first."""
    import asyncpg

    conn = await asyncpg.connect(postgres_server.dsn)
    await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    try:
        yield conn
    finally:
        await conn.close()
