"""Placement: a device, a list of devices (batch split with NamedSharding), a sharding."""

from __future__ import annotations

import jax
import numpy as np
import pytest
import reactivex
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from jax_helpers import assert_rows_close, dense, dense_np, jittery, rows

import rxasync
from rxasync.jax import map_batched, scan


def _input_devices(op: object) -> set[frozenset[object]]:
    cache = op.compiler._cache  # type: ignore[attr-defined]
    return {frozenset(c.input_shardings[0][0].device_set) for c in cache.values()}


def test_host_platform_has_two_devices() -> None:
    assert len(jax.devices()) == 2  # root conftest: --xla_force_host_platform_device_count=2


async def test_map_batched_splits_batches_over_two_devices() -> None:
    devices = jax.devices()
    op = map_batched(dense, batch_size=10, max_latency=0.001, device=devices)
    assert op.buckets == (2, 4, 8, 10)  # padded to a multiple of the device count
    assert isinstance(op.placement.sharding, NamedSharding)
    data = rows(77, 8)
    got = await rxasync.to_list(jittery(data, 8).pipe(op))
    assert_rows_close(got, [dense_np(x) for x in data])
    assert _input_devices(op) == {frozenset(devices)}


async def test_map_batched_odd_buckets_round_up_to_the_device_count() -> None:
    devices = jax.devices()
    op = map_batched(dense, batch_size=5, buckets=[3, 5], device=devices)
    assert op.buckets == (4, 6)
    got = await rxasync.to_list(reactivex.from_iterable(rows(13)).pipe(op))
    assert_rows_close(got, [dense_np(x) for x in rows(13)])


async def test_map_batched_named_sharding_and_chunks() -> None:
    devices = jax.devices()
    mesh = Mesh(np.array(devices), ("data",))
    op = map_batched(dense, batch_size=8, device=NamedSharding(mesh, PartitionSpec("data")), chunked=True)
    chunk = np.stack(rows(8))
    (got,) = await rxasync.to_list(reactivex.of(chunk).pipe(op))
    np.testing.assert_allclose(got, dense_np(chunk), rtol=1e-5, atol=1e-5)
    assert _input_devices(op) == {frozenset(devices)}


async def test_map_batched_on_one_named_device() -> None:
    devices = jax.devices()
    op = map_batched(dense, batch_size=4, device=devices[1])
    got = await rxasync.to_list(reactivex.from_iterable(rows(6)).pipe(op))
    assert_rows_close(got, [dense_np(x) for x in rows(6)])
    assert _input_devices(op) == {frozenset([devices[1]])}


async def test_scan_with_state_replicated_on_two_devices() -> None:
    devices = jax.devices()
    op = scan(lambda total, x: total + x, np.zeros(3, np.float32), batch_size=8, device=devices)
    data = rows(21)
    final = await rxasync.last(reactivex.from_iterable(data).pipe(op))
    np.testing.assert_allclose(final, np.sum(data, axis=0), rtol=1e-5, atol=1e-5)


def test_device_must_be_a_device_list_or_sharding() -> None:
    with pytest.raises(TypeError):
        map_batched(dense, device=[])
    with pytest.raises(TypeError):
        map_batched(dense, device=["cpu"])  # type: ignore[list-item]
