"""Shared pieces of the JAX tests: a small dense layer, sources with random timing, both ways to run."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import reactivex
from reactivex import Observable

import rxasync

RNG = np.random.default_rng(0)
W = RNG.standard_normal((3, 2)).astype(np.float32)
B = RNG.standard_normal(2).astype(np.float32)


def dense(x: jax.Array) -> jax.Array:
    """One element (3,) -> (2,)."""
    return jnp.tanh(x @ W + B)


def dense_np(x: np.ndarray) -> np.ndarray:
    return np.tanh(x.astype(np.float32) @ W + B)


def rows(n: int, seed: int = 1, width: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return list(rng.standard_normal((n, width)).astype(np.float32))


def jittery(items: Sequence[Any], seed: int, pause: float = 0.003, p: float = 0.1) -> Observable[Any]:
    """A bridge source that now and then sleeps a random while between items."""

    async def gen() -> AsyncIterator[Any]:
        rng = random.Random(seed)
        for item in items:
            if rng.random() < p:
                await asyncio.sleep(rng.uniform(0, pause))
            yield item

    return rxasync.from_async_iterable(gen)


async def run_both(make: Callable[[], Observable[Any]]) -> tuple[list[Any], list[Any]]:
    """Items through ``subscribe`` (to_list) and through ``async for``."""
    via_subscribe = await rxasync.to_list(make())
    via_iter = []
    async with rxasync.to_async_iterable(make(), max_buffer=16) as items:
        async for item in items:
            via_iter.append(item)
    return via_subscribe, via_iter


def assert_rows_close(got: Sequence[Any], want: Sequence[Any]) -> None:
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert isinstance(g, np.ndarray | np.generic), (i, type(g))
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5, err_msg=f"item {i}")


class Ticker:
    """Measures the event loop's longest stall: the largest gap between ticks beyond the tick."""

    def __init__(self, tick: float = 0.002) -> None:
        self.tick = tick
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(self.tick)
            now = time.perf_counter()
            self.worst = max(self.worst, now - last - self.tick)
            last = now

    async def __aenter__(self) -> Ticker:
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass


def of(*items: Any) -> Observable[Any]:
    return reactivex.of(*items)
