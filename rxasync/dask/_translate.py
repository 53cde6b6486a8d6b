"""Dask's errors, translated once into :class:`~rxasync.ClusterError`."""

from __future__ import annotations

import traceback

from .._errors import ClusterError

__all__ = ["cluster_error"]


def cluster_error(exc: BaseException, key: str, index: int | None) -> ClusterError:
    """A :class:`ClusterError` for ``exc`` raised by task ``key``, chained to it.

    ``exc.__traceback__`` is what Dask rebuilt from the worker (tblib), so its
    formatted form is the worker's traceback.
    """
    where = f"item {index}" if index is not None else "the stream"
    text = "".join(traceback.format_exception(exc))
    error = ClusterError(
        f"task {key} ({where}) failed on the cluster: {type(exc).__name__}: {exc}",
        key=key,
        index=index,
        worker_traceback=text,
    )
    error.__cause__ = exc
    return error
