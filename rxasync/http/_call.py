"""One logical HTTP call: its settings, the session it runs on, and its attempts.

Every source in ``rxasync.http`` resolves its arguments into a :class:`Call`
when it is *created* (cheap, no I/O), then, per subscription, opens a session
with :func:`open_session` and sends with :func:`send_with_retries`, counting
attempts in an :class:`Attempts` shared with any resume of the body.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
import yarl

from .._checks import check_int
from .._errors import HttpError, RxAsyncError, SourceTimeoutError
from ._policy import (
    DEFAULT_TIMEOUT,
    Retry,
    RetryArg,
    Timeout,
    TimeoutArg,
    resolve_retry,
    resolve_timeout,
)
from ._translate import check_url, status_error, translate

__all__ = [
    "Attempts",
    "Call",
    "ClientBase",
    "SessionArg",
    "borrowed_session",
    "make_call",
    "open_session",
    "send",
    "send_with_retries",
]


class ClientBase:
    """The settings and pool of a :class:`~rxasync.http.Client` (its methods live there)."""

    def __init__(
        self,
        base_url: str | None,
        headers: Mapping[str, str] | None,
        retry: RetryArg,
        timeout: TimeoutArg,
    ) -> None:
        self.base_url = check_url(base_url) if base_url is not None else None
        self.headers = dict(headers or {})
        self.retry = resolve_retry(retry)
        self.timeout = resolve_timeout(timeout)
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The client's aiohttp session, open between ``__aenter__`` and ``aclose``."""
        if self._session is None or self._session.closed:
            raise RxAsyncError(
                f"{self!r} is not open: use it as `async with Client(...) as client:` "
                "and subscribe inside that block"
            )
        return self._session

    def join(self, url: str) -> str:
        """``url`` below ``base_url`` (paths are appended: ``/api`` + ``items`` → ``/api/items``)."""
        if self.base_url is None or "://" in url:
            return url
        base = self.base_url
        path = base.path.rstrip("/") + "/" + url.lstrip("/")
        rel = yarl.URL(path, encoded=False)
        return str(base.with_path(rel.path).with_query(rel.query_string or None).with_fragment(None))


SessionArg = aiohttp.ClientSession | ClientBase | None


@dataclass(slots=True, eq=False)
class Call:
    """Everything needed to send one request (again), minus the session.

    Treated as immutable (change one with :meth:`with_headers`, which copies),
    but not ``frozen``: a frozen dataclass's ``__init__`` sets each of the 13
    fields through ``object.__setattr__``, about 5 us of every ``get_json``.
    """

    method: str
    url: str
    session: aiohttp.ClientSession | None
    client: ClientBase | None
    params: Any
    headers: Mapping[str, str] | None
    json: Any
    data: Any
    timeout: Timeout
    retry: Retry
    raise_for_status: bool
    max_redirects: int = 10
    limits: tuple[int | None, int | None, int | None] = (None, None, None)  # line, field, headers

    def with_headers(self, extra: Mapping[str, str]) -> Call:
        """The same call with ``extra`` headers added (``Range``, ``Last-Event-ID``)."""
        return replace(self, headers={**(self.headers or {}), **extra})


_LIMIT_KEYS = frozenset(("max_redirects", "max_line_size", "max_field_size", "max_headers"))
_NO_LIMITS: tuple[int | None, int | None, int | None] = (None, None, None)


def _limit(options: Mapping[str, Any], name: str, low: int) -> int | None:
    value = options.get(name)
    return None if value is None else check_int(name, value, low)


