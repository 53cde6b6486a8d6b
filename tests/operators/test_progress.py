"""progress: a tqdm bar over a stream, closed on every ending, safe with worker threads."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import reactivex
from reactivex import operators as ops
from tqdm import tqdm

import rxasync
from rxasync.files import read_chunks
from rxasync.operators import progress
from rxasync.stats import watch


def open_bars() -> int:
    return len(getattr(tqdm, "_instances", ()))


async def test_progress_counts_items_and_passes_them_through() -> None:
    out = io.StringIO()
    src = reactivex.range(7).pipe(progress(desc="items", file=out))
    assert await rxasync.to_list(src) == list(range(7))
    text = out.getvalue()
    assert "items: 7it" in text
    assert "it/s" in text
    assert "<" not in text.rsplit("\r", 1)[-1]  # no total: no ETA
    assert open_bars() == 0


async def test_progress_bytes_of_a_file_with_its_size_as_total(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    size = path.write_bytes(os.urandom(3 * 1024 * 1024 + 5))  # for a file: os.path.getsize(path)
    out = io.StringIO()
    bar = progress(desc="read", total=size, unit="B", weight=len, file=out, mininterval=0)
    chunks = await rxasync.to_list(read_chunks(path, chunk_size=256 * 1024).pipe(bar))
    assert b"".join(chunks) == path.read_bytes()
    final = out.getvalue().rsplit("\r", 1)[-1]
    assert "read: 100%" in final
    assert "3.00M/3.00M" in final  # 1024-based scaling of bytes
    assert "B/s" in final
    assert "<" in final  # an ETA (elapsed<remaining) because the total is known


async def test_progress_shows_eta_while_running() -> None:
    out = io.StringIO()
    seen: list[str] = []
    bar = progress(desc="eta", total=10, file=out, mininterval=0, miniters=1)

    async def slowly() -> Any:
        for i in range(5):
            await asyncio.sleep(0.01)
            yield i

    async for _ in rxasync.to_async_iterable(rxasync.from_async_iterable(slowly).pipe(bar)):
        seen.append(out.getvalue().rsplit("\r", 1)[-1])
    assert any(" 4/10 [" in s and "<00:0" in s for s in seen)


async def test_progress_bar_closed_on_error() -> None:
    out = io.StringIO()
    src = reactivex.concat(reactivex.of(1, 2), reactivex.throw(ValueError("bad"))).pipe(progress(file=out))
    with pytest.raises(ValueError, match="bad"):
        await rxasync.to_list(src)
    assert open_bars() == 0
    assert "2it" in out.getvalue()


async def test_progress_bar_closed_on_dispose() -> None:
    out = io.StringIO()
    sub = reactivex.never().pipe(progress(desc="never", file=out)).subscribe()
    assert open_bars() == 1
    sub.dispose()
    assert open_bars() == 0
    sub.dispose()  # twice is harmless


async def test_progress_bar_closed_when_take_stops_it() -> None:
    src = reactivex.interval(0.001, scheduler=rxasync.schedulers.loop()).pipe(
        progress(file=io.StringIO()), ops.take(3)
    )
    assert await rxasync.to_list(src) == [0, 1, 2]
    await asyncio.sleep(0)
    assert open_bars() == 0


async def test_progress_items_from_worker_threads_all_counted() -> None:
    threads, per_thread = 8, 5000
    out = io.StringIO()

    def from_threads(observer: Any, _: Any = None) -> None:
        def emit(k: int) -> None:
            for i in range(per_thread):
                observer.on_next(k * per_thread + i)

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(emit, range(threads)))
        observer.on_completed()

    got: list[int] = []
    async with watch(view=False) as w:
        src = reactivex.create(from_threads).pipe(progress(desc="threads", name="fan-in", file=out))
        await asyncio.to_thread(lambda: src.subscribe(got.append))
    assert sorted(got) == list(range(threads * per_thread))
    assert f"threads: {threads * per_thread}it" in out.getvalue()
    [row] = [r for r in w.rows if r["name"] == "fan-in"]
    assert row["items_out"] == threads * per_thread
    assert row["passive"]
    assert row["state"] == "completed"


def test_progress_without_tqdm_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['tqdm'] = None\n"  # an import blocker: 'import tqdm' raises ImportError
        "import rxasync.operators\n"
        "try:\n"
        "    rxasync.operators.progress()\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert "install rxasync[progress]" in out.stdout


async def test_progress_weight_that_raises_fails_the_stream_and_closes_the_bar() -> None:
    pulled: list[int] = []
    src = reactivex.from_iterable([b"ok", None, b"never"]).pipe(
        ops.do_action(lambda x: pulled.append(1)), progress(weight=len, file=io.StringIO())
    )
    with pytest.raises(TypeError):
        await rxasync.to_list(src)
    assert open_bars() == 0
    assert len(pulled) == 2  # upstream stopped at the bad item
