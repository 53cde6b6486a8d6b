"""Reconnecting after a lost connection: one policy object, the library's one backoff formula.

Database sources that follow a stream for ever (``rxasync.redis.read_stream``,
``rxasync.postgres.listen``) take a :class:`rxasync.http.Retry` as their
``reconnect`` policy: only its ``attempts``, ``initial_delay``, ``max_delay``,
``multiplier`` and ``jitter`` apply (the HTTP-only fields, statuses and
methods, do not). The waits are :func:`rxasync.operators._timing.backoff_delay`,
the same as every other retry in rxasync.
"""

from __future__ import annotations

import asyncio

from .http._policy import Retry
from .operators._timing import backoff_delay

__all__ = ["DEFAULT_RECONNECT", "Reconnect"]

#: About ten seconds of attempts (0.05, 0.1, 0.2 ... capped at 2 s): a restarting server comes back.
DEFAULT_RECONNECT = Retry(attempts=10, initial_delay=0.05, max_delay=2.0)


class Reconnect:
    """Counts consecutive failures; :meth:`wait` sleeps the backoff or re-raises when spent."""

    __slots__ = ("failures", "policy")

    def __init__(self, policy: Retry | None) -> None:
        if policy is not None and not isinstance(policy, Retry):
            raise TypeError(f"reconnect must be a rxasync.http.Retry or None, got {policy!r}")
        self.policy = DEFAULT_RECONNECT if policy is None else policy
        self.failures = 0

    def succeeded(self) -> None:
        """A command went through: the next failure starts the backoff again."""
        self.failures = 0

    async def wait(self, error: Exception) -> None:
        """Sleep before the next attempt after ``error``; raise ``error`` when no attempt is left."""
        self.failures += 1
        policy = self.policy
        if self.failures >= policy.attempts:
            if policy.attempts > 1:
                error.add_note(f"rxasync: gave up after {self.failures} attempts to reconnect")
            raise error
        p = policy
        await asyncio.sleep(
            backoff_delay(self.failures, p.initial_delay, p.max_delay, p.multiplier, p.jitter)
        )
