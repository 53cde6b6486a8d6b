"""Functions the tests run on the cluster's workers (importable there as ``dask_funcs``)."""

from __future__ import annotations

import functools
import os
import time
from typing import Any

_seen: list[Any] = []  # arguments this worker process was given, kept alive so ids stay unique


def square(x: int) -> int:
    return x * x


def slow_square(x: int, seconds: float = 0.02) -> int:
    time.sleep(seconds)
    return x * x


def fail_on(x: int, bad: int = 7) -> int:
    if x == bad:
        raise ZeroDivisionError(f"item {x} is bad")
    return x


def remember(x: int, table: Any) -> tuple[int, int, int]:
    """``(pid, id(table), table[x])``: one id per process if the table came once."""
    _seen.append(table)
    return os.getpid(), id(table), table[x]


def count_tasks(prefix: str, dask_scheduler: Any = None) -> int:
    """The scheduler's tasks whose key starts with ``prefix`` (run with ``run_on_scheduler``)."""
    return sum(1 for key in dask_scheduler.tasks if str(key).startswith(prefix))


@functools.cache
def _compiled() -> Any:
    import jax
    import jax.numpy as jnp

    return jax.jit(lambda x: jnp.tanh(x) * 2.0 + jnp.sum(x))


def jax_predict(x: Any) -> Any:
    """A jitted JAX function, compiled once per worker process, returning numpy."""
    import numpy as np

    return os.getpid(), np.asarray(_compiled()(x))


def jax_compiles() -> int:
    """How many times this worker compiled the JAX function (run with ``client.run``)."""
    return _compiled.cache_info().misses


def late_zero(x: int) -> int:
    """Item 0 takes half a second, the others none."""
    if x == 0:
        time.sleep(0.5)
    return x


def client_keys(client_id: str, dask_scheduler: Any = None) -> int:
    """How many keys the scheduler keeps for the client ``client_id`` (run with ``run_on_scheduler``)."""
    state = dask_scheduler.clients.get(client_id)
    return 0 if state is None else len(state.wants_what)


def total_bytes(x: int, table: Any) -> int:
    return x + len(table)
