"""``connect``: an asynchronous Dask client, on a real scheduler or a local cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from distributed import Client, LocalCluster

__all__ = ["connect"]


@asynccontextmanager
async def connect(
    address: str | None = None,
    *,
    n_workers: int | None = None,
    threads_per_worker: int | None = None,
    processes: bool = True,
    **client_kwargs: Any,
) -> AsyncIterator[Client]:
    """An asynchronous ``distributed.Client`` on this loop; closed (with its cluster) on exit.

    With ``address`` (``"tcp://10.0.0.5:8786"``, a scheduler started with
    ``dask scheduler``), it connects there and leaves the cluster running on
    exit. Without, it starts a ``distributed.LocalCluster`` on 127.0.0.1 with
    the dashboard off (``n_workers`` worker processes of
    ``threads_per_worker`` threads; Dask picks from the CPU count when
    ``None``), and shuts it down on exit. The same pipeline runs on both.

    Args:
        address: the scheduler's address, or ``None`` for a local cluster.
        n_workers: workers of the local cluster (ignored with ``address``).
        threads_per_worker: threads per local worker (ignored with ``address``);
            1 for CPU-bound Python, which holds the GIL.
        processes: local workers as processes (True) or threads of this process.
        **client_kwargs: passed to ``distributed.Client`` (``timeout=``,
            ``security=``...).

    Example:
        >>> import asyncio
        >>> from rxasync.dask import connect
        >>> async def main() -> int:
        ...     async with connect(n_workers=1, processes=False) as client:
        ...         return await client.submit(sum, [1, 2, 3])
        >>> asyncio.run(main())
        6
    """
    if address is not None:
        async with Client(address, asynchronous=True, **client_kwargs) as client:
            yield client
        return
    cluster = LocalCluster(
        host="127.0.0.1",
        protocol="tcp://",  # also for thread workers (Dask would use inproc://, which has no host)
        dashboard_address=None,
        # The scheduler's HTTP server (health, metrics) still runs: on a free loopback port, not 8787.
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        n_workers=n_workers,
        threads_per_worker=threads_per_worker,
        processes=processes,
        asynchronous=True,
    )
    async with cluster, Client(cluster, asynchronous=True, **client_kwargs) as client:
        yield client
