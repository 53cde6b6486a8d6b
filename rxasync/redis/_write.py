"""Redis sinks on the batch stage: ``write_stream`` (pipelined ``XADD``) and ``ack`` (``XACK``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

import redis.asyncio as aioredis
from reactivex import Observable

from .._batching import batch_stage, check_batch_size
from .._errors import DatabaseConnectionError
from .._reconnect import Reconnect
from ..http._policy import Retry
from ._client import RedisArg, check_redis, open_client
from ._entries import StreamEntry, text
from ._translate import translate_errors

__all__ = ["ack", "write_stream"]

Fields = Mapping[Any, Any]


def write_stream(
    redis: RedisArg,
    stream: str,
    *,
    maxlen: int | None = None,
    batch_size: int = 100,
    name: str | None = None,
) -> Callable[[Observable[Fields]], Observable[str]]:
    """An operator: each mapping in becomes an entry of ``stream`` (``XADD``); the new IDs out.

    Items are sent in pipelines of up to ``batch_size`` (one round trip per
    batch); the stage takes up to ``2 * batch_size`` items ahead of the
    pipeline in flight (at most ``3 * batch_size`` in memory) and pauses an
    rxasync source upstream while the server is behind; the source refills
    it while Redis answers, so their costs overlap. IDs are emitted in
    input order. If a batch fails, the error is delivered and the batch may
    have been written in part (Redis pipelines are not transactions).
    rxasync retries nothing here; a client opened from a URL has redis-py's
    own retries off too, while a client you pass keeps its retry settings
    (redis-py's default re-sends a pipeline after a connection error, which
    can add a batch twice).

    Marble::

        source:  -a-b-c-|
        result:  ---1-2-3|   (the IDs Redis gave)

    Args:
        redis: a client or pool you own, or a URL (a connection of its own).
        stream: the stream's key.
        maxlen: trim the stream to about this many entries (``MAXLEN ~``).
        batch_size: most ``XADD`` per round trip; if in doubt, 100.
        name: the name of its counters in :mod:`rxasync.stats` (default ``<kind>#<id>``).

    Example:
        >>> import asyncio, reactivex, rxasync
        >>> from rxasync.redis import write_stream
        >>> from rxasync.testing import RedisServer
        >>> with RedisServer() as server:
        ...     ids = asyncio.run(rxasync.to_list(reactivex.of({"n": 1}, {"n": 2}).pipe(write_stream(server.url, "s"))))
        >>> len(ids), all("-" in i for i in ids)
        (2, True)
    """
    check_redis(redis)
    check_batch_size(batch_size)

    async def send(client: aioredis.Redis, batch: list[Fields], handed: Callable[[], None]) -> list[str]:
        pipe = client.pipeline(transaction=False)
        for fields in batch:
            pipe.xadd(stream, dict(fields), maxlen=maxlen, approximate=True)
        handed()  # the pipeline holds the batch: upstream refills while it is sent and answered
        with translate_errors("XADD", stream):
            ids = await pipe.execute()
        return [text(i) for i in ids]

    return lambda source: batch_stage(
        source, "write_stream", batch_size, lambda: open_client(redis), send, name
    )


def ack(
    *, batch_size: int = 100, reconnect: Retry | None = None, name: str | None = None
) -> Callable[[Observable[StreamEntry]], Observable[StreamEntry]]:
    """An operator: acknowledge each entry (``XACK``) and pass it on once Redis confirmed it.

    Place it *after* your sink: an entry is acknowledged only once
    everything before it handled it, so a crash in between delivers it
    again to its group (at least once). Entries waiting together are
    acknowledged in one ``XACK`` per stream and group; the stage takes up to
    ``2 * batch_size`` entries while one batch's ``XACK`` is on its way (at
    most ``3 * batch_size`` held), and each passes on only once its
    ``XACK`` was confirmed. Entries read without
    a group pass through. ``XACK`` is idempotent, so after a lost
    connection it is sent again (``reconnect`` policy) until it goes through.

    Args:
        batch_size: most entries per ``XACK`` round trip.
        reconnect: a :class:`rxasync.http.Retry` (attempts and backoff; by
            default about ten seconds of attempts).
        name: the name of its counters in :mod:`rxasync.stats` (default ``<kind>#<id>``).

    Example:
        >>> import asyncio, rxasync
        >>> from reactivex import operators as ops
        >>> from rxasync.redis import ack, read_stream, write_stream
        >>> from rxasync.testing import RedisServer
        >>> async def main(url: str) -> int:
        ...     import redis.asyncio, reactivex
        ...     await rxasync.to_list(reactivex.of({"n": 1}).pipe(write_stream(url, "jobs")))
        ...     src = read_stream(url, "jobs", group="g", consumer="c", start="0")
        ...     await rxasync.first(src.pipe(ack()))
        ...     r = redis.asyncio.Redis.from_url(url)
        ...     pending = (await r.xpending("jobs", "g"))["pending"]; await r.aclose()
        ...     return pending
        >>> with RedisServer() as server:
        ...     asyncio.run(main(server.url))
        0
    """
    check_batch_size(batch_size)
    Reconnect(reconnect)  # TypeError now for a wrong policy

    async def send(_: object, batch: list[StreamEntry], handed: Callable[[], None]) -> list[StreamEntry]:
        groups: dict[tuple[int, str, str], list[StreamEntry]] = {}
        for entry in batch:
            origin = entry._origin
            if origin is not None and origin.client is not None and origin.group is not None:
                groups.setdefault((id(origin.client), entry.stream, origin.group), []).append(entry)
        handed()  # upstream refills while the XACKs travel; these entries pass on only once confirmed
        for (_key, stream, group), entries in groups.items():
            await _xack(entries, stream, group, Reconnect(reconnect))
        return batch

    return lambda source: batch_stage(source, "ack", batch_size, contextlib.nullcontext, send, name)


async def _xack(entries: list[StreamEntry], stream: str, group: str, retry: Reconnect) -> None:
    origin = entries[0]._origin
    assert origin is not None
    ids = [e.id for e in entries]
    while True:
        try:
            with translate_errors("XACK", stream):
                await origin.xack(stream, *ids)
            return
        except DatabaseConnectionError as exc:
            await retry.wait(exc)
