"""``read_stream``: a Redis stream as an observable, plain (``XREAD``) or in a consumer group."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import Any

import redis.asyncio as aioredis
from reactivex import Observable

from .._bridge import from_async_batches
from .._checks import check_int
from .._errors import DatabaseConnectionError, DatabaseQueryError, EntryDecodeError
from .._flow import demand_room
from .._reconnect import Reconnect
from ..http._policy import Retry
from ._client import RedisArg, check_redis, open_client, unparsed_reads
from ._entries import Origin, StreamEntry, stream_entries, text
from ._translate import translate_errors

__all__ = ["read_stream"]


def read_stream(
    redis: RedisArg,
    stream: str,
    *,
    group: str | None = None,
    consumer: str | None = None,
    start: str = "$",
    count: int = 1000,
    block: float = 1.0,
    claim_idle: float | None = None,
    decode: str | None = "utf-8",
    errors: str = "strict",
    reconnect: Retry | None = None,
    name: str | None = None,
) -> Observable[StreamEntry]:
    """Follow a Redis stream for ever: its entries as :class:`StreamEntry` items.

    Without ``group``: ``XREAD`` after ``start`` (``"$"``: only entries added
    after subscribing; ``"0"``: from the beginning). After a lost connection
    it reconnects (``reconnect`` policy) and continues after the last
    *delivered* ID: nothing is lost and nothing repeated.

    With ``group`` (and ``consumer``): ``XREADGROUP``; the group is created
    at ``start`` if missing. A (re)subscribing consumer first re-reads its own
    pending entries, then new ones; after a lost connection it re-reads its
    pending entries again. With ``claim_idle=seconds`` it also claims
    (``XAUTOCLAIM``) entries other consumers left pending that long.
    Acknowledge each entry after your sink, with ``await entry.ack()`` or
    the operator :func:`rxasync.redis.ack`: a crash in between delivers it
    again (at least once), never loses it.

    Each read asks for at most ``count`` entries and no more than demand
    downstream leaves room for, so a slow consumer holds only its demand.

    Marble::

        XADD:    -a-b---c----
        result:  -a-b---c----   (never completes; dispose to stop)

    Args:
        redis: a ``redis.asyncio.Redis`` or ``ConnectionPool`` you own
            (never closed here; make it with ``decode_responses=False`` to get
            bytes for ``decode=None``), or a URL: a connection of its own per
            subscription, closed on dispose. The reads take connections from
            the client's pool (also for a ``single_connection_client``) and
            leave the client's own settings as they are.
        stream: the stream's key.
        group: consumer group name, or ``None`` for a plain reader.
        consumer: this consumer's name in ``group`` (required with it).
        start: plain reader: the ID to read after; group: the ID the group
            is created at.
        count: most entries per read; if in doubt, 1000.
        block: seconds one read waits for new entries before asking again.
        claim_idle: seconds after which another consumer's pending entries
            are claimed, or ``None`` never to claim.
        decode: encoding of field names and values, or ``None`` for bytes.
        errors: the decoding error handler; ``"strict"`` raises
            :class:`~rxasync.EntryDecodeError` naming the entry's ID.
        reconnect: a :class:`rxasync.http.Retry` (attempts and backoff; by
            default about ten seconds of attempts).
        name: the name of its counters in :mod:`rxasync.stats` (default ``<kind>#<id>``).

    Returns:
        An ``Observable[StreamEntry]`` that never completes.

    Raises:
        DatabaseConnectionError: (as ``on_error``) the server stayed away
            longer than ``reconnect`` allows.
        EntryDecodeError: (as ``on_error``) a field does not decode.

    Example:
        >>> import asyncio, rxasync
        >>> from reactivex import operators as ops
        >>> from rxasync.redis import read_stream
        >>> from rxasync.testing import RedisServer
        >>> async def main(url: str) -> list[str]:
        ...     import redis.asyncio
        ...     r = redis.asyncio.Redis.from_url(url)
        ...     await r.xadd("jobs", {"n": "1"}, id="1-0"); await r.xadd("jobs", {"n": "2"}, id="2-0")
        ...     await r.aclose()
        ...     src = read_stream(url, "jobs", start="0").pipe(ops.take(2))
        ...     return [e.fields["n"] for e in await rxasync.to_list(src)]
        >>> with RedisServer() as server:
        ...     asyncio.run(main(server.url))
        ['1', '2']
    """
    check_redis(redis)
    if (group is None) != (consumer is None):
        raise ValueError("group and consumer go together: give both or neither")
    check_int("count", count)
    if not (isinstance(block, int | float) and 0 < block < math.inf):
        raise ValueError(f"block must be a number of seconds > 0, got {block!r}")
    if claim_idle is not None and (group is None or not claim_idle >= 0):
        raise ValueError("claim_idle needs a group and a number of seconds >= 0")
    if decode is not None:
        "".encode(decode)  # LookupError now for an unknown encoding
    reader = _Reader(
        redis, stream, group, consumer, start, count, block, claim_idle, decode, errors, reconnect
    )
    Reconnect(reconnect)  # TypeError now for a wrong policy
    return from_async_batches(reader.batches, name=name)


class _Reader:
    """The arguments of one ``read_stream``; :meth:`batches` is one subscription's generator."""

    def __init__(
        self,
        redis: RedisArg,
        stream: str,
        group: str | None,
        consumer: str | None,
        start: str,
        count: int,
        block: float,
        claim_idle: float | None,
        decode: str | None,
        errors: str,
        reconnect: Retry | None,
    ) -> None:
        self.redis, self.stream, self.group, self.consumer = redis, stream, group, consumer
        self.start, self.count, self.block_ms = start, count, max(1, round(block * 1000))
        self.claim_idle, self.decode, self.errors, self.reconnect = claim_idle, decode, errors, reconnect

    async def batches(self) -> AsyncIterator[Iterable[StreamEntry]]:
        url = self.redis if isinstance(self.redis, str) else None
        async with open_client(self.redis) as client:
            reader = unparsed_reads(client)  # the same pool; XREAD replies as they came
            origin = None if self.group is None else Origin(client, self.group, url)
            steps = self.plain(reader) if self.group is None else self.grouped(reader)
            try:
                async for raw in steps:
                    entries = stream_entries(raw, self.stream, origin, self.decode, self.errors)
                    if self.decode is None:
                        yield entries  # nothing in it can fail: built one by one as the pump takes them
                        continue
                    good, error = _until_error(entries)
                    if good:
                        yield good  # the entries before a bad one are delivered first
                    if error is not None:
                        raise error
            finally:
                if origin is not None:
                    origin.closed = True  # before the client closes: a later XACK opens its own

    async def plain(self, client: aioredis.Redis) -> AsyncIterator[Sequence[Any]]:
        retry, last = Reconnect(self.reconnect), self.start
        while True:
            try:
                if last == "$":
                    last = await self.last_id(client)
                with translate_errors("XREAD", self.stream):
                    reply: Any = await client.xread(
                        {self.stream: last}, count=demand_room(self.count), block=self.block_ms
                    )
            except DatabaseConnectionError as exc:
                await retry.wait(exc)
                continue
            retry.succeeded()
            raw = _entries_of(reply)
            if raw:
                last = text(raw[-1][0])  # delivered next: the generator resumes only after they went
                yield raw

    async def last_id(self, client: aioredis.Redis) -> str:
        """What ``"$"`` means now, fixed once so that a reconnect does not skip what came meanwhile."""
        with translate_errors("XREVRANGE", self.stream):
            newest: Any = await client.xrevrange(self.stream, count=1)
        return text(newest[0][0]) if newest else "0-0"

    async def grouped(self, client: aioredis.Redis) -> AsyncIterator[Sequence[Any]]:
        retry, created = Reconnect(self.reconnect), False
        pending: str | None = "0"  # our own pending entries first, from the start of our list
        next_claim, claim_from = 0.0, "0-0"
        while True:
            try:
                if not created:
                    await self.create_group(client)
                    created = True
                n = demand_room(self.count)
                if self.claim_idle is not None and time.monotonic() >= next_claim:
                    claim_from, raw = await self.claim(client, claim_from, n)
                    if claim_from == "0-0":
                        next_claim = time.monotonic() + self.claim_idle / 2
                    if raw:
                        yield raw
                        continue
                raw, pending = await self.read_group(client, pending, n)
            except DatabaseConnectionError as exc:
                await retry.wait(exc)
                pending = "0"  # what we read before the loss may not have arrived: read it again
                continue
            except DatabaseQueryError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                await retry.wait(exc)  # the group went away (a server that lost its data): make it again
                created, pending = False, "0"
                continue
            retry.succeeded()
            if raw:
                yield raw

    async def create_group(self, client: aioredis.Redis) -> None:
        try:
            with translate_errors("XGROUP CREATE", self.stream):
                await client.xgroup_create(self.stream, self.group or "", id=self.start, mkstream=True)
        except DatabaseQueryError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def read_group(
        self, client: aioredis.Redis, pending: str | None, n: int
    ) -> tuple[Sequence[Any], str | None]:
        """Our own pending entries after ``pending`` (then ``None``: done), else new ones."""
        group, consumer = self.group or "", self.consumer or ""
        reply: Any
        with translate_errors("XREADGROUP", self.stream):
            if pending is not None:
                reply = await client.xreadgroup(group, consumer, {self.stream: pending}, count=n)
            else:
                reply = await client.xreadgroup(
                    group, consumer, {self.stream: ">"}, count=n, block=self.block_ms
                )
        raw = _entries_of(reply)
        if pending is None:
            return raw, None
        return raw, (text(raw[-1][0]) if raw else None)

    async def claim(self, client: aioredis.Redis, cursor: str, n: int) -> tuple[str, Sequence[Any]]:
        group, consumer, idle_ms = self.group or "", self.consumer or "", round((self.claim_idle or 0) * 1000)
        with translate_errors("XAUTOCLAIM", self.stream):
            reply: Any = await client.xautoclaim(self.stream, group, consumer, idle_ms, cursor, count=n)
        return text(reply[0]), reply[1]


def _entries_of(reply: Any) -> Sequence[Any]:
    """The entries in a one-stream ``XREAD``/``XREADGROUP`` reply as received (RESP3: a map; RESP2: a list)."""
    if not reply:
        return ()
    if isinstance(reply, dict):
        return next(iter(reply.values()))
    return reply[0][1]  # type: ignore[no-any-return]


def _until_error(entries: Iterator[StreamEntry]) -> tuple[list[StreamEntry], EntryDecodeError | None]:
    """The entries before the first that does not decode, and its error (or ``None``)."""
    good: list[StreamEntry] = []
    try:
        for entry in entries:
            good.append(entry)
    except EntryDecodeError as exc:
        return good, exc
    return good, None
