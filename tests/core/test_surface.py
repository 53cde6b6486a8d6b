"""The public surface: __all__ pinned, objects report rxasync modules, error tree complete."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import rxasync
import rxasync.operators
import rxasync.schedulers
import rxasync.testing
from rxasync import _errors

EXPECTED = {
    "rxasync": {
        "AsyncObservableIterator", "BodyTooLargeError", "BufferOverflowError", "DecodeError", "EmptySourceError",
        "FileChangedError", "FileNotFoundSourceError", "FileSourceError", "HttpConnectionError",
        "HttpError", "HttpProtocolError", "HttpResumeError", "HttpStatusError", "InvalidUrlError", "IsADirectorySourceError",
        "JaxOperatorError", "LineTooLongError", "NoRunningLoopError", "PermissionSourceError",
        "RxAsyncError", "SourceTimeoutError", "TooManyRedirectsError", "WebSocketClosedError", "first", "from_async_batches", "from_async_iterable", "from_awaitable",
        "last", "operators", "schedulers", "to_async_iterable", "to_list",
    },
    "rxasync.operators": {
        "batch", "map_async", "map_on", "observe_on_loop", "retry_with_backoff", "switch_map_async",
    },
    "rxasync.schedulers": {"loop", "threads"},
    "rxasync.testing": {"LeakError", "assert_run", "no_leaks", "open_fds"},
}  # fmt: skip


@pytest.mark.parametrize("module_name", sorted(EXPECTED))
def test_exports_are_pinned_and_report_public_module(module_name: str) -> None:
    module = sys.modules[module_name]
    assert set(module.__all__) == EXPECTED[module_name]
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.ismodule(obj):
            continue
        if module_name != "rxasync.schedulers":
            assert obj.__module__ == module_name, name
        assert obj.__doc__, f"{module_name}.{name} has no docstring"


def test_errors_all_derive_from_root_and_appear_in_tree() -> None:
    doc = _errors.__doc__ or ""
    for name in _errors.__all__:
        cls = getattr(_errors, name)
        assert issubclass(cls, rxasync.RxAsyncError)
        assert name in doc, f"{name} missing from the tree in _errors.py's docstring"


def test_errors_are_also_the_standard_exceptions_users_catch() -> None:
    assert issubclass(rxasync.SourceTimeoutError, TimeoutError)
    assert issubclass(rxasync.HttpConnectionError, ConnectionError)
    assert issubclass(rxasync.FileNotFoundSourceError, FileNotFoundError)
    assert issubclass(rxasync.DecodeError, ValueError)
    assert issubclass(rxasync.LineTooLongError, rxasync.DecodeError)
    err = rxasync.FileNotFoundSourceError(2, "No such file or directory", "/nope")
    assert err.errno == 2
    assert err.filename == "/nope"


def test_import_rxasync_does_not_import_jax_or_dask() -> None:
    code = "import sys, rxasync, rxasync.operators; print(sorted(m for m in ('jax', 'distributed', 'dask') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
