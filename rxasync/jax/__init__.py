"""JAX computations as observables: batched, compiled once per bucket, never blocking the loop.

Needs the ``jax`` extra (``pip install 'rxasync[jax]'``); ``import rxasync``
alone never imports jax.

Example:
    >>> import asyncio, reactivex, rxasync
    >>> import jax.numpy as jnp, numpy as np
    >>> from rxasync.jax import map_batched
    >>> rows = reactivex.of(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    >>> out = asyncio.run(rxasync.to_list(rows.pipe(map_batched(jnp.sum, batch_size=8))))
    >>> [float(x) for x in out]
    [3.0, 7.0]
"""

try:
    import jax as _jax
except ImportError as _exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "rxasync.jax needs JAX, which is not installed: install rxasync[jax] (pip install 'rxasync[jax]')"
    ) from _exc

from .._exports import export as _export
from ._batched import map_batched, scan
from ._from_jax import from_jax
from ._operator import JaxOperator

__all__ = ["JaxOperator", "from_jax", "map_batched", "scan"]

del _jax
_export(globals())
