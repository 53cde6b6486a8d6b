"""``map_batched`` and ``scan``: a JAX function over a stream, batched, compiled once per bucket."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ._devices import Device
from ._operator import JaxOperator
from ._spec import make_spec

__all__ = ["map_batched", "scan"]

_T = TypeVar("_T")


def map_batched(
    fn: Callable[[_T], Any],
    *,
    batch_size: int = 1024,
    max_latency: float | None = 0.005,
    buckets: Sequence[int] | None = None,
    depth: int = 2,
    device: Device = None,
    chunked: bool = False,
    name: str | None = None,
) -> JaxOperator[_T]:
    """Apply a JAX function to every item, in batches: ``jit(vmap(fn))`` compiled once per bucket.

    ``fn`` is written for *one* element (an array, a scalar, or a pytree of
    them). Items are grouped into a batch when ``batch_size`` have arrived or
    ``max_latency`` seconds after the first one (a late batch keeps filling
    while the device is busy), padded to the smallest bucket that holds them
    and run as one call. Results come back as host (numpy) values, one per
    item, in input order (rows are read-only views of the batch's result).

    Nothing blocks the event loop: stacking and dispatch run on the
    subscription's dispatch thread, waiting for results and copying them back
    on its fetch thread, so one batch's copy to the device overlaps the
    previous one's copy back. At most ``depth`` batches are in flight; while they are, and the
    next batch is full, an rxasync source upstream waits (demand), and a slow
    consumer below holds everything back the same way.

    With ``chunked=True`` every item is already a batch (leaves with a leading
    axis of any length): it is not stacked, it is cut into ``batch_size``
    pieces only if longer, padded only if shorter than its bucket, and the
    result for it is one array (tree) with the same leading length.

    A function that fails to trace, an element whose shape or structure
    differs from the rest of its batch, or a batch that fails on the device
    ends the stream with :class:`~rxasync.JaxOperatorError` naming the
    operator and, when known, the element (``error.index``). Disposing drops
    the batches in flight.

    Marble (batch_size=2)::

        source:  -a-b-----c-|
        map_batched(f)
        result:  ----(xy)---(z|)     x=f(a)  y=f(b)  z=f(c)

    Args:
        fn: ``fn(element) -> pytree of arrays``, traceable by JAX.
        batch_size: most items per call (and the largest bucket). Larger
            batches amortise dispatch; if in doubt, 256 to 4096.
        max_latency: seconds the first item of a batch may wait for it to
            fill; ``None`` waits for ``batch_size`` items or completion.
        buckets: the batch sizes to compile for; default powers of two up to
            ``batch_size``. Must include one ``>= batch_size``.
        depth: batches in flight at once (2 overlaps transfer and compute).
        device: ``None`` (JAX's default device), a ``jax.Device``, a list of
            devices (the batch axis is split across them and buckets are
            rounded up to a multiple of their count), or a ``NamedSharding``.
        chunked: items are batches already (see above).
        name: the name of its counters in :mod:`rxasync.stats` (default ``<kind>#<id>``).

    Returns:
        A :class:`~rxasync.jax.JaxOperator`; ``op.compilations`` counts the
        XLA compilations it made and ``op.compile(example)`` compiles every
        bucket ahead of time.

    Example:
        >>> import asyncio, reactivex, rxasync
        >>> from rxasync.jax import map_batched
        >>> op = map_batched(lambda x: 2 * x + 1, batch_size=4)
        >>> out = asyncio.run(rxasync.to_list(reactivex.of(1.0, 2.0, 3.0).pipe(op)))
        >>> [float(y) for y in out], op.compilations
        ([3.0, 5.0, 7.0], 1)
    """
    return JaxOperator(
        make_spec(
            "map_batched",
            fn,
            batch_size=batch_size,
            max_latency=max_latency,
            buckets=buckets,
            depth=depth,
            device=device,
            chunked=chunked,
        ),
        name,
    )


def scan(
    fn: Callable[[Any, _T], Any],
    init: Any,
    *,
    batch_size: int = 1024,
    max_latency: float | None = 0.005,
    buckets: Sequence[int] | None = None,
    depth: int = 2,
    device: Device = None,
    chunked: bool = False,
    name: str | None = None,
) -> JaxOperator[_T]:
    """Fold every item into a state kept on the device; emit the state after each batch.

    ``fn(state, element) -> state`` is written for one element; the state
    (a pytree of arrays, like ``init``) keeps its shapes and dtypes. Items are
    batched like :func:`map_batched` (by count or ``max_latency``, padded to a
    bucket, compiled once per bucket); each batch runs as one compiled loop
    over its real items, from the state the previous batch left *on the
    device*, so the state never travels to the host and back between
    batches. After each batch the state is emitted as host (numpy) values:
    the fold of every item so far. How many states are emitted depends on
    how the items were batched; the last is the fold of the whole stream.

    Use it for running statistics (mean and variance, histograms), or an
    online model update. Errors and disposal work as in :func:`map_batched`.

    Marble (batch_size=2)::

        source:  -a-b-----c-|
        scan(f, s0)
        result:  ----x------(y|)     x=f(f(s0,a),b)  y=f(x,c)

    Args:
        fn: ``fn(state, element) -> state``, traceable by JAX.
        init: the initial state; Python numbers become arrays of JAX's
            default dtypes (float32, int32).
        batch_size: most items per compiled call; if in doubt, 256 to 4096.
        max_latency: seconds the first item of a batch may wait for it to
            fill; ``None`` waits for ``batch_size`` items or completion.
        buckets: the batch sizes to compile for; default powers of two.
        depth: batches in flight at once.
        device: as for :func:`map_batched`; with several devices the state is
            replicated on each of them.
        chunked: items are batches already (leaves with a leading axis).
        name: the name of its counters in :mod:`rxasync.stats` (default ``<kind>#<id>``).

    Returns:
        A :class:`~rxasync.jax.JaxOperator` (``compilations``, ``compile``).

    Example:
        >>> import asyncio, reactivex, rxasync
        >>> from rxasync.jax import scan
        >>> op = scan(lambda total, x: total + x, 0.0, batch_size=2, max_latency=None)
        >>> out = asyncio.run(rxasync.to_list(reactivex.of(1.0, 2.0, 3.0).pipe(op)))
        >>> [float(s) for s in out]
        [3.0, 6.0]
    """
    return JaxOperator(
        make_spec(
            "scan",
            fn,
            batch_size=batch_size,
            max_latency=max_latency,
            buckets=buckets,
            depth=depth,
            device=device,
            chunked=chunked,
            init=init,
        ),
        name,
    )
