"""The cases of ``benchmarks/flat.py``: each benchmark's measured function and baseline, and its sizes.

No ``main``: the runner skips it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass, field

from benchmarks import (
    core_bridge,
    core_handoff,
    core_iter,
    core_map_async,
    files_read,
    files_write,
    http_json,
    http_lines,
    http_ndjson,
    http_stream,
)
from benchmarks.files_common import MiB, make_binary, make_text, scratch_dir
from benchmarks.http_common import server

Run = Callable[["Env", int], float]  # one run at a size; returns the seconds it measured


class Env:
    """What the cases share: the HTTP server (started on first use) and a scratch folder."""

    def __init__(self, stack: ExitStack) -> None:
        self._stack = stack
        self._base: str | None = None
        self.folder = stack.enter_context(scratch_dir())
        self.path = os.path.join(self.folder, "data")
        self.lines = 0  # lines in the text file a case prepared

    def url(self, path: str) -> str:
        if self._base is None:
            self._base = self._stack.enter_context(server())
        return self._base + path


@dataclass(frozen=True)
class Case:
    """One measured function at three sizes, against its baseline."""

    name: str
    unit: str
    sizes: tuple[int, int, int]
    quick: tuple[int, int, int]
    rx: Run
    base: Run | None = None
    base_name: str = ""
    base_max: int = 1 << 62  # the baseline runs only up to this size
    scale: int = 1  # bytes per unit (MiB, MB): rates are printed per unit, not per item
    prepare: Callable[[Env, int], float | None] = field(default=lambda env, size: None)  # the size made


def _aio(make: Callable[[int], Awaitable[float]]) -> Run:
    return lambda env, n: asyncio.run(make(n))  # type: ignore[arg-type]


def _http(path: str, make: Callable[[str, int], Awaitable[float]], per: int, line: int = 1) -> Run:
    """An HTTP body case: ``make(url, expected)`` for a body of ``n * per`` bytes of ``line``-byte lines."""

    def run(env: Env, n: int) -> float:
        size = n * per
        return asyncio.run(make(env.url(f"{path}?size={size}"), size // line))  # type: ignore[arg-type]

    return run


def _handoff(n: int, hop: core_handoff.Hop) -> float:
    return core_handoff._trial(n, 1, hop)()


def _binary(env: Env, mib: int) -> None:
    make_binary(env.path, mib * MiB)


def _text(env: Env, mib: int) -> float:
    """A text file of at most ``mib`` MiB (whole blocks of 20,000 lines, ~1.3 MB); its real size in MiB."""
    env.lines = make_text(env.path, mib * MiB)
    return os.path.getsize(env.path) / MiB


_CHUNK = os.urandom(MiB)
_ITEMS = (10_000, 100_000, 1_000_000)
_ITEMS_QUICK = (1_000, 10_000, 100_000)
_BODY = (10, 100, 1000)
_BODY_QUICK = (1, 10, 100)
_MB = 1_000_000

CASES: tuple[Case, ...] = (
    Case(
        "core_iter: to_async_iterable(from_iterable) -> async for",
        "items",
        _ITEMS,
        _ITEMS_QUICK,
        _aio(core_iter._rxasync),
        _aio(core_iter._aiostream),
        "aiostream iterate",
    ),
    Case(
        "core_bridge: from_async_iterable -> counting subscriber",
        "items",
        _ITEMS,
        _ITEMS_QUICK,
        _aio(core_bridge._bridge_subscriber),
        _aio(core_bridge._raw),
        "raw async for",
    ),
    Case(
        "core_bridge: from_async_iterable -> ops.count() -> last",
        "items",
        _ITEMS,
        _ITEMS_QUICK,
        _aio(core_bridge._bridge_count),
        _aio(core_bridge._raw),
        "raw async for",
    ),
    Case(
        "core_handoff: worker thread -> observe_on_loop",
        "items",
        _ITEMS,
        _ITEMS_QUICK,
        lambda env, n: _handoff(n, core_handoff._rxasync_hop),
        lambda env, n: _handoff(n, core_handoff._rxpy_hop),
        "RxPY observe_on",
        base_max=100_000,
    ),
    *(
        Case(
            f"core_map_async: map_async(no-op, concurrency={c}), {src} source",
            "items",
            _ITEMS,
            _ITEMS_QUICK,
            _aio(lambda n, c=c, b=bridged: core_map_async._map_async(n, c, bridged=b)),  # type: ignore[misc]
            _aio(lambda n, c=c: core_map_async._gather(n, c)),  # type: ignore[misc]
            "gather + semaphore",
            base_max=100_000,
        )
        for c, src, bridged in (
            (1, "from_iterable", False),
            (64, "from_iterable", False),
            (64, "async", True),
        )
    ),
    Case(
        "http_json: get_json in map_async(concurrency=100)",
        "requests",
        (200, 2_000, 20_000),
        (100, 1_000, 10_000),
        lambda env, n: asyncio.run(http_json.in_map_async(http_json.via_get_json, env.url("/json"), n)),
        lambda env, n: asyncio.run(http_json.in_gather(http_json.via_aiohttp, env.url("/json"), n)),
        "aiohttp gather + semaphore",
    ),
    Case(
        "http_stream: stream, 64 KiB chunks",
        "MiB",
        _BODY,
        _BODY_QUICK,
        _http("/bytes", http_stream.rx_stream, MiB),
        lambda env, n: asyncio.run(
            http_stream.raw_stream(env.url(f"/bytes?size={n * MiB}"), n * MiB, http_stream.LIKE_FOR_LIKE)
        ),
        "aiohttp iter_chunked (same timeouts)",
        scale=MiB,
    ),
    Case(
        "http_lines: lines, 100-byte lines",
        "MB",
        _BODY,
        _BODY_QUICK,
        _http("/lines", http_lines.rx_lines, _MB, 100),
        _http("/lines", http_lines.raw_lines, _MB, 100),
        "aiohttp async for line",
        scale=_MB,
    ),
    Case(
        "http_ndjson: ndjson, 100-byte objects",
        "MB",
        _BODY,
        _BODY_QUICK,
        _http("/ndjson", http_ndjson.rx_ndjson, _MB, 100),
        _http("/ndjson", http_ndjson.raw_ndjson, _MB, 100),
        "aiohttp async for line + json.loads",
        scale=_MB,
    ),
    *(
        Case(
            f"files_read: read_chunks, {chunk // 1024} KiB chunks",
            "MiB",
            _BODY,
            _BODY_QUICK,
            lambda env, n, c=chunk: asyncio.run(files_read._rx_chunks(env.path, c, n * MiB)),  # type: ignore[misc]
            lambda env, n, c=chunk: files_read._plain_chunks(env.path, c),  # type: ignore[misc]
            "plain f.read",
            scale=MiB,
            prepare=_binary,
        )
        for chunk in (MiB, 64 * 1024)
    ),
    *(
        Case(
            f"files_read: {'read_line_batches' if batches else 'read_lines'}, ~60-byte lines",
            "MiB",
            _BODY,
            (2, 20, 200),  # a text file is made of ~1.3 MB blocks: 1 MiB would be empty
            lambda env, n, b=batches: asyncio.run(files_read._rx_lines(env.path, env.lines, b)),  # type: ignore[misc]
            lambda env, n: files_read._plain_lines(env.path, env.lines),
            "plain for line in f",
            scale=MiB,
            prepare=_text,
        )
        for batches in (False, True)
    ),
    Case(
        "files_write: write (atomic), 1 MiB chunks",
        "MiB",
        _BODY,
        _BODY_QUICK,
        lambda env, n: _fresh(env, n, lambda: asyncio.run(files_write._rx(env.path, _CHUNK, n, atomic=True))),
        lambda env, n: _fresh(env, n, lambda: files_write._plain(env.path, _CHUNK, n)),
        "plain f.write",
        scale=MiB,
    ),
)


def _fresh(env: Env, n: int, run: Callable[[], float]) -> float:
    """One write of ``n`` MiB from the same start: no file, the pages of one that size just freed.

    Without the untimed :func:`~benchmarks.files_write._recycle`, the first trial at
    1000 MiB (always rxasync's) and any that follows a pause meet pages the VM's
    balloon has handed back to the host, at a third to a fifth of the speed.
    """
    files_write._remove(env.path)
    files_write._recycle(env.path, _CHUNK, n)
    try:
        return run()
    finally:
        files_write._remove(env.path)
