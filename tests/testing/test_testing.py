"""rxasync.testing catches the leaks it promises to catch."""

from __future__ import annotations

import asyncio
import os

import pytest
import reactivex

from rxasync.testing import LeakError, assert_run, no_leaks


@pytest.mark.allow_leaks
async def test_no_leaks_reports_pending_task() -> None:
    holder: list[asyncio.Task[None]] = []
    with pytest.raises(LeakError, match="pending task"):
        async with no_leaks(settle=0.05):
            holder.append(asyncio.create_task(asyncio.sleep(3600)))
    holder[0].cancel()


@pytest.mark.allow_leaks
async def test_no_leaks_reports_open_file(tmp_path: os.PathLike[str]) -> None:
    handles = []
    with pytest.raises(LeakError, match="open fd"):
        async with no_leaks(settle=0.05):
            handles.append(open(os.path.join(tmp_path, "f"), "w"))  # noqa: SIM115, ASYNC230
    handles[0].close()


@pytest.mark.allow_leaks
async def test_no_leaks_reports_loop_errors() -> None:
    with pytest.raises(LeakError, match="loop error"):
        async with no_leaks(settle=0.05):
            asyncio.get_running_loop().call_exception_handler({"message": "Unclosed client session"})


async def test_assert_run_detects_mismatch() -> None:
    with pytest.raises(AssertionError, match="through subscribe"):
        await assert_run(lambda: reactivex.of(1), [2])
    with pytest.raises(AssertionError, match="expected KeyError"):
        await assert_run(lambda: reactivex.of(1), error=KeyError)


@pytest.mark.allow_leaks
async def test_no_leaks_reports_an_error_only_a_collection_finds() -> None:
    # the suite freezes the heap from before each test (tests/conftest.py): what the test
    # makes is still collected, so a failed task kept only by a reference cycle is reported
    async def fail() -> None:
        raise KeyError("never retrieved")

    with pytest.raises(LeakError, match="exception was never retrieved"):
        async with no_leaks(settle=0.05):
            task = asyncio.ensure_future(fail())
            await asyncio.sleep(0)
            cycle: list[object] = [task]
            cycle.append(cycle)
            del task, cycle
