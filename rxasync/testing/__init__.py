"""Helpers to test your own pipelines: leak checks, running both ways, virtual time.

Example:
    >>> import asyncio, reactivex
    >>> from rxasync.testing import assert_run, no_leaks
    >>> async def check() -> None:
    ...     async with no_leaks():
    ...         await assert_run(lambda: reactivex.of(1, 2), [1, 2])
    >>> asyncio.run(check())
"""

from ._clock import VirtualClock, run_in_virtual_time, virtual_time
from ._leaks import LeakError, no_leaks, open_fds
from ._marbles import assert_marbles, cold, draw, hot, record
from ._run import assert_run

__all__ = [
    "LeakError",
    "VirtualClock",
    "assert_marbles",
    "assert_run",
    "cold",
    "draw",
    "hot",
    "no_leaks",
    "open_fds",
    "record",
    "run_in_virtual_time",
    "virtual_time",
]

for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
