"""The operator object behind ``map_batched`` and ``scan``: a :class:`~._spec.JaxSpec` and subscribe."""

from __future__ import annotations

import asyncio
from typing import Any, Generic, TypeVar

from reactivex import Observable, abc

from .._stage import stage_observable
from ._batch_stage import BatchStage
from ._compiler import signature
from ._kernels import MapRunner, ScanRunner
from ._spec import JaxSpec
from ._worker import Runner

__all__ = ["JaxOperator"]

_T = TypeVar("_T")


class JaxOperator(Generic[_T]):
    """What :func:`map_batched` and :func:`scan` return: an operator you can inspect.

    Use it in ``source.pipe(...)`` like any operator. Its compiled executables
    are shared by all its subscriptions.

    Attributes:
        name: ``"map_batched"`` or ``"scan"``; errors name it.
        stats_name: the ``name=`` of its counters in :mod:`rxasync.stats`
            (``None``: ``map_batched#<id>``...), one set per subscription.
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

    def __init__(self, spec: JaxSpec, stats_name: str | None = None) -> None:
        self.spec = spec
        self.name = spec.name
        self.stats_name = stats_name
        self.fn = spec.fn
        self.batch_size = spec.batch_size
        self.max_latency = spec.max_latency
        self.depth = spec.depth
        self.chunked = spec.chunked
        self.placement = spec.placement
        self.buckets = spec.buckets
        self.compiler = spec.compiler

    @property
    def compilations(self) -> int:
        """How many XLA compilations this operator made so far (at most one per bucket and element shape)."""
        return self.spec.compiler.count

    def compile(self, example: Any) -> int:
        """Compile every bucket ahead of time for elements like ``example``; return the count made.

        ``example`` is one element (not a batch), even when ``chunked=True``.
        This blocks while XLA compiles (seconds for big functions): call it
        before the event loop starts, or ``await asyncio.to_thread(op.compile, x)``.

        Raises:
            JaxOperatorError: ``fn`` fails to trace or compile for ``example``.
        """
        compiler = self.spec.compiler
        before = compiler.count
        sig = signature(example)
        for bucket in self.buckets:
            compiler.get(bucket, sig, 0)
        return compiler.count - before

    def __call__(self, source: Observable[_T]) -> Observable[Any]:
        def make(observer: abc.ObserverBase[Any], loop: asyncio.AbstractEventLoop) -> BatchStage:
            runner: Runner = ScanRunner(self.spec) if self.name == "scan" else MapRunner(self.spec)
            return BatchStage(self.spec, runner, observer, loop, self.stats_name)

        return stage_observable(source, self.name, make)

    def __repr__(self) -> str:
        return f"<{self.name} of {getattr(self.fn, '__name__', self.fn)!r}, buckets={self.buckets}, compilations={self.compilations}>"
