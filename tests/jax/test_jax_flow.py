"""The JAX stages and the event loop: never stalled, bounded in flight, dispose drops everything."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import jax
import jax.numpy as jnp
import numpy as np
import reactivex
from jax_helpers import Ticker, assert_rows_close, dense, dense_np, rows

import rxasync
from rxasync.jax import from_jax, map_batched

STALL_LIMIT = 0.020  # the bound on any one stall of the loop
WIDE = np.random.default_rng(9).standard_normal((128, 128)).astype(np.float32) / 12


def heavy(x: jax.Array) -> jax.Array:
    """Tens of milliseconds per batch of 64 on this CPU: a blocking wait would show."""

    def body(_: int, v: jax.Array) -> jax.Array:
        return jnp.tanh(WIDE @ v)

    return jax.lax.fori_loop(0, 600, body, x)


HEAVY = map_batched(heavy, batch_size=64, max_latency=0.001)


async def _feed(n: int) -> AsyncIterator[np.ndarray]:
    data = np.random.default_rng(n).standard_normal((n, 128)).astype(np.float32)
    for i in range(n):
        if i % 32 == 0:
            await asyncio.sleep(0)
        yield data[i]


async def test_map_batched_never_stalls_the_loop() -> None:
    await asyncio.to_thread(HEAVY.compile, np.zeros(128, np.float32))
    worst = []
    for _attempt in range(3):  # a shared machine can preempt us once; a blocking wait stalls every time
        async with Ticker() as ticker:
            start = asyncio.get_running_loop().time()
            out = await rxasync.to_list(rxasync.from_async_iterable(lambda: _feed(640)).pipe(HEAVY))
            took = asyncio.get_running_loop().time() - start
        assert len(out) == 640
        worst.append(ticker.worst)
        if ticker.worst <= STALL_LIMIT:
            break
    assert min(worst) <= STALL_LIMIT, f"worst stalls {worst} over runs of {took:.2f}s"


async def test_from_jax_never_stalls_the_loop() -> None:
    x = jnp.ones(128)
    big = jax.jit(lambda v: jax.lax.fori_loop(0, 20000, lambda _, a: jnp.tanh(WIDE @ a), v))
    await asyncio.to_thread(lambda: big(x).block_until_ready())
    worst = []
    for _attempt in range(3):
        async with Ticker() as ticker:
            got = await rxasync.first(from_jax(big, x))
        worst.append(ticker.worst)
        if ticker.worst <= STALL_LIMIT:
            break
    np.testing.assert_allclose(got, np.asarray(big(x)), rtol=1e-5)
    assert min(worst) <= STALL_LIMIT, worst


async def test_map_batched_slow_downstream_bounds_what_is_in_flight() -> None:
    produced = consumed = lead = 0
    depth, batch = 2, 8
    data = rows(400, 11)

    async def source() -> AsyncIterator[np.ndarray]:
        nonlocal produced
        for x in data:
            produced += 1
            yield x

    op = map_batched(dense, batch_size=batch, max_latency=0.001, depth=depth)
    out = []
    async with rxasync.to_async_iterable(rxasync.from_async_iterable(source).pipe(op), max_buffer=4) as items:
        async for y in items:
            out.append(y)
            consumed += 1
            lead = max(lead, produced - consumed)
            await asyncio.sleep(0.0005)
    assert_rows_close(out, [dense_np(x) for x in data])
    # the stage's demand, (depth + 2) batches, + max_buffer + the one in the loop body
    assert lead <= (depth + 2) * batch + 4 + 1, lead


async def test_map_batched_keeps_at_most_depth_batches_in_flight(monkeypatch: object) -> None:
    from rxasync.jax import _kernels

    live = peak = 0
    lock = threading.Lock()  # dispatch and fetch run on two threads
    real_dispatch, real_fetch = _kernels.MapRunner.dispatch, _kernels.MapRunner.fetch

    def dispatch(self: _kernels.MapRunner, start: int, items: list[object]) -> object:
        nonlocal live, peak
        with lock:
            live += 1
            peak = max(peak, live)
        return real_dispatch(self, start, items)

    def fetch(self: _kernels.MapRunner, handle: object, start: int, count: int) -> list[object]:
        nonlocal live
        out = real_fetch(self, handle, start, count)
        with lock:
            live -= 1
        return out

    mp = monkeypatch
    mp.setattr(_kernels.MapRunner, "dispatch", dispatch)  # type: ignore[attr-defined]
    mp.setattr(_kernels.MapRunner, "fetch", fetch)  # type: ignore[attr-defined]
    op = map_batched(dense, batch_size=4, max_latency=0.0005, depth=3)
    out = []
    async with rxasync.to_async_iterable(reactivex.from_iterable(rows(200)).pipe(op), max_buffer=2) as items:
        async for y in items:
            out.append(y)
            await asyncio.sleep(0)
    assert len(out) == 200
    assert 1 <= peak <= 3


async def test_map_batched_dispose_drops_batches_in_flight() -> None:
    await asyncio.to_thread(HEAVY.compile, np.zeros(128, np.float32))
    got: list[object] = []
    first_item = asyncio.Event()

    def on_next(y: object) -> None:
        got.append(y)
        first_item.set()

    sub = rxasync.from_async_iterable(lambda: _feed(100_000)).pipe(HEAVY).subscribe(on_next)
    await asyncio.wait_for(first_item.wait(), 10)
    sub.dispose()
    n = len(got)
    await asyncio.sleep(0.2)  # the batches that were running finish on their threads and are dropped
    assert len(got) == n
    for _ in range(100):  # the worker thread finishes the call it was in, then exits
        if not any(t.name.startswith("rxasync-jax-map_batched") for t in threading.enumerate()):
            break
        await asyncio.sleep(0.05)
    assert not any(t.name.startswith("rxasync-jax-map_batched") for t in threading.enumerate())
    # the leak check (conftest) asserts no task is left pending


async def test_map_batched_first_disposes_after_one_item() -> None:
    y = await rxasync.first(rxasync.from_async_iterable(lambda: _feed(10_000)).pipe(HEAVY))
    assert y.shape == (128,)


async def test_map_batched_cancelled_consumer_stops_the_pipeline() -> None:
    task = asyncio.create_task(
        rxasync.to_list(rxasync.from_async_iterable(lambda: _feed(100_000)).pipe(HEAVY))
    )
    await asyncio.sleep(0.3)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    assert task.cancelled()


async def test_map_batched_slow_downstream_bounds_upstream_memory() -> None:
    import tracemalloc

    row_bytes, n, batch, depth = 64 * 1024, 300, 8, 2

    async def big_rows() -> AsyncIterator[np.ndarray]:
        for i in range(n):
            yield np.full(row_bytes // 4, i, np.float32)

    op = map_batched(jnp.sum, batch_size=batch, max_latency=0.001, depth=depth)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        total = 0.0
        async with rxasync.to_async_iterable(
            rxasync.from_async_iterable(big_rows).pipe(op), max_buffer=2
        ) as sums:
            async for s in sums:
                total += float(s)
                await asyncio.sleep(0.0005)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert total == sum(i * row_bytes // 4 for i in range(n))
    # the stage's demand, (depth + 2) batches, each held as rows and once stacked, plus slack;
    # everything at once would be n * row_bytes = 19 MiB
    assert peak < 2 * (depth + 3) * batch * row_bytes + (2 << 20), peak / 2**20


async def test_map_batched_dispatches_the_next_batch_while_one_is_fetched(monkeypatch: object) -> None:
    # Dispatching batch k + 1 waits (up to 5 s) until batch k's fetch has begun:
    # with dispatch and fetch on one thread that cannot happen (it would wait
    # on itself), with a fetch thread the two overlap.
    from rxasync.jax import _kernels

    real_dispatch, real_fetch = _kernels.MapRunner.dispatch, _kernels.MapRunner.fetch
    fetching: dict[int, threading.Event] = {s: threading.Event() for s in (0, 4, 8)}
    overlapped: list[bool] = []

    def dispatch(self: _kernels.MapRunner, start: int, items: list[object]) -> object:
        if start - 4 in fetching:
            overlapped.append(fetching[start - 4].wait(5))
        return real_dispatch(self, start, items)

    def fetch(self: _kernels.MapRunner, handle: object, start: int, count: int) -> list[object]:
        fetching[start].set()
        return real_fetch(self, handle, start, count)

    mp = monkeypatch
    mp.setattr(_kernels.MapRunner, "dispatch", dispatch)  # type: ignore[attr-defined]
    mp.setattr(_kernels.MapRunner, "fetch", fetch)  # type: ignore[attr-defined]
    op = map_batched(dense, batch_size=4, max_latency=None, depth=2)
    data = rows(12)
    out = await rxasync.to_list(reactivex.from_iterable(data).pipe(op))
    assert overlapped == [True, True]
    assert_rows_close(out, [dense_np(x) for x in data])
