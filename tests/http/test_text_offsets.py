"""Where ``lines`` and ``ndjson`` say bad input is: line numbers and byte offsets in the body (issue 11)."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web

import rxasync
from rxasync import DecodeError
from rxasync.http import lines, ndjson


def pieces_handler(*pieces: bytes):
    """Writes each piece as its own chunk, pausing between them, so the client reads them apart."""

    async def handler(req: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(req)
        for piece in pieces:
            await resp.write(piece)
            await asyncio.sleep(0.02)
        await resp.write_eof()
        return resp

    return handler


async def test_lines_crlf_split_by_the_network_counts_one_line(server) -> None:
    # item 9: "a\r" | "\n\xff": the bad byte is on line 2, at byte 3
    url = server.route("/crlf", pieces_handler(b"a\r", b"\n\xff\n"))
    with pytest.raises(DecodeError) as info:
        await rxasync.to_list(lines(url))
    assert (info.value.line, info.value.offset) == (2, 3)


BODY = '{"n": 1}\r\n\n{"é": "ü"}\n  \n{"n": 2}\r{"n": oops}\n{"n": 5}\n'.encode()
BAD_AT = BODY.index(b"oops")  # where json.loads stops: the byte offset the error must give


@pytest.mark.parametrize(
    "cuts", [[], [1], [9], [10], [len(BODY) // 2], [BAD_AT - 3, BAD_AT + 1], list(range(1, 60, 7))]
)
async def test_ndjson_bad_line_offset_is_the_byte_offset_in_the_body(server, cuts: list[int]) -> None:
    # item 11: the offset was the column inside the line (6 here); it is the offset in the body
    pieces = [BODY[a:b] for a, b in zip([0, *cuts], [*cuts, len(BODY)], strict=True)]
    url = server.route("/nd", pieces_handler(*pieces))
    got: list[object] = []
    with pytest.raises(DecodeError) as info:
        async with rxasync.to_async_iterable(ndjson(url)) as values:
            async for value in values:
                got.append(value)
    assert got == [{"n": 1}, {"é": "ü"}, {"n": 2}]
    assert info.value.line == 6
    assert info.value.offset == BAD_AT
    assert "line 6, column 7" in str(info.value)
    with pytest.raises(json.JSONDecodeError) as reference:
        json.loads(BODY.splitlines()[5])
    assert reference.value.colno == 7


async def test_ndjson_unterminated_last_line_offset(server) -> None:
    body = b'{"n": 1}\n{"n": '
    url = server.route("/nd-cut", pieces_handler(body[:12], body[12:]))
    with pytest.raises(DecodeError) as info:
        await rxasync.to_list(ndjson(url))
    assert (info.value.line, info.value.offset) == (2, len(body))


def then_quiet(body: bytes, content_type: str = "text/plain"):
    """Sends ``body`` as one chunk, then keeps the response open without sending more."""

    async def handler(req: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": content_type})
        resp.enable_chunked_encoding()
        await resp.prepare(req)
        await resp.write(body)
        await asyncio.sleep(3)
        return resp

    return handler


@pytest.mark.parametrize("kind", ["lines", "ndjson", "sse"])
async def test_line_too_long_after_good_lines_fails_before_more_bytes_come(server, kind: str) -> None:
    # the decoder returns the lines before a too-long one and holds the error for its next call,
    # which came only with the next chunk: on a quiet stream, not at all
    if kind == "sse":
        url = server.route("/q", then_quiet(b"data: ok\n\ndata: xxxxxxxxxx\n\n", "text/event-stream"))
        source = rxasync.http.sse(url, max_line_length=8)
    else:
        url = server.route("/q", then_quiet(b'{"a": 1}\n{"b": 22222}\n'))
        source = (lines if kind == "lines" else ndjson)(url, max_line_length=8)
    got: list[object] = []
    with pytest.raises(rxasync.LineTooLongError) as info:
        async with asyncio.timeout(1.5):
            async with rxasync.to_async_iterable(source) as items:
                async for item in items:
                    got.append(item)
    assert info.value.line == (3 if kind == "sse" else 2)
    assert len(got) == 1
