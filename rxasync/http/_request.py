"""Whole-body requests: ``request``, ``get`` and ``get_json``."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial  # lighter than a lambda's closure, and called in C
from typing import Any, Unpack

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from reactivex import Observable

from .._bridge import from_awaitable
from .._errors import HttpError, SourceTimeoutError
from ._call import Call, SessionArg, borrowed_session, make_call, open_session, send
from ._options import BodyOptions, check_options
from ._policy import WHOLE_BODY_TIMEOUT
from ._response import Response, decode_json, response_of
from ._transfer import DEFAULT_MAX_BODY_SIZE, Transfer, check_size

__all__ = ["fetch", "fetch_body", "get", "get_json", "request"]

# get_json's headers when none are given: built once, read-only (aiohttp takes a multidict as it is)
_ACCEPT_JSON: Mapping[str, str] = CIMultiDictProxy(CIMultiDict({"Accept": "application/json"}))


async def fetch(call: Call, max_body_size: int) -> Response:
    """Send ``call`` and read its whole body (at most ``max_body_size`` bytes), with retries."""
    resp, body = await fetch_body(call, max_body_size)
    return response_of(resp, body, call.method)


async def fetch_body(call: Call, max_body_size: int) -> tuple[aiohttp.ClientResponse, bytes]:
    """The answer to ``call`` and its whole body, with retries, on the session given or one of its own."""
    session = borrowed_session(call)
    if session is not None:
        return await _whole(session, call, max_body_size)
    async with open_session(call) as own:
        return await _whole(own, call, max_body_size)


async def _fetch_json(call: Call, max_body_size: int) -> Any:
    """``get_json``'s subscription: the body decoded, with no :class:`Response` built.

    :func:`fetch_body` inline: a coroutine less per request.
    """
    session = borrowed_session(call)
    if session is None:
        async with open_session(call) as own:
            resp, body = await _whole(own, call, max_body_size)
    else:
        resp, body = await _whole(session, call, max_body_size)
    return decode_json(body, resp.url)


async def _whole(
    session: aiohttp.ClientSession, call: Call, max_body_size: int
) -> tuple[aiohttp.ClientResponse, bytes]:
    """Send ``call`` on ``session`` and read the whole body, the first attempt without the retry loop."""
    transfer = Transfer(session, call, replay=True)
    try:
        failed: HttpError | SourceTimeoutError | None = None
        try:
            transfer.resp = await send(session, call)
        except (HttpError, SourceTimeoutError) as exc:  # as in send_with_retries, whose loop this skips
            failed = exc
        if failed is not None:  # retried outside the except: a later error is not chained to this one
            await transfer.open_again(failed)
        body = await transfer.read_all(max_body_size)
    finally:
        transfer.close()  # after a whole read: released already, so the connection stays pooled
    resp = transfer.resp  # read_all replaced it if the body broke and was sent again
    assert resp is not None
    return resp, body


_BODY_KEYS: frozenset[str] = BodyOptions.__optional_keys__


def _body_call(
    method: str, url: str, session: SessionArg, options: BodyOptions, name: str
) -> tuple[Call, int]:
    if not _BODY_KEYS.issuperset(options):
        check_options(options, BodyOptions, name)  # raises, naming the unknown keys
    limit = (
        check_size("max_body_size", options["max_body_size"])
        if "max_body_size" in options
        else DEFAULT_MAX_BODY_SIZE
    )
    return make_call(method, url, session, options, WHOLE_BODY_TIMEOUT), limit


def request(
    method: str, url: str, *, session: SessionArg = None, **options: Unpack[BodyOptions]
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
        **options: a :class:`~rxasync.http.BodyOptions`, each key optional:

            params: query parameters (mapping or sequence of pairs).
            headers: request headers, added to the session's.
            json: a value to send as a JSON body.
            data: a body: bytes, str, a form dict or an ``aiohttp`` payload.
            timeout: a :class:`~rxasync.http.Timeout`, or seconds for its ``total``;
                by default one deadline of 300 s for the whole attempt (connect
                30 s), aiohttp's own default: a stalled server times out.
            retry: a :class:`~rxasync.http.Retry`, ``False`` for one attempt, or
                ``None`` for the default policy (the client's, with a client).
            raise_for_status: raise :class:`~rxasync.HttpStatusError` for a non-2xx answer.
            max_body_size: the longest body held, in bytes after decompression
                (64 MiB); a longer one fails with :class:`~rxasync.BodyTooLargeError`
                as soon as it passes the limit. Read larger bodies with :func:`stream`.
            max_redirects: the length of a redirect chain that fails with
                :class:`~rxasync.TooManyRedirectsError` (10; at least 1).
            max_line_size: the longest status line accepted, in bytes (8190).
            max_field_size: the longest header line accepted, in bytes (8190).
            max_headers: the most headers accepted (128). An answer past one of
                these three is an :class:`~rxasync.HttpProtocolError`.

    Returns:
        An ``Observable[Response]`` with one item.

    Raises:
        InvalidUrlError: (as ``on_error``) ``url`` cannot be requested.
        HttpStatusError: a non-2xx answer, with status, method, URL and body start.
        HttpConnectionError: refused, reset or dropped.
        SourceTimeoutError: a limit of ``timeout`` ran out.
        BodyTooLargeError: the body is longer than ``max_body_size``; names URL and limit.
        HttpProtocolError: the answer cannot be parsed (headers past the limits).
        TooManyRedirectsError: more than ``max_redirects`` redirects; names the chain.

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
    call, limit = _body_call(method, url, session, options, "request")
    return from_awaitable(partial(fetch, call, limit), name=options.get("name"))


def get(url: str, *, session: SessionArg = None, **options: Unpack[BodyOptions]) -> Observable[Response]:
    """``request("GET", url, ...)``: one :class:`Response` per subscription.

    Marble::

        result:     --------r|

    Args:
        url: the URL (or a path below the client's ``base_url``).
        session: as for :func:`request`.
        **options: a :class:`~rxasync.http.BodyOptions`, as for :func:`request`
            (``params``, ``headers``, ``timeout``, ``retry``, ``max_body_size``...).

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
    call, limit = _body_call("GET", url, session, options, "get")
    return from_awaitable(partial(fetch, call, limit), name=options.get("name"))


def get_json(url: str, *, session: SessionArg = None, **options: Unpack[BodyOptions]) -> Observable[Any]:
    """GET ``url`` and emit its body decoded as JSON (one item), then complete.

    Sends ``Accept: application/json`` unless ``headers`` name another.
    Disposing mid-request aborts it.

    Marble::

        result:     --------v|      v = the decoded JSON value

    Args:
        url: the URL (or a path below the client's ``base_url``).
        session: as for :func:`request`.
        **options: a :class:`~rxasync.http.BodyOptions`, as for :func:`request`.

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
    call, limit = _body_call("GET", url, session, options, "get_json")
    headers = call.headers
    if not headers:
        call.headers = _ACCEPT_JSON  # a Call is not shared until it is returned: set, not copied
    elif any(k.lower() == "accept" for k in headers):
        call.headers = dict(headers)
    else:
        call.headers = {**headers, "Accept": "application/json"}
    return from_awaitable(partial(_fetch_json, call, limit), name=options.get("name"))
