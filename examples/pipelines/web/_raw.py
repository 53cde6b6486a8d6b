"""The same fan-out in raw asyncio and aiohttp: the benchmark's baseline.

``asyncio.gather`` over the backends, each call under ``asyncio.timeout``
with a hand-written retry loop (the same statuses, errors and backoff as
:class:`~._fanout.Policy` gives rxasync). Kept as short as a careful person
would write it by hand.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from typing import Any

import aiohttp

from ._fanout import RETRY_STATUSES, FanOut, Policies, Policy, merge, per_backend

__all__ = ["raw_fan_out"]


class _Retryable(Exception):
    """A status worth another attempt."""


async def _get_json(session: aiohttp.ClientSession, url: str, policy: Policy) -> Any:
    limit = aiohttp.ClientTimeout(total=policy.attempt_timeout)
    for attempt in range(1, policy.attempts + 1):
        try:
            async with session.get(url, timeout=limit) as resp:
                if resp.status in RETRY_STATUSES:
                    raise _Retryable(resp.status)
                resp.raise_for_status()
                return await resp.json()
        except (_Retryable, aiohttp.ClientConnectionError, TimeoutError):
            if attempt == policy.attempts:
                raise
        wait = policy.backoff * 2 ** (attempt - 1)
        await asyncio.sleep(wait - random.uniform(0, 0.5 * wait))
    raise AssertionError("unreachable")  # pragma: no cover


def raw_fan_out(session: aiohttp.ClientSession, backends: Mapping[str, str], policy: Policies) -> FanOut:
    """The fan-out with ``asyncio.gather`` and aiohttp alone (same answers as rxasync's)."""
    names = list(backends)
    policies = per_backend(names, policy)

    async def part(name: str, item: int) -> Any:
        own = policies[name]
        try:
            async with asyncio.timeout(own.timeout):
                return await _get_json(session, f"{backends[name]}/item/{item}", own)
        except (_Retryable, aiohttp.ClientError, TimeoutError, ValueError):
            return None

    async def fan_out(item: int) -> dict[str, Any]:
        values = await asyncio.gather(*(part(name, item) for name in names))
        return merge(item, dict(zip(names, values, strict=True)), names)

    return fan_out
