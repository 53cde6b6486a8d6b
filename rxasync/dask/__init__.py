"""Stages on a Dask cluster: the same pipeline, its heavy step on many machines.

Needs the ``dask`` extra (``pip install 'rxasync[dask]'``); ``import rxasync``
alone never imports dask or distributed. Work goes to the cluster through an
*asynchronous* ``distributed.Client`` on the stream's own event loop: no
thread per call, demand bounds what the scheduler holds, disposing releases
the stream's tasks. See ``docs/guides/scaling.md``.

Example:
    >>> import asyncio, reactivex, rxasync
    >>> from rxasync.dask import connect, map_on_cluster
    >>> async def main() -> list[str]:
    ...     async with connect(n_workers=1, processes=False) as client:
    ...         return await rxasync.to_list(reactivex.of(1, 2).pipe(map_on_cluster(str, client)))
    >>> asyncio.run(main())
    ['1', '2']
"""

try:
    import distributed as _distributed
except ImportError as _exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "rxasync.dask needs Dask distributed, which is not installed: "
        "install rxasync[dask] (pip install 'rxasync[dask]')"
    ) from _exc

from .._exports import export as _export
from ._connect import connect
from ._map import map_on_cluster

__all__ = ["connect", "map_on_cluster"]

_export(globals())
del _distributed
