"""``subscribe``: Redis pub/sub channels and patterns as an observable of :class:`Message`, reconnecting."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from reactivex import Observable
from redis.asyncio.client import PubSub

from .._bridge import from_async_iterable
from .._errors import DatabaseConnectionError
from .._reconnect import Reconnect
from ..http._policy import Retry
from ._client import RedisArg, check_redis, open_client
from ._entries import Message, text
from ._translate import translate_errors

__all__ = ["subscribe"]


def subscribe(
    redis: RedisArg,
    *channels: str,
    patterns: tuple[str, ...] | list[str] = (),
    decode: str | None = "utf-8",
    on_gap: Callable[[], None] | None = None,
    reconnect: Retry | None = None,
    name: str | None = None,
) -> Observable[Message]:
    """Messages published on ``channels`` (and on channels matching ``patterns``), for ever.

    Redis pub/sub is not durable: a message published while no connection
    is subscribed is gone, and Redis keeps no history to replay. So after a
    lost connection ``subscribe`` reconnects (``reconnect`` policy),
    subscribes again to every channel and pattern, and calls ``on_gap()``
    before the first message of the new connection: what the messages stand
    for may have changed meanwhile, so resync from the source of truth
    (for durable delivery use a stream, :func:`read_stream`). Delivery is at
    most once. Dispose unsubscribes and releases the pub/sub connection.

    Marble::

        PUBLISH: -a--b--X(lost)---c--
        result:  -a--b---(on_gap)-c--   (never completes)

    Args:
        redis: a client or pool you own, or a URL (a connection of its own).
        channels: channel names.
        patterns: glob-style patterns (``PSUBSCRIBE``), for example ``"news.*"``.
        decode: encoding of the payload, or ``None`` for bytes; undecodable
            payloads are kept as bytes rather than failing the stream.
        on_gap: called on the loop after each reconnect, before the next
            message. Also when redis-py's own retries (a client you pass
            keeps them) reconnected behind the scenes.
        reconnect: a :class:`rxasync.http.Retry` (attempts and backoff; by
            default about ten seconds of attempts).
        name: the name of its counters in :mod:`rxasync.stats` (default ``<kind>#<id>``).

    Returns:
        An ``Observable[Message]`` that never completes.

    Raises:
        DatabaseConnectionError: (as ``on_error``) the server stayed away
            longer than ``reconnect`` allows.

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
    Reconnect(reconnect)  # TypeError now for a wrong policy
    target = " ".join([*channels, *patterns])

    async def messages() -> AsyncIterator[Message]:
        async with open_client(redis) as client:
            pubsub, gaps = client.pubsub(), _Gaps()
            try:
                await _subscribe(pubsub, channels, patterns, target, Reconnect(reconnect))
                gaps.watch(pubsub.connection)
                async for raw in _received(pubsub, target, Reconnect(reconnect)):
                    if gaps.lost:
                        gaps.lost = False
                        if on_gap is not None:
                            on_gap()
                    if raw is not None and raw["type"] in ("message", "pmessage"):
                        yield _message(raw, decode)
            finally:
                gaps.unwatch()
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    return from_async_iterable(messages, name=name)


async def _subscribe(
    pubsub: PubSub, channels: tuple[str, ...], patterns: Sequence[str], target: str, retry: Reconnect
) -> None:
    """Subscribe to everything, retrying under ``retry`` while the server cannot be reached."""
    while True:
        try:
            with translate_errors("SUBSCRIBE", target):
                if channels:
                    await pubsub.subscribe(*channels)
                if patterns:
                    await pubsub.psubscribe(*patterns)
            return
        except DatabaseConnectionError as exc:
            await retry.wait(exc)


async def _received(pubsub: PubSub, target: str, retry: Reconnect) -> AsyncIterator[dict[str, Any] | None]:
    """What the connection receives (``None`` for a subscription's confirmation), for ever.

    After a lost connection the next read connects again, and redis-py's
    ``PubSub`` subscribes that connection again to all it had
    (``PubSub.on_connect``): retrying the read is the whole reconnect.
    """
    while True:
        try:
            with translate_errors("SUBSCRIBE", target):
                raw = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
        except DatabaseConnectionError as exc:
            await retry.wait(exc)
            continue
        retry.succeeded()
        yield raw


class _Gaps:
    """Notices the pub/sub connection connecting again, which is when messages may have been missed.

    Connect callbacks are held by redis-py as weak methods, so this object
    lives as long as the subscription and is taken off the connection
    before the connection goes back to its pool.
    """

    def __init__(self) -> None:
        self.conn: Any = None
        self.lost = False

    def watch(self, conn: Any) -> None:
        self.conn = conn
        conn.register_connect_callback(self.on_connect)

    def on_connect(self, _: Any) -> None:
        self.lost = True

    def unwatch(self) -> None:
        if self.conn is not None:
            self.conn.deregister_connect_callback(self.on_connect)
            self.conn = None


def _message(raw: dict[str, Any], decode: str | None) -> Message:
    data = raw["data"]
    if decode is not None and isinstance(data, bytes):
        try:
            data = data.decode(decode)
        except UnicodeDecodeError:
            pass  # kept as bytes: a pub/sub payload has no ID to name in an error
    pattern = raw.get("pattern")
    return Message(text(raw["channel"]), data, None if pattern is None else text(pattern))
