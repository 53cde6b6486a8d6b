"""The load test: an rxasync pipeline of requests against the service, bounded in count and time.

For one concurrency level: a source of request numbers (``from_async_iterable``)
that stops at ``requests`` or when ``seconds`` have passed, whichever comes
first, into ``map_async(one_request, concurrency=c)``. ``map_async`` takes
at most ``2 * c`` numbers ahead (demand), so the source sees the time run out
with at most that many requests queued; each request has its own timeout,
so a level ends at most ``seconds`` + the request timeout (10 s) after it began.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import aiohttp
from reactivex import Observable

import rxasync
from rxasync.operators import map_async

__all__ = ["ITEMS", "LevelResult", "Outcome", "Stage", "load_level", "percentile", "run_levels", "summarise"]

ITEMS = 1000  # the service is asked for items 0..999, round and round
REQUEST_TIMEOUT = 10.0  # seconds one request of the load test may take
Outcome = Literal["ok", "degraded", "error"]
Stage = Callable[[Observable[Any]], Observable[Any]]


@dataclass(frozen=True, slots=True)
class LevelResult:
    """One concurrency level's figures; latencies in milliseconds.

    ``requests == ok + degraded + errors``: ``ok`` answers had every part,
    ``degraded`` ones (still status 200) missed some, ``errors`` got no answer.
    """

    concurrency: int
    requests: int
    ok: int
    degraded: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for JSON)."""
        return asdict(self)


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile of ``values`` (``nan`` for none).

    Example:
        >>> percentile([5, 1, 4, 2, 3], 50), percentile([5, 1, 4, 2, 3], 99)
        (3, 5)
    """
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summarise(concurrency: int, outcomes: Sequence[tuple[Outcome, float]], seconds: float) -> LevelResult:
    """The figures of ``outcomes`` (``(outcome, seconds)`` per request) that took ``seconds`` in all.

    Example:
        >>> r = summarise(2, [("ok", 0.01), ("degraded", 0.03), ("error", 0.02)], 0.5)
        >>> (r.requests, r.ok, r.degraded, r.errors, r.rps, r.p50_ms, r.p99_ms)
        (3, 1, 1, 1, 6.0, 20.0, 30.0)
    """
    kinds = [kind for kind, _ in outcomes]
    latencies = [1000 * t for _, t in outcomes]
    return LevelResult(
        concurrency=concurrency,
        requests=len(outcomes),
        ok=kinds.count("ok"),
        degraded=kinds.count("degraded"),
        errors=kinds.count("error"),
        seconds=seconds,
        rps=len(outcomes) / seconds if seconds > 0 else math.nan,
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        p99_ms=percentile(latencies, 99),
    )


async def load_level(
    session: aiohttp.ClientSession,
    url: str,
    concurrency: int,
    requests: int,
    seconds: float,
    *,
    stages: Sequence[Stage] = (),
) -> LevelResult:
    """Send up to ``requests`` requests to ``url``, ``concurrency`` at a time, for at most ``seconds``.

    Each request is one plain aiohttp call inside the ``map_async`` stage, so
    the load generator costs as little as it can beside the service it measures.

    Args:
        session: the load generator's connections; its timeout bounds each request
            (past it the request counts as an error).
        url: the service's base URL.
        concurrency: requests in flight at once.
        requests: most requests sent.
        seconds: no request is started after this long.
        stages: operators put after the requests (a progress bar).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds

    async def numbers() -> AsyncIterator[int]:
        for n in range(requests):
            if loop.time() >= deadline:
                return
            yield n

    async def one(n: int) -> tuple[Outcome, float]:
        started = time.perf_counter()
        outcome: Outcome = "error"
        try:
            async with session.get(f"{url}/item/{n % ITEMS}") as resp:
                if resp.status == 200:
                    outcome = "degraded" if (await resp.json())["degraded"] else "ok"
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError):
            pass  # no answer, or not the service's: counted as an error
        return outcome, time.perf_counter() - started

    pipeline = rxasync.from_async_iterable(numbers, name=f"requests c={concurrency}").pipe(
        map_async(one, concurrency=concurrency, ordered=False, name=f"load c={concurrency}"), *stages
    )
    started = time.perf_counter()
    backstop = seconds + (session.timeout.total or REQUEST_TIMEOUT) + 5  # each request has its own limit
    async with asyncio.timeout(backstop):
        outcomes = await rxasync.to_list(pipeline)
    return summarise(concurrency, outcomes, time.perf_counter() - started)


async def run_levels(
    url: str,
    levels: Sequence[int],
    requests: int,
    seconds: float,
    *,
    stages: Callable[[int, int], Sequence[Stage]] = lambda c, n: (),
    request_timeout: float = REQUEST_TIMEOUT,
) -> list[LevelResult]:
    """:func:`load_level` at each concurrency of ``levels`` in turn, against the service at ``url``.

    ``stages(concurrency, requests)`` gives the operators put after each level's requests.
    """
    results = []
    connector = aiohttp.TCPConnector(limit=max(levels))
    limit = aiohttp.ClientTimeout(total=request_timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=limit) as session:
        for concurrency in levels:
            extra = stages(concurrency, requests)
            results.append(await load_level(session, url, concurrency, requests, seconds, stages=extra))
    return results
