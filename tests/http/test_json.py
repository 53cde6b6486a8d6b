"""JSON decoding: msgspec when installed, with the stdlib's results and errors exactly (issue 17 item 1)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rxasync
from rxasync import DecodeError
from rxasync.http import ServerSentEvent, _json, get_json, ndjson
from rxasync.http._response import decode_json

# Inputs where decoders are known to differ: big ints (orjson makes them floats),
# NaN, BOMs, UTF-16, lone surrogates, depth, trailing data, control characters.
EDGES: list[bytes | str] = [
    b"123456789012345678901234567890",
    b"-123456789012345678901",
    b"1e400",
    b"-0",
    b"-0.0",
    b"0.30000000000000004",
    b"NaN",
    b"[Infinity, -Infinity]",
    b'{"a": 1, "a": 2}',
    b'"\\ud800"',
    b"\xef\xbb\xbf{}",
    "\ufeff{}",
    '"é"'.encode("utf-16"),
    b'"\xed\xa0\x80"',
    b"[" * 3000 + b"]" * 3000,
    b'"a\x01"',
    b"{} x",
    b"",
    b"\xff",
    b"[1,]",
    b"01",
    b'{"a": 1,\n oops}',
    '{"é": "\\u00e9", "n": [1, 2.5, null, true]}',
]


def outcome(data: bytes | str) -> tuple[str, object]:
    try:
        return "value", repr(decode_json(data, "src"))
    except DecodeError as exc:
        return "error", (str(exc), exc.line, exc.offset, type(exc.__cause__).__name__)
    except RecursionError:
        return "recursion", None


def stdlib_outcome(data: bytes | str, monkeypatch: pytest.MonkeyPatch) -> tuple[str, object]:
    with monkeypatch.context() as patch:
        patch.setattr(_json, "_fast", None)
        return outcome(data)


def test_json_fast_decoder_is_used_when_installed() -> None:
    pytest.importorskip("msgspec")
    assert _json.decoder_name() == "msgspec"


@pytest.mark.parametrize("data", EDGES, ids=range(len(EDGES)))
def test_json_fast_and_stdlib_give_identical_values_and_errors(data: bytes | str, monkeypatch) -> None:
    pytest.importorskip("msgspec")
    assert outcome(data) == stdlib_outcome(data, monkeypatch)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='{}[]",:0123456789.eE+-tfnrulasx \\/\n\té\x00', max_size=16))
def test_json_fast_and_stdlib_agree_on_fuzzed_input(text: str) -> None:
    pytest.importorskip("msgspec")
    with pytest.MonkeyPatch.context() as patch:
        fast = outcome(text)
        patch.setattr(_json, "_fast", None)
        assert fast == outcome(text)


def test_json_error_names_source_line_column_and_offset(json_decoder: str) -> None:
    with pytest.raises(DecodeError, match=r"invalid JSON in src on line 2, column 2") as info:
        decode_json(b'{"a": 1,\n oops}', "src")
    assert (info.value.line, info.value.offset) == (2, 10)
    assert isinstance(info.value.__cause__, json.JSONDecodeError)


def test_sse_event_json(json_decoder: str) -> None:
    assert ServerSentEvent('{"n": [1, 2]}').json() == {"n": [1, 2]}
    with pytest.raises(DecodeError, match="line 1, column 7") as info:
        ServerSentEvent('{"n": ?}', event="tick", id="7").json()
    assert "'tick'" in str(info.value)
    assert info.value.offset == 6


async def test_get_json_and_ndjson_values_identical_both_ways(server, json_decoder: str) -> None:
    from aiohttp import web

    big = "123456789012345678901234567890"

    async def one(req: web.Request) -> web.Response:
        return web.Response(
            text=f'{{"big": {big}, "f": 0.1, "s": "\\ud83d\\ude00"}}', content_type="application/json"
        )

    async def many(req: web.Request) -> web.Response:
        return web.Response(text=f"{big}\n[NaN]\n\n" + '"\\u00e9"\n')

    value = await rxasync.first(get_json(server.route("/one", one)))
    assert value == {"big": int(big), "f": 0.1, "s": "\U0001f600"}
    assert type(value["big"]) is int
    values = await rxasync.to_list(ndjson(server.route("/many", many)))
    assert repr(values) == repr([int(big), [float("nan")], "é"])
