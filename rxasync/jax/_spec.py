"""What one ``map_batched``/``scan`` operator is: a frozen spec read by the kernels and the stage.

:func:`make_spec` validates the arguments once and builds everything an
operator's subscriptions share (the buckets, the placement, the compiled
cache). :class:`~rxasync.jax.JaxOperator` holds one; the kernels
(``_kernels``) and the batching stage (``_batch_stage``) read it, so none of
them imports the operator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

from .._checks import check_int
from ._compiler import Compiler, Signature, canonical_dtype, flatten, signature
from ._devices import Device, Placement, make_buckets

__all__ = ["JaxSpec", "make_spec"]


@dataclass(frozen=True, slots=True)
class JaxSpec:
    """Everything one operator's subscriptions share; see the module docstring."""

    name: str  # "map_batched" or "scan"; errors name it
    fn: Callable[..., Any]
    batch_size: int
    max_latency: float | None
    depth: int
    chunked: bool
    placement: Placement
    buckets: tuple[int, ...]
    vmapped: Any  # jax.vmap(fn): what map_batched compiles, and eval_shape of an empty chunk
    compiler: Compiler
    init_sig: Signature | None = None  # scan: the state's signature and leaves
    init_leaves: tuple[Any, ...] = ()


def make_spec(
    name: str,
    fn: Callable[..., Any],
    *,
    batch_size: int,
    max_latency: float | None,
    buckets: Sequence[int] | None,
    depth: int,
    device: Device,
    chunked: bool,
    init: Any = None,
) -> JaxSpec:
    """Validate the arguments of ``map_batched``/``scan`` and build the spec (nothing compiles yet)."""
    check_int("batch_size", batch_size)
    check_int("depth", depth)
    if max_latency is not None and not max_latency > 0:
        raise ValueError(f"max_latency must be > 0 seconds or None, got {max_latency!r}")
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {fn!r}")
    placement = Placement(device)
    vmapped = jax.vmap(fn)
    init_sig: Signature | None = None
    init_leaves: tuple[Any, ...] = ()
    if name == "scan":
        leaves, treedef = flatten(init)
        init_leaves = tuple(np.asarray(x, canonical_dtype(x)) for x in leaves)
        init_sig = signature(treedef.unflatten(list(init_leaves)))
        compiler = Compiler(name, _scan_step(fn, placement), _scan_specs(placement, init_sig), placement)
    else:
        compiler = Compiler(name, jax.jit(vmapped), _map_specs(placement), placement)
    return JaxSpec(
        name=name,
        fn=fn,
        batch_size=batch_size,
        max_latency=max_latency,
        depth=depth,
        chunked=chunked,
        placement=placement,
        buckets=make_buckets(batch_size, buckets, placement.devices),
        vmapped=vmapped,
        compiler=compiler,
        init_sig=init_sig,
        init_leaves=init_leaves,
    )


def _batch_specs(placement: Placement, bucket: int, sig: Signature) -> Any:
    spec = placement.spec
    return sig.treedef.unflatten([spec((bucket, *shape), dtype) for shape, dtype in sig.leaves])


def _map_specs(placement: Placement) -> Callable[[int, Signature], tuple[Any, ...]]:
    def specs(bucket: int, sig: Signature) -> tuple[Any, ...]:
        return (_batch_specs(placement, bucket, sig),)

    return specs


def _scan_specs(placement: Placement, init_sig: Signature) -> Callable[[int, Signature], tuple[Any, ...]]:
    spec = placement.spec

    def specs(bucket: int, sig: Signature) -> tuple[Any, ...]:
        state = init_sig.treedef.unflatten([spec(s, d, batched=False) for s, d in init_sig.leaves])
        return state, _batch_specs(placement, bucket, sig), spec((), np.dtype(np.int32), batched=False)

    return specs


def _scan_step(fn: Callable[[Any, Any], Any], placement: Placement) -> Any:
    def step(state: Any, xs: Any, n: jax.Array) -> Any:
        def body(i: jax.Array, carry: Any) -> Any:
            return fn(carry, jax.tree.map(lambda x: x[i], xs))

        return jax.lax.fori_loop(0, n, body, state)

    if placement.replicated is None:
        return jax.jit(step)
    return jax.jit(step, out_shardings=placement.replicated)
