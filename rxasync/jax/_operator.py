"""The operator object behind ``map_batched`` and ``scan``: validation, compiled cache, subscribe."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import jax
import numpy as np
from reactivex import Observable, abc

from .._checks import check_int
from .._stage import stage_observable
from ._compiler import Compiler, Signature, canonical_dtype, flatten, signature
from ._devices import Device, Placement, make_buckets
from ._kernels import MapRunner, ScanRunner
from ._stage import BatchStage
from ._worker import Runner

__all__ = ["JaxOperator"]

_T = TypeVar("_T")


class JaxOperator(Generic[_T]):
    """What :func:`map_batched` and :func:`scan` return: an operator you can inspect.

    Use it in ``source.pipe(...)`` like any operator. Its compiled executables
    are shared by all its subscriptions.

    Attributes:
        name: ``"map_batched"`` or ``"scan"``; errors name it.
        buckets: the batch sizes it compiles for, ascending.
        placement: where batches go (``placement.sharding`` is ``None`` for
            JAX's default device).

    Example:
        >>> import numpy as np
        >>> from rxasync.jax import map_batched
        >>> op = map_batched(lambda x: x * 2, batch_size=8)
        >>> op.buckets, op.compilations
        ((1, 2, 4, 8), 0)
        >>> op.compile(np.float32(0)), op.compilations   # every bucket, ahead of time
        (4, 4)
    """

    def __init__(
        self,
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
    ) -> None:
        check_int("batch_size", batch_size)
        check_int("depth", depth)
        if max_latency is not None and not max_latency > 0:
            raise ValueError(f"max_latency must be > 0 seconds or None, got {max_latency!r}")
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {fn!r}")
        self.name = name
        self.fn = fn
        self.batch_size = batch_size
        self.max_latency = max_latency
        self.depth = depth
        self.chunked = chunked
        self.placement = Placement(device)
        self.buckets = make_buckets(batch_size, buckets, self.placement.devices)
        self.vmapped = jax.vmap(fn)
        self.init_sig: Signature | None = None
        self.init_leaves: list[Any] = []
        if name == "scan":
            leaves, treedef = flatten(init)
            self.init_leaves = [np.asarray(x, canonical_dtype(x)) for x in leaves]
            self.init_sig = signature(treedef.unflatten(self.init_leaves))
            self.compiler = Compiler(name, _scan_step(fn, self.placement), self._scan_specs, self.placement)
        else:
            self.compiler = Compiler(name, jax.jit(self.vmapped), self._map_specs, self.placement)

    @property
    def compilations(self) -> int:
        """How many XLA compilations this operator made so far (at most one per bucket and element shape)."""
        return self.compiler.count

    def compile(self, example: Any) -> int:
        """Compile every bucket ahead of time for elements like ``example``; return the count made.

        ``example`` is one element (not a batch), even when ``chunked=True``.
        This blocks while XLA compiles (seconds for big functions): call it
        before the event loop starts, or ``await asyncio.to_thread(op.compile, x)``.

        Raises:
            JaxOperatorError: ``fn`` fails to trace or compile for ``example``.
        """
        before = self.compiler.count
        sig = signature(example)
        for bucket in self.buckets:
            self.compiler.get(bucket, sig, 0)
        return self.compiler.count - before

    def __call__(self, source: Observable[_T]) -> Observable[Any]:
        def make(observer: abc.ObserverBase[Any], loop: asyncio.AbstractEventLoop) -> BatchStage:
            runner: Runner = ScanRunner(self) if self.name == "scan" else MapRunner(self)
            return BatchStage(self, runner, observer, loop)

        return stage_observable(source, self.name, make)

    def _batch_specs(self, bucket: int, sig: Signature) -> Any:
        spec = self.placement.spec
        return sig.treedef.unflatten([spec((bucket, *shape), dtype) for shape, dtype in sig.leaves])

    def _map_specs(self, bucket: int, sig: Signature) -> tuple[Any, ...]:
        return (self._batch_specs(bucket, sig),)

    def _scan_specs(self, bucket: int, sig: Signature) -> tuple[Any, ...]:
        assert self.init_sig is not None
        spec = self.placement.spec
        state = self.init_sig.treedef.unflatten([spec(s, d, batched=False) for s, d in self.init_sig.leaves])
        return state, self._batch_specs(bucket, sig), spec((), np.dtype(np.int32), batched=False)

    def __repr__(self) -> str:
        return f"<{self.name} of {getattr(self.fn, '__name__', self.fn)!r}, buckets={self.buckets}, compilations={self.compilations}>"


def _scan_step(fn: Callable[[Any, Any], Any], placement: Placement) -> Any:
    def step(state: Any, xs: Any, n: jax.Array) -> Any:
        def body(i: jax.Array, carry: Any) -> Any:
            return fn(carry, jax.tree.map(lambda x: x[i], xs))

        return jax.lax.fori_loop(0, n, body, state)

    if placement.replicated is None:
        return jax.jit(step)
    return jax.jit(step, out_shardings=placement.replicated)
