"""Answers a client must not take at face value: unparsable heads, endless bodies, redirect loops.

Issue 11 items 6-8. Each test fails on the code before the fix: a parse
failure used to be ``HttpStatusError(status=400)``, a whole body had no cap,
and a redirect loop said ``HttpError: "GET ...: 0, message=''"``.
"""

from __future__ import annotations

import asyncio
import gzip

import pytest
from aiohttp import web

import rxasync
from rxasync import BodyTooLargeError, HttpProtocolError, HttpStatusError, TooManyRedirectsError
from rxasync.http import Client, get, get_json, request, stream


class RawServer:
    """A TCP server on 127.0.0.1 that answers every request with the same raw bytes."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.server: asyncio.Server | None = None
        self.url = ""

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(self.answer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> RawServer:
        self.server = await asyncio.start_server(self._on_client, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


def head(*lines: bytes) -> bytes:
    return b"\r\n".join(lines) + b"\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


BIG_HEADER = head(b"HTTP/1.1 200 OK", b"X-Big: " + b"a" * 100_000)
MANY_HEADERS = head(b"HTTP/1.1 200 OK", *(b"X-H%d: v" % i for i in range(20_000)))
LONG_STATUS = head(b"HTTP/1.1 200 " + b"O" * 100_000)


@pytest.mark.parametrize(
    "answer", [BIG_HEADER, MANY_HEADERS, LONG_STATUS], ids=["header", "headers", "status"]
)
async def test_unparsable_answer_is_protocol_error_not_status_400(answer: bytes) -> None:
    async with RawServer(answer) as srv:
        with pytest.raises(HttpProtocolError, match="cannot parse") as info:
            await rxasync.first(get(srv.url, retry=False))
        assert not isinstance(info.value, HttpStatusError)
        assert srv.url in str(info.value)


async def test_header_limits_can_be_raised() -> None:
    async with RawServer(BIG_HEADER) as srv:
        resp = await rxasync.first(get(srv.url, max_field_size=200_000))
        assert len(resp.headers["X-Big"]) == 100_000
    async with RawServer(MANY_HEADERS) as srv, Client() as client:
        resp = await rxasync.first(client.get(srv.url, max_headers=30_000, max_field_size=200_000))
        assert resp.headers["X-H19999"] == "v"
    async with RawServer(LONG_STATUS) as srv:
        chunks = await rxasync.to_list(stream(srv.url, max_line_size=200_000))
        assert b"".join(chunks) == b"ok"


@pytest.fixture
async def bomb(server) -> str:
    """A 1 KiB gzip body that inflates to 8 MiB."""
    packed = gzip.compress(b"\0" * (8 << 20))

    async def handler(req: web.Request) -> web.Response:
        return web.Response(body=packed, headers={"Content-Encoding": "gzip"})

    return server.route("/bomb", handler)


async def test_whole_body_over_max_body_size_fails_naming_url_and_limit(bomb: str) -> None:
    for source in (get(bomb, max_body_size=1 << 20), get_json(bomb, max_body_size=1 << 20)):
        with pytest.raises(BodyTooLargeError, match="max_body_size=1048576") as info:
            await rxasync.first(source)
        assert info.value.limit == 1 << 20
        assert bomb in str(info.value)
    resp = await rxasync.first(request("GET", bomb, max_body_size=8 << 20))  # the limit itself is allowed
    assert len(resp.body) == 8 << 20


async def test_whole_body_default_limit_is_64_mib(server) -> None:
    big = gzip.compress(b"\0" * ((64 << 20) + 1))

    async def handler(req: web.Request) -> web.Response:
        return web.Response(body=big, headers={"Content-Encoding": "gzip"})

    with pytest.raises(BodyTooLargeError, match=str(64 << 20)):
        await rxasync.first(get(server.route("/big", handler)))


async def test_streamed_body_has_no_whole_body_cap(bomb: str) -> None:
    chunks = await rxasync.to_list(stream(bomb))
    assert sum(map(len, chunks)) == 8 << 20


async def test_redirect_loop_says_too_many_redirects_with_chain(server) -> None:
    async def a(req: web.Request) -> web.Response:
        raise web.HTTPFound("/b")

    async def b(req: web.Request) -> web.Response:
        raise web.HTTPFound("/a")

    url = server.route("/a", a)
    server.route("/b", b)
    with pytest.raises(TooManyRedirectsError, match="too many redirects") as info:
        await rxasync.first(get(url, max_redirects=3))
    chain = info.value.history
    assert chain[0] == url
    assert [c.rsplit("/", 1)[1] for c in chain] == ["a", "b", "a", "b"]  # 3 redirects, then refused
    assert " -> ".join(chain) in str(info.value)


async def test_malformed_answer_is_protocol_error_without_the_limits_hint() -> None:
    # Review: every parse failure said "raise max_line_size, max_field_size or max_headers",
    # also a malformed status line or header that no limit would let through.
    for answer in (b"HTTP/1.1 20x OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n"):
        async with RawServer(answer) as srv:
            with pytest.raises(HttpProtocolError, match="cannot parse") as info:
                await rxasync.first(get(srv.url, retry=False))
            assert "max_line_size" not in str(info.value)
    async with RawServer(BIG_HEADER) as srv:  # past a limit: the hint stays
        with pytest.raises(HttpProtocolError, match="max_field_size"):
            await rxasync.first(get(srv.url, retry=False))
