"""The load test: an rxasync pipeline of requests against the service, bounded in count and time.

For one concurrency level: a source of request numbers (``from_async_iterable``)
that stops at ``requests`` or when ``seconds`` have passed, whichever comes
first, into ``map_async(one_request, concurrency=c)``. ``map_async`` takes
at most ``2 * c`` numbers ahead (demand), so the source sees the time run out
with at most that many requests queued; each request has its own timeout,
so a level ends at most ``seconds + request timeout`` after it began.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from reactivex import Observable

import rxasync
from rxasync.http import Client, Timeout
from rxasync.operators import map_async

__all__ = ["ITEMS", "LevelResult", "Outcome", "Stage", "load_level", "percentile", "run_levels", "summarise"]

ITEMS = 1000  # the service is asked for items 0..999, round and round
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
    client: Client,
    concurrency: int,
    requests: int,
    seconds: float,
    *,
    request_timeout: float = 10.0,
    stages: Sequence[Stage] = (),
) -> LevelResult:
    """Send up to ``requests`` requests, ``concurrency`` at a time, for at most ``seconds``.

    Args:
        client: a :class:`rxasync.http.Client` whose ``base_url`` is the service.
        concurrency: requests in flight at once.
        requests: most requests sent.
        seconds: no request is started after this long.
        request_timeout: one request's limit; past it the request counts as an error.
        stages: operators put after the requests (a progress bar).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    limit = Timeout(total=request_timeout)

    async def numbers() -> AsyncIterator[int]:
        for n in range(requests):
            if loop.time() >= deadline:
                return
            yield n

    async def one(n: int) -> tuple[Outcome, float]:
        started = time.perf_counter()
        try:
            answer = await rxasync.first(client.get_json(f"/item/{n % ITEMS}", timeout=limit, retry=False))
            outcome: Outcome = "degraded" if answer["degraded"] else "ok"
        except rxasync.RxAsyncError:
            outcome = "error"
        return outcome, time.perf_counter() - started

    pipeline = rxasync.from_async_iterable(numbers, name=f"requests c={concurrency}").pipe(
        map_async(one, concurrency=concurrency, ordered=False, name=f"load c={concurrency}"), *stages
    )
    started = time.perf_counter()
    async with asyncio.timeout(seconds + request_timeout + 5):  # a backstop: each request has its own limit
        outcomes = await rxasync.to_list(pipeline)
    return summarise(concurrency, outcomes, time.perf_counter() - started)


async def run_levels(
    url: str,
    levels: Sequence[int],
    requests: int,
    seconds: float,
    *,
    stages: Callable[[int, int], Sequence[Stage]] = lambda c, n: (),
) -> list[LevelResult]:
    """:func:`load_level` at each concurrency of ``levels`` in turn, against the service at ``url``.

    ``stages(concurrency, requests)`` gives the operators put after each level's requests.
    """
    results = []
    async with Client(base_url=url, limit=max(levels)) as client:
        for concurrency in levels:
            level = await load_level(
                client, concurrency, requests, seconds, stages=stages(concurrency, requests)
            )
            results.append(level)
    return results
