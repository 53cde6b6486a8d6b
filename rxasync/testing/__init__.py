"""Helpers to test your own pipelines: leak checks and running both ways.

Example:
    >>> import asyncio, reactivex
    >>> from rxasync.testing import assert_run, no_leaks
    >>> async def check() -> None:
    ...     async with no_leaks():
    ...         await assert_run(lambda: reactivex.of(1, 2), [1, 2])
    >>> asyncio.run(check())
"""

from .._exports import export as _export
from ._leaks import LeakError, no_leaks, open_fds
from ._run import assert_run

__all__ = ["LeakError", "assert_run", "no_leaks", "open_fds"]

_export(globals())
