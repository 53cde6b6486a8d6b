"""lines and ndjson: chunk boundaries anywhere, bad UTF-8, endless lines, bad JSON."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reactivex import operators as ops

import rxasync
from rxasync import DecodeError, LineTooLongError
from rxasync.http import Client, lines, ndjson
from rxasync.testing import assert_run

TEXT = "héllo wörld\r\n→ é ü\n\r\nlast 😀 line\rtail"
BODY = TEXT.encode()
EXPECTED = TEXT.splitlines()  # Python's universal newlines: \n, \r\n, \r


def split_handler(body: bytes):
    """Writes ``body`` cut at the positions in the ``cuts`` query, pausing between pieces."""

    async def handler(req: web.Request) -> web.StreamResponse:
        cuts = [int(c) for c in req.query.get("cuts", "").split(",") if c]
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(req)
        last = 0
        for cut in [*sorted(cuts), len(body)]:
            await resp.write(body[last:cut])
            await asyncio.sleep(0.002)  # so the client reads the pieces apart
            last = cut
        await resp.write_eof()
        return resp

    return handler


async def test_lines_split_at_every_byte_position(server) -> None:
    url = server.route("/text", split_handler(BODY))
    async with Client(limit=2) as client:
        for cut in range(len(BODY) + 1):
            got = await rxasync.to_list(client.lines(url, params={"cuts": str(cut)}))
            assert got == EXPECTED, f"split at byte {cut}"


async def test_lines_one_byte_chunks(server) -> None:
    url = server.route("/text", split_handler(BODY))
    await assert_run(lambda: lines(url, chunk_size=1), EXPECTED)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.lists(st.sampled_from(["a", "é", "😀", "\r", "\n", "\r\n", " "]), max_size=30).map("".join),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=6),
)
async def test_lines_any_chunk_splits_match_splitlines(server, text: str, cuts: list[int]) -> None:
    body = text.encode()
    url = server.route("/any", split_handler(body))
    cuts = sorted({c for c in cuts if c <= len(body)})
    got = await rxasync.to_list(lines(url, params={"cuts": ",".join(map(str, cuts))}))
    assert got == text.splitlines()


async def test_lines_invalid_utf8_strict_names_byte_offset(server) -> None:
    body = b"good line\nsecond \xff bad\nthird\n"
    url = server.route("/bad", split_handler(body))
    got: list[str] = []
    with pytest.raises(DecodeError) as info:
        await rxasync.to_list(lines(url).pipe(ops.do_action(got.append)))
    bad = body.index(b"\xff")
    assert info.value.offset == bad
    assert info.value.line == 2
    assert f"byte offset {bad}" in str(info.value)
    assert url in str(info.value)
    assert got == ["good line"]


async def test_lines_invalid_utf8_split_across_chunks_strict(server) -> None:
    body = b"ok\n\xe2\x82\n"  # a truncated 3-byte sequence
    url = server.route("/bad", split_handler(body))
    with pytest.raises(DecodeError) as info:
        await rxasync.to_list(lines(url, params={"cuts": "4"}))
    assert info.value.offset == 3


async def test_lines_invalid_utf8_replace(server) -> None:
    url = server.route("/bad", split_handler(b"a\xffb\nc\n"))
    await assert_run(lambda: lines(url, errors="replace"), ["a\ufffdb", "c"])


async def test_lines_latin1_encoding(server) -> None:
    url = server.route("/latin", split_handler("façade\nnaïve".encode("latin-1")))
    assert await rxasync.to_list(lines(url, encoding="latin-1")) == ["façade", "naïve"]


async def test_lines_ten_megabyte_line(server) -> None:
    big = b"y" * 10_000_000
    url = server.route("/big", split_handler(b"short\n" + big + b"\nend\n"))
    got = await rxasync.to_list(lines(url, max_line_length=10_000_000))
    assert [len(x) for x in got] == [5, 10_000_000, 3]


async def test_lines_ten_megabyte_line_over_limit_fails_early(server) -> None:
    async def endless_line(req: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(req)
        await resp.write(b"ok\n")
        for _ in range(1000):  # 64 MB if nobody stops us
            await resp.write(b"z" * 65536)
        return resp

    url = server.route("/endless", endless_line)
    got: list[str] = []
    with pytest.raises(LineTooLongError) as info:
        await rxasync.to_list(lines(url).pipe(ops.do_action(got.append)))
    assert got == ["ok"]
    assert info.value.line == 2
    assert "max_line_length=1048576" in str(info.value)
    assert info.value.offset < 4 << 20  # failed within a few MB, not after 64
    await asyncio.wait_for(server.disconnected.wait(), 1.0)


def test_lines_bad_arguments_fail_at_call() -> None:
    with pytest.raises(ValueError):
        lines("http://127.0.0.1/", encoding="no-such-codec")
    with pytest.raises(ValueError):
        lines("http://127.0.0.1/", max_line_length=0)
    with pytest.raises(ValueError):
        lines("http://127.0.0.1/", chunk_size=0)


async def test_ndjson_values_and_blank_lines(server, json_decoder: str) -> None:
    body = b'{"n": 1}\n\n  \n{"n": 2}\r\n[3]'
    url = server.route("/nd", split_handler(body))
    await assert_run(lambda: ndjson(url, params={"cuts": "3,12"}), [{"n": 1}, {"n": 2}, [3]])


async def test_ndjson_bad_line_names_line_number(server, json_decoder: str) -> None:
    body = b'{"n": 1}\n{"n": 2}\n\n{"n": oops}\n{"n": 5}\n'
    url = server.route("/nd", split_handler(body))
    got: list[object] = []
    with pytest.raises(DecodeError) as info:
        await rxasync.to_list(ndjson(url, params={"cuts": "12"}).pipe(ops.do_action(got.append)))
    assert info.value.line == 4
    assert "line 4" in str(info.value)
    assert got == [{"n": 1}, {"n": 2}]


async def test_lines_dispose_mid_body_server_sees_disconnect(server) -> None:
    async def endless_lines(req: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(req)
        n = 0
        while True:
            n += 1
            await resp.write(b'{"n": %d}\n' % n)
            await asyncio.sleep(0.005)

    url = server.route("/endless-lines", endless_lines)
    assert await rxasync.to_list(ndjson(url).pipe(ops.take(2))) == [{"n": 1}, {"n": 2}]
    await asyncio.wait_for(server.disconnected.wait(), 1.0)
