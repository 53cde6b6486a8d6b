"""The one place where aiohttp's and the OS's exceptions become rxasync errors.

Every await on aiohttp in ``rxasync.http`` runs inside :func:`translate_errors`
or hands what it caught to :func:`translate` (as httpx runs httpcore inside
``map_httpcore_exceptions``), so the mapping below is the whole story: each
translated error is chained from the original (``raise ... from exc``) and
names the method and URL.

=================================================  =========================================
aiohttp / OS                                       rxasync
=================================================  =========================================
``ConnectionTimeoutError``                         ``SourceTimeoutError(timeout="connect")``
``SocketTimeoutError``, ``ServerTimeoutError``     ``SourceTimeoutError(timeout="idle")``
``TimeoutError`` (aiohttp's total timer)           ``SourceTimeoutError(timeout="total")``
``InvalidURL``, ``NonHttpUrlClientError``          ``InvalidUrlError``
``ClientConnectionError``, ``ClientPayloadError``  ``HttpConnectionError``
``OSError``                                        ``HttpConnectionError``
``TooManyRedirects``                               ``TooManyRedirectsError`` (with the chain)
``ClientResponseError`` from a parse failure       ``HttpProtocolError`` (not the server's 400)
``ClientResponseError`` with status >= 300         ``HttpStatusError`` (a refused WebSocket handshake)
any other ``ClientError``                          ``HttpError``
=================================================  =========================================

Cancellation (``CancelledError``, ``GeneratorExit``) and rxasync's own errors
pass through untouched.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import yarl
from aiohttp.http_exceptions import HttpProcessingError

from .._errors import (
    HttpConnectionError,
    HttpError,
    HttpProtocolError,
    HttpStatusError,
    InvalidUrlError,
    RxAsyncError,
    SourceTimeoutError,
    TooManyRedirectsError,
)
from ._policy import parse_retry_after

__all__ = ["check_url", "status_error", "translate", "translate_errors"]

_BODY_PREVIEW = 1024
_PAST_A_LIMIT = ("Got more than", "Too many headers")  # aiohttp's words for its parser limits


def translate(exc: Exception, method: str, url: str) -> Exception:
    """The rxasync error for ``exc`` (see the module table), or ``exc`` itself if it maps to none.

    Raise the result ``from exc`` when it is not ``exc``; hot paths call this
    from a plain ``except Exception`` rather than entering :func:`translate_errors`.
    """
    if isinstance(exc, RxAsyncError):
        return exc
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return _timeout("connect", method, url, exc)
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return _timeout("idle", method, url, exc)
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return InvalidUrlError(f"cannot request {url!r}: {exc}", method=method, url=url)
    if isinstance(exc, TimeoutError):  # before OSError, its base
        return _timeout("total", method, url, exc)
    if isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError | OSError):
        reason = str(exc) or type(exc).__name__
        return HttpConnectionError(f"{method} {url}: {reason}", method=method, url=url)
    if isinstance(exc, aiohttp.ClientResponseError):
        return _response_error(exc, method, url)
    if isinstance(exc, aiohttp.ClientError):
        return HttpError(f"{method} {url}: {exc or type(exc).__name__}", method=method, url=url)
    return exc


def _response_error(exc: aiohttp.ClientResponseError, method: str, url: str) -> HttpError:
    """A ``ClientResponseError``: too many redirects, an answer aiohttp could not parse, or a status."""
    if isinstance(exc, aiohttp.TooManyRedirects):
        hops = [r.url for r in exc.history]
        if hops and "Location" in exc.history[-1].headers:
            hops.append(hops[-1].join(yarl.URL(exc.history[-1].headers["Location"])))
        chain = tuple(str(u) for u in hops)
        return TooManyRedirectsError(
            f"{method} {url}: too many redirects (max_redirects={len(exc.history)}): " + " -> ".join(chain),
            method=method,
            url=url,
            history=chain,
        )
    if isinstance(exc.__cause__, HttpProcessingError):  # aiohttp's own parser failed: no status was read
        message = f"{method} {url}: cannot parse the answer: {exc.message}"
        if any(words in exc.message for words in _PAST_A_LIMIT):  # not for a malformed line
            message += (
                " (raise max_line_size, max_field_size or max_headers if the server is right to send it)"
            )
        return HttpProtocolError(message, method=method, url=url)
    if exc.status >= 300:
        message = f"{exc.status} {exc.message}".rstrip() + f" for {method} {url}"
        return HttpStatusError(message, method=method, url=url, status=exc.status)
    return HttpError(f"{method} {url}: {exc or type(exc).__name__}", method=method, url=url)


@contextmanager
def translate_errors(method: str, url: str) -> Iterator[None]:
    """Run the block with what it raises translated by :func:`translate`."""
    try:
        yield
    except Exception as exc:
        error = translate(exc, method, url)
        if error is exc:
            raise
        raise error from exc


def _timeout(which: str, method: str, url: str, exc: BaseException) -> SourceTimeoutError:
    what = {
        "connect": "connecting took longer than the connect timeout",
        "idle": "the server sent nothing for longer than the idle timeout",
        "total": "the request took longer than the total timeout",
    }[which]
    return SourceTimeoutError(f"{method} {url}: {what}", source=url, timeout=which)


@functools.lru_cache(maxsize=512)
def check_url(url: str | yarl.URL, schemes: tuple[str, ...] = ("http", "https")) -> yarl.URL:
    """Parse ``url`` and check it can be requested, or raise :class:`InvalidUrlError` naming it.

    Example:
        >>> check_url("http://127.0.0.1:8080/x").port
        8080
        >>> try:
        ...     check_url("127.0.0.1/x")
        ... except ValueError as exc:
        ...     print(type(exc).__name__, exc)
        InvalidUrlError cannot request '127.0.0.1/x': it has no scheme (http://, https://)
    """
    try:
        parsed = url if isinstance(url, yarl.URL) else yarl.URL(url)
        host = parsed.host
    except (TypeError, ValueError) as exc:
        raise InvalidUrlError(f"cannot request {str(url)!r}: {exc}", url=str(url)) from exc
    scheme = parsed.scheme
    if not scheme or scheme.lower() not in schemes:
        wanted = ", ".join(f"{s}://" for s in schemes)  # built for the error only: this runs per request
        why = f"scheme {scheme!r} is not one of {wanted}" if scheme else f"it has no scheme ({wanted})"
        raise InvalidUrlError(f"cannot request {str(url)!r}: {why}", url=str(url))
    if not host:
        raise InvalidUrlError(f"cannot request {str(url)!r}: it has no host", url=str(url))
    return parsed


async def status_error(resp: aiohttp.ClientResponse, method: str, url: str) -> HttpStatusError:
    """An :class:`HttpStatusError` for a non-2xx answer, with the start of its body.

    Closes ``resp``: the rest of the body is not worth a pooled connection.
    """
    body = b""
    try:
        with translate_errors(method, url):
            body = await resp.content.read(_BODY_PREVIEW)
    except HttpError:
        pass  # the status says enough; the body was a courtesy
    except SourceTimeoutError:
        pass
    finally:
        resp.close()
    retry_after = parse_retry_after(resp.headers) if resp.status in (429, 503) else None
    preview = body[:200].decode("utf-8", "replace")
    message = f"{resp.status} {resp.reason or ''}".rstrip() + f" for {method} {url}"
    if preview:
        message += f": {preview!r}"
    if retry_after is not None:
        message += f" (Retry-After: {retry_after:g} s)"
    return HttpStatusError(
        message, method=method, url=url, status=resp.status, body=body, retry_after=retry_after
    )
