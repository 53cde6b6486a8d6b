"""The shared incremental line decoder."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import rxasync
from rxasync._text import LineDecoder


def decode_in_chunks(data: bytes, cuts: list[int], **kw: object) -> list[str]:
    d = LineDecoder(**kw)  # type: ignore[arg-type]
    out: list[str] = []
    prev = 0
    for cut in [*sorted(cuts), len(data)]:
        out += d.feed(data[prev:cut])
        prev = cut
    return out + d.close()


TEXT = "héllo\r\nwörld\rthis\nis 北京 🚀\r\n\r\n\n\rend"


@pytest.mark.parametrize("keepends", [False, True])
def test_line_decoder_every_single_split_position(keepends: bool) -> None:
    data = TEXT.encode()
    expected = TEXT.splitlines(keepends=keepends)
    for cut in range(len(data) + 1):
        assert decode_in_chunks(data, [cut], keepends=keepends) == expected, cut


@given(
    lines=st.lists(
        st.text(
            alphabet=st.characters(
                blacklist_categories=("Cs",), blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
            )
        ),
        max_size=8,
    ),
    endings=st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=8, max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6),
    keepends=st.booleans(),
)
def test_line_decoder_any_chunking_matches_splitlines(
    lines: list[str], endings: list[str], cuts: list[int], keepends: bool
) -> None:
    text = "".join(line + endings[i] for i, line in enumerate(lines))
    data = text.encode()
    cuts = [c for c in cuts if c <= len(data)]
    assert decode_in_chunks(data, cuts, keepends=keepends) == text.splitlines(keepends=keepends)


def test_line_decoder_last_line_without_newline() -> None:
    assert decode_in_chunks(b"a\nb", [1]) == ["a", "b"]
    assert decode_in_chunks(b"", []) == []


def test_line_decoder_invalid_utf8_names_line_and_offset() -> None:
    d = LineDecoder(source="/tmp/x.log")
    assert d.feed(b"ok\nfine\n") == ["ok", "fine"]
    with pytest.raises(rxasync.DecodeError) as info:
        d.feed(b"bad \xff here\n")
    assert info.value.line == 3
    assert info.value.offset == 8 + 4
    for part in ("byte offset 12", "line 3", "/tmp/x.log"):
        assert part in str(info.value)


def test_line_decoder_invalid_utf8_split_across_chunks() -> None:
    d = LineDecoder()
    d.feed(b"ab\xe2\x82")  # an incomplete euro sign, held back
    with pytest.raises(rxasync.DecodeError) as info:
        d.feed(b"x")  # ...and it never completes
    assert info.value.offset == 2


def test_line_decoder_truncated_at_end_is_an_error() -> None:
    d = LineDecoder()
    d.feed(b"ab\xe2\x82")
    with pytest.raises(rxasync.DecodeError):
        d.close()


def test_line_decoder_replace_substitutes() -> None:
    assert decode_in_chunks(b"a\xffb\nc", [2], errors="replace") == ["a\ufffdb", "c"]


def test_line_decoder_line_too_long_raised_before_newline() -> None:
    d = LineDecoder(max_line_length=10)
    d.feed(b"0123456789")  # exactly the limit: fine
    with pytest.raises(rxasync.LineTooLongError, match="max_line_length=10") as info:
        d.feed(b"x")
    assert info.value.line == 1


def test_line_decoder_line_too_long_inside_one_chunk() -> None:
    d = LineDecoder(max_line_length=5)
    assert d.feed(b"ok\n" + b"y" * 50 + b"\nok\n") == ["ok"]  # the lines before it are not lost
    with pytest.raises(rxasync.LineTooLongError) as info:
        d.feed(b"more\n")
    assert info.value.line == 2
    with pytest.raises(rxasync.LineTooLongError):
        d.close()


def test_line_decoder_line_too_long_tail_after_complete_lines() -> None:
    d = LineDecoder(max_line_length=5)
    assert d.feed(b"a\nb\n" + b"z" * 9) == ["a", "b"]
    with pytest.raises(rxasync.LineTooLongError) as info:
        d.close()
    assert info.value.line == 3


def test_line_decoder_ten_megabyte_line_is_linear() -> None:
    d = LineDecoder(max_line_length=20 << 20)
    chunk = b"x" * 65536
    for _ in range(160):
        assert d.feed(chunk) == []
    (line,) = d.feed(b"\n")
    assert len(line) == 160 * 65536


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"encoding": "nope"}, "unknown encoding"),
        ({"errors": "nope"}, "unknown errors"),
        ({"max_line_length": 0}, "max_line_length"),
    ],
)
def test_line_decoder_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LineDecoder(**kwargs)  # type: ignore[arg-type]


def test_line_decoder_crlf_split_then_bad_byte_counts_the_line_once() -> None:
    # issue 11 item 9: the "\n" completing a CRLF split across chunks is not a new line
    d = LineDecoder()
    assert d.feed(b"a\r") == ["a"]
    with pytest.raises(rxasync.DecodeError) as info:
        d.feed(b"\n\xff")
    assert (info.value.line, info.value.offset) == (2, 3)
    assert "line 2" in str(info.value)


@pytest.mark.parametrize("keepends", [False, True])
@pytest.mark.parametrize(
    ("first", "second", "line"), [(b"a\r", b"\n\xff", 2), (b"a\r", b"\xff", 2), (b"a\r", b"b\r\n\r\xff", 4)]
)
def test_line_decoder_bad_byte_after_split_cr_names_its_line(
    keepends: bool, first: bytes, second: bytes, line: int
) -> None:
    # issue 11 items 9 and 10: the same line number with and without keepends
    d = LineDecoder(keepends=keepends)
    d.feed(first)
    with pytest.raises(rxasync.DecodeError) as info:
        d.feed(second)
    assert info.value.line == line
    assert info.value.offset == len(first) + len(second) - 1


def test_line_decoder_bad_byte_line_matches_splitlines_at_every_split() -> None:
    # the line of a bad byte is what splitlines says, wherever the chunks are cut
    data = b"x\r\ny\rz\n\r\n\xff"
    line = len(data[:-1].decode().splitlines()) + 1
    for keepends in (False, True):
        for cut in range(len(data)):
            d = LineDecoder(keepends=keepends)
            with pytest.raises(rxasync.DecodeError) as info:
                d.feed(data[:cut])
                d.feed(data[cut:])
            assert info.value.line == line, (keepends, cut)


@pytest.mark.parametrize("keepends", [False, True])
@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_line_decoder_max_line_length_is_the_same_with_keepends(keepends: bool, ending: str) -> None:
    # issue 11 item 10: the limit counts characters without the ending, keepends or not
    d = LineDecoder(max_line_length=3, keepends=keepends)
    data = f"aaa{ending}bbbb{ending}cc{ending}".encode()
    expected = ["aaa" + ending] if keepends else ["aaa"]
    assert d.feed(data) == expected
    with pytest.raises(rxasync.LineTooLongError) as info:
        d.feed(b"")
    assert info.value.line == 2


@given(
    lines=st.lists(st.sampled_from(["", "a", "é", "北京", "🚀", "ab c"]), min_size=1, max_size=8),
    endings=st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=8, max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=80), max_size=5),
)
def test_line_decoder_offset_of_is_the_byte_offset_in_the_stream(
    lines: list[str], endings: list[str], cuts: list[int]
) -> None:
    # issue 11 item 11: what ndjson's DecodeError.offset is built on
    text = "".join(line + endings[i] for i, line in enumerate(lines)) + "tail"
    data = text.encode()
    d = LineDecoder(keepends=True)
    seen: list[int] = []
    prev = 0
    for cut in [*sorted(c for c in cuts if c <= len(data)), len(data), None]:
        batch = d.feed(data[prev:cut]) if cut is not None else d.close()
        seen += [d.offset_of(batch, i, len(line) - 1) for i, line in enumerate(batch)]
        prev = cut or 0
    starts = [len("".join(text.splitlines(keepends=True)[:i]).encode()) for i in range(len(seen))]
    wanted = [
        s + len(line[:-1].encode()) for s, line in zip(starts, text.splitlines(keepends=True), strict=True)
    ]
    assert seen == wanted


def test_line_decoder_offset_of_needs_keepends() -> None:
    d = LineDecoder()
    with pytest.raises(ValueError, match="keepends=True"):
        d.offset_of(d.feed(b"a\n"), 0)


@given(
    text=st.lists(st.sampled_from(["a", "é", "🚀", "\r", "\n", "\r\n"]), max_size=16).map("".join),
    cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=4),
    limit=st.integers(min_value=1, max_value=3),
    keepends=st.booleans(),
)
@example(text="aaaa\nbb\n", cuts=[], limit=3, keepends=True)  # issue 11 item 10, as reported
def test_line_decoder_max_line_length_any_chunking_matches_splitlines(
    text: str, cuts: list[int], limit: int, keepends: bool
) -> None:
    # the lines before the first too-long one come out, then the error names it: however cut
    lines = text.splitlines(keepends=keepends)
    bad = next((i for i, line in enumerate(lines) if len(line.rstrip("\r\n")) > limit), None)
    data = text.encode()
    d = LineDecoder(max_line_length=limit, keepends=keepends)
    got: list[str] = []
    error: rxasync.LineTooLongError | None = None
    prev = 0
    try:
        for cut in [*sorted(c for c in cuts if c <= len(data)), len(data)]:
            got += d.feed(data[prev:cut])
            prev = cut
        got += d.close()
    except rxasync.LineTooLongError as exc:
        error = exc
    assert got == (lines if bad is None else lines[:bad])
    assert (error and error.line) == (None if bad is None else bad + 1)


@given(
    text=st.lists(st.sampled_from(["a", "é", "\r", "\n", "\r\n"]), max_size=16).map("".join),
    cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=4),
    keepends=st.booleans(),
)
def test_line_decoder_bad_byte_line_and_offset_any_chunking(
    text: str, cuts: list[int], keepends: bool
) -> None:
    # issue 11 items 9 and 10: the line and offset of a bad byte do not depend on where chunks are cut
    data = text.encode() + b"\xff"
    line = len(re.findall(r"\r\n|\r|\n", text)) + 1
    d = LineDecoder(keepends=keepends)
    prev = 0
    with pytest.raises(rxasync.DecodeError) as info:
        for cut in [*sorted(c for c in cuts if c < len(data)), len(data)]:
            d.feed(data[prev:cut])
            prev = cut
    assert (info.value.line, info.value.offset) == (line, len(data) - 1)
