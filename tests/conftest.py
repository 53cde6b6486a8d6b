"""Every async test runs inside rxasync.testing.no_leaks: a pending task, an open
file or socket, or an error reported to the loop fails the test that caused it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from rxasync.testing import no_leaks

# Private redis-server and PostgreSQL fixtures for tests/redis and tests/postgres.
pytest_plugins = ["rxasync.testing.pytest_plugin"]


@pytest.fixture(autouse=True)
async def _no_leaks(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    if request.node.get_closest_marker("allow_leaks"):
        yield
        return
    async with no_leaks():
        yield
