"""scan: state carried on the device, emitted after each batch, equal to a numpy fold."""

from __future__ import annotations

import random

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import reactivex
from jax_helpers import jittery, rows, run_both
from support import outcome, recorded

import rxasync
from rxasync import JaxOperatorError
from rxasync.jax import scan

State = tuple[jax.Array, jax.Array, jax.Array]


def welford(state: State, x: jax.Array) -> State:
    """Running count, mean and sum of squared deviations (Welford), per feature."""
    n, mean, m2 = state
    n = n + 1
    delta = x - mean
    mean = mean + delta / n
    return n, mean, m2 + delta * (x - mean)


INIT = (0.0, np.zeros(3, np.float32), np.zeros(3, np.float32))
MOMENTS = scan(welford, INIT, batch_size=16, max_latency=0.001)


@pytest.mark.parametrize("seed", [1, 2])
async def test_scan_running_mean_and_variance_match_numpy(seed: int) -> None:
    data = rows(random.Random(seed).randrange(1, 200), seed)
    states, states_iter = await run_both(lambda: jittery(data, seed, pause=0.003, p=0.2).pipe(MOMENTS))
    for out in (states, states_iter):
        counts = [int(n) for n, _, _ in out]
        assert counts == sorted(counts)
        assert counts[-1] == len(data)
        for n, mean, m2 in out:  # every state is the fold of a prefix
            prefix = np.stack(data[: int(n)])
            np.testing.assert_allclose(mean, prefix.mean(axis=0), rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(m2 / n, prefix.var(axis=0), rtol=1e-4, atol=1e-5)
    assert MOMENTS.compilations <= len(MOMENTS.buckets)


async def test_scan_emits_the_state_after_each_batch() -> None:
    op = scan(lambda total, x: total + x, 0, batch_size=4, max_latency=None)
    got = await rxasync.to_list(reactivex.range(10).pipe(op))
    assert [int(s) for s in got] == [6, 28, 45]
    assert got[0].dtype == np.int32


async def test_scan_histogram_over_chunks() -> None:
    rng = np.random.default_rng(3)
    chunks = [rng.integers(0, 8, n).astype(np.int32) for n in (32, 5, 0, 70)]

    def count(hist: jax.Array, x: jax.Array) -> jax.Array:
        return hist.at[x].add(1)

    op = scan(count, np.zeros(8, np.int32), batch_size=32, chunked=True)
    got = await rxasync.to_list(reactivex.from_iterable(chunks).pipe(op))
    assert len(got) == len(chunks)
    for i, hist in enumerate(got):
        np.testing.assert_array_equal(hist, np.bincount(np.concatenate(chunks[: i + 1]), minlength=8))


async def test_scan_each_subscription_starts_from_init() -> None:
    op = scan(lambda total, x: total + x, 0.0, batch_size=8)
    for _ in range(2):
        assert float(await rxasync.last(reactivex.of(1.0, 2.0, 3.0).pipe(op))) == 6.0


async def test_scan_state_that_changes_type_is_a_trace_error() -> None:
    op = scan(lambda total, x: jnp.stack([total, x]), 0.0, batch_size=4)
    items, error = await outcome(reactivex.of(1.0, 2.0).pipe(op))
    assert items == []
    assert isinstance(error, JaxOperatorError)
    assert (error.operator, error.index) == ("scan", 0)
    assert error.__cause__ is not None


async def test_scan_shape_mismatch_names_the_element() -> None:
    data = [np.ones(3, np.float32)] * 6 + [np.ones(2, np.float32)]
    _items, error = await outcome(reactivex.from_iterable(data).pipe(MOMENTS))
    assert isinstance(error, JaxOperatorError)
    assert (error.operator, error.index) == ("scan", 6)


async def test_scan_counts_under_its_name_in_the_stage_statistics() -> None:
    """``scan(name=...)`` names its counters as ``map_batched(name=...)`` does."""
    with recorded() as stages:
        op = scan(lambda s, x: s + x, jnp.float32(0), batch_size=4, name="running_sum")
        out = await rxasync.to_list(reactivex.from_iterable([1.0, 2.0, 3.0, 4.0]).pipe(op))
    assert [float(y) for y in out] == [10.0]
    assert stages["running_sum"].snapshot()["kind"] == "scan"
