"""rxasync.http's sources document themselves, and its policies' validation (names: tests/test_surface.py)."""

from __future__ import annotations

import email.utils

import pytest

import rxasync
import rxasync.http
from rxasync import HttpConnectionError, HttpStatusError, SourceTimeoutError
from rxasync.http import Retry, Timeout
from rxasync.http._policy import parse_retry_after, resolve_retry, resolve_timeout


def test_http_sources_document_a_marble_and_an_example() -> None:
    for name in (
        "request",
        "get",
        "get_json",
        "stream",
        "stream_response",
        "lines",
        "ndjson",
        "sse",
        "websocket",
    ):
        doc = getattr(rxasync.http, name).__doc__
        assert "Marble" in doc, name
        assert ">>>" in doc, name


def test_retry_policy_defaults_and_selection() -> None:
    retry = Retry()
    assert retry.allows("GET", HttpStatusError("x", status=503))
    assert retry.allows("get", HttpConnectionError("x"))
    assert retry.allows("GET", SourceTimeoutError("x"))
    assert not retry.allows("GET", HttpStatusError("x", status=404))
    assert not retry.allows("POST", HttpStatusError("x", status=503))
    assert retry.wait(3, "GET", HttpConnectionError("x")) is None  # 3 attempts in all
    assert retry.wait(1, "GET", HttpStatusError("x", status=429, retry_after=2.5)) == 2.5
    assert retry.wait(1, "GET", HttpStatusError("x", status=429, retry_after=1e6)) is None


@pytest.mark.parametrize(
    "kwargs",
    [{"attempts": 0}, {"attempts": True}, {"initial_delay": -1}, {"multiplier": 0.5}, {"jitter": 2}],
)
def test_retry_rejects_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Retry(**kwargs)  # type: ignore[arg-type]


def test_timeout_and_retry_arguments_resolve() -> None:
    assert resolve_timeout(5).total == 5.0
    assert resolve_timeout(None) == Timeout()
    assert resolve_retry(False).attempts == 1
    assert resolve_retry(None) == Retry()
    with pytest.raises(ValueError):
        Timeout(idle=-1)
    with pytest.raises(TypeError):
        resolve_retry(3)  # type: ignore[arg-type]


def test_parse_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after({"Retry-After": " 7 "}) == 7.0
    when = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after({"Retry-After": when}, now=1_000_000) == 30.0
    assert parse_retry_after({}) is None
    assert parse_retry_after({"Retry-After": "-3"}) is None
