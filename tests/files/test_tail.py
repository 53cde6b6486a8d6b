"""tail: follows appends, truncation, rotation, a file not there yet; partial lines."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from support import Collector, wait_until

import rxasync
from rxasync.files import tail

POLL = 0.01


def append(path: Path, data: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(data)


async def test_tail_from_start_emits_existing_then_appended_lines(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("one\ntwo\n")
    c = Collector(tail(path, from_start=True, poll_interval=POLL))
    try:
        await wait_until(lambda: c.items == ["one", "two"])
        append(path, "three\n")
        await wait_until(lambda: c.items == ["one", "two", "three"])
    finally:
        c.dispose()


async def test_tail_default_skips_what_was_there(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("old\n")
    c = Collector(tail(path, poll_interval=POLL))
    try:
        for i in range(3):
            append(path, f"new {i}\n")
            await asyncio.sleep(0.02)
        await wait_until(lambda: c.items == ["new 0", "new 1", "new 2"])
    finally:
        c.dispose()


async def test_tail_starts_at_the_end_as_it_was_at_subscription(tmp_path: Path) -> None:
    # issue 11 item 12: a line written right after subscribing, before the first poll, is not lost
    path = tmp_path / "app.log"
    path.write_text("old\n")
    c = Collector(tail(path, poll_interval=POLL))
    try:
        append(path, "right after subscribe\n")  # the follower's first poll has not run yet
        await wait_until(lambda: c.items == ["right after subscribe"])
    finally:
        c.dispose()


async def test_tail_each_subscription_starts_at_its_own_end(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("old\n")
    source = tail(path, poll_interval=POLL)
    first = Collector(source)
    append(path, "a\n")
    second = Collector(source)
    append(path, "b\n")
    try:
        await wait_until(lambda: first.items == ["a", "b"] and second.items == ["b"])
    finally:
        first.dispose()
        second.dispose()


async def test_tail_file_replaced_before_the_first_poll_is_read_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("old\n")
    c = Collector(tail(path, poll_interval=POLL))
    try:
        fresh = tmp_path / "fresh.log"
        fresh.write_text("new file\n")
        os.replace(fresh, path)  # after subscription: all of the new file is new
        await wait_until(lambda: c.items == ["new file"])
    finally:
        c.dispose()


async def test_tail_file_truncated_before_the_first_poll_is_read_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("an old line, long enough\n")
    c = Collector(tail(path, poll_interval=POLL))
    try:
        path.write_text("short\n")  # truncated below the end taken at subscription, then written
        await wait_until(lambda: c.items == ["short"])
    finally:
        c.dispose()


@pytest.mark.virtual_time
async def test_tail_never_emits_a_partial_line_before_its_newline(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("")
    c = Collector(tail(path, from_start=True, poll_interval=POLL))
    try:
        append(path, "hal")
        await asyncio.sleep(0.1)
        assert c.items == []
        append(path, "f line\n")
        await wait_until(lambda: c.items == ["half line"])
    finally:
        c.dispose()


async def test_tail_dispose_drops_the_partial_line_and_closes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("done\npartial")
    c = Collector(tail(path, from_start=True, poll_interval=POLL))
    await wait_until(lambda: c.items == ["done"])
    c.dispose()
    await wait_until(lambda: str(path) not in rxasync.testing.open_fds().values(), within=2)
    assert c.items == ["done"]
    assert not c.completed


async def test_tail_waits_for_a_file_that_does_not_exist_yet(tmp_path: Path) -> None:
    path = tmp_path / "later.log"
    c = Collector(tail(path, poll_interval=POLL))
    try:
        await asyncio.sleep(0.05)
        path.write_text("first\nsecond\n")  # a file that appears is read from its start
        await wait_until(lambda: c.items == ["first", "second"])
        assert c.error is None
    finally:
        c.dispose()


async def test_tail_follows_a_rotation(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("a\n")
    c = Collector(tail(path, from_start=True, poll_interval=POLL))
    try:
        await wait_until(lambda: c.items == ["a"])
        append(path, "b\nunfinished")
        os.rename(path, tmp_path / "app.log.1")  # logrotate: rename, then a new file
        path.write_text("c\n")
        await wait_until(lambda: c.items == ["a", "b", "unfinished", "c"])
        append(path, "d\n")
        await wait_until(lambda: c.items[-1:] == ["d"])
    finally:
        c.dispose()


async def test_tail_keeps_the_old_file_until_a_new_one_appears(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("a\n")
    c = Collector(tail(path, from_start=True, poll_interval=POLL))
    try:
        await wait_until(lambda: c.items == ["a"])
        old = tmp_path / "app.log.1"
        os.rename(path, old)
        append(old, "late write to the renamed file\n")
        await wait_until(lambda: c.items == ["a", "late write to the renamed file"])
        path.write_text("new\n")
        await wait_until(lambda: c.items[-1:] == ["new"])
    finally:
        c.dispose()


async def test_tail_follows_a_truncation(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("first line that is long\n")
    c = Collector(tail(path, from_start=True, poll_interval=POLL))
    try:
        await wait_until(lambda: c.items == ["first line that is long"])
        with path.open("w") as f:  # truncate, as copytruncate or "> app.log" do
            f.write("x\n")
        await wait_until(lambda: c.items == ["first line that is long", "x"])
        append(path, "y\n")
        await wait_until(lambda: c.items[-1:] == ["y"])
    finally:
        c.dispose()


async def test_tail_invalid_utf8_is_decode_error(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"ok\n\xff\n")
    c = Collector(tail(path, from_start=True, poll_interval=POLL))
    await wait_until(lambda: c.error is not None)
    assert isinstance(c.error, rxasync.DecodeError)
    assert (c.error.line, c.error.offset) == (2, 3)
    assert c.items == []  # the lines of the block with the bad bytes are not emitted


async def test_tail_errors_replace_substitutes(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"\xff\n")
    c = Collector(tail(path, from_start=True, poll_interval=POLL, errors="replace"))
    try:
        await wait_until(lambda: c.items == ["\ufffd"])
    finally:
        c.dispose()


async def test_tail_directory_is_a_directory_error(tmp_path: Path) -> None:
    c = Collector(tail(tmp_path, poll_interval=POLL))
    await wait_until(lambda: c.error is not None)
    assert isinstance(c.error, rxasync.IsADirectorySourceError)


async def test_tail_bad_poll_interval_fails_at_call_time(tmp_path: Path) -> None:
    for bad in (0, -1, True, "1"):
        with pytest.raises(ValueError, match="poll_interval"):
            tail(tmp_path / "x", poll_interval=bad)  # type: ignore[arg-type]


async def test_tail_from_start_of_a_big_file_reads_it_all_without_waiting(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    lines = [f"{i:09}" for i in range(1_000_000)]  # 10 MB: several polls of 4 MiB, back to back
    path.write_text("".join(f"{line}\n" for line in lines))
    c = Collector(tail(path, from_start=True, poll_interval=60))  # a wait between polls would hang
    try:
        await wait_until(lambda: len(c.items) == len(lines))
        assert c.items == lines
    finally:
        c.dispose()


async def test_tail_line_too_long_after_good_lines_fails_without_waiting_for_more(tmp_path: Path) -> None:
    # the decoder returns the lines before a too-long one and holds the error for its next call;
    # tail made that call only when more bytes came, so a quiet file never delivered the error
    path = tmp_path / "app.log"
    path.write_text("ok\nxxxxx\n")
    c = Collector(tail(path, from_start=True, poll_interval=POLL, max_line_length=3))
    try:
        await wait_until(lambda: c.error is not None, within=5)
        assert isinstance(c.error, rxasync.LineTooLongError)
        assert (c.items, c.error.line) == (["ok"], 2)
    finally:
        c.dispose()
