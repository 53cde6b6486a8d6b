"""write and write_lines: content, atomicity under failure, ENOSPC, demand."""

from __future__ import annotations

import asyncio
import errno
import os
import stat
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import reactivex
from reactivex import abc
from reactivex import operators as ops
from reactivex.subject import Subject
from support import Collector, threads_named, wait_until

import rxasync
from rxasync.files import _target, read_chunks, write, write_lines
from rxasync.testing import assert_run

MiB = 1 << 20


def only_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def test_write_writes_the_items_and_emits_the_total(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    chunks = [os.urandom(n) for n in (1, 1000, 70_000, 0, 5)]
    await assert_run(lambda: reactivex.from_iterable(chunks).pipe(write(path)), [71_006])
    assert path.read_bytes() == b"".join(chunks)
    assert only_files(tmp_path) == ["out.bin"]


async def test_write_replaces_an_existing_file_and_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    path.write_bytes(b"old content")
    path.chmod(0o640)
    await rxasync.to_list(reactivex.of(b"new").pipe(write(path)))
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


async def test_write_accepts_bytearray_and_memoryview(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    await rxasync.to_list(reactivex.of(bytearray(b"ab"), memoryview(b"cd")).pipe(write(path)))
    assert path.read_bytes() == b"abcd"


async def test_write_text_mode_encodes_str(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    assert await rxasync.to_list(reactivex.of("é", "!").pipe(write(path, mode="w"))) == [3]
    assert path.read_text(encoding="utf-8") == "é!"


async def test_write_append_atomic_keeps_the_old_content_first(tmp_path: Path) -> None:
    path = tmp_path / "log.bin"
    path.write_bytes(b"old|")
    await rxasync.to_list(reactivex.of(b"new").pipe(write(path, mode="ab")))
    assert path.read_bytes() == b"old|new"


async def test_write_append_not_atomic_appends_in_place(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_text("a\n")
    await rxasync.to_list(reactivex.of("b\n").pipe(write(path, mode="a", atomic=False, fsync=True)))
    assert path.read_text() == "a\nb\n"


async def test_write_fsync_atomic_completes(tmp_path: Path) -> None:
    path = tmp_path / "synced.bin"
    await rxasync.to_list(reactivex.of(b"x").pipe(write(path, fsync=True)))
    assert path.read_bytes() == b"x"


async def test_write_copies_a_file_read_with_read_chunks(tmp_path: Path) -> None:
    src, dst = tmp_path / "src.bin", tmp_path / "dst.bin"
    src.write_bytes(os.urandom(3 * MiB + 17))
    total = await rxasync.first(read_chunks(src, chunk_size=65536).pipe(write(dst, max_buffer=MiB)))
    assert total == 3 * MiB + 17
    assert dst.read_bytes() == src.read_bytes()


async def test_write_lines_adds_newlines(tmp_path: Path) -> None:
    path = tmp_path / "lines.txt"
    lines = [f"line {i}" for i in range(10_000)]
    await rxasync.to_list(reactivex.from_iterable(lines).pipe(write_lines(path)))
    assert path.read_text().splitlines() == lines
    await rxasync.to_list(reactivex.of("x", "y").pipe(write_lines(path, mode="a", newline="\r\n")))
    assert path.read_bytes().endswith(b"line 9999\nx\r\ny\r\n")


async def test_write_source_error_halfway_leaves_the_target_untouched(tmp_path: Path) -> None:
    path = tmp_path / "precious.bin"
    path.write_bytes(b"precious")

    async def halfway() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"z" * 65536
            await asyncio.sleep(0)
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError, match="source broke"):
        await rxasync.to_list(rxasync.from_async_iterable(halfway).pipe(write(path)))
    assert path.read_bytes() == b"precious"
    assert only_files(tmp_path) == ["precious.bin"]  # the error came after the temp file was removed


async def test_write_dispose_halfway_leaves_the_target_untouched(tmp_path: Path) -> None:
    path = tmp_path / "precious.bin"
    path.write_bytes(b"precious")
    produced = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal produced
        while True:
            produced += 1
            yield b"z" * 65536
            await asyncio.sleep(0)

    collector = Collector(rxasync.from_async_iterable(endless).pipe(write(path)))
    try:
        await wait_until(lambda: produced > 20)
        # the target and the temporary file (the writer thread may open it after 20 items are queued)
        await wait_until(lambda: len(only_files(tmp_path)) == 2)
    finally:
        collector.dispose()
    await wait_until(lambda: only_files(tmp_path) == ["precious.bin"])
    await wait_until(lambda: not threads_named("rxasync write"))
    assert path.read_bytes() == b"precious"
    assert collector.items == []
    assert collector.error is None


async def test_write_dev_full_is_enospc(tmp_path: Path) -> None:
    with pytest.raises(rxasync.FileSourceError) as info:
        await rxasync.to_list(reactivex.of(b"x" * 100).pipe(write("/dev/full")))
    assert info.value.errno == errno.ENOSPC
    assert info.value.filename == "/dev/full"
    assert isinstance(info.value.__cause__, OSError)


async def test_write_atomic_enospc_leaves_the_target_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The temporary file is created for real, but its descriptor is turned into
    # one on /dev/full, so the writes fail with the kernel's own ENOSPC.
    create = _target.Target._create_temp

    def create_on_full_disk(self: _target.Target, folder: str, name: str) -> tuple[str, int]:
        temp, fd = create(self, folder, name)
        full = os.open("/dev/full", os.O_WRONLY)
        os.dup2(full, fd)
        os.close(full)
        return temp, fd

    monkeypatch.setattr(_target.Target, "_create_temp", create_on_full_disk)
    path = tmp_path / "precious.bin"
    path.write_bytes(b"precious")
    with pytest.raises(rxasync.FileSourceError) as info:
        await rxasync.to_list(reactivex.of(b"a" * MiB, b"b").pipe(write(path)))
    assert info.value.errno == errno.ENOSPC
    assert str(path) in str(info.value)
    assert path.read_bytes() == b"precious"
    assert only_files(tmp_path) == ["precious.bin"]


async def test_write_wrong_item_type_is_type_error(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    with pytest.raises(TypeError, match="expected bytes"):
        await rxasync.to_list(reactivex.of(b"a", "text").pipe(write(path)))
    with pytest.raises(TypeError, match="expected str"):
        await rxasync.to_list(reactivex.of(b"a").pipe(write_lines(path)))
    assert only_files(tmp_path) == []


async def test_write_into_a_missing_folder_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(rxasync.FileNotFoundSourceError):
        await rxasync.to_list(reactivex.of(b"a").pipe(write(tmp_path / "no" / "out.bin")))


async def test_write_to_a_directory_is_a_directory_error(tmp_path: Path) -> None:
    with pytest.raises(rxasync.IsADirectorySourceError):
        await rxasync.to_list(reactivex.of(b"a").pipe(write(tmp_path)))


async def test_write_pauses_the_source_while_the_writer_is_behind(tmp_path: Path) -> None:
    # A FIFO nobody reads yet: the writer thread blocks once the pipe is full,
    # and the source must stop after about max_buffer bytes.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader_fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    produced = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal produced
        for _ in range(200):
            produced += 1
            yield b"q" * 65536

    try:
        collector = Collector(
            rxasync.from_async_iterable(chunks).pipe(ops.map(bytes), write(fifo, max_buffer=MiB))
        )
        await wait_until(lambda: produced >= 16)
        await asyncio.sleep(0.2)
        # 1 MiB queued + 64 KiB in the pipe + the chunk being written, in 64 KiB chunks
        assert produced <= 20
        received = await asyncio.to_thread(_drain, reader_fd, 200 * 65536)
        await wait_until(lambda: collector.completed)
        assert received == 200 * 65536
        assert collector.items == [200 * 65536]
    finally:
        os.close(reader_fd)


def _drain(fd: int, expected: int) -> int:
    os.set_blocking(fd, True)
    got = 0
    while got < expected:
        got += len(os.read(fd, MiB))
    return got


async def test_write_bad_arguments_fail_at_call_time(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mode"):
        write(tmp_path / "x", mode="r")
    with pytest.raises(ValueError, match="mode"):
        write_lines(tmp_path / "x", mode="wb")
    with pytest.raises(ValueError, match="max_buffer"):
        write(tmp_path / "x", max_buffer=0)
    with pytest.raises(LookupError):
        write(tmp_path / "x", mode="w", encoding="no-such-codec")


def test_write_thread_is_not_started_before_subscribe(tmp_path: Path) -> None:
    before = threading.active_count()
    write(tmp_path / "x")
    assert threading.active_count() == before


async def test_write_source_emitting_from_a_thread_is_written_in_order(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    source = reactivex.from_iterable([b"%d," % i for i in range(1000)]).pipe(
        ops.subscribe_on(rxasync.schedulers.threads(1))
    )
    assert await rxasync.first(source.pipe(write(path))) == sum(len(b"%d," % i) for i in range(1000))
    assert path.read_bytes() == b"".join(b"%d," % i for i in range(1000))


async def test_write_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "data" / "real.bin"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "link.bin"
    link.symlink_to(real)
    await rxasync.to_list(reactivex.of(b"new").pipe(write(link)))
    assert link.is_symlink()
    assert real.read_bytes() == b"new"
    assert only_files(real.parent) == ["real.bin"]


def test_write_disposed_from_a_thread_while_the_loop_is_idle_removes_the_temporary_file_at_once(
    tmp_path: Path,
) -> None:
    """Dispose aborts the writer where it is called: the loop need not run again (issue 10 review)."""
    loop = asyncio.new_event_loop()
    subject: Subject[bytes] = Subject()

    async def setup() -> abc.DisposableBase:
        subscription = subject.pipe(write(tmp_path / "out.bin")).subscribe(lambda n: None)
        subject.on_next(b"abc")
        await wait_until(lambda: only_files(tmp_path) != [])  # the temporary file is open
        return subscription

    try:
        subscription = loop.run_until_complete(setup())
        disposer = threading.Thread(target=subscription.dispose)
        disposer.start()
        disposer.join()
        for _ in range(200):  # at most 2 s, with the loop idle (neither running nor closed)
            if not only_files(tmp_path) and not threads_named("rxasync write"):
                break
            threading.Event().wait(0.01)
        assert only_files(tmp_path) == []
        assert threads_named("rxasync write") == []
        loop.run_until_complete(asyncio.sleep(0.01))  # the rest of dispose, hopped to the loop
        assert not subject.observers  # upstream disposed
    finally:
        loop.close()
