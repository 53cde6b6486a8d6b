"""Helpers to test your own pipelines: leak checks, running both ways, virtual time, private database servers.

``RedisServer`` and ``PostgresServer`` start private servers on 127.0.0.1;
``rxasync.testing.pytest_plugin`` offers them as session fixtures, and the
virtual clock as the ``virtual_clock`` fixture and ``virtual_time`` marker.

Example:
    >>> import asyncio, reactivex
    >>> from rxasync.testing import assert_run, no_leaks
    >>> async def check() -> None:
    ...     async with no_leaks():
    ...         await assert_run(lambda: reactivex.of(1, 2), [1, 2])
    >>> asyncio.run(check())
"""

from .._exports import export as _export
from ._clock import VirtualClock, run_in_virtual_time, virtual_time
from ._leaks import LeakError, no_leaks, open_fds
from ._marbles import assert_marbles, cold, draw, hot, record
from ._run import assert_run
from ._servers import PostgresServer, RedisServer, free_port

__all__ = [
    "LeakError",
    "PostgresServer",
    "RedisServer",
    "VirtualClock",
    "assert_marbles",
    "assert_run",
    "cold",
    "draw",
    "free_port",
    "hot",
    "no_leaks",
    "open_fds",
    "record",
    "run_in_virtual_time",
    "virtual_time",
]

_export(globals())
