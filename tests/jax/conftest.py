"""JAX is initialised once, before any test's leak check starts counting open files."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from rxasync.jax._devices import fetch_pool

jax.block_until_ready(jax.jit(jnp.sin)(jnp.zeros(2)))
fetch_pool()
