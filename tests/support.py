"""Helpers shared by the tests: collect a source (or its outcome), wait for a condition, a source that records its close.

Import them as ``from support import ...`` (``tests/`` is on ``sys.path``:
its ``conftest.py`` sits there, outside any package).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import reactivex
from reactivex import Observable, abc

import rxasync
from rxasync import _stats
from rxasync.stats import StageStats

_T = TypeVar("_T")


class Collector:
    """Subscribe and keep what arrives; ``dispose()`` when done."""

    def __init__(self, source: Observable[Any]) -> None:
        self.items: list[Any] = []
        self.error: Exception | None = None
        self.completed = False
        self.subscription: abc.DisposableBase = source.subscribe(
            self.items.append, self._on_error, self._on_completed
        )

    def _on_error(self, error: Exception) -> None:
        self.error = error

    def _on_completed(self) -> None:
        self.completed = True

    def dispose(self) -> None:
        self.subscription.dispose()


async def collect(items: AsyncIterable[_T]) -> list[_T]:
    """Every item of an async iterable, as a list."""
    return [x async for x in items]


async def outcome(source: Observable[Any]) -> tuple[list[Any], BaseException | None]:
    """The items and the error (or ``None``) of one subscription to ``source``, once it ends."""
    items: list[Any] = []
    done: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()
    subscription = source.subscribe(items.append, done.set_result, lambda: done.set_result(None))
    try:
        return items, await done
    finally:
        subscription.dispose()


async def wait_until(condition: Callable[[], object], within: float = 10.0) -> None:
    """Poll ``condition`` on the loop until it is true; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.01)


def threads_named(prefix: str) -> list[threading.Thread]:
    """The live threads whose name starts with ``prefix``."""
    return [t for t in threading.enumerate() if t.name.startswith(prefix) and t.is_alive()]


class Tracker:
    """An endless async source that records whether it was closed."""

    def __init__(self) -> None:
        self.closed = asyncio.Event()
        self.produced = 0

    async def gen(self) -> AsyncIterator[int]:
        try:
            while True:
                await asyncio.sleep(0)
                yield self.produced
                self.produced += 1
        finally:
            self.closed.set()

    def source(self) -> reactivex.Observable[int]:
        return rxasync.from_async_iterable(self.gen)


@contextlib.contextmanager
def recorded() -> Iterator[dict[str, StageStats]]:
    """Every stage begun inside, by name (kept alive, so they can be read after the end)."""
    stages: dict[str, StageStats] = {}

    def keep(stats: StageStats) -> None:
        stages[stats.name] = stats

    _stats.collect(keep)
    try:
        yield stages
    finally:
        _stats.collect(keep, remove=True)
