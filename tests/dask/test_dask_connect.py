"""connect() to a real scheduler and to a fresh LocalCluster; JAX in workers; Dask stays optional."""

from __future__ import annotations

import math
import multiprocessing.resource_tracker
import subprocess
import sys
import textwrap

import aiohttp
import dask_funcs
import numpy as np
import pytest
import reactivex
from distributed import Client

import rxasync
from rxasync.dask import connect, map_on_cluster
from rxasync.operators import map_on


async def pipeline(client: Client) -> list[int]:
    """The same pipeline, whichever cluster ``client`` is on."""
    return await rxasync.to_list(reactivex.range(30).pipe(map_on_cluster(math.factorial, client)))


async def test_dask_connect_address_runs_the_pipeline(cluster_address: str) -> None:
    async with connect(cluster_address) as client:
        assert await pipeline(client) == [math.factorial(x) for x in range(30)]


@pytest.fixture(scope="module")
def _resource_tracker() -> None:
    """Start multiprocessing's resource tracker (one per process, its pipe open for good)
    before the leak check's baseline: the local cluster's spawned workers start it otherwise."""
    multiprocessing.resource_tracker.ensure_running()


@pytest.mark.slow
@pytest.mark.usefixtures("_resource_tracker")
async def test_dask_connect_without_address_starts_local_cluster_on_loopback() -> None:
    async with connect(n_workers=1, threads_per_worker=1) as client:
        assert client.scheduler is not None
        assert client.scheduler.address.startswith("tcp://127.0.0.1:")
        workers = (await client.scheduler.identity())["workers"]
        assert workers
        assert all(address.startswith("tcp://127.0.0.1:") for address in workers)
        port = (await client.scheduler.identity())["services"]["dashboard"]  # its HTTP server
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/health") as health:
                assert health.status == 200
            async with session.get(f"http://127.0.0.1:{port}/status") as dashboard:
                assert dashboard.status == 404  # the dashboard is off
        assert await pipeline(client) == [math.factorial(x) for x in range(30)]


async def test_dask_jitted_jax_function_runs_in_workers(client: Client) -> None:
    rows = [np.linspace(0.0, 1.0, 8) * i for i in range(24)]
    out = await rxasync.to_list(
        reactivex.from_iterable(rows).pipe(map_on_cluster(dask_funcs.jax_predict, client))
    )
    for row, (_, value) in zip(rows, out, strict=True):
        np.testing.assert_allclose(value, np.tanh(row) * 2.0 + row.sum(), rtol=1e-5)
    compiles: dict[str, int] = await client.run(dask_funcs.jax_compiles)
    assert set(compiles.values()) <= {0, 1}  # compiled once per worker process, not per item
    assert len({pid for pid, _ in out}) >= 1


async def test_dask_map_on_client_executor_on_real_cluster(client: Client) -> None:
    """The executor adapter (``map_on``) still works on a multi-process cluster."""
    out = await rxasync.to_list(reactivex.range(20).pipe(map_on(dask_funcs.square, client.get_executor())))
    assert out == [x * x for x in range(20)]


def test_dask_without_distributed_says_install_the_extra() -> None:
    code = textwrap.dedent(
        """
        import importlib.abc, sys

        class NoDask(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("dask", "distributed"):
                    raise ImportError(f"No module named {name!r} (hidden by the test)")
                return None

        sys.meta_path.insert(0, NoDask())
        import rxasync
        try:
            import rxasync.dask
        except ImportError as exc:
            print("ImportError:", exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "install rxasync[dask]" in result.stdout


def test_dask_import_rxasync_does_not_import_dask() -> None:
    code = "import sys, rxasync, rxasync.operators; print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_dask_exports() -> None:
    import rxasync.dask

    assert rxasync.dask.__all__ == ["connect", "map_on_cluster"]
    for name in rxasync.dask.__all__:
        assert getattr(rxasync.dask, name).__module__ == "rxasync.dask"
    assert issubclass(rxasync.ClusterError, rxasync.RxAsyncError)
