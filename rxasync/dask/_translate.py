"""Dask's errors, translated once into :class:`~rxasync.ClusterError`."""

from __future__ import annotations

import traceback

from .._errors import ClusterError

__all__ = ["cluster_error"]


def cluster_error(
    exc: BaseException, key: str, index: int | None, client_closed: bool = False
) -> ClusterError:
    """A :class:`ClusterError` for ``exc`` raised by task ``key``, chained to it.

    ``exc.__traceback__`` is what Dask rebuilt from the worker (tblib), so its
    formatted form is the worker's traceback. ``client_closed``: the stream's
    client was closed under it (Dask then cancels its futures or drops its
    connection), which the message says first.
    """
    where = f"item {index}" if index is not None else "the stream"
    text = "".join(traceback.format_exception(exc))
    what = "the Dask client was closed mid-stream: task" if client_closed else "task"
    failed = "did not finish" if client_closed else "failed on the cluster"
    error = ClusterError(
        f"{what} {key} ({where}) {failed}: {type(exc).__name__}: {exc}",
        key=key,
        index=index,
        worker_traceback=text,
    )
    error.__cause__ = exc
    return error
