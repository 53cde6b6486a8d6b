"""The public surface of every namespace: ``__all__`` pinned and sorted, objects report it, docs.

A new public namespace is one line in :data:`NAMESPACES`: its name and its
public names (space-separated, sorted). Namespace-specific checks (optional
extras, marble diagrams) stay with that namespace's tests.
"""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import pytest

import rxasync
from rxasync import _errors

_ROOT = (
    "AsyncObservableIterator BodyTooLargeError BufferOverflowError ClusterError DatabaseConnectionError DatabaseError "
    "DatabaseQueryError DecodeError EmptySourceError EntryDecodeError FileChangedError "
    "FileNotFoundSourceError FileSourceError HttpConnectionError HttpError HttpProtocolError HttpResumeError HttpStatusError "
    "InvalidUrlError IsADirectorySourceError JaxOperatorError LineTooLongError NoRunningLoopError "
    "PermissionSourceError RxAsyncError SourceTimeoutError TooManyRedirectsError WebSocketClosedError first from_async_batches from_async_iterable "
    "from_awaitable last operators schedulers to_async_iterable to_list"
)

NAMESPACES = {
    "rxasync": _ROOT,
    "rxasync.operators": "batch map_async map_on observe_on_loop progress retry_with_backoff switch_map_async",
    "rxasync.schedulers": "loop threads",
    "rxasync.testing": "LeakError PostgresServer RedisServer VirtualClock assert_marbles assert_run cold draw free_port "
    "hot no_leaks open_fds record run_in_virtual_time virtual_time",
    "rxasync.stats": "BUSY_THRESHOLD StageRate StageSnapshot StageStats Watcher bottleneck chart fold live_stages load "
    "rates render snapshot stage_stats watch",
    "rxasync.files": "glob read_chunks read_line_batches read_lines tail walk write write_lines",
    "rxasync.http": "BodyOptions Client InvalidUrlError LinesOptions NdjsonOptions RequestOptions Response Retry "
    "ServerSentEvent SseOptions SseParser StreamOptions StreamedResponse Timeout WebSocket WebSocketOptions get "
    "get_json lines ndjson request sse stream stream_response websocket",
    "rxasync.jax": "JaxOperator from_jax map_batched scan",
    "rxasync.redis": "Message StreamEntry ack read_stream subscribe write_stream",
    "rxasync.postgres": "Notification copy_records listen query",
    "rxasync.dask": "connect map_on_cluster",
}


def _namespace(name: str) -> object:
    driver = {
        "rxasync.jax": "jax",
        "rxasync.redis": "redis",
        "rxasync.postgres": "asyncpg",
        "rxasync.dask": "distributed",
    }
    if name in driver:
        pytest.importorskip(driver[name])
    return importlib.import_module(name)


@pytest.mark.parametrize("name", sorted(NAMESPACES))
def test_surface_all_is_pinned_and_sorted(name: str) -> None:
    module = _namespace(name)
    exported = module.__all__  # type: ignore[attr-defined]
    assert exported == NAMESPACES[name].split()
    assert exported == sorted(exported)


@pytest.mark.parametrize("name", sorted(NAMESPACES))
def test_surface_objects_report_their_public_namespace_and_have_docs(name: str) -> None:
    module = _namespace(name)
    for attr in module.__all__:  # type: ignore[attr-defined]
        obj = getattr(module, attr)
        if inspect.ismodule(obj) or isinstance(obj, int | float | str):
            continue
        rx_error = inspect.isclass(obj) and issubclass(obj, rxasync.RxAsyncError)
        assert obj.__module__ == ("rxasync" if rx_error else name), f"{name}.{attr}"
        assert obj.__doc__, f"{name}.{attr} has no docstring"


def test_surface_errors_all_derive_from_root_and_appear_in_tree() -> None:
    doc = _errors.__doc__ or ""
    for name in _errors.__all__:
        cls = getattr(_errors, name)
        assert issubclass(cls, rxasync.RxAsyncError)
        assert name in doc, f"{name} missing from the tree in _errors.py's docstring"


def test_surface_errors_are_also_the_standard_exceptions_users_catch() -> None:
    assert issubclass(rxasync.SourceTimeoutError, TimeoutError)
    assert issubclass(rxasync.HttpConnectionError, ConnectionError)
    assert issubclass(rxasync.FileNotFoundSourceError, FileNotFoundError)
    assert issubclass(rxasync.DecodeError, ValueError)
    assert issubclass(rxasync.LineTooLongError, rxasync.DecodeError)
    err = rxasync.FileNotFoundSourceError(2, "No such file or directory", "/nope")
    assert err.errno == 2
    assert err.filename == "/nope"


def test_surface_import_rxasync_does_not_import_jax_or_dask() -> None:
    code = (
        "import sys, rxasync, rxasync.operators, rxasync.stats; print(sorted(m for m in "
        "('jax', 'distributed', 'dask', 'redis', 'asyncpg', 'tqdm', 'rich', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
