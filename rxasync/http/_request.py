"""Whole-body requests: ``request``, ``get`` and ``get_json``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
from reactivex import Observable

from .._bridge import from_awaitable
from .._errors import HttpError, SourceTimeoutError
from ._call import Attempts, Call, SessionArg, borrowed_session, make_call, open_session, send_with_retries
from ._policy import RetryArg, TimeoutArg
from ._response import Response, decode_json, response_of
from ._translate import translate

__all__ = ["fetch", "get", "get_json", "request"]


async def fetch(call: Call) -> Response:
    """Send ``call`` and read its whole body, retrying whole attempts as the policy says."""
    session = borrowed_session(call)
    if session is not None:
        return await _fetch_on(session, call)
    async with open_session(call) as own:
        return await _fetch_on(own, call)


async def _fetch_on(session: aiohttp.ClientSession, call: Call) -> Response:
    attempts = Attempts(call)
    while True:
        resp = await send_with_retries(session, call, attempts)
        try:
            body = await resp.read()
        except Exception as exc:
            resp.close()
            error = translate(exc, call.method, call.url)
            if not isinstance(error, HttpError | SourceTimeoutError) or not await attempts.backoff(error):
                if error is exc:
                    raise
                raise error from exc
            continue
        except BaseException:
            resp.close()  # cancelled mid-body: drop the connection, never pool it half-read
            raise
        return response_of(resp, body, call.method)


def request(
    method: str,
    url: str,
    *,
    session: SessionArg = None,
    params: Any = None,
    headers: Mapping[str, str] | None = None,
    json: Any = None,
    data: Any = None,
    timeout: TimeoutArg = None,
    retry: RetryArg = None,
    raise_for_status: bool = True,
) -> Observable[Response]:
    """Send one HTTP request per subscription; emit the :class:`Response`, then complete.

    Nothing is sent until you subscribe; each subscription sends afresh.
    Disposing before the answer is read aborts the request and closes its
    connection (the server sees it go away). Retries follow ``retry`` (by
    default: connection errors, timeouts, 429 and 5xx on idempotent
    methods, 3 attempts, honouring ``Retry-After``).

    Marble::

        subscribe:  ^
        result:     --------r|      r = Response(status=200, ...)

    Args:
        method: ``"GET"``, ``"POST"``...
        url: an absolute ``http(s)://`` URL, or a path below the client's ``base_url``.
        session: an ``aiohttp.ClientSession`` (used, never closed), a
            :class:`~rxasync.http.Client`, or ``None`` for a session of its own
            per subscription, closed when it ends.
        params: query parameters (mapping or sequence of pairs).
        headers: request headers, added to the session's.
        json: a value to send as a JSON body.
        data: a body: bytes, str, a form dict or an ``aiohttp`` payload.
        timeout: a :class:`~rxasync.http.Timeout`, or seconds for its ``total``.
        retry: a :class:`~rxasync.http.Retry`, ``False`` for one attempt, or
            ``None`` for the default policy (the client's, with a client).
        raise_for_status: raise :class:`~rxasync.HttpStatusError` for a non-2xx answer.

    Returns:
        An ``Observable[Response]`` with one item.

    Raises:
        InvalidUrlError: (as ``on_error``) ``url`` cannot be requested.
        HttpStatusError: a non-2xx answer, with status, method, URL and body start.
        HttpConnectionError: refused, reset or dropped.
        SourceTimeoutError: a limit of ``timeout`` ran out.

    Example:
        >>> import asyncio, rxasync
        >>> from aiohttp import web
        >>> from rxasync.http import request
        >>> from rxasync.http._examples import serve  # a local server for the example
        >>> async def echo(req: web.Request) -> web.Response:
        ...     return web.Response(text=f"{req.method} {await req.text()}")
        >>> async def main() -> tuple[int, str]:
        ...     async with serve(echo) as base:
        ...         resp = await rxasync.first(request("POST", base + "/echo", data=b"hi"))
        ...         return resp.status, resp.text()
        >>> asyncio.run(main())
        (200, 'POST hi')
    """
    call = make_call(
        method,
        url,
        session=session,
        params=params,
        headers=headers,
        json=json,
        data=data,
        timeout=timeout,
        retry=retry,
        raise_for_status=raise_for_status,
    )

    return from_awaitable(lambda: fetch(call))


def get(
    url: str,
    *,
    session: SessionArg = None,
    params: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: TimeoutArg = None,
    retry: RetryArg = None,
    raise_for_status: bool = True,
) -> Observable[Response]:
    """``request("GET", url, ...)``: one :class:`Response` per subscription.

    Marble::

        result:     --------r|

    Args:
        url: the URL (or a path below the client's ``base_url``).
        session: as for :func:`request`.
        params: query parameters.
        headers: request headers.
        timeout: a :class:`~rxasync.http.Timeout` or total seconds.
        retry: a :class:`~rxasync.http.Retry`, ``False`` or ``None``.
        raise_for_status: raise for a non-2xx answer.

    Example:
        >>> import asyncio, rxasync
        >>> from aiohttp import web
        >>> from rxasync.http import get
        >>> from rxasync.http._examples import serve  # a local server for the example
        >>> async def hello(req: web.Request) -> web.Response:
        ...     return web.Response(text="hello " + req.query["name"])
        >>> async def main() -> str:
        ...     async with serve(hello) as base:
        ...         resp = await rxasync.first(get(base + "/", params={"name": "rx"}))
        ...         return resp.text()
        >>> asyncio.run(main())
        'hello rx'
    """
    return request(
        "GET",
        url,
        session=session,
        params=params,
        headers=headers,
        timeout=timeout,
        retry=retry,
        raise_for_status=raise_for_status,
    )


def get_json(
    url: str,
    *,
    session: SessionArg = None,
    params: Any = None,
    headers: Mapping[str, str] | None = None,
    timeout: TimeoutArg = None,
    retry: RetryArg = None,
    raise_for_status: bool = True,
) -> Observable[Any]:
    """GET ``url`` and emit its body decoded as JSON (one item), then complete.

    Sends ``Accept: application/json`` unless ``headers`` name another.
    Disposing mid-request aborts it.

    Marble::

        result:     --------v|      v = the decoded JSON value

    Args:
        url: the URL (or a path below the client's ``base_url``).
        session: as for :func:`request`.
        params: query parameters.
        headers: request headers.
        timeout: a :class:`~rxasync.http.Timeout` or total seconds.
        retry: a :class:`~rxasync.http.Retry`, ``False`` or ``None``.
        raise_for_status: raise for a non-2xx answer.

    Raises:
        DecodeError: (as ``on_error``) the body is not JSON; names URL and line.

    Example:
        >>> import asyncio, rxasync
        >>> from aiohttp import web
        >>> from rxasync.http import get_json
        >>> from rxasync.http._examples import serve  # a local server for the example
        >>> async def api(req: web.Request) -> web.Response:
        ...     return web.json_response({"q": req.query["q"], "hits": [1, 2]})
        >>> async def main() -> object:
        ...     async with serve(api) as base:
        ...         return await rxasync.first(get_json(base + "/search", params={"q": "rx"}))
        >>> asyncio.run(main())
        {'q': 'rx', 'hits': [1, 2]}
    """
    wanted = dict(headers or {})
    if not any(k.lower() == "accept" for k in wanted):
        wanted["Accept"] = "application/json"
    call = make_call(
        "GET",
        url,
        session=session,
        params=params,
        headers=wanted,
        timeout=timeout,
        retry=retry,
        raise_for_status=raise_for_status,
    )

    async def value() -> Any:
        resp = await fetch(call)
        return decode_json(resp.body, resp.url)

    return from_awaitable(value)