def make_call(
    method: str,
    url: str,
    session: SessionArg,
    options: Mapping[str, Any],
    default_timeout: Timeout = DEFAULT_TIMEOUT,
) -> Call:
    """Resolve a source's arguments against the client's defaults (no I/O, no URL check).

    ``options`` are a :class:`~rxasync.http.RequestOptions` (keys of a
    source's own, such as ``chunk_size``, are left to the source).
    ``default_timeout`` is the source's own default, used when neither the
    call nor its client set one.
    """
    if not isinstance(method, str) or not method:
        raise ValueError(f"method must be a non-empty str, got {method!r}")
    client = session if isinstance(session, ClientBase) else None
    own = session if isinstance(session, aiohttp.ClientSession) else None
    if session is not None and client is None and own is None:
        raise TypeError(f"session must be an aiohttp.ClientSession or rxasync.http.Client, got {session!r}")
    get = options.get
    json, data, timeout, retry = get("json"), get("data"), get("timeout"), get("retry")
    if json is not None and data is not None:
        raise ValueError("pass json= or data=, not both")
    redirects, limits = 10, _NO_LIMITS
    if not _LIMIT_KEYS.isdisjoint(options):  # most calls set none of them: skip four checks
        redirects = _limit(options, "max_redirects", 1) or 10  # aiohttp takes 0 as "no limit": not offered
        limits = (
            _limit(options, "max_line_size", 1),
            _limit(options, "max_field_size", 1),
            _limit(options, "max_headers", 1),
        )
    if client is None:
        timeouts, retries = resolve_timeout(timeout, default_timeout), resolve_retry(retry)
    else:  # a client given no timeout holds DEFAULT_TIMEOUT itself: the source's default then
        base = default_timeout if client.timeout is DEFAULT_TIMEOUT else client.timeout
        timeouts, retries = resolve_timeout(timeout, base), resolve_retry(retry, client.retry)
    return Call(
        method.upper(),
        client.join(str(url)) if client is not None else str(url),
        own,
        client,
        get("params"),
        get("headers"),
        json,
        data,
        timeouts,
        retries,
        get("raise_for_status", True),
        redirects,
        limits,
    )


def borrowed_session(
    call: Call, schemes: tuple[str, ...] = ("http", "https")
) -> aiohttp.ClientSession | None:
    """Check the URL; return the session given or the client's, or ``None`` to open one."""
    check_url(call.url, schemes)
    if call.session is not None:
        return call.session
    if call.client is not None:
        return call.client.session
    return None


@asynccontextmanager
async def open_session(
    call: Call, schemes: tuple[str, ...] = ("http", "https")
) -> AsyncIterator[aiohttp.ClientSession]:
    """The session to use: the one given (never closed here), the client's, or a fresh one.

    A fresh session lives for one subscription and is closed when it ends,
    however it ends. The URL is checked first, so a bad one fails here.
    """
    borrowed = borrowed_session(call, schemes)
    if borrowed is not None:
        yield borrowed
    else:
        session = aiohttp.ClientSession()
        try:
            yield session
        finally:
            await session.close()


class Attempts:
    """Counts the attempts of one call and waits between them as its :class:`Retry` says."""

    __slots__ = ("call", "count")

    def __init__(self, call: Call) -> None:
        self.call = call
        self.count = 1

    async def backoff(self, error: Exception) -> bool:
        """Wait before the next attempt and return True, or return False to give up."""
        delay = self.call.retry.wait(self.count, self.call.method, error)
        if delay is None:
            if self.count > 1:
                error.add_note(f"rxasync: gave up after {self.count} attempts")
            return False
        self.count += 1
        await asyncio.sleep(delay)
        return True


async def send(session: aiohttp.ClientSession, call: Call) -> aiohttp.ClientResponse:
    """One attempt: send, wait for the headers, raise for a non-2xx status if asked."""
    try:
        resp = await session.request(
            call.method,
            call.url,
            params=call.params,
            headers=call.headers,
            json=call.json,
            data=call.data,
            timeout=call.timeout.to_aiohttp(),
            max_redirects=call.max_redirects,
            max_line_size=call.limits[0],
            max_field_size=call.limits[1],
            max_headers=call.limits[2],
        )
    except Exception as exc:
        error = translate(exc, call.method, call.url)
        if error is exc:
            raise
        raise error from exc
    if call.raise_for_status and not 200 <= resp.status < 300:
        raise await status_error(resp, call.method, call.url)
    return resp


async def send_with_retries(
    session: aiohttp.ClientSession, call: Call, attempts: Attempts
) -> aiohttp.ClientResponse:
    """:func:`send` until an attempt answers or the retry policy gives up."""
    while True:
        try:
            return await send(session, call)
        except (HttpError, SourceTimeoutError) as exc:
            if not await attempts.backoff(exc):
                raise
