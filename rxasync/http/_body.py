"""A response body as chunks, resumed with ``Range`` when the connection breaks mid-way.

:func:`body_chunks` is the engine under ``stream``, ``lines`` and ``ndjson``.
It never yields a byte twice: after a break it asks for the rest with
``Range: bytes=N-`` (and ``If-Range``), and accepts the answer only if it is
a ``206`` starting at byte ``N`` of the same resource (same strong ``ETag``,
else same ``Last-Modified``). Anything else is an :class:`HttpResumeError`.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass

import aiohttp

from .._checks import check_int
from .._errors import HttpConnectionError, HttpResumeError, SourceTimeoutError
from ._call import Attempts, Call, open_session, send_with_retries
from ._translate import translate_errors

__all__ = ["body_chunks", "check_chunk_size"]

_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-\d+/(\d+|\*)")


def check_chunk_size(chunk_size: int) -> int:
    """Validate ``chunk_size`` (bytes per item, >= 1)."""
    return check_int("chunk_size", chunk_size)


@dataclass(frozen=True, slots=True)
class _Identity:
    """What tells one version of a resource from another, taken from the first answer."""

    ranges: bool
    etag: str | None
    last_modified: str | None
    encoding: str | None

    @classmethod
    def of(cls, resp: aiohttp.ClientResponse) -> _Identity:
        etag = resp.headers.get("ETag")
        return cls(
            ranges="bytes" in resp.headers.get("Accept-Ranges", "").lower(),
            etag=etag if etag and not etag.startswith("W/") else None,
            last_modified=resp.headers.get("Last-Modified"),
            encoding=resp.headers.get("Content-Encoding"),
        )

    def why_not(self) -> str | None:
        """Why a broken body of this resource cannot be resumed, or ``None`` if it can."""
        if not self.ranges:
            return "the server did not answer 'Accept-Ranges: bytes'"
        if self.encoding and self.encoding.lower() != "identity":
            return f"the body is sent with Content-Encoding {self.encoding!r}"
        if self.etag is None and self.last_modified is None:
            return "the server sent neither a strong ETag nor Last-Modified to check it is the same resource"
        return None

    def mismatch(self, resp: aiohttp.ClientResponse, offset: int) -> str | None:
        """Why ``resp`` is not the rest of the same body from ``offset``, or ``None``."""
        if resp.status != 206:
            return f"the server answered {resp.status} instead of 206 Partial Content (the resource changed?)"
        match = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
        if match is None or int(match.group(1)) != offset:
            return f"Content-Range {resp.headers.get('Content-Range')!r} does not start at byte {offset}"
        if self.etag is not None and resp.headers.get("ETag") != self.etag:
            return f"ETag changed from {self.etag!r} to {resp.headers.get('ETag')!r}"
        if self.etag is None and resp.headers.get("Last-Modified") != self.last_modified:
            return (
                f"Last-Modified changed from {self.last_modified!r} to {resp.headers.get('Last-Modified')!r}"
            )
        return None


async def body_chunks(call: Call, chunk_size: int) -> AsyncGenerator[bytes]:
    """Yield the body of ``call`` in chunks of at most ``chunk_size`` bytes, resuming breaks.

    Closing the generator early closes the connection (never pooled half-read).
    """
    attempts = Attempts(call)
    async with open_session(call) as session:
        resp = await send_with_retries(session, call, attempts)
        identity = _Identity.of(resp)
        delivered = 0
        try:
            while True:
                try:
                    with translate_errors(call.method, call.url):
                        read = resp.content.read
                        while chunk := await read(chunk_size):
                            delivered += len(chunk)
                            yield chunk
                    resp.release()
                    return
                except (HttpConnectionError, SourceTimeoutError) as exc:
                    resp.close()
                    resp = await _resume(session, call, attempts, identity, delivered, exc)
        finally:
            resp.close()


async def _resume(
    session: aiohttp.ClientSession,
    call: Call,
    attempts: Attempts,
    identity: _Identity,
    offset: int,
    error: HttpConnectionError | SourceTimeoutError,
) -> aiohttp.ClientResponse:
    """The rest of the body from byte ``offset``, or raise (``error`` or :class:`HttpResumeError`)."""
    if offset == 0:  # nothing delivered yet: a plain retry replays nothing
        if not await attempts.backoff(error):
            raise error
        return await send_with_retries(session, call, attempts)
    retryable = call.retry.attempts > attempts.count and call.retry.allows(call.method, error)
    why = identity.why_not() if call.retry.resume else "resume=False in the retry policy"
    if why is not None and retryable:
        raise HttpResumeError(
            f"{call.method} {call.url} broke after {offset} bytes and cannot resume without "
            f"replaying them: {why}",
            method=call.method,
            url=call.url,
        ) from error
    if not await attempts.backoff(error):
        raise error
    validator = identity.etag or identity.last_modified or ""
    ranged = call.with_headers({"Range": f"bytes={offset}-", "If-Range": validator})
    resp = await send_with_retries(session, ranged, attempts)
    wrong = identity.mismatch(resp, offset)
    if wrong is not None:
        resp.close()
        raise HttpResumeError(
            f"{call.method} {call.url} broke after {offset} bytes and the resumed answer is not "
            f"its continuation: {wrong}",
            method=call.method,
            url=call.url,
        ) from error
    return resp
