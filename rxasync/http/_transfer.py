"""The one attempt loop of ``rxasync.http``: a call's answer, its body, and what a break does.

A :class:`Transfer` is one logical call on one session. :meth:`Transfer.open`
sends it (retrying as its :class:`~rxasync.http.Retry` says) and returns the
answer's head; :meth:`Transfer.chunks` (``stream``, ``lines``, ``ndjson``)
and :meth:`Transfer.read_all` (``request``, ``get``, ``get_json``) read the
body. When the connection breaks mid-body, :meth:`Transfer.recover` alone
decides what happens next:

* nothing delivered yet (or a whole body, which is delivered only at its
  end): back off and send the call again from the start;
* bytes already delivered: ask for the rest with ``Range: bytes=N-`` and
  ``If-Range: <strong ETag>``, and accept only a ``206`` starting at byte
  ``N`` with the same ETag. Without a strong ETag (RFC 9110 §13.1.5: an
  HTTP-date is not a safe ``If-Range``), or when the answer does not match,
  it is an :class:`HttpResumeError`: bytes are never delivered twice, nor
  spliced from two versions of the resource.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp

from .._checks import check_int
from .._errors import (
    BodyTooLargeError,
    HttpConnectionError,
    HttpError,
    HttpResumeError,
    HttpStatusError,
    SourceTimeoutError,
)
from ._call import Attempts, Call, open_session, send_with_retries
from ._translate import translate, translate_errors

__all__ = ["DEFAULT_MAX_BODY_SIZE", "Transfer", "check_chunk_size", "check_size"]

DEFAULT_MAX_BODY_SIZE = 64 * 1024 * 1024

_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-\d+/(\d+|\*)")


def check_chunk_size(chunk_size: int) -> int:
    """Validate ``chunk_size`` (bytes per item, >= 1)."""
    return check_size("chunk_size", chunk_size)


def check_size(name: str, value: int) -> int:
    """Validate a size in bytes (an int >= 1)."""
    return check_int(name, value)


@dataclass(frozen=True, slots=True)
class _Identity:
    """What tells one version of a resource from another, taken from the first answer."""

    ranges: bool
    etag: str | None  # strong only: a weak one (W/) cannot validate a byte range
    last_modified: str | None
    encoding: str | None
    own_range: bool  # the call sent a Range of its own: "bytes=N-" from 0 would be the wrong bytes

    @classmethod
    def of(cls, resp: aiohttp.ClientResponse, call: Call) -> _Identity:
        etag = resp.headers.get("ETag")
        return cls(
            ranges="bytes" in resp.headers.get("Accept-Ranges", "").lower(),
            etag=etag if etag and not etag.startswith("W/") else None,
            last_modified=resp.headers.get("Last-Modified"),
            encoding=resp.headers.get("Content-Encoding"),
            own_range=any(key.lower() == "range" for key in call.headers or ()),
        )

    def why_not(self) -> str | None:
        """Why a broken body of this resource cannot be resumed, or ``None`` if it can."""
        if self.own_range:
            return "the request has a Range header of its own"
        if not self.ranges:
            return "the server did not answer 'Accept-Ranges: bytes'"
        if self.encoding and self.encoding.lower() != "identity":
            return f"the body is sent with Content-Encoding {self.encoding!r}"
        if self.etag is None:
            if self.last_modified is not None:
                return (
                    "the server sent Last-Modified but no strong ETag, and a date is not a safe "
                    "If-Range validator (RFC 9110 §13.1.5): the rest could come from a newer version"
                )
            return "the server sent no strong ETag to check it is the same resource"
        return None

    def mismatch(self, resp: aiohttp.ClientResponse, offset: int) -> str | None:
        """Why ``resp`` is not the rest of the same body from ``offset``, or ``None``."""
        if resp.status != 206:
            return f"the server answered {resp.status} instead of 206 Partial Content (the resource changed?)"
        match = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
        if match is None or int(match.group(1)) != offset:
            return f"Content-Range {resp.headers.get('Content-Range')!r} does not start at byte {offset}"
        if resp.headers.get("ETag") != self.etag:
            return f"ETag changed from {self.etag!r} to {resp.headers.get('ETag')!r}"
        return None


class Transfer:
    """One call's attempts on one session: the answer's head, then its body across breaks.

    Call :meth:`open` once, then read with :meth:`read_all` and :meth:`close`
    in ``finally`` (a body not read to its end is never pooled half-read);
    or iterate :meth:`chunks`, which does all three (``session=None``: on a
    session of its own). ``replay`` says what a break after some bytes does:
    ``True`` (a whole body, nothing delivered yet) sends the call again,
    ``False`` (a stream) resumes with ``Range`` or fails.
    """

    __slots__ = ("_attempts", "call", "closed", "delivered", "identity", "replay", "resp", "session")

    def __init__(self, session: aiohttp.ClientSession | None, call: Call, *, replay: bool) -> None:
        self.session = session
        self.call = call
        self.replay = replay
        self._attempts: Attempts | None = None  # made at the first retry or resume: most calls never need it
        self.delivered = 0  # bytes of the body handed out (by chunks)
        self.closed = False
        self.resp: aiohttp.ClientResponse | None = None
        self.identity: _Identity | None = None

    @property
    def attempts(self) -> Attempts:
        """The call's attempt count and backoff, shared by every retry and resume of this transfer."""
        attempts = self._attempts
        if attempts is None:
            attempts = self._attempts = Attempts(self.call)
        return attempts

    async def open(self) -> aiohttp.ClientResponse:
        """Send the call (with retries); return the answer, its head read and its body not."""
        assert self.session is not None, "a session first"
        resp = self.resp = await send_with_retries(self.session, self.call, self.attempts)
        if not self.replay:  # only a resume compares versions: a whole body is replayed
            self.identity = _Identity.of(resp, self.call)
        return resp

    async def open_again(self, error: HttpError | SourceTimeoutError) -> aiohttp.ClientResponse:
        """After a first attempt sent without :meth:`open` failed with ``error``: what :meth:`open` does next.

        Back off and send again as the retry policy says, or raise ``error``.
        ``get_json`` sends its first attempt itself (a retry loop, its frame
        and the ``open`` frame cost about 1 us a request that never retries).
        """
        if not await self.attempts.backoff(error):
            raise error
        return await self.open()

    def close(self) -> None:
        """Drop the connection unless the body was read to its end (then it is pooled)."""
        self.closed = True
        resp = self.resp
        if resp is not None and not resp.closed:  # closed: released at its end, or closed already
            resp.close()

    async def chunks(self, chunk_size: int) -> AsyncGenerator[bytes]:
        """The body in chunks of at most ``chunk_size`` bytes, each byte once, resumed across breaks.

        Opens the call (and a session of its own, when given none) if that
        was not done yet; closing the generator closes the answer. One
        generator from the session to the last chunk: a layer of async
        generator per chunk costs about 3% of ``stream``'s throughput.
        """
        call = self.call
        async with self._own_session():
            try:
                if self.resp is None:
                    await self.open()
                while True:
                    resp = self.resp
                    assert resp is not None
                    try:
                        with translate_errors(call.method, call.url):
                            read = resp.content.read
                            while chunk := await read(chunk_size):
                                self.delivered += len(chunk)
                                yield chunk
                        resp.release()
                        return
                    except (HttpConnectionError, SourceTimeoutError) as exc:
                        await self.recover(exc)
            finally:
                self.close()

    @asynccontextmanager
    async def _own_session(self) -> AsyncIterator[None]:
        if self.session is not None:
            yield
            return
        async with open_session(self.call) as session:
            self.session = session
            yield

    async def read_all(self, limit: int) -> bytes:
        """The whole body, at most ``limit`` bytes (else :class:`BodyTooLargeError`), replayed across breaks."""
        call = self.call
        while True:
            resp = self.resp
            assert resp is not None, "open() first"
            parts: list[bytes] = []
            size = 0
            try:  # a plain except, not translate_errors(): its context manager costs ~2 us a request
                content = resp.content
                if content.is_eof():  # the whole body came with the head (a small answer): no await
                    parts.append(content.read_nowait())
                    if len(parts[0]) > limit:
                        raise self._too_large(limit)
                else:
                    readany = content.readany
                    while chunk := await readany():
                        size += len(chunk)
                        if size > limit:
                            raise self._too_large(limit)
                        parts.append(chunk)
            except Exception as exc:
                error = translate(exc, call.method, call.url)
                if error is not exc:
                    error.__cause__ = exc  # as `raise error from exc`, wherever it is raised
                if not isinstance(error, HttpConnectionError | SourceTimeoutError):
                    raise error  # noqa: B904 (chained just above)
                await self.recover(error)
                continue
            if not resp.closed:  # aiohttp releases the connection itself at the end of the body
                resp.release()
            return parts[0] if len(parts) == 1 else b"".join(parts)

    def _too_large(self, limit: int) -> BodyTooLargeError:
        call = self.call
        return BodyTooLargeError(
            f"{call.method} {call.url}: the body is longer than max_body_size={limit} bytes "
            "(after decompression); pass a larger max_body_size, or read it with stream()",
            method=call.method,
            url=call.url,
            limit=limit,
        )

    async def recover(self, error: HttpConnectionError | SourceTimeoutError) -> None:
        """After a break: the next answer to read (sent again, or the rest), or raise."""
        if self.resp is not None:
            self.resp.close()
        if self.closed:
            raise error
        call, attempts = self.call, self.attempts
        if self.replay or self.delivered == 0:  # nothing handed out: a plain retry replays nothing
            if not await attempts.backoff(error):
                raise error
            assert self.session is not None
            resp = self.resp = await send_with_retries(self.session, call, attempts)
            if not self.replay:  # a later resume validates against this answer, not the broken one
                self.identity = _Identity.of(resp, call)
            return
        assert self.session is not None
        self.resp = await _resume(self.session, call, attempts, self.identity, self.delivered, error)


async def _resume(
    session: aiohttp.ClientSession,
    call: Call,
    attempts: Attempts,
    identity: _Identity | None,
    offset: int,
    error: HttpConnectionError | SourceTimeoutError,
) -> aiohttp.ClientResponse:
    """The rest of the body from byte ``offset``, or raise (``error`` or :class:`HttpResumeError`)."""
    assert identity is not None
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
    ranged = call.with_headers({"Range": f"bytes={offset}-", "If-Range": identity.etag or ""})
    try:
        resp = await send_with_retries(session, ranged, attempts)
    except HttpStatusError as exc:
        if exc.status != 416:
            raise
        raise HttpResumeError(  # a Range the user never sent: say what it means
            f"{call.method} {call.url} broke after {offset} bytes and the server answered 416 "
            f"Range Not Satisfiable for the rest: the body was shorter than its Content-Length "
            "said, or the resource shrank",
            method=call.method,
            url=call.url,
        ) from exc
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
