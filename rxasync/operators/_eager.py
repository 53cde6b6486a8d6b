"""Run a coroutine's first step at once, as a parked task, and go on in that task if it suspends.

A stage with one worker task (``map_async(concurrency=1)``) would hand each
item to the worker: a future set, a loop turn, and one more for the source
waiting on the stage's demand. Most coroutines of a fast stage (a cache hit,
a buffered read, a no-op) finish without ever suspending, so
:func:`first_step` runs the first step where the item arrives, with the
worker as :func:`asyncio.current_task` (so ``asyncio.timeout``, ``cancelling``
and task-local code see the task that will carry on) and in the worker's
context. A coroutine that finishes returns its value there; one that
suspends is continued by the worker (:class:`Resumed` hands the future it
waits on, and later a cancellation, to the worker's task). This is what
Python 3.12's eager task factory does, without a task per item.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
from collections.abc import Coroutine, Generator
from typing import Any

__all__ = ["Resumed", "first_step"]

_enter_task = asyncio.tasks._enter_task
_leave_task = asyncio.tasks._leave_task
_TASKS = getattr(asyncio.tasks, "_current_tasks", None)  # where 3.11's asyncio.current_task(loop) looks
_current_task = (
    _TASKS.get if isinstance(_TASKS, dict) and sys.version_info < (3, 12) else asyncio.current_task
)


def first_step(
    coro: Coroutine[Any, Any, Any],
    task: asyncio.Task[Any],
    loop: asyncio.AbstractEventLoop,
    context: contextvars.Context,
) -> tuple[bool, Any]:
    """Run ``coro`` up to its first suspension, as ``task`` in ``context``.

    Returns ``(True, result)`` if it finished, ``(False, yielded)`` if it
    suspended (continue it with ``await Resumed(coro, yielded)`` in
    ``task``). An exception it raises propagates. ``task`` must be parked
    (not running) and ``context`` entered by nobody: the one worker of a
    stage waiting for work.

    Example:
        >>> import asyncio
        >>> from rxasync.operators._eager import first_step
        >>> async def double(x: int) -> int:
        ...     return 2 * x
        >>> async def main() -> tuple[bool, int]:
        ...     parked = asyncio.ensure_future(asyncio.sleep(1))
        ...     ctx = __import__("contextvars").copy_context()
        ...     done = first_step(double(21), parked, asyncio.get_running_loop(), ctx)
        ...     parked.cancel()
        ...     return done
        >>> asyncio.run(main())
        (True, 42)
    """
    current = _current_task(loop)
    if current is not None:
        _leave_task(loop, current)
    _enter_task(loop, task)
    try:
        return False, context.run(coro.send, None)
    except StopIteration as stop:
        return True, stop.value
    finally:
        _leave_task(loop, task)
        if current is not None:
            _enter_task(loop, current)


class Resumed:
    """``await Resumed(coro, yielded)``: go on with a coroutine :func:`first_step` left suspended.

    It passes what the coroutine yielded (the future it waits on) to the
    awaiting task, and the task's answers (the wake-up, or an exception such
    as a cancellation) back to the coroutine, as ``await coro`` would have.
    """

    __slots__ = ("coro", "yielded")

    def __init__(self, coro: Coroutine[Any, Any, Any], yielded: Any) -> None:
        self.coro = coro
        self.yielded = yielded

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, value = self.coro, self.yielded
        while True:
            try:
                sent = yield value
            except BaseException as exc:  # thrown in by the task (a cancellation): the coroutine's to handle
                try:
                    value = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    value = coro.send(sent)
                except StopIteration as stop:
                    return stop.value
