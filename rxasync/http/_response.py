"""``Response``: a complete HTTP answer, and JSON decoding with errors that name the URL."""

from __future__ import annotations

import json as jsonlib
from dataclasses import dataclass
from typing import Any

import aiohttp
import yarl
from multidict import CIMultiDictProxy

from .._errors import DecodeError
from ._json import loads

__all__ = ["Response", "decode_json", "response_of"]


@dataclass(frozen=True, slots=True)
class Response:
    """A complete HTTP answer: status line, headers and the whole body.

    Attributes:
        status: the status code (``200``).
        reason: the reason phrase (``"OK"``).
        url: the final URL, after redirects.
        headers: the response headers (case-insensitive).
        body: the body bytes, decompressed.
        method: the request's method.
        charset: the ``charset`` of ``Content-Type``, or ``None``.
    """

    status: int
    reason: str
    url: str
    headers: CIMultiDictProxy[str]
    body: bytes
    method: str = "GET"
    charset: str | None = None

    @property
    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300

    def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        """The body decoded with ``encoding`` (default: the ``charset``, else UTF-8).

        Raises:
            DecodeError: the body does not decode (``errors="strict"``); names the byte offset.
        """
        codec = encoding or self.charset or "utf-8"
        try:
            return self.body.decode(codec, errors)
        except UnicodeDecodeError as exc:
            line = self.body.count(b"\n", 0, exc.start) + 1
            raise DecodeError(
                f"invalid {codec} data in {self.url} at byte offset {exc.start} (line {line}): {exc.reason}",
                source=self.url,
                line=line,
                offset=exc.start,
            ) from exc

    def json(self) -> Any:
        """The body decoded as JSON.

        Raises:
            DecodeError: the body is not JSON; names the URL, line and offset.
        """
        return decode_json(self.body, self.url)


def decode_json(data: bytes | str, source: str | yarl.URL, line: int = 0) -> Any:
    """``json.loads`` (msgspec first, when installed) with errors translated to :class:`DecodeError`.

    ``source`` names the input in the error; a URL is made a ``str`` only then.
    """
    try:
        return loads(data)
    except jsonlib.JSONDecodeError as exc:
        at_line = line or exc.lineno
        raise DecodeError(
            f"invalid JSON in {source} on line {at_line}, column {exc.colno}: {exc.msg}",
            source=str(source),
            line=at_line,
            offset=exc.pos,
        ) from exc
    except UnicodeDecodeError as exc:
        raise DecodeError(
            f"invalid JSON in {source}: not UTF-8 at byte offset {exc.start}",
            source=str(source),
            offset=exc.start,
        ) from exc


def response_of(resp: aiohttp.ClientResponse, body: bytes, method: str) -> Response:
    """The :class:`Response` of ``resp`` with its whole ``body``."""
    return Response(
        status=resp.status,
        reason=resp.reason or "",
        url=str(resp.url),
        headers=resp.headers,
        body=body,
        method=method,
        charset=resp.charset,
    )
