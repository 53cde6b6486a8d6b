"""sse: the WHATWG event-stream parsing rules, and reconnection with Last-Event-ID."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

import rxasync
from rxasync import HttpConnectionError, HttpError, HttpStatusError
from rxasync.http import Client, Retry, ServerSentEvent, SseParser, sse
from rxasync.testing import assert_run

E = ServerSentEvent


def parse(text: str) -> list[ServerSentEvent]:
    """Events of a complete stream, fed line by line as the spec splits them."""
    parser = SseParser()
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines.pop()  # the text after the last newline is an unfinished line: discarded at the end
    return [ev for line in lines if (ev := parser.feed(line)) is not None]


# Cases from the HTML standard's section 9.2.6 (examples) and 9.2.5/9.2.6 rules.
SPEC_CASES = [
    ("data: YHOO\ndata: +2\ndata: 10\n\n", [E("YHOO\n+2\n10")]),
    (
        ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n",
        [E("first event", id="1"), E("second event", id=""), E(" third event", id="")],
    ),
    ("data\n\ndata\ndata\n\ndata:", [E(""), E("\n")]),
    ("data:test\n\ndata: test\n\n", [E("test"), E("test")]),
    (
        "event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\n",
        [E("73857293", "add"), E("2153", "remove")],
    ),
    ("retry: 5000\ndata: x\n\nretry: 1a\ndata: y\n\n", [E("x", retry=5000), E("y")]),
    ("id: a\0b\ndata: x\n\nid: 7\n\ndata: y\n\n", [E("x", id=""), E("y", id="7")]),
    ("unknown: field\ndata\n\n", [E("")]),
    ("data: no blank line at the end", []),
    ("event: only-a-type\n\ndata: x\n\n", [E("x")]),  # a block without data resets the type
    ("data: a:b: c\n\n", [E("a:b: c")]),
]


@pytest.mark.parametrize(("text", "expected"), SPEC_CASES)
def test_sse_parser_spec_cases(text: str, expected: list[ServerSentEvent]) -> None:
    assert parse(text) == expected


def test_sse_parser_last_event_id_only_at_dispatch() -> None:
    parser = SseParser("0")
    for line in ["id: 1", "data: a", ""]:
        parser.feed(line)
    parser.feed("id: 2")
    parser.feed("data: cut off")
    assert parser.last_event_id == "1"  # an unfinished event does not move it
    parser.discard()
    assert parser.feed("") is None


def sse_handler(body: bytes, cuts: tuple[int, ...] = ()):
    async def handler(req: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(req)
        last = 0
        for cut in [*cuts, len(body)]:
            await resp.write(body[last:cut])
            await asyncio.sleep(0.002)
            last = cut
        return resp

    return handler


STREAM = "\ufeffdata: one\r\n\r\n: comment\rdata: two\rdata: lines\r\rid: 9\nevent: end\ndata\n\n".encode()
STREAM_EVENTS = [E("one"), E("two\nlines"), E("", "end", "9")]


async def test_sse_bom_and_mixed_line_endings(server) -> None:
    url = server.route("/events", sse_handler(STREAM))
    await assert_run(lambda: sse(url, reconnect=False), STREAM_EVENTS)


async def test_sse_split_at_every_byte_position(server) -> None:
    async with Client(limit=2) as client:
        for cut in range(len(STREAM) + 1):
            url = server.route(f"/events{cut}", sse_handler(STREAM, (cut,)))
            assert await rxasync.to_list(client.sse(url, reconnect=False)) == STREAM_EVENTS, f"split at {cut}"


@pytest.mark.parametrize("clock", ["real", pytest.param("virtual", marks=pytest.mark.virtual_time)])
async def test_sse_reconnects_after_drop_mid_event_without_loss_or_repeat(server, clock: str) -> None:
    """Run both ways: the virtual clock gives the wait real time gives (retry: 200 ms)."""
    seen: list[tuple[str | None, float]] = []
    loop = asyncio.get_running_loop()

    async def flaky(req: web.Request) -> web.StreamResponse:
        last = req.headers.get("Last-Event-ID")
        seen.append((last, loop.time()))
        if last == "4":
            return web.Response(status=204)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(req)
        if last is None:
            await resp.write(b"retry: 200\n\nid: 1\ndata: a\n\nid: 2\ndata: b\n\nid: 3\ndata: hal")
            assert req.transport is not None
            req.transport.close()  # the server drops mid-event
        else:
            assert last == "2"
            await resp.write(b"id: 3\ndata: half\ndata: done\n\nid: 4\ndata: d\n\n")
        return resp

    url = server.route("/flaky", flaky)
    events = await rxasync.to_list(sse(url, retry=Retry(initial_delay=0.01)))
    assert [(e.id, e.data) for e in events] == [("1", "a"), ("2", "b"), ("3", "half\ndone"), ("4", "d")]
    assert [s[0] for s in seen] == [None, "2", "4"]
    # waited the server's retry: 200 ms (less a float rounding: on the virtual clock 2594.7976 - 2594.5976 < 0.2)
    assert seen[1][1] - seen[0][1] >= 0.2 - 1e-9
    assert seen[1][1] - seen[0][1] < (0.25 if clock == "virtual" else 1.0)  # and no longer


async def test_sse_last_event_id_argument_is_sent(server) -> None:
    got: list[str | None] = []

    async def handler(req: web.Request) -> web.StreamResponse:
        got.append(req.headers.get("Last-Event-ID"))
        got.append(req.headers.get("Accept"))
        return web.Response(status=204)

    url = server.route("/resume", handler)
    assert await rxasync.to_list(sse(url, last_event_id="41")) == []
    assert got == ["41", "text/event-stream"]


async def test_sse_wrong_content_type_fails(server) -> None:
    async def html(req: web.Request) -> web.Response:
        return web.Response(text="<html>", content_type="text/html")

    with pytest.raises(HttpError, match="text/event-stream"):
        await rxasync.to_list(sse(server.route("/html", html)))


async def test_sse_status_error_fails(server) -> None:
    async def gone(req: web.Request) -> web.Response:
        return web.Response(status=410)

    with pytest.raises(HttpStatusError):
        await rxasync.to_list(sse(server.route("/gone", gone)))


@pytest.mark.virtual_time
async def test_sse_gives_up_after_connections_without_events(server) -> None:
    async def drops(req: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(req)
        await resp.write(b": nothing for you\n")
        assert req.transport is not None
        req.transport.close()
        return resp

    url = server.route("/drops", drops)
    with pytest.raises(HttpConnectionError):
        await rxasync.to_list(sse(url, reconnect_delay=0.01, retry=Retry(attempts=3)))
    assert len(server.requests) == 3


async def test_sse_dispose_mid_stream_server_sees_disconnect(server) -> None:
    async def forever(req: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(req)
        n = 0
        while True:
            n += 1
            await resp.write(f"id: {n}\ndata: {n}\n\n".encode())
            await asyncio.sleep(0.01)

    url = server.route("/forever", forever)
    first = await rxasync.first(sse(url))
    assert first == E("1", id="1")
    await asyncio.wait_for(server.disconnected.wait(), 1.0)
