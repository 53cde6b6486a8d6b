"""Blocking calls for the low-rate sources (``tail``, ``glob``, ``walk``) off the loop.

One call at a time goes to the loop's default executor. The call is
shielded: a cancelled source does not abandon it half-way, and
:meth:`Offload.drain` (in the generator's ``finally:``) waits until the call
in flight has returned, so the descriptors it uses can then be closed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["Offload"]

_T = TypeVar("_T")


class Offload:
    """Run blocking calls one at a time on the default executor."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: asyncio.Future[Any] | None = None

    async def call(self, fn: Callable[[], _T]) -> _T:
        """``fn()`` on a worker thread; cancelling the await does not stop it (see ``drain``)."""
        fut = asyncio.get_running_loop().run_in_executor(None, fn)
        self._last = fut
        return await asyncio.shield(fut)

    async def drain(self) -> None:
        """Wait for the call in flight, if any; its result or error is dropped."""
        fut, self._last = self._last, None
        if fut is None:
            return
        with contextlib.suppress(BaseException):
            await fut
