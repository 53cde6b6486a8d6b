"""read_chunks: content, ranges, errors, truncation, dispose, demand and memory."""

from __future__ import annotations

import asyncio
import os
import threading
import tracemalloc
from pathlib import Path

import pytest
from reactivex import operators as ops
from support import threads_named, wait_until

import rxasync
from rxasync.files import read_chunks
from rxasync.operators import map_async
from rxasync.testing import assert_run

MiB = 1 << 20


@pytest.fixture
def data_file(tmp_path: Path) -> tuple[Path, bytes]:
    data = os.urandom(300_001)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    return path, data


async def test_read_chunks_splits_the_file_in_chunks(data_file: tuple[Path, bytes]) -> None:
    path, data = data_file
    chunks = await assert_run(lambda: read_chunks(path, chunk_size=65536))
    assert [len(c) for c in chunks] == [65536] * 4 + [300_001 - 4 * 65536]
    assert b"".join(chunks) == data


async def test_read_chunks_offset_and_length_read_a_range(data_file: tuple[Path, bytes]) -> None:
    path, data = data_file
    chunks = await rxasync.to_list(read_chunks(str(path), chunk_size=1000, offset=12_345, length=4_321))
    assert b"".join(chunks) == data[12_345 : 12_345 + 4_321]
    assert max(len(c) for c in chunks) == 1000


async def test_read_chunks_length_past_the_end_stops_at_the_end(data_file: tuple[Path, bytes]) -> None:
    path, data = data_file
    chunks = await rxasync.to_list(read_chunks(path, offset=300_000, length=10))
    assert chunks == [data[300_000:]]


async def test_read_chunks_empty_file_completes_without_items(tmp_path: Path) -> None:
    (tmp_path / "empty").touch()
    await assert_run(lambda: read_chunks(tmp_path / "empty"), [])


async def test_read_chunks_can_be_subscribed_twice(data_file: tuple[Path, bytes]) -> None:
    path, data = data_file
    source = read_chunks(path)
    assert await rxasync.to_list(source) == await rxasync.to_list(source) == [data]


async def test_read_chunks_reads_a_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as f:
            for _ in range(10):
                f.write(b"x" * 10_000)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        chunks = await rxasync.to_list(read_chunks(fifo, chunk_size=4096))
    finally:
        await asyncio.to_thread(writer.join)
    assert b"".join(chunks) == b"x" * 100_000


async def test_read_chunks_missing_file_is_file_not_found(tmp_path: Path) -> None:
    path = tmp_path / "missing.bin"
    with pytest.raises(rxasync.FileNotFoundSourceError) as info:
        await rxasync.first(read_chunks(path))
    assert isinstance(info.value, FileNotFoundError)
    assert isinstance(info.value, rxasync.RxAsyncError)
    assert info.value.filename == str(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value.__cause__, FileNotFoundError)


async def test_read_chunks_directory_is_a_directory_error(tmp_path: Path) -> None:
    with pytest.raises(rxasync.IsADirectorySourceError) as info:
        await rxasync.first(read_chunks(tmp_path))
    assert isinstance(info.value, IsADirectoryError)
    assert info.value.filename == str(tmp_path)


async def test_read_chunks_truncated_while_read_is_file_changed(tmp_path: Path) -> None:
    path = tmp_path / "shrinks.bin"
    path.write_bytes(b"y" * MiB)
    chunks: list[bytes] = []
    source = read_chunks(path, chunk_size=65536, read_ahead=65536)
    with pytest.raises(rxasync.FileChangedError, match="truncated while read") as info:
        async with rxasync.to_async_iterable(source, max_buffer=1) as items:
            async for chunk in items:
                chunks.append(chunk)
                if len(chunks) == 1:
                    os.truncate(path, 100_000)
    assert info.value.filename == str(path)
    assert isinstance(info.value, OSError)
    assert sum(map(len, chunks)) < MiB


async def test_read_chunks_grown_while_read_includes_the_new_bytes(tmp_path: Path) -> None:
    path = tmp_path / "grows.bin"
    path.write_bytes(b"a" * 8 * 65536)  # the reader is at most a few chunks ahead
    chunks: list[bytes] = []
    async with rxasync.to_async_iterable(
        read_chunks(path, chunk_size=65536, read_ahead=65536), max_buffer=1
    ) as items:
        async for chunk in items:
            chunks.append(chunk)
            if len(chunks) == 1:
                with path.open("ab") as f:
                    f.write(b"b" * 10)
    assert b"".join(chunks).endswith(b"b" * 10)


async def test_read_chunks_dispose_closes_the_file_and_stops_the_thread(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    with path.open("wb") as f:
        f.truncate(256 * MiB)
    async with rxasync.to_async_iterable(read_chunks(path, chunk_size=MiB), max_buffer=1) as items:
        async for _chunk in items:
            break
    # the bridge waits in the generator's finally until the reader thread closed the file
    await wait_until(lambda: not threads_named("rxasync read"), within=2)
    assert str(path) not in rxasync.testing.open_fds().values()


async def test_read_chunks_bad_arguments_fail_at_call_time(tmp_path: Path) -> None:
    for kwargs in (
        {"chunk_size": 0},
        {"offset": -1},
        {"length": -1},
        {"read_ahead": 0},
        {"chunk_size": True},
    ):
        with pytest.raises(ValueError):
            read_chunks(tmp_path / "x", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        read_chunks(b"bytes path")  # type: ignore[arg-type]


@pytest.mark.slow
async def test_read_chunks_2gib_with_a_slow_consumer_stays_under_64mib(tmp_path: Path) -> None:
    path = tmp_path / "sparse-2g.bin"
    with path.open("wb") as f:
        f.truncate(2048 * MiB)  # sparse: no disk used, reads as zeros

    async def slow(chunk: bytes) -> int:
        await asyncio.sleep(0.001)
        return len(chunk)

    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        total = await rxasync.last(
            read_chunks(path, chunk_size=4 * MiB).pipe(map_async(slow, concurrency=2), ops.sum())
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 2048 * MiB
    assert peak - base < 64 * MiB, f"grew {(peak - base) / MiB:.1f} MiB"
