"""pytest support for virtual time: the ``virtual_clock`` fixture and the ``virtual_time`` marker.

Load it from your root ``conftest.py``::

    pytest_plugins = ["rxasync.testing.pytest_plugin"]

Then an async test either asks for the clock, or is marked::

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
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from ._clock import VirtualClock

__all__ = ["pytest_configure", "virtual_clock"]


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
