"""The package as a whole: its doctests, its command line, its public names."""

from __future__ import annotations

import doctest
import importlib
import os
import pkgutil

import pytest

import examples.search_as_you_type as demo
from examples.search_as_you_type.__main__ import parse_args
from examples.search_as_you_type._workers import worker_count


def modules() -> list[str]:
    return [demo.__name__] + [f"{demo.__name__}.{m.name}" for m in pkgutil.iter_modules(demo.__path__)]


@pytest.mark.parametrize("name", modules())
def test_package_doctests_pass(name: str) -> None:
    # the default test paths are tests/ and rxasync/, so the examples' doctests run from here
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_cli_defaults_listen_on_loopback_only() -> None:
    args = parse_args([])
    assert (args.host, args.port, args.latency) == ("127.0.0.1", 8080, 0.0)
    assert args.workers == worker_count("auto") == max(1, min(4, len(os.sched_getaffinity(0))))
    assert parse_args(["--port", "0", "--latency", "0.5"]).latency == 0.5


@pytest.mark.parametrize(
    "argv",
    [
        ["--host", "0.0.0.0"],
        ["--latency", "-1"],
        ["--port", "70000"],
        ["--workers", "0"],
        ["--workers", "65"],
    ],
)
def test_cli_refuses_other_hosts_and_bad_numbers(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)
    assert "error" in capsys.readouterr().err


def test_package_exports_what_it_documents() -> None:
    assert sorted(demo.__all__, key=str.lower) == sorted(set(demo.__all__), key=str.lower)
    for name in demo.__all__:
        assert getattr(demo, name) is not None
