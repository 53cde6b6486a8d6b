"""from_jax: one computation as a single-item observable; errors translated; dispose drops it."""

from __future__ import annotations

import asyncio

import jax
import jax.numpy as jnp
import numpy as np
from support import outcome

import rxasync
from rxasync import JaxOperatorError
from rxasync.jax import from_jax


async def test_from_jax_result_matches_numpy() -> None:
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    got = await rxasync.to_list(from_jax(lambda a, b: (a @ a.T + b, jnp.sum(a)), x, 1.0))
    assert len(got) == 1
    product, total = got[0]
    assert isinstance(product, np.ndarray)
    np.testing.assert_allclose(product, x @ x.T + 1)
    np.testing.assert_allclose(total, x.sum())


async def test_from_jax_runs_again_on_each_subscription() -> None:
    calls = []

    def fn(x: jax.Array) -> jax.Array:
        calls.append(1)  # traced once: later subscriptions reuse the compiled function
        return x + 1

    source = from_jax(fn, jnp.ones(2))
    for _ in range(3):
        np.testing.assert_allclose(await rxasync.first(source), [2.0, 2.0])
    assert len(calls) == 1


async def test_from_jax_failure_is_a_jax_operator_error() -> None:
    items, error = await outcome(from_jax(lambda x: x @ x, jnp.ones((2, 3))))
    assert items == []
    assert isinstance(error, JaxOperatorError)
    assert error.operator == "from_jax"
    assert isinstance(error.__cause__, TypeError)


async def test_from_jax_dispose_before_ready_drops_the_result() -> None:
    w = jnp.eye(256) * 0.5
    slow = jax.jit(lambda v: jax.lax.fori_loop(0, 20000, lambda _, a: jnp.tanh(w @ a), v))
    got: list[object] = []
    sub = from_jax(slow, jnp.ones(256)).subscribe(got.append)
    await asyncio.sleep(0.01)
    sub.dispose()
    await asyncio.sleep(0.05)
    assert got == []
