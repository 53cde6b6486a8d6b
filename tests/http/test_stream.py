"""stream: chunks, Range resume after a mid-body break, dispose, timeouts."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import os
import socket

import pytest
from aiohttp import web
from reactivex import operators as ops

import rxasync
from rxasync import HttpConnectionError, HttpResumeError, HttpStatusError, SourceTimeoutError
from rxasync.http import Client, Retry, Timeout, get, get_json, stream
from rxasync.testing import assert_run

FAST = Retry(initial_delay=0.01, max_delay=0.05)
BODY = os.urandom(1 << 20)


def ranged(
    body: bytes,
    *,
    break_at: float | None = None,
    ranges: bool = True,
    etags: tuple[str, ...] = ('"v1"',),
    seen: list[tuple[str | None, str | None]] | None = None,
):
    """A handler serving ``body`` with Range support; the first answer breaks at ``break_at`` of it."""
    calls = 0

    async def handler(req: web.Request) -> web.StreamResponse:
        nonlocal calls
        etag = etags[min(calls, len(etags) - 1)]
        calls += 1
        if seen is not None:
            seen.append((req.headers.get("Range"), req.headers.get("If-Range")))
        headers = {"ETag": etag, "Last-Modified": "Wed, 21 Oct 2015 07:28:00 GMT"}
        if ranges:
            headers["Accept-Ranges"] = "bytes"
        start, status = 0, 200
        rng = req.headers.get("Range")
        if ranges and rng and req.headers.get("If-Range") in (None, etag):
            start, status = int(rng.removeprefix("bytes=").split("-")[0]), 206
            headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
        resp = web.StreamResponse(status=status, headers=headers)
        resp.content_length = len(body) - start
        await resp.prepare(req)
        if calls == 1 and break_at is not None:
            cut = int(len(body) * break_at)
            await resp.write(body[start:cut])
            assert req.transport is not None
            req.transport.close()  # flushes what was written, then drops the connection
            return resp
        await resp.write(body[start:])
        return resp

    return handler


async def endless(req: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse()
    await resp.prepare(req)
    while True:
        await resp.write(b"x" * 4096)
        await asyncio.sleep(0.01)


def sha(chunks: list[bytes]) -> str:
    return hashlib.sha256(b"".join(chunks)).hexdigest()


async def test_stream_chunks_concatenate_to_body(server) -> None:
    url = server.route("/body", ranged(BODY))
    chunks = await assert_run(lambda: stream(url, chunk_size=65536))
    assert sha(chunks) == hashlib.sha256(BODY).hexdigest()
    assert max(len(c) for c in chunks) <= 65536


async def test_stream_resumes_with_range_after_break_byte_exact(server) -> None:
    seen: list[tuple[str | None, str | None]] = []
    url = server.route("/big", ranged(BODY, break_at=0.6, seen=seen))
    chunks = await rxasync.to_list(stream(url, retry=FAST))
    assert sha(chunks) == hashlib.sha256(BODY).hexdigest()
    assert len(seen) == 2
    assert seen[0] == (None, None)
    assert seen[1] == (f"bytes={int(len(BODY) * 0.6)}-", '"v1"')


async def test_stream_without_accept_ranges_fails_without_replay(server) -> None:
    url = server.route("/norange", ranged(BODY, break_at=0.6, ranges=False))
    got: list[bytes] = []
    with pytest.raises(HttpResumeError, match="Accept-Ranges") as info:
        await rxasync.to_list(stream(url, retry=FAST).pipe(ops.do_action(got.append)))
    assert b"".join(got) == BODY[: int(len(BODY) * 0.6)]  # what came, once; nothing replayed
    assert isinstance(info.value.__cause__, HttpConnectionError)


async def test_stream_resource_changed_fails_with_resume_error(server) -> None:
    url = server.route("/changed", ranged(BODY, break_at=0.6, etags=('"v1"', '"v2"')))
    got: list[bytes] = []
    with pytest.raises(HttpResumeError, match="206"):
        await rxasync.to_list(stream(url, retry=FAST).pipe(ops.do_action(got.append)))
    assert b"".join(got) == BODY[: int(len(BODY) * 0.6)]


async def test_stream_break_without_retry_is_connection_error(server) -> None:
    url = server.route("/once", ranged(BODY, break_at=0.6))
    with pytest.raises(HttpConnectionError):
        await rxasync.to_list(stream(url, retry=False))


async def test_stream_dispose_mid_body_server_sees_disconnect(server) -> None:
    url = server.route("/endless", endless)
    arrived = asyncio.Event()
    sub = stream(url).subscribe(lambda chunk: arrived.set())
    await asyncio.wait_for(arrived.wait(), 5)
    sub.dispose()
    await asyncio.wait_for(server.disconnected.wait(), 1.0)


async def test_stream_take_closes_connection_not_pooled_half_read(server) -> None:
    url = server.route("/endless", endless)
    small = server.route("/small", ranged(b"ok"))
    async with Client(limit=1) as client:
        first = await rxasync.first(client.stream(url))
        assert first
        await asyncio.wait_for(server.disconnected.wait(), 1.0)
        assert (await rxasync.first(client.get(small))).body == b"ok"
    assert len(server.connections) == 2  # the half-read connection was closed, not reused


async def test_stream_through_async_for_break_aborts(server) -> None:
    url = server.route("/endless", endless)
    async with rxasync.to_async_iterable(stream(url), max_buffer=2) as chunks:
        async for _ in chunks:
            break
    await asyncio.wait_for(server.disconnected.wait(), 1.0)


@pytest.mark.virtual_time
async def test_stream_idle_timeout_between_chunks(server) -> None:
    async def stalls(req: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(req)
        await resp.write(b"first")
        await asyncio.sleep(30)
        return resp

    url = server.route("/stalls", stalls)
    got: list[bytes] = []
    with pytest.raises(SourceTimeoutError) as info:
        await rxasync.to_list(
            stream(url, timeout=Timeout(idle=0.3), retry=False).pipe(ops.do_action(got.append))
        )
    assert info.value.timeout == "idle"
    assert isinstance(info.value, TimeoutError)
    assert got == [b"first"]


@pytest.mark.virtual_time
async def test_request_timeout_total_server_never_answers(silent_server) -> None:
    url = f"http://127.0.0.1:{silent_server.port}/"
    with pytest.raises(SourceTimeoutError) as info:
        await rxasync.first(get(url, timeout=0.3, retry=False))
    assert info.value.timeout == "total"
    assert url in str(info.value)


@pytest.mark.virtual_time
@pytest.mark.parametrize("with_client", [False, True])
async def test_get_json_default_timeout_is_one_total_deadline(silent_server, with_client: bool) -> None:
    # aiohttp's own default (300 s in all, no idle timer re-armed at each read): a stalled
    # server still times out; a client given no timeout keeps the source's default
    url = f"http://127.0.0.1:{silent_server.port}/"
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(SourceTimeoutError) as info:
        if with_client:
            async with Client(retry=False) as client:
                await rxasync.first(client.get_json(url))
        else:
            await rxasync.first(get_json(url, retry=False))
    assert info.value.timeout == "total"
    assert 299 <= loop.time() - start <= 302


@pytest.mark.virtual_time
async def test_stream_default_timeout_stays_idle(silent_server) -> None:
    url = f"http://127.0.0.1:{silent_server.port}/"
    with pytest.raises(SourceTimeoutError) as info:
        await rxasync.first(stream(url, retry=False))
    assert info.value.timeout == "idle"


@pytest.mark.virtual_time
async def test_request_timeout_idle_server_never_answers(silent_server) -> None:
    url = f"http://127.0.0.1:{silent_server.port}/"
    with pytest.raises(SourceTimeoutError) as info:
        await rxasync.first(get(url, timeout=Timeout(idle=0.3), retry=Retry(attempts=2, initial_delay=0.01)))
    assert info.value.timeout == "idle"
    assert len(silent_server.writers) == 2  # timeouts are retried


@pytest.mark.virtual_time
async def test_request_timeout_connect_when_backlog_full() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers: list[socket.socket] = []
    try:
        for _ in range(4):  # fill the accept queue so the next SYN is dropped
            filler = socket.socket()
            filler.setblocking(False)
            try:
                filler.connect(listener.getsockname())
            except BlockingIOError:
                pass
            fillers.append(filler)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        with pytest.raises(SourceTimeoutError) as info:
            await rxasync.first(get(url, timeout=Timeout(connect=0.3, idle=0.3), retry=False))
        assert info.value.timeout == "connect"
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


@pytest.mark.virtual_time
async def test_stream_slow_consumer_pauses_download(server) -> None:
    written = 0

    async def counting(req: web.Request) -> web.StreamResponse:
        nonlocal written
        resp = web.StreamResponse()
        await resp.prepare(req)
        for _ in range(3200):  # 200 MiB if nothing held it back
            await resp.write(b"d" * 65536)
            written += 65536
        return resp

    url = server.route("/counting", counting)
    async with rxasync.to_async_iterable(stream(url), max_buffer=2) as chunks:
        got = 0
        async for _chunk in chunks:
            got += 1
            if got == 3:
                await asyncio.sleep(0.5)  # a slow consumer: demand stops the pump
                break
    assert written < 48 << 20  # socket buffers, not the whole body


@pytest.mark.virtual_time
async def test_stream_idle_timeout_mid_body_resumes_with_range(server) -> None:
    seen: list[str | None] = []
    body = os.urandom(300_000)

    async def stalls_once(req: web.Request) -> web.StreamResponse:
        seen.append(req.headers.get("Range"))
        start = int(req.headers["Range"].removeprefix("bytes=").split("-")[0]) if len(seen) > 1 else 0
        headers = {"Accept-Ranges": "bytes", "ETag": '"s"'}
        status = 200
        if start:
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
        resp = web.StreamResponse(status=status, headers=headers)
        resp.content_length = len(body) - start
        await resp.prepare(req)
        if len(seen) == 1:
            await resp.write(body[:100_000])
            await asyncio.sleep(30)  # stalls: the client's idle timeout fires
        await resp.write(body[start:])
        return resp

    url = server.route("/stalls-once", stalls_once)
    chunks = await rxasync.to_list(stream(url, timeout=Timeout(idle=0.3), retry=FAST))
    assert sha(chunks) == hashlib.sha256(body).hexdigest()
    assert seen == [None, "bytes=100000-"]


async def test_stream_resume_validates_against_the_answer_it_resumes_not_an_earlier_one(server) -> None:
    # Review: the ETag to resume with was taken from the first answer only. When that answer
    # broke before its first byte and the retry got a newer version, a later cut resumed
    # against the old ETag and failed with HttpResumeError though the new one was consistent.
    seen: list[tuple[str | None, str | None]] = []
    calls = 0

    async def handler(req: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        seen.append((req.headers.get("Range"), req.headers.get("If-Range")))
        etag = '"v1"' if calls == 1 else '"v2"'
        headers = {"ETag": etag, "Accept-Ranges": "bytes"}
        start, status = 0, 200
        rng = req.headers.get("Range")
        if rng and req.headers.get("If-Range") == etag:
            start, status = int(rng.removeprefix("bytes=").split("-")[0]), 206
            headers["Content-Range"] = f"bytes {start}-{len(BODY) - 1}/{len(BODY)}"
        resp = web.StreamResponse(status=status, headers=headers)
        resp.content_length = len(BODY) - start
        await resp.prepare(req)
        assert req.transport is not None
        if calls == 1:  # the head, then the cut: not one byte of the body
            req.transport.close()
            return resp
        if calls == 2:  # the new version, cut part-way
            await resp.write(BODY[: len(BODY) // 2])
            req.transport.close()
            return resp
        await resp.write(BODY[start:])
        return resp

    url = server.route("/v", handler)
    chunks = await rxasync.to_list(stream(url, retry=Retry(attempts=4, initial_delay=0.01)))
    assert sha(chunks) == hashlib.sha256(BODY).hexdigest()
    assert seen[2] == (f"bytes={len(BODY) // 2}-", '"v2"')


async def test_stream_with_a_range_of_its_own_is_never_resumed_from_the_wrong_offset(server) -> None:
    # Review: a user's own "Range: bytes=1000-" broke part-way; the resume asked for
    # "bytes=<delivered>-" (counted from 0, not from 1000) and the 206 starting there passed
    # the check, so the body was spliced from the wrong place, silently.
    url = server.route("/r", ranged(BODY, break_at=0.4))
    got: list[bytes] = []
    with pytest.raises(HttpResumeError, match="Range header of its own"):
        async for chunk in rxasync.to_async_iterable(
            stream(url, headers={"Range": "bytes=1000-"}, retry=Retry(initial_delay=0.01))
        ):
            got.append(chunk)
    assert b"".join(got) == BODY[1000 : int(len(BODY) * 0.4)]  # what came was the right bytes


async def test_stream_weak_etag_is_not_a_resume_validator(server) -> None:
    # Review coverage (held before): W/"..." is weak (RFC 9110 §8.8.3) and never sent in If-Range.
    seen: list[tuple[str | None, str | None]] = []
    url = server.route("/w", ranged(BODY, break_at=0.4, etags=('W/"v1"',), seen=seen))
    with pytest.raises(HttpResumeError, match="no strong ETag"):
        await rxasync.to_list(stream(url, retry=Retry(initial_delay=0.01)))
    assert seen == [(None, None)]  # no Range request was made


async def test_stream_gzip_body_cut_is_not_byte_resumed(server) -> None:
    # Review coverage (held before): the bytes delivered are decompressed ones; a Range over
    # the encoded body would not start where they end.
    packed = gzip.compress(BODY)
    calls = 0

    async def handler(req: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        headers = {"ETag": '"v1"', "Accept-Ranges": "bytes", "Content-Encoding": "gzip"}
        resp = web.StreamResponse(headers=headers)
        resp.content_length = len(packed)
        await resp.prepare(req)
        await resp.write(packed[: len(packed) // 2])
        assert req.transport is not None
        req.transport.close()
        return resp

    url = server.route("/gz", handler)
    with pytest.raises(HttpResumeError, match="Content-Encoding 'gzip'"):
        await rxasync.to_list(stream(url, retry=Retry(initial_delay=0.01)))
    assert calls == 1


async def test_stream_body_shorter_than_its_content_length_is_a_resume_error(server) -> None:
    # Review: Content-Length said more than the server had; the resume for the "rest" got
    # 416 Range Not Satisfiable, delivered as a bare HttpStatusError(416) for a GET the
    # user never sent a Range with, and not chained from the break.
    seen: list[tuple[str | None, str | None]] = []

    async def lying(req: web.Request) -> web.StreamResponse:
        seen.append((req.headers.get("Range"), req.headers.get("If-Range")))
        headers = {"ETag": '"v1"', "Accept-Ranges": "bytes"}
        if req.headers.get("Range"):
            return web.Response(status=416, headers={**headers, "Content-Range": f"bytes */{len(BODY)}"})
        resp = web.StreamResponse(headers=headers)
        resp.content_length = len(BODY) + 1000  # a lie: 1000 bytes more than it has
        await resp.prepare(req)
        await resp.write(BODY)
        assert req.transport is not None
        req.transport.close()
        return resp

    url = server.route("/lie", lying)
    with pytest.raises(HttpResumeError, match="416") as info:
        await rxasync.to_list(stream(url, retry=Retry(initial_delay=0.01)))
    assert isinstance(info.value.__cause__, HttpConnectionError | HttpStatusError)
    assert seen == [(None, None), (f"bytes={len(BODY)}-", '"v1"')]
