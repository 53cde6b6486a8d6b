"""Shared by the file tests: collect a never-ending source, wait for a condition."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from reactivex import Observable, abc


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


async def wait_until(condition: Callable[[], object], within: float = 10.0) -> None:
    """Poll ``condition`` on the loop until it is true; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.01)


def threads_named(prefix: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(prefix) and t.is_alive()]
