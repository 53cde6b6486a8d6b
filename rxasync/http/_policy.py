"""Retry and timeout policies: plain frozen values, validated once, shared by every source."""

from __future__ import annotations

import email.utils
import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import aiohttp

from .._checks import check_int, check_number
from .._errors import HttpConnectionError, HttpStatusError, SourceTimeoutError
from ..operators._timing import backoff_delay

__all__ = [
    "Retry",
    "RetryArg",
    "WHOLE_BODY_TIMEOUT",
    "Timeout",
    "TimeoutArg",
    "parse_retry_after",
    "resolve_retry",
    "resolve_timeout",
]

_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class Retry:
    """When and how a request is tried again.

    Attempt ``n`` (1-based) that fails with a retryable error waits
    ``initial_delay * multiplier ** (n-1)`` seconds (at most ``max_delay``,
    up to ``jitter`` of it taken off at random) before attempt ``n + 1``; a
    ``Retry-After`` from the server is waited instead when longer (up to
    ``max_retry_after``; longer than that and the error is delivered).

    Retryable: a status in ``statuses`` or an error in ``errors``, on a
    method in ``methods`` (idempotent ones by default: POST and PATCH are
    never retried unless you add them). A body that breaks mid-stream is
    resumed with a ``Range`` request (``resume=True``), never replayed.

    Args:
        attempts: tries in all, the first included; 1 disables retries.
        initial_delay: seconds before the first retry.
        max_delay: cap on one backoff wait.
        multiplier: growth of the wait per attempt (>= 1).
        jitter: fraction of each wait drawn at random, 0 to 1.
        statuses: HTTP statuses worth retrying.
        methods: methods that may be retried (upper case).
        errors: rxasync error types worth retrying.
        max_retry_after: longest ``Retry-After`` honoured, in seconds.
        resume: resume a broken body with ``Range`` where the server allows.

    Example:
        >>> from rxasync.http import Retry
        >>> Retry(attempts=5, statuses=frozenset({503})).attempts
        5
    """

    attempts: int = 3
    initial_delay: float = 0.1
    max_delay: float = 10.0
    multiplier: float = 2.0
    jitter: float = 0.1
    statuses: frozenset[int] = _STATUSES
    methods: frozenset[str] = _IDEMPOTENT
    errors: tuple[type[Exception], ...] = field(default=(HttpConnectionError, SourceTimeoutError))
    max_retry_after: float = 120.0
    resume: bool = True

    def __post_init__(self) -> None:
        check_int("attempts", self.attempts)
        for name in ("initial_delay", "max_delay", "max_retry_after"):
            check_number(name, getattr(self, name))
        check_number("multiplier", self.multiplier, 1.0)
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter must be between 0 and 1, got {self.jitter!r}")

    def allows(self, method: str, error: Exception) -> bool:
        """Whether ``error`` on ``method`` is worth another attempt."""
        if method.upper() not in self.methods:
            return False
        if isinstance(error, HttpStatusError):
            return error.status in self.statuses
        return isinstance(error, self.errors)

    def wait(self, attempt: int, method: str, error: Exception) -> float | None:
        """Seconds to wait after failed attempt ``attempt``, or ``None`` to give up."""
        if attempt >= self.attempts or not self.allows(method, error):
            return None
        delay = backoff_delay(attempt, self.initial_delay, self.max_delay, self.multiplier, self.jitter)
        hint = getattr(error, "retry_after", None)
        if isinstance(hint, int | float):
            if hint > self.max_retry_after:
                return None
            delay = max(delay, float(hint))
        return delay


@dataclass(frozen=True, slots=True)
class Timeout:
    """Time limits of one attempt, in seconds; ``None`` means no limit.

    Args:
        total: the whole attempt: connecting, the headers and the body.
            Leave it ``None`` for long streams (``sse``, ``stream``).
        connect: opening the TCP (and TLS) connection.
        idle: the longest silence while waiting for the headers or
            between two chunks of the body.

    A limit that runs out raises :class:`~rxasync.SourceTimeoutError` (also a
    ``TimeoutError``) whose ``timeout`` says which one.

    Example:
        >>> from rxasync.http import Timeout
        >>> Timeout(total=5).connect
        30.0
    """

    total: float | None = None
    connect: float | None = 30.0
    idle: float | None = 300.0

    def __post_init__(self) -> None:
        for name in ("total", "connect", "idle"):
            if getattr(self, name) is not None:
                check_number(name, getattr(self, name))

    def to_aiohttp(self) -> aiohttp.ClientTimeout:
        """The same limits as aiohttp's ``ClientTimeout``."""
        return _client_timeout(self.total, self.connect, self.idle)


@functools.lru_cache(maxsize=64)
def _client_timeout(total: float | None, connect: float | None, idle: float | None) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=idle)


RetryArg = Retry | bool | None
TimeoutArg = Timeout | float | None

DEFAULT_RETRY = Retry()
NO_RETRY = Retry(attempts=1)
DEFAULT_TIMEOUT = Timeout()
# request/get/get_json: one deadline per attempt, as aiohttp's own default (an idle timer
# is re-armed at every read: about 2% of a small get_json's client CPU, measured)
WHOLE_BODY_TIMEOUT = Timeout(total=300.0, connect=30.0, idle=None)


def resolve_retry(retry: RetryArg, default: Retry = DEFAULT_RETRY) -> Retry:
    """``None`` → ``default``; ``False`` → one attempt; ``True`` → the default policy."""
    if retry is None:
        return default
    if retry is False:
        return NO_RETRY
    if retry is True:
        return DEFAULT_RETRY
    if isinstance(retry, Retry):
        return retry
    raise TypeError(f"retry must be a rxasync.http.Retry, True, False or None, got {retry!r}")


def resolve_timeout(timeout: TimeoutArg, default: Timeout = DEFAULT_TIMEOUT) -> Timeout:
    """``None`` → ``default``; a number → that ``total`` with ``default``'s other limits."""
    if timeout is None:
        return default
    if isinstance(timeout, Timeout):
        return timeout
    check_number("timeout", timeout)
    return Timeout(total=float(timeout), connect=default.connect, idle=default.idle)


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or HTTP date), or ``None``.

    Example:
        >>> parse_retry_after({"Retry-After": "2"})
        2.0
        >>> parse_retry_after({"Retry-After": "soon"}) is None
        True
    """
    value = headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
