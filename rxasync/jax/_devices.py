"""Where batches run and how big they are: buckets, placement, the pool from_jax runs on.

A *bucket* is a batch size the operator compiles for. Every batch is padded
up to the smallest bucket that holds it, so a stream of random batch sizes
compiles once per bucket instead of once per size. A *placement* says where
a batch goes: JAX's default device, one named device, or several devices with
the leading (batch) axis split across them; with ``k`` devices every bucket is
a multiple of ``k``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeAlias

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec, SingleDeviceSharding

from .._checks import check_int

__all__ = ["Device", "Placement", "abstract", "call_pool", "make_buckets"]

Device: TypeAlias = jax.Device | Sequence[jax.Device] | jax.sharding.Sharding | None

_P: Any = PartitionSpec  # its constructor is untyped
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def call_pool() -> ThreadPoolExecutor:
    """The threads ``from_jax`` runs on (dispatch and the wait for the result), shared.

    Waiting releases the GIL, so a few threads serve many pipelines; the
    event loop never waits for a device.
    """
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="rxasync-jax-call")
        return _pool


def abstract(
    shape: tuple[int, ...], dtype: np.dtype[Any], sharding: jax.sharding.Sharding | None = None
) -> jax.ShapeDtypeStruct:
    """``jax.ShapeDtypeStruct`` (whose constructor is untyped)."""
    return jax.ShapeDtypeStruct(shape, dtype, sharding=sharding)  # type: ignore[no-untyped-call]


def make_buckets(batch_size: int, buckets: Sequence[int] | None, multiple: int) -> tuple[int, ...]:
    """The sorted bucket sizes: powers of two up to ``batch_size`` by default.

    Each is rounded up to a multiple of ``multiple`` (the device count).

    Example:
        >>> make_buckets(10, None, 1)
        (1, 2, 4, 8, 10)
        >>> make_buckets(8, None, 3)
        (3, 6, 9)
    """
    check_int("batch_size", batch_size)
    if buckets is None:
        sizes = [1 << i for i in range(batch_size.bit_length()) if 1 << i < batch_size] + [batch_size]
    else:
        sizes = [check_int("every bucket", b) for b in buckets]
        if not sizes or max(sizes) < batch_size:
            raise ValueError(f"buckets must include a size >= batch_size={batch_size}, got {list(buckets)!r}")
    return tuple(sorted({-(-s // multiple) * multiple for s in sizes}))


class Placement:
    """Where one operator puts its batches: ``sharding`` (None: JAX's default device).

    Attributes:
        sharding: the sharding of every batched leaf (leading axis split), or None.
        replicated: the sharding for values every device holds whole (scan's state).
        devices: how many devices the leading axis is split over.
    """

    __slots__ = ("devices", "replicated", "sharding")

    def __init__(self, device: Device) -> None:
        self.sharding: jax.sharding.Sharding | None
        self.replicated: jax.sharding.Sharding | None
        if device is None:
            self.sharding = self.replicated = None
        elif isinstance(device, jax.Device):
            self.sharding = self.replicated = SingleDeviceSharding(device)
        elif isinstance(device, SingleDeviceSharding):
            self.sharding = self.replicated = device
        elif isinstance(device, NamedSharding):
            self.sharding = device
            self.replicated = NamedSharding(device.mesh, _P())
        elif isinstance(device, Sequence) and device and all(isinstance(d, jax.Device) for d in device):
            if len(device) == 1:
                self.sharding = self.replicated = SingleDeviceSharding(device[0])
            else:
                mesh = Mesh(np.array(list(device)), ("batch",))
                self.sharding = NamedSharding(mesh, _P("batch"))
                self.replicated = NamedSharding(mesh, _P())
        else:
            raise TypeError(
                "device must be None, a jax.Device, a non-empty list of devices, or a "
                f"NamedSharding/SingleDeviceSharding, got {device!r}"
            )
        self.devices = 1 if self.sharding is None else len(self.sharding.device_set)

    def spec(
        self, shape: tuple[int, ...], dtype: np.dtype[Any], batched: bool = True
    ) -> jax.ShapeDtypeStruct:
        """The abstract value a compiled function takes for one leaf."""
        return abstract(shape, dtype, self.sharding if batched else self.replicated)

    def put(self, leaves: list[Any], batched: bool = True) -> list[Any]:
        """Leaves ready for a compiled call: host arrays as they are (the call transfers
        them, without an extra copy), JAX arrays moved to the sharding if they are elsewhere."""
        sharding = self.sharding if batched else self.replicated
        return [
            leaf if not isinstance(leaf, jax.Array) or sharding is None else jax.device_put(leaf, sharding)
            for leaf in leaves
        ]

    def __repr__(self) -> str:
        return f"Placement({self.sharding!r})"
