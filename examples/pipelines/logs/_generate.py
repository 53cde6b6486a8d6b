"""A made-up access log for the demo and the tests: known hits, some bad lines, a rotation partway."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ._parse import Hit

__all__ = ["Log", "make_log", "write_log"]

PATHS = ["/", "/index.html", "/api/search", "/api/items", "/login", "/static/app.js", "/static/app.css"]
STATUSES = [200] * 80 + [304] * 8 + [404] * 6 + [301] * 3 + [500, 502, 503]
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
_ZONE = timedelta(hours=-7)  # the lines are written in -0700, as a server in California would
_BAD = [
    "",
    "GET / HTTP/1.1",
    "garbage \x7f line",
    '1.2.3.4 - - [31/Foo/2026:25:61:00 +0000] "GET / HTTP/1.1" 200 1',
]


@dataclass
class Log:
    """The lines to write and what each one is: a hit, or ``None`` for a bad line."""

    lines: list[str]
    truth: list[Hit | None]


def _line(at: datetime, status: int, path: str, rng: random.Random) -> str:
    local = (at + _ZONE).strftime("%d/%b/%Y:%H:%M:%S")
    query = f"?q={rng.randrange(1000)}" if rng.random() < 0.3 else ""
    ip = f"10.0.{rng.randrange(256)}.{rng.randrange(256)}"
    agent = '"Mozilla/5.0 (X11; Linux) \\"quoted\\""' if rng.random() < 0.1 else '"curl/8.5.0"'
    return f'{ip} - - [{local} -0700] "GET {path}{query} HTTP/1.1" {status} {rng.randrange(50, 90000)} "-" {agent}'


def make_log(
    n: int,
    *,
    minutes: int = 10,
    alert_minutes: tuple[int, ...] = (2, 7),
    bad_every: int = 250,
    seed: int = 16,
) -> Log:
    """``n`` lines spread evenly over ``minutes`` minutes from 2026-12-01 09:00 UTC, in order.

    About 3% of answers are 5xx, except in ``alert_minutes`` (minute
    indexes), where 40% are. Every ``bad_every``-th line is bad.

    Args:
        n: lines in all.
        minutes: minutes they span.
        alert_minutes: the minutes with many 5xx answers.
        bad_every: one bad line in this many (0: none).
        seed: the random seed: the same arguments make the same log.

    Example:
        >>> log = make_log(1000, minutes=4, bad_every=100)
        >>> len(log.lines), sum(t is None for t in log.truth)
        (1000, 10)
    """
    rng = random.Random(seed)
    lines: list[str] = []
    truth: list[Hit | None] = []
    for i in range(n):
        index = i * minutes // n
        if bad_every and i % bad_every == bad_every - 1:
            lines.append(rng.choice(_BAD))
            truth.append(None)
            continue
        minute = START + timedelta(minutes=index)
        hot = index in alert_minutes
        status = rng.choice([500, 503]) if hot and rng.random() < 0.4 else rng.choice(STATUSES)
        path = rng.choice(PATHS)
        lines.append(_line(minute + timedelta(seconds=rng.randrange(60)), status, path, rng))
        truth.append((minute, status, path))
    return Log(lines, truth)


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write(text)


def _rotate(path: Path) -> None:
    """What logrotate does (``create``): rename the log away, start a new empty one."""
    os.replace(path, path.with_name(path.name + ".1"))
    path.touch()


async def write_log(
    path: Path,
    lines: list[str],
    *,
    rotate_at: int | None = None,
    chunk: int = 200,
    pause: float = 0.02,
    on_written: Callable[[int], Awaitable[None]] | None = None,
) -> None:
    """Append ``lines`` to ``path`` in chunks, ``pause`` seconds apart; rotate it after ``rotate_at`` lines.

    Args:
        path: the log (created if missing).
        lines: the lines, without newlines.
        rotate_at: rotate once this many lines are written (``None``: never).
        chunk: lines per write.
        pause: seconds between writes.
        on_written: awaited after each write with the number of lines written so far.

    Example:
        >>> import asyncio, pathlib, tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     log = pathlib.Path(d, "access.log")
        ...     asyncio.run(write_log(log, ["a", "b", "c"], rotate_at=2, chunk=1, pause=0))
        ...     pathlib.Path(d, "access.log.1").read_text(), log.read_text()
        ('a\\nb\\n', 'c\\n')
    """
    await asyncio.to_thread(path.touch)
    bounds = sorted({*range(0, len(lines), chunk), *([rotate_at] if rotate_at else []), len(lines)})
    for start, end in itertools.pairwise(bounds):
        await asyncio.to_thread(_append, path, "".join(line + "\n" for line in lines[start:end]))
        if end == rotate_at:
            await asyncio.to_thread(_rotate, path)
        if on_written is not None:
            await on_written(end)
        await asyncio.sleep(pause)
