"""One request's fan-out with rxasync: ``map_async`` over the backends, each call bounded.

Per backend, :class:`Policy` sets two limits and a retry rule:

* ``attempt_timeout``: one HTTP attempt (connect, headers, body) — the
  :class:`rxasync.http.Timeout` of the call;
* ``attempts`` and ``backoff``: a ``503``, a refused connection or an attempt
  past its timeout is tried again after ``backoff``, ``2 * backoff``...
  (:class:`rxasync.http.Retry`);
* ``timeout``: the backend's whole budget, retries and waits included. Past
  it the call is cancelled (its request aborted) and that part is missing.

A part that fails or runs out of time is ``None`` in the merged answer and
its name is listed in ``"degraded"``; the answer itself always comes, in at
most ``timeout`` (plus the merge).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import reactivex

import rxasync
from rxasync.http import Client, Retry, Timeout
from rxasync.operators import map_async

__all__ = ["FanOut", "Policies", "Policy", "merge", "per_backend", "rxasync_fan_out"]

#: ``await fan_out(item)`` → the merged answer for that item.
FanOut = Callable[[int], Awaitable[dict[str, Any]]]
RETRY_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class Policy:
    """Time limits and retries of one backend call (the same for every backend).

    Args:
        timeout: seconds a backend gets in all, retries included; then its part is missing.
        attempt_timeout: seconds one attempt gets.
        attempts: tries in all, the first included (1: no retry).
        backoff: seconds before the first retry; each next wait doubles.
    """

    timeout: float = 0.5
    attempt_timeout: float = 0.25
    attempts: int = 3
    backoff: float = 0.02

    def __post_init__(self) -> None:
        if not (self.timeout > 0 and self.attempt_timeout > 0 and self.attempts >= 1 and self.backoff >= 0):
            raise ValueError(f"invalid policy: {self!r}")

    def retry(self) -> Retry:
        """The :class:`rxasync.http.Retry` of a call."""
        return Retry(
            attempts=self.attempts,
            initial_delay=self.backoff,
            max_delay=self.timeout,
            jitter=0.5,
            statuses=RETRY_STATUSES,
            max_retry_after=self.timeout,
        )

    def attempt(self) -> Timeout:
        """The :class:`rxasync.http.Timeout` of one attempt."""
        limit = self.attempt_timeout
        return Timeout(total=limit, connect=limit, idle=limit)


#: one policy for every backend, or one per backend (name → policy)
Policies: TypeAlias = Policy | Mapping[str, Policy]


def per_backend(names: Sequence[str], policy: Policies) -> dict[str, Policy]:
    """Each backend's policy: ``policy`` for all, or its own from a mapping that names every one.

    Example:
        >>> per_backend(["a", "b"], {"a": Policy(timeout=1), "b": Policy()})["a"].timeout
        1
    """
    if isinstance(policy, Policy):
        return dict.fromkeys(names, policy)
    missing = [name for name in names if name not in policy]
    if missing:
        raise ValueError(f"no policy for backend(s) {', '.join(missing)}")
    return {name: policy[name] for name in names}


def merge(item: int, parts: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """The service's answer: each backend's part (``None`` if missing) and the missing names.

    Example:
        >>> merge(3, {"prices": {"price": 1}, "stock": None}, ["prices", "stock"])
        {'item': 3, 'prices': {'price': 1}, 'stock': None, 'degraded': ['stock']}
    """
    answer: dict[str, Any] = {"item": item}
    for name in names:
        answer[name] = parts.get(name)
    answer["degraded"] = [name for name in names if answer[name] is None]
    return answer


def rxasync_fan_out(client: Client, backends: Mapping[str, str], policy: Policies) -> FanOut:
    """The fan-out written with rxasync: ``map_async`` over the backends' ``get_json`` calls.

    Args:
        client: the service's pool of connections (one for all requests).
        backends: name → base URL of each backend.
        policy: the limits and retries of each call: one for all, or one per backend.

    Example:
        >>> import asyncio
        >>> from aiohttp import web
        >>> from rxasync.http._examples import serve  # a local backend for the example
        >>> from examples.pipelines.web._backends import refusing_url
        >>> async def backend(req: web.Request) -> web.Response:
        ...     return web.json_response({"ok": True})
        >>> async def main() -> dict[str, Any]:
        ...     async with serve(backend) as url, Client(limit=10) as client:
        ...         fan_out = rxasync_fan_out(client, {"up": url, "down": refusing_url()}, Policy())
        ...         return await fan_out(1)
        >>> asyncio.run(main())
        {'item': 1, 'up': {'ok': True}, 'down': None, 'degraded': ['down']}
    """
    names = list(backends)
    limits = {name: (p.timeout, p.attempt(), p.retry()) for name, p in per_backend(names, policy).items()}

    async def part(name: str, item: int) -> tuple[str, Any]:
        budget, attempt, retry = limits[name]
        try:
            async with asyncio.timeout(budget):
                url = f"{backends[name]}/item/{item}"
                return name, await rxasync.first(client.get_json(url, timeout=attempt, retry=retry))
        except (rxasync.RxAsyncError, TimeoutError):  # down, failing, or slow past its budget
            return name, None

    async def fan_out(item: int) -> dict[str, Any]:
        def call(name: str) -> Awaitable[tuple[str, Any]]:
            return part(name, item)

        calls = reactivex.from_iterable(names).pipe(
            map_async(call, concurrency=len(names), ordered=False, name="fan-out")
        )
        return merge(item, dict(await rxasync.to_list(calls)), names)

    return fan_out
