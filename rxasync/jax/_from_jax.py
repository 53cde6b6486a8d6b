"""``from_jax``: one JAX computation as a single-item observable, never blocking the loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVarTuple, Unpack

import jax
from reactivex import Observable

from .._bridge import from_awaitable
from .._errors import JaxOperatorError
from ._devices import call_pool

__all__ = ["from_jax"]

_Ts = TypeVarTuple("_Ts")


def from_jax(fn: Callable[[Unpack[_Ts]], Any], *args: *_Ts, name: str | None = None) -> Observable[Any]:
    """Run ``jax.jit(fn)(*args)`` and emit its result, as host values, when it is ready.

    The call (tracing and compiling the first time, dispatch, the wait for
    the result) runs on a small thread pool of rxasync's, so the event loop never
    waits: JAX arrays are not awaitable, this makes one computation so. Each
    subscription runs the function again (compiled once). Disposing before
    the result is ready drops it. Built on :func:`rxasync.from_awaitable`.

    Marble::

        from_jax(f, x):  -------r|      r = f(x) as numpy

    Args:
        fn: a function JAX can trace (a ``jax.jit``-ed one is used as is).
        args: its arguments: arrays, scalars or pytrees of them.
        name: the name of its counters in :mod:`rxasync.stats` (default ``<kind>#<id>``).

    Returns:
        An ``Observable`` that emits the result (numpy arrays in the same
        pytree) and completes, or fails with :class:`~rxasync.JaxOperatorError`
        (chained from JAX's exception) when ``fn`` fails to trace or to run.

    Example:
        >>> import asyncio, rxasync
        >>> import jax.numpy as jnp
        >>> from rxasync.jax import from_jax
        >>> total = asyncio.run(rxasync.first(from_jax(lambda x: jnp.sum(x * x), jnp.arange(4.0))))
        >>> float(total)
        14.0
    """
    jitted = fn if hasattr(fn, "lower") else jax.jit(fn)

    def compute() -> Any:
        try:
            return jax.device_get(jitted(*args))
        except Exception as exc:
            name = getattr(fn, "__name__", repr(fn))
            raise JaxOperatorError(
                f"from_jax: {name} failed to trace, compile or run: {type(exc).__name__}: {exc}",
                operator="from_jax",
            ) from exc

    async def run() -> Any:
        return await asyncio.get_running_loop().run_in_executor(call_pool(), compute)

    return from_awaitable(run, name=name)
