"""Dispose while the shared argument is still being scattered; the client closed mid-stream."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable

import dask_funcs
import pytest
import reactivex
from distributed import Client
from reactivex import operators as ops

import rxasync
from rxasync.dask import connect, map_on_cluster

BIG = b"x" * (16 * 1024 * 1024)  # 16 MiB: scattering it to two workers takes a while


def scattering() -> list[asyncio.Task[object]]:
    """This loop's tasks that are scattering a stage's ``args``."""
    return [t for t in asyncio.all_tasks() if t.get_coro().__qualname__ == "_ClusterStage.scatter"]  # type: ignore[union-attr]


async def until(predicate: Callable[[], bool | Awaitable[bool]], within: float) -> bool:
    """Whether ``predicate()`` (a bool, or an awaitable of one) became true within ``within`` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        value = predicate()
        if await value if inspect.isawaitable(value) else value:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_dask_map_dispose_while_scattering_leaves_nothing(client: Client) -> None:
    got: list[int] = []
    stage = map_on_cluster(dask_funcs.total_bytes, client, args=(BIG,))
    sub = reactivex.range(100).pipe(stage).subscribe(got.append)
    assert await until(lambda: bool(scattering()), within=5.0)  # the scatter is under way...
    sub.dispose()  # ...when the subscription goes
    assert scattering()  # still scattering: dispose does not cut it off half-way

    async def settled() -> bool:
        keys = await client.run_on_scheduler(dask_funcs.client_keys, client.id)
        return not scattering() and keys == 0

    assert await until(settled, within=60.0)  # its data released once it arrived; no task pending
    assert got == []
    assert await client.run_on_scheduler(dask_funcs.client_keys, client.id) == 0


async def test_dask_map_client_closed_mid_stream_is_a_chained_cluster_error(cluster_address: str) -> None:
    got: list[int] = []
    async with connect(cluster_address) as client:
        await client.wait_for_workers(2, timeout=60)
        stage = map_on_cluster(dask_funcs.slow_square, client, args=(0.05,), concurrency=4)
        run = asyncio.ensure_future(
            rxasync.to_list(reactivex.range(1_000).pipe(stage, ops.do_action(got.append)))
        )
        assert await until(lambda: len(got) >= 4, within=30.0)
        await client.close()
        with pytest.raises(rxasync.ClusterError) as info:
            await asyncio.wait_for(run, timeout=10)  # no hang
    assert info.value.__cause__ is not None
    assert "the Dask client was closed mid-stream" in str(info.value)
    assert 4 <= len(got) < 1_000


async def test_dask_map_client_closed_between_items_is_a_cluster_error_not_a_hang(
    cluster_address: str,
) -> None:
    # Nothing of the stream is on the cluster when the client goes: the next item's submission fails.
    got: list[int] = []

    async def slow_numbers() -> AsyncIterator[int]:
        for i in range(20):
            yield i
            await asyncio.sleep(0.5)

    async with connect(cluster_address) as client:
        await client.wait_for_workers(2, timeout=60)
        stage = map_on_cluster(dask_funcs.square, client)
        source = rxasync.from_async_iterable(slow_numbers).pipe(stage, ops.do_action(got.append))
        run = asyncio.ensure_future(rxasync.to_list(source))
        assert await until(lambda: len(got) == 1, within=30.0)
        await client.close()  # while the stage waits for item 1
        with pytest.raises(rxasync.ClusterError) as info:
            await asyncio.wait_for(run, timeout=10)  # no hang
    assert "the Dask client was closed mid-stream" in str(info.value)
    assert type(info.value.__cause__).__name__ == "ClosedClientError"
    assert info.value.index == 1
    assert got == [0]
