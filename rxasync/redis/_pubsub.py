"""``subscribe``: Redis pub/sub channels and patterns as an observable of :class:`Message`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from reactivex import Observable

from .._bridge import from_async_iterable
from ._client import RedisArg, check_redis, open_client
from ._entries import Message, text
from ._translate import translate_errors

__all__ = ["subscribe"]


def subscribe(
    redis: RedisArg,
    *channels: str,
    patterns: tuple[str, ...] | list[str] = (),
    decode: str | None = "utf-8",
    name: str | None = None,
) -> Observable[Message]:
    """Messages published on ``channels`` (and on channels matching ``patterns``).

    Delivery is at most once, as Redis pub/sub is: a message published while
    the subscriber is not connected is gone. Dispose unsubscribes and
    releases the pub/sub connection. A lost connection is an error
    (:class:`~rxasync.DatabaseConnectionError`); resubscribe (for example with
    ``rxasync.operators.retry_with_backoff``) knowing that messages were missed.

    Marble::

        PUBLISH: -a--b-c--
        result:  -a--b-c--   (never completes)

    Args:
        redis: a client or pool you own, or a URL (a connection of its own).
        channels: channel names.
        patterns: glob-style patterns (``PSUBSCRIBE``), for example ``"news.*"``.
        decode: encoding of the payload, or ``None`` for bytes; undecodable
            payloads are kept as bytes rather than failing the stream.
        name: the name of its counters in :mod:`rxasync.stats` (default ``<kind>#<id>``).

    Returns:
        An ``Observable[Message]`` that never completes.

    Example:
        >>> import asyncio, rxasync, redis.asyncio
        >>> from reactivex import operators as ops
        >>> from rxasync.redis import subscribe
        >>> from rxasync.testing import RedisServer
        >>> async def main(url: str) -> list[str]:
        ...     r = redis.asyncio.Redis.from_url(url)
        ...     got = asyncio.ensure_future(rxasync.to_list(subscribe(url, "news").pipe(ops.take(2))))
        ...     for _ in range(500):  # until the subscription is in place
        ...         if await r.publish("news", "a"):
        ...             break
        ...         await asyncio.sleep(0.01)
        ...     await r.publish("news", "b"); await r.aclose()
        ...     return [m.data for m in await got]
        >>> with RedisServer() as server:
        ...     asyncio.run(main(server.url))
        ['a', 'b']
    """
    check_redis(redis)
    if not channels and not patterns:
        raise ValueError("subscribe needs at least one channel or pattern")
    target = " ".join([*channels, *patterns])

    async def messages() -> AsyncIterator[Message]:
        async with open_client(redis) as client:
            pubsub = client.pubsub()
            try:
                with translate_errors("SUBSCRIBE", target):
                    if channels:
                        await pubsub.subscribe(*channels)
                    if patterns:
                        await pubsub.psubscribe(*patterns)
                while True:
                    with translate_errors("SUBSCRIBE", target):
                        raw = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
                    if raw is not None and raw["type"] in ("message", "pmessage"):
                        yield _message(raw, decode)
            finally:
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    return from_async_iterable(messages, name=name)


def _message(raw: dict[str, Any], decode: str | None) -> Message:
    data = raw["data"]
    if decode is not None and isinstance(data, bytes):
        try:
            data = data.decode(decode)
        except UnicodeDecodeError:
            pass  # kept as bytes: a pub/sub payload has no ID to name in an error
    pattern = raw.get("pattern")
    return Message(text(raw["channel"]), data, None if pattern is None else text(pattern))
