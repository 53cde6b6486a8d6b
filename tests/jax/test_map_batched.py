"""map_batched: results equal fn per element, in order, compiled once per bucket, errors named."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import reactivex
from jax_helpers import assert_rows_close, dense, dense_np, jittery, rows, run_both
from reactivex import operators as ops
from support import outcome, recorded

import rxasync
from rxasync import JaxOperatorError
from rxasync.jax import map_batched

# One operator shared by the tests that only check results: its buckets compile once.
SHARED = map_batched(dense, batch_size=16, max_latency=0.002)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_map_batched_results_match_numpy_for_random_batches_and_latencies(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randrange(0, 300)
    data = rows(n, seed)
    op = map_batched(dense, batch_size=rng.choice([1, 5, 16]), max_latency=rng.choice([None, 0.0005, 0.004]))
    got, got_iter = await run_both(lambda: jittery(data, seed, pause=0.004, p=0.2).pipe(op))
    want = [dense_np(x) for x in data]
    assert_rows_close(got, want)
    assert_rows_close(got_iter, want)
    assert op.compilations <= len(op.buckets)


async def test_map_batched_keeps_order_with_plain_rx_operators_between() -> None:
    data = rows(100, 4)
    src = jittery(data, 4).pipe(
        ops.filter(lambda x: float(x[0]) > -0.5), SHARED, ops.map(lambda y: y * 2), ops.take(30)
    )
    got = await rxasync.to_list(src)
    want = [2 * dense_np(x) for x in data if float(x[0]) > -0.5][:30]
    assert_rows_close(got, want)


async def test_map_batched_pytree_elements_and_outputs() -> None:
    def fn(e: dict[str, jax.Array]) -> tuple[jax.Array, jax.Array]:
        return e["v"] * e["s"], jnp.sum(e["v"])

    items = [{"v": np.arange(3.0) + i, "s": float(i)} for i in range(11)]
    op = map_batched(fn, batch_size=4)
    got = await rxasync.to_list(reactivex.from_iterable(items).pipe(op))
    assert len(got) == 11
    for item, (scaled, total) in zip(items, got, strict=True):
        np.testing.assert_allclose(scaled, item["v"] * item["s"])
        np.testing.assert_allclose(total, item["v"].sum())
        assert scaled.dtype == np.float32  # float64 input computed in JAX's default float32


async def test_map_batched_python_scalars() -> None:
    got = await rxasync.to_list(reactivex.range(10).pipe(map_batched(lambda x: x * x + 1, batch_size=4)))
    assert [int(y) for y in got] == [x * x + 1 for x in range(10)]
    assert all(isinstance(y, np.integer) for y in got)


async def test_map_batched_chunked_input_skips_stacking() -> None:
    rng = np.random.default_rng(5)
    chunks = [rng.standard_normal((n, 3)).astype(np.float32) for n in (16, 3, 0, 40, 16, 1)]
    op = map_batched(dense, batch_size=16, chunked=True)
    got, got_iter = await run_both(lambda: jittery(chunks, 5).pipe(op))
    for out in (got, got_iter):
        assert len(out) == len(chunks)
        for chunk, result in zip(chunks, out, strict=True):
            assert result.shape == (len(chunk), 2)
            np.testing.assert_allclose(result, dense_np(chunk).reshape(len(chunk), 2), rtol=1e-5, atol=1e-5)
    assert op.compilations <= len(op.buckets)


async def test_map_batched_chunked_jax_arrays_on_device() -> None:
    chunks = [jnp.ones((8, 3)) * i for i in range(3)]
    got = await rxasync.to_list(
        reactivex.from_iterable(chunks).pipe(map_batched(dense, batch_size=8, chunked=True))
    )
    for chunk, result in zip(chunks, got, strict=True):
        np.testing.assert_allclose(result, dense_np(np.asarray(chunk)), rtol=1e-5, atol=1e-5)


async def test_map_batched_compilations_at_most_buckets_for_random_lengths() -> None:
    op = map_batched(dense, batch_size=16, max_latency=0.0005)
    rng = random.Random(7)
    for seed in range(6):
        data = rows(rng.randrange(1, 120), seed)
        got = await rxasync.to_list(jittery(data, seed, pause=0.002, p=0.3).pipe(op))
        assert len(got) == len(data)
    assert op.buckets == (1, 2, 4, 8, 16)
    assert 1 <= op.compilations <= len(op.buckets)


async def test_map_batched_compile_ahead_of_time_covers_every_bucket() -> None:
    op = map_batched(dense, batch_size=8)
    assert await asyncio.to_thread(op.compile, np.zeros(3, np.float32)) == len(op.buckets) == 4
    for n in (1, 3, 8, 13):
        await rxasync.to_list(jittery(rows(n, n), n).pipe(op))
    assert op.compilations == 4
    assert op.compile(np.zeros(3, np.float32)) == 0
    assert "compilations=4" in repr(op)


async def test_map_batched_empty_source_completes_without_compiling() -> None:
    op = map_batched(dense)
    assert await rxasync.to_list(reactivex.empty().pipe(op)) == []
    assert op.compilations == 0


async def test_map_batched_trace_failure_names_operator_and_element() -> None:
    def bad(x: jax.Array) -> jax.Array:
        return x.reshape(7)  # a (3,) element cannot

    items, error = await outcome(reactivex.from_iterable(rows(5)).pipe(map_batched(bad, batch_size=4)))
    assert items == []
    assert isinstance(error, JaxOperatorError)
    assert error.operator == "map_batched"
    assert error.index == 0
    assert "float32[3]" in str(error)
    assert isinstance(error.__cause__, TypeError)


async def test_map_batched_shape_mismatch_in_one_element_names_it() -> None:
    data = rows(20)
    data[13] = np.zeros(4, np.float32)
    items, error = await outcome(reactivex.from_iterable(data).pipe(map_batched(dense, batch_size=4)))
    assert isinstance(error, JaxOperatorError)
    assert (error.operator, error.index) == ("map_batched", 13)
    assert "element 13 is float32[4]" in str(error)
    assert_rows_close(items, [dense_np(x) for x in data[:12]])  # the batches before it were delivered


async def test_map_batched_runtime_failure_on_the_device() -> None:
    def check(x: np.ndarray) -> np.ndarray:
        if np.any(x > 100):
            raise ValueError("value out of range")
        return x

    def fn(x: jax.Array) -> jax.Array:
        return jax.pure_callback(
            check, jax.ShapeDtypeStruct(x.shape, x.dtype), x, vmap_method="broadcast_all"
        )

    data = [np.full(3, i, np.float32) for i in range(12)]
    data[9] = np.full(3, 1000, np.float32)
    items, error = await outcome(jittery(data, 3).pipe(map_batched(fn, batch_size=4, max_latency=None)))
    assert isinstance(error, JaxOperatorError)
    assert error.operator == "map_batched"
    assert "elements 8..11" in str(error)
    assert "value out of range" in str(error)
    assert error.__cause__ is not None
    assert len(items) == 8


async def test_map_batched_error_from_upstream_passes_through() -> None:
    src = reactivex.concat(reactivex.from_iterable(rows(3)), reactivex.throw(KeyError("up")))
    _items, error = await outcome(src.pipe(SHARED))
    assert isinstance(error, KeyError)


def test_map_batched_validates_arguments() -> None:
    with pytest.raises(ValueError):
        map_batched(dense, batch_size=0)
    with pytest.raises(ValueError):
        map_batched(dense, depth=0)
    with pytest.raises(ValueError):
        map_batched(dense, max_latency=0)
    with pytest.raises(ValueError):
        map_batched(dense, batch_size=8, buckets=[2, 4])
    with pytest.raises(TypeError):
        map_batched(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        map_batched(dense, device="gpu")  # type: ignore[arg-type]
    assert map_batched(dense, batch_size=8, buckets=[8, 3]).buckets == (3, 8)


async def test_map_batched_scalar_of_another_dtype_names_the_element() -> None:
    items, error = await outcome(reactivex.of(1, 2, 3, 4.5).pipe(map_batched(lambda x: x + 1, batch_size=4)))
    assert items == []
    assert isinstance(error, JaxOperatorError)
    assert error.index == 3
    assert "element 3 is float32[] but element 0 is int32[]" in str(error)


async def test_map_batched_items_from_another_thread() -> None:
    data = rows(50, 12)
    src = reactivex.from_iterable(data).pipe(ops.subscribe_on(rxasync.schedulers.threads(1)))
    got = await rxasync.to_list(src.pipe(SHARED))
    assert_rows_close(got, [dense_np(x) for x in data])


@pytest.mark.parametrize("bad", ["text", None, object()])
async def test_map_batched_element_that_is_not_an_array_is_named(bad: object) -> None:
    _items, error = await outcome(reactivex.of(bad, bad).pipe(map_batched(lambda x: x, batch_size=2)))
    assert isinstance(error, JaxOperatorError)
    assert (error.operator, error.index) == ("map_batched", 0)
    assert "not an array" in str(error)


async def test_map_batched_chunk_that_is_not_a_batch_is_named() -> None:
    chunks = [np.ones((2, 3), np.float32), np.float32(1.0)]
    items, error = await outcome(reactivex.from_iterable(chunks).pipe(map_batched(dense, chunked=True)))
    assert isinstance(error, JaxOperatorError)
    assert error.index == 1
    assert len(items) == 1


async def test_map_batched_counts_in_the_stage_statistics() -> None:
    """The stage protocol counts the JAX batch stage under its ``name=``: in, out, the end."""
    with recorded() as stages:
        op = map_batched(lambda x: x + 1, batch_size=8, name="plus_one")
        out = await rxasync.to_list(reactivex.from_iterable(range(20)).pipe(op))
    assert [int(y) for y in out] == [x + 1 for x in range(20)]
    stats = stages["plus_one"].snapshot()
    assert (stats["kind"], stats["items_in"], stats["items_out"]) == ("map_batched", 20, 20)
    assert (stats["state"], stats["in_flight"], stats["errors"]) == ("completed", 0, 0)


async def test_map_batched_counts_its_waits_for_a_slow_source_after_the_first_item() -> None:
    """Between items of a slow source the device has nothing: that is a wait for upstream.

    Before the fix the stage counted only the wait before its first item, so
    it looked busy all the time and the live view took it for the bottleneck.
    """

    async def slow() -> AsyncIterator[float]:
        for i in range(8):
            await asyncio.sleep(0.05)
            yield float(i)

    op = map_batched(lambda x: x * 2, batch_size=2, name="twice")
    await rxasync.to_list(reactivex.from_iterable([1.0, 2.0]).pipe(op))  # compiled: not timed
    with recorded() as stages:
        await rxasync.to_list(rxasync.from_async_iterable(slow).pipe(op))
    stats = stages["twice"].snapshot()
    assert stats["items_out"] == 8
    # 8 sleeps of 50 ms: 0.4 s, less the 4 batches' time on the device; the first item's was 0.05 s
    assert stats["wait_upstream_s"] > 0.15, stats
    assert stats["wait_upstream_s"] < stats["age_s"]
