"""Catch what a pipeline leaves behind: pending tasks, open files and sockets, loop errors."""

from __future__ import annotations

import asyncio
import gc
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

__all__ = ["LeakError", "no_leaks", "open_fds"]


class LeakError(AssertionError):
    """A test left tasks pending, files or sockets open, or the loop reported an error."""


def open_fds() -> dict[int, str]:
    """The process's open file descriptors and what each points to (Linux ``/proc``).

    Example:
        >>> 0 in open_fds() or not open_fds()
        True
    """
    fds: dict[int, str] = {}
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return fds
    for name in names:
        try:
            fds[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # the listing's own fd, closed by now
    return fds


@asynccontextmanager
async def no_leaks(settle: float = 1.0, check_fds: bool = True) -> AsyncIterator[None]:
    """Fail if the block leaves tasks pending, fds open, or errors reported to the loop.

    After the block, the loop gets up to ``settle`` seconds (and at least 10
    turns, however slow the machine) to finish what
    was cancelled (a disposed source needs one or two loop iterations), then
    any task created in the block and still pending, any file descriptor
    opened in the block and still open, and any call of the loop's exception
    handler ("Task exception was never retrieved", "Unclosed client session")
    raises :class:`LeakError` listing them.

    Example:
        >>> import asyncio, rxasync
        >>> from rxasync.testing import no_leaks
        >>> async def main() -> None:
        ...     async with no_leaks():
        ...         await rxasync.to_list(rxasync.from_awaitable(asyncio.sleep(0)))
        >>> asyncio.run(main())
    """
    loop = asyncio.get_running_loop()
    before_tasks = asyncio.all_tasks(loop)
    before_fds = open_fds() if check_fds else {}
    reported: list[dict[str, Any]] = []
    old_handler = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        yield
        problems = await _settle(loop, before_tasks, before_fds, settle, check_fds)
        problems += [f"loop error: {c.get('message')} {c.get('exception')!r}" for c in reported]
        if problems:
            raise LeakError("left behind:\n  " + "\n  ".join(problems))
    finally:
        loop.set_exception_handler(old_handler)


#: Loop turns the settle window always gives, however long each gc.collect() takes.
_MIN_TURNS = 10


async def _settle(
    loop: asyncio.AbstractEventLoop,
    before_tasks: set[asyncio.Task[Any]],
    before_fds: dict[int, str],
    settle: float,
    check_fds: bool,
) -> list[str]:
    deadline = time.monotonic() + settle
    me = asyncio.current_task()
    turns = 0  # a loaded machine with a big heap may spend the whole window in gc.collect()
    while True:
        turns += 1
        gc.collect()
        await asyncio.sleep(0)
        tasks = [t for t in asyncio.all_tasks(loop) - before_tasks if t is not me and not t.done()]
        fds = {fd: path for fd, path in open_fds().items() if before_fds.get(fd) != path} if check_fds else {}
        if not tasks and not fds:
            return []
        if time.monotonic() > deadline and turns >= _MIN_TURNS:
            return [f"pending task {t!r}" for t in tasks] + [f"open fd {fd} -> {p}" for fd, p in fds.items()]
        await asyncio.sleep(0.01)
