"""Every async test runs inside rxasync.testing.no_leaks: a pending task, an open
file or socket, or an error reported to the loop fails the test that caused it.

The check's ``gc.collect()`` (it finalizes what the test left in reference
cycles, so that a task's "exception was never retrieved" or an unclosed
session is reported) would walk the whole heap, the modules of jax, aiohttp,
numpy... included: about 0.1-0.2 s a test on the shared CI machine, more than
most tests take. What was alive before the test cannot be the test's garbage,
so it is frozen (``gc.freeze()``) while the test runs: the check collects
every object the test made, and skips the rest. The one thing it cannot see
is an object that was alive before the test, dropped into a reference cycle
by it, holding something the test left behind; a full collection every
``FULL_COLLECT_EVERY`` tests keeps such garbage from piling up.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from itertools import count

import pytest

from rxasync.testing import no_leaks

# Private redis-server and PostgreSQL fixtures for tests/redis and tests/postgres.
pytest_plugins = ["rxasync.testing.pytest_plugin"]

FULL_COLLECT_EVERY = 50
_tests = count(1)


@pytest.fixture(autouse=True)
async def _no_leaks(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    gc.freeze()  # the heap as it was before the test: not the test's garbage
    try:
        if request.node.get_closest_marker("allow_leaks"):
            yield
        else:
            async with no_leaks():
                yield
    finally:
        gc.unfreeze()
        if next(_tests) % FULL_COLLECT_EVERY == 0:
            gc.collect()
