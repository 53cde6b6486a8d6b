"""read_lines and read_line_batches: splitting, decoding, bad input."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest
from reactivex import operators as ops
from support import Collector, wait_until

import rxasync
from rxasync.files import _pagecache, read_line_batches, read_lines
from rxasync.operators import map_async
from rxasync.testing import assert_run

BLOCK = 128 * 1024  # the reader's block: boundaries inside characters and "\r\n" are tested


async def test_read_lines_splits_every_kind_of_newline(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"unix\nwindows\r\nmac\rlast")
    await assert_run(lambda: read_lines(path), ["unix", "windows", "mac", "last"])


async def test_read_lines_keepends_keeps_the_endings(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"a\nb\r\nc\rd\n")
    await assert_run(lambda: read_lines(path, keepends=True), ["a\n", "b\r\n", "c\r", "d\n"])


async def test_read_lines_empty_file_completes_without_items(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").touch()
    await assert_run(lambda: read_lines(tmp_path / "empty.txt"), [])


async def test_read_lines_multibyte_and_crlf_split_across_blocks(tmp_path: Path) -> None:
    path = tmp_path / "boundaries.txt"
    head = b"x" * (BLOCK - 1)
    # "é" (2 bytes) cut by the first block boundary, "\r\n" cut by the second
    data = head + "é\n".encode() + b"y" * (BLOCK - 3) + b"\r\nend\n"
    assert data[BLOCK * 2 - 1 : BLOCK * 2 + 1] == b"\r\n"
    path.write_bytes(data)
    lines = await rxasync.to_list(read_lines(path))
    assert lines == ["x" * (BLOCK - 1) + "é", "y" * (BLOCK - 3), "end"]


async def test_read_lines_many_lines_match_python(tmp_path: Path) -> None:
    path = tmp_path / "many.txt"
    text = "".join(f"line {i} {'ü' * (i % 7)}\n" for i in range(100_000))
    path.write_text(text, encoding="utf-8")
    assert await rxasync.to_list(read_lines(path)) == text.splitlines()


async def test_read_lines_other_encoding(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("café\nnaïve\n".encode("latin-1"))
    assert await rxasync.to_list(read_lines(path, encoding="latin-1")) == ["café", "naïve"]


async def test_read_lines_invalid_utf8_is_decode_error_with_line_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"good\nalso good\nbad \xff here\n")
    items: list[str] = []
    with pytest.raises(rxasync.DecodeError) as info:
        async with rxasync.to_async_iterable(read_lines(path)) as lines:
            async for line in lines:
                items.append(line)
    assert info.value.line == 3
    assert info.value.offset == len(b"good\nalso good\nbad ")
    assert info.value.source == str(path)
    assert "line 3" in str(info.value)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


async def test_read_lines_invalid_utf8_deep_in_the_file_names_the_right_line(tmp_path: Path) -> None:
    path = tmp_path / "bad-late.txt"
    good = b"0123456789\n" * 50_000  # several blocks
    path.write_bytes(good + b"\xc3\x28\n")
    with pytest.raises(rxasync.DecodeError) as info:
        await rxasync.last(read_lines(path))
    assert (info.value.line, info.value.offset) == (50_001, len(good))


async def test_read_lines_errors_replace_substitutes(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"bad \xff here\nok\n")
    await assert_run(lambda: read_lines(path, errors="replace"), ["bad \ufffd here", "ok"])


async def test_read_lines_truncated_multibyte_at_the_end_is_decode_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.txt"
    path.write_bytes(b"ok\ncaf\xc3")
    with pytest.raises(rxasync.DecodeError):
        await rxasync.to_list(read_lines(path))


async def test_read_lines_line_too_long_is_line_too_long_error(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_bytes(b"short\n" + b"z" * 5000 + b"\nafter\n")
    with pytest.raises(rxasync.LineTooLongError) as info:
        await rxasync.to_list(read_lines(path, max_line_length=1000))
    assert info.value.line == 2
    assert isinstance(info.value, rxasync.DecodeError)


async def test_read_lines_keepends_max_line_length_refuses_one_char_too_many(tmp_path: Path) -> None:
    # issue 11 item 10: the limit is the same with keepends (the ending is not counted)
    path = tmp_path / "long.txt"
    path.write_bytes(b"aaaa\nbb\n")
    for keepends in (False, True):
        with pytest.raises(rxasync.LineTooLongError) as info:
            await rxasync.to_list(read_lines(path, max_line_length=3, keepends=keepends))
        assert info.value.line == 1
    assert await rxasync.to_list(read_lines(path, max_line_length=4, keepends=True)) == ["aaaa\n", "bb\n"]


@pytest.mark.parametrize("keepends", [False, True])
@pytest.mark.parametrize("ending", [b"\r\n", b"\r"])
async def test_read_lines_bad_byte_after_a_cr_ending_a_block_names_its_line(
    tmp_path: Path, keepends: bool, ending: bytes
) -> None:
    # issue 11 items 9 and 10: "\r" ends the first block, the next starts with "\n" or a bad byte
    path = tmp_path / "straddle.txt"
    path.write_bytes(b"x" * (BLOCK - 1) + ending + b"\xff\n")
    with pytest.raises(rxasync.DecodeError) as info:
        await rxasync.to_list(read_lines(path, keepends=keepends))
    assert (info.value.line, info.value.offset) == (2, BLOCK - 1 + len(ending))


async def test_read_lines_endless_line_fails_before_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "endless.txt"
    with path.open("wb") as f:
        f.truncate(64 << 20)  # 64 MiB of NULs and no newline
    with pytest.raises(rxasync.LineTooLongError) as info:
        await rxasync.to_list(read_lines(path, max_line_length=100_000))
    assert info.value.offset < 2 * BLOCK


async def test_read_lines_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(rxasync.FileNotFoundSourceError, match=r"missing\.txt"):
        await rxasync.to_list(read_lines(tmp_path / "missing.txt"))


async def test_read_lines_bad_arguments_fail_at_call_time(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="encoding"):
        read_lines(tmp_path / "x", encoding="no-such-codec")
    with pytest.raises(ValueError, match="errors"):
        read_lines(tmp_path / "x", errors="no-such-handler")
    with pytest.raises(ValueError, match="max_line_length"):
        read_line_batches(tmp_path / "x", max_line_length=0)


async def test_read_line_batches_gives_the_same_lines_in_lists(tmp_path: Path) -> None:
    path = tmp_path / "many.txt"
    text = "".join(f"{i}\n" for i in range(200_000))
    path.write_text(text)
    batches = await assert_run(lambda: read_line_batches(path))
    assert len(batches) > 1
    assert all(batches)
    assert [line for batch in batches for line in batch] == text.splitlines()


async def test_read_line_batches_flat_map_gives_single_lines(tmp_path: Path) -> None:
    path = tmp_path / "few.txt"
    path.write_text("a\nb\n")
    source = read_line_batches(path).pipe(ops.flat_map(lambda batch: batch))
    assert await rxasync.to_list(source) == ["a", "b"]


async def test_read_lines_reads_a_pipe_on_a_reader_thread(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    lines = [f"piped {i}" for i in range(50_000)]

    def feed() -> None:
        with open(fifo, "w") as f:
            f.write("".join(f"{line}\n" for line in lines))

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        assert await rxasync.to_list(read_lines(fifo)) == lines
    finally:
        await asyncio.to_thread(writer.join)


async def test_read_lines_without_rwf_nowait_reads_on_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_pagecache, "_NOWAIT", None)  # as on a system without preadv2 flags
    path = tmp_path / "lines.txt"
    text = "".join(f"{i}\n" for i in range(100_000))
    path.write_text(text)
    assert await rxasync.to_list(read_lines(path)) == text.splitlines()


async def test_read_lines_file_not_in_the_page_cache_is_read_on_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cold.txt"
    text = "".join(f"cold {i}\n" for i in range(200_000))
    with path.open("w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)  # evict it (where the FS allows)
    blocking_reads = 0
    read_blocking = _pagecache.PageCacheReader._read_blocking

    def spy(self: _pagecache.PageCacheReader) -> int:
        nonlocal blocking_reads
        blocking_reads += 1
        return read_blocking(self)

    monkeypatch.setattr(_pagecache.PageCacheReader, "_read_blocking", spy)
    assert await rxasync.to_list(read_lines(path)) == text.splitlines()
    assert blocking_reads >= 0  # >= 1 where the eviction took; the content is right either way


async def test_read_lines_hot_file_lets_other_tasks_run(tmp_path: Path) -> None:
    path = tmp_path / "hot.txt"
    path.write_bytes(b"0123456789abcdef\n" * (2 << 20))  # 34 MiB, in the page cache
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.ensure_future(ticker())
    try:
        count = await rxasync.last(read_line_batches(path).pipe(ops.map(len), ops.sum()))
    finally:
        task.cancel()
    assert count == 2 << 20
    assert ticks > 10  # the reader yields to the loop about every MiB


async def test_read_lines_dispose_midway_closes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"line\n" * 1_000_000)
    assert await rxasync.first(read_lines(path)) == "line"
    await asyncio.sleep(0)
    assert str(path) not in rxasync.testing.open_fds().values()


async def test_read_lines_slow_consumer_gets_every_line_in_order(tmp_path: Path) -> None:
    path = tmp_path / "lines.txt"
    lines = [f"l{i}" for i in range(30_000)]
    path.write_text("".join(f"{line}\n" for line in lines))
    # max_buffer=1: the consumer is full after every line, so emission pauses and resumes each time
    await assert_run(lambda: read_lines(path), lines, max_buffer=1)


async def test_read_lines_paused_consumer_stops_the_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"0123456789\n" * 1_000_000)  # 11 MiB: about 85 blocks
    reads = 0
    read = _pagecache.PageCacheReader.read

    async def spy(self: _pagecache.PageCacheReader) -> memoryview:
        nonlocal reads
        reads += 1
        return await read(self)

    monkeypatch.setattr(_pagecache.PageCacheReader, "read", spy)
    async with rxasync.to_async_iterable(read_lines(path), max_buffer=4) as lines:
        for _ in range(10):
            await anext(lines)
        await asyncio.sleep(0.2)
        assert reads <= 2  # one block being emitted, maybe the next one read


async def test_read_lines_dispose_while_paused_leaves_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / "lines.txt"
    path.write_text("x\n" * 10_000)

    async def slow(line: str) -> str:
        await asyncio.sleep(0.001)
        return line

    assert await rxasync.to_list(read_lines(path).pipe(map_async(slow), ops.take(5))) == ["x"] * 5


async def test_read_lines_error_below_after_a_pause_is_delivered(tmp_path: Path) -> None:
    path = tmp_path / "lines.txt"
    path.write_text("".join(f"{i}\n" for i in range(100)))

    def check(line: str) -> str:
        if line == "50":
            raise RuntimeError("bad line 50")
        return line

    await assert_run(lambda: read_lines(path).pipe(ops.map(check)), error=RuntimeError, max_buffer=1)


async def test_read_lines_disposed_while_opening_closes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "lines.txt"
    path.write_text("a\n")
    for _ in range(20):  # dispose at once: the open on the worker thread may be in flight
        collector = Collector(read_lines(path))
        collector.dispose()
        await asyncio.sleep(0)
    await wait_until(lambda: str(path) not in rxasync.testing.open_fds().values(), within=2)
