"""Flat cost at scale (issue 17 item 4): every core, HTTP and files benchmark at three sizes.

Each *case* runs an existing benchmark's measured function (the rxasync side
and its raw baseline, alternating in one process, as :mod:`benchmarks._util`
does) at three sizes a factor of 10 apart, and prints the curve: the rate at
each size, and the rate at the largest size over the rate at the smallest.
Target: that ratio within 20% (``0.8 <= largest/smallest``); a ratio far above
1 means a fixed start-up cost weighs on the small size, not a cost that grows.

Sizes (``--quick`` in brackets): core 10k / 100k / 1M items (1k / 10k / 100k);
HTTP ``get_json`` 200 / 2,000 / 20,000 requests (100 / 1,000 / 10,000); HTTP
bodies and files 10 / 100 / 1000 MiB (or MB) (1 / 10 / 100). The smallest size
runs 10 times per timed trial (its rate counts all 10) so that a trial is not
all timer noise. The larger sizes run fewer trials (``--reps`` at the
smallest, 7; then 3 and ``--reps-large``, 3; quick 3, 3, 1). A baseline too slow or too big at a
size (RxPY's ``observe_on`` past 100k items, 1M tasks in ``gather``) is capped
and shown as ``-``. Files are written under the system temporary folder
(page cache hot); a 1000 MiB file needs about 1 GiB of free disk.

    python -m benchmarks.flat [--quick] [--reps N] [NAME ...]   # NAME: a part of a case's name
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
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
from benchmarks._util import rate
from benchmarks.files_common import MiB, make_binary, make_text, scratch_dir
from benchmarks.http_common import server

FLAT = 0.8  # the rate at the largest size over the rate at the smallest, at least

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
        lambda env, n: _fresh(env, lambda: asyncio.run(files_write._rx(env.path, _CHUNK, n, atomic=True))),
        lambda env, n: _fresh(env, lambda: files_write._plain(env.path, _CHUNK, n)),
        "plain f.write",
        scale=MiB,
    ),
)


def _fresh(env: Env, run: Callable[[], float]) -> float:
    files_write._remove(env.path)
    try:
        return run()
    finally:
        files_write._remove(env.path)


@dataclass
class Point:
    """The medians at one size: seconds per run of the rxasync side and of the baseline."""

    size: float  # in the case's unit (the size asked for, or what prepare made)
    rx: float
    base: float | None
    rx_cpu: float  # CPU seconds of this process per rxasync run: steadier than wall time on a busy machine


def _times(run: Run, env: Env, size: int, repeats: int, cpu: list[float] | None = None) -> float:
    """Seconds per run (as measured inside), averaged over ``repeats``; appends CPU seconds per run to ``cpu``."""
    start = time.process_time()
    seconds = sum(run(env, size) for _ in range(repeats)) / repeats
    if cpu is not None:  # all threads of this process (readers, writers), set-up included
        cpu.append((time.process_time() - start) / repeats)
    return seconds


def measure(case: Case, env: Env, sizes: tuple[int, int, int], reps: tuple[int, int, int]) -> list[Point]:
    """Alternate rxasync and baseline at each size; the medians of ``reps`` trials (after a warm-up run)."""
    points = []
    for i, size in enumerate(sizes):
        repeats = 10 if i == 0 else 1
        with _prepared(case, env, size) as made:
            base = case.base if case.base is not None and size <= case.base_max else None
            if i == 0:  # warm-up, at the smallest size only
                case.rx(env, size)
                if base is not None:
                    base(env, size)
            rx_t: list[float] = []
            rx_cpu: list[float] = []
            base_t: list[float] = []
            for _ in range(reps[i]):
                rx_t.append(_times(case.rx, env, size, repeats, rx_cpu))
                if base is not None:
                    base_t.append(_times(base, env, size, repeats))
        points.append(
            Point(
                made or size,
                statistics.median(rx_t),
                statistics.median(base_t) if base_t else None,
                statistics.median(rx_cpu),
            )
        )
    return points


@contextmanager
def _prepared(case: Case, env: Env, size: int) -> Iterator[float | None]:
    try:
        yield case.prepare(env, size)
    finally:
        files_write._remove(env.path)


def _size(n: float, unit: str) -> str:
    return f"{n:,.0f} {unit}" if n == int(n) else f"{n:,.1f} {unit}"


def _per_s(size: float, seconds: float, case: Case) -> str:
    if case.scale == 1:
        return rate(int(size), seconds)
    return f"{size / seconds:.4g} {case.unit}/s"


def show(case: Case, points: list[Point]) -> tuple[float, float, float | None]:
    """Print the curve of one case; return largest/smallest for rxasync (wall, CPU) and the baseline."""
    print(f"-- {case.name}", flush=True)
    for p in points:
        line = f"   {_size(p.size, case.unit):>18}: rxasync {_per_s(p.size, p.rx, case)}"
        if p.base is not None:
            line += f", {case.base_name} {_per_s(p.size, p.base, case)}, ratio {p.base / p.rx:.3g}"
        print(line, flush=True)
    first, last = points[0], points[-1]
    flat = (last.size / last.rx) / (first.size / first.rx)
    base_flat = None
    if first.base is not None and last.base is not None:
        base_flat = (last.size / last.base) / (first.size / first.base)
    cpu_flat = (last.size / last.rx_cpu) / (first.size / first.rx_cpu)
    where = f" (per CPU second {cpu_flat:.3g})"
    where += f"; baseline {base_flat:.3g}" if base_flat is not None else ""
    print(
        f"   largest/smallest rate: {flat:.3g}{where}; "
        f"flat within 20%: {'yes' if flat >= FLAT else 'NO'}"
        + (" (the small size pays a start-up cost)" if flat > 1 / FLAT else ""),
        flush=True,
    )
    return flat, cpu_flat, base_flat


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.flat",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="sizes 10x smaller, fewer repetitions")
    parser.add_argument(
        "--reps", type=int, default=None, help="trials at the smallest size (default 7, quick 3)"
    )
    parser.add_argument(
        "--reps-large", type=int, default=None, help="trials at the largest size (3, quick 1)"
    )
    parser.add_argument("names", nargs="*", help="run only cases whose name contains one of these")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run the selected cases; print each curve and a summary table (markdown)."""
    args = _parse(argv)
    first = args.reps or (3 if args.quick else 7)
    reps = (first, 3, args.reps_large or 1) if args.quick else (first, 3, args.reps_large or 3)
    cases = [c for c in CASES if not args.names or any(n in c.name for n in args.names)]
    mode = "quick" if args.quick else "full"
    print(f"== flat: {len(cases)} cases at three sizes ({mode}; trials per size {reps})", flush=True)
    rows = []
    with ExitStack() as stack:
        env = Env(stack)
        for case in cases:
            sizes = case.quick if args.quick else case.sizes
            points = measure(case, env, sizes, reps)
            rows.append((case, points, *show(case, points)))
    print(
        "\n| benchmark | rxasync's rate at the three sizes | largest/smallest (per CPU s) | baseline's |"
        "\n|---|---|---|---|"
    )
    for case, points, flat, cpu_flat, base_flat in rows:
        curve = " / ".join(_per_s(p.size, p.rx, case) for p in points)
        sizes_s = "/".join(_size(p.size, "").strip() for p in points)
        base_s = f"{base_flat:.2f}" if base_flat is not None else "-"
        print(
            f"| {case.name} | {curve} at {sizes_s} {case.unit} | {flat:.2f} ({cpu_flat:.2f}) | {base_s} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
