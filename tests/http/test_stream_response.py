"""stream_response: the head (status, headers, Content-Length) before the first chunk (issue 14)."""

from __future__ import annotations

import asyncio
import gzip
import os

import pytest
from aiohttp import web
from reactivex import operators as ops

import rxasync
from rxasync import HttpError
from rxasync.http import Client, Retry, StreamedResponse, stream_response

BODY = os.urandom(300_000)


def held_body(release: asyncio.Event):
    """Sends the headers at once and the body only after ``release`` is set."""

    async def handler(req: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"X-Kind": "blob", "Content-Type": "application/octet-stream"})
        resp.content_length = len(BODY)
        await resp.prepare(req)
        await release.wait()
        await resp.write(BODY)
        return resp

    return handler


async def test_stream_response_head_arrives_before_first_chunk(server) -> None:
    release = asyncio.Event()
    url = server.route("/held", held_body(release))
    events: list[object] = []

    def on_head(head: StreamedResponse):
        events.append(("head", head.status, head.content_length, head.headers["X-Kind"]))
        release.set()  # only now may the server send the body
        return head.body

    chunks = await rxasync.to_list(
        stream_response(url, chunk_size=65536).pipe(ops.flat_map(on_head), ops.do_action(events.append))
    )
    assert events[0] == ("head", 200, len(BODY), "blob")
    assert b"".join(chunks) == BODY
    assert all(isinstance(e, bytes) for e in events[1:])


async def test_stream_response_through_client_and_concat_map(server) -> None:
    async def handler(req: web.Request) -> web.Response:
        return web.Response(body=BODY)

    url = server.route("/blob", handler)
    async with Client() as client:
        sizes = await rxasync.to_list(
            client.stream_response(url).pipe(
                ops.concat_map(
                    lambda r: r.body.pipe(ops.map(len), ops.sum(), ops.map(lambda n: (n, r.content_length)))
                )
            )
        )
    assert sizes == [(len(BODY), len(BODY))]


async def test_stream_response_compressed_body_has_no_content_length(server) -> None:
    packed = gzip.compress(BODY)

    async def handler(req: web.Request) -> web.Response:
        return web.Response(body=packed, headers={"Content-Encoding": "gzip"})

    url = server.route("/gz", handler)
    got = await rxasync.to_list(
        stream_response(url).pipe(ops.flat_map(lambda r: r.body.pipe(ops.start_with(r.content_length))))
    )
    assert got[0] is None  # Content-Length counts gzip bytes; the body delivers them inflated
    assert b"".join(got[1:]) == BODY


async def test_stream_response_body_subscribed_late_fails_clearly(server) -> None:
    release = asyncio.Event()
    url = server.route("/held", held_body(release))
    head = await rxasync.first(stream_response(url))
    assert head.status == 200
    await asyncio.wait_for(server.disconnected.wait(), 5)  # the connection was released at once
    with pytest.raises(HttpError, match="not subscribed in time"):
        await rxasync.to_list(head.body)


async def test_stream_response_body_subscribed_twice_fails(server) -> None:
    async def handler(req: web.Request) -> web.Response:
        return web.Response(body=b"abc")

    url = server.route("/abc", handler)

    def twice(head: StreamedResponse):
        return head.body.pipe(ops.merge(head.body))

    with pytest.raises(HttpError, match="subscribed already"):
        await rxasync.to_list(stream_response(url).pipe(ops.flat_map(twice)))


async def test_stream_response_dispose_mid_body_closes_connection(server) -> None:
    async def endless(req: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(req)
        while True:
            await resp.write(b"x" * 4096)
            await asyncio.sleep(0.01)

    url = server.route("/endless", endless)
    got = await rxasync.to_list(stream_response(url).pipe(ops.flat_map(lambda r: r.body), ops.take(3)))
    assert len(got) == 3
    await asyncio.wait_for(server.disconnected.wait(), 5)


async def test_stream_response_body_resumes_after_break(server) -> None:
    from test_stream import ranged  # the Range-serving handler of the stream tests

    url = server.route("/r", ranged(BODY, break_at=0.4))
    chunks = await rxasync.to_list(
        stream_response(url, retry=Retry(initial_delay=0.01)).pipe(ops.flat_map(lambda r: r.body))
    )
    assert b"".join(chunks) == BODY


async def test_stream_response_body_disposed_before_it_started_ends_the_head(server) -> None:
    # Review: a body subscribed and disposed at once inside on_next (its pump never started the
    # generator) left the head source waiting forever, its connection held.
    release = asyncio.Event()
    url = server.route("/held", held_body(release))
    done = asyncio.Event()
    ended: list[str] = []

    def on_head(head: StreamedResponse) -> None:
        head.body.subscribe(lambda chunk: None).dispose()

    def finish(how: str) -> None:
        ended.append(how)
        done.set()

    stream_response(url).subscribe(on_head, lambda exc: finish("error"), lambda: finish("completed"))
    await asyncio.wait_for(done.wait(), 5)
    assert ended == ["completed"]
    await asyncio.wait_for(server.disconnected.wait(), 5)  # the half-read connection was dropped
