"""Every async test runs inside rxasync.testing.no_leaks: a pending task, an open
file or socket, or an error reported to the loop fails the test that caused it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from rxasync.testing import no_leaks


@pytest.fixture(autouse=True)
async def _no_leaks(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    if request.node.get_closest_marker("allow_leaks"):
        yield
        return
    async with no_leaks():
        yield
