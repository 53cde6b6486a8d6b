"""JAX starts once, when the first test here runs, before its leak check counts open files.

Not at import: a started JAX backend makes every later ``os.fork()`` warn (an
error under ``filterwarnings = error``), and collecting this directory must
not change what the rest of the suite, which runs first, can do.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

from rxasync.jax._devices import call_pool


@pytest.fixture(scope="session", autouse=True)
def _jax_started() -> None:
    jax.block_until_ready(jax.jit(jnp.sin)(jnp.zeros(2)))
    call_pool()
