"""What Redis sources emit: :class:`StreamEntry` and :class:`Message`, and how their bytes decode."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import redis.asyncio as aioredis

from .._errors import EntryDecodeError
from ._client import open_client
from ._translate import translate_errors

__all__ = ["Message", "Origin", "StreamEntry", "stream_entries", "text"]


def text(value: bytes | str) -> str:
    """A key or ID as ``str`` (Redis IDs and stream names are ASCII)."""
    return value if isinstance(value, str) else value.decode("utf-8", "surrogateescape")


class StreamEntry:
    """One entry of a Redis stream: ``stream``, ``id`` and ``fields``.

    ``fields`` maps field to value, as ``str`` (decoded with ``decode=``) or
    ``bytes`` (``decode=None``). An entry read with a consumer group is
    acknowledged with ``await entry.ack()`` (or ``rxasync.redis.ack()``);
    without a group :meth:`ack` does nothing.

    Example:
        >>> from rxasync.redis import StreamEntry
        >>> StreamEntry("jobs", "1-0", {"n": "1"})
        StreamEntry(stream='jobs', id='1-0', fields={'n': '1'})
    """

    __slots__ = ("_origin", "fields", "id", "stream")

    def __init__(
        self,
        stream: str,
        id: str,
        fields: dict[Any, Any],
        client: aioredis.Redis | None = None,
        group: str | None = None,
    ) -> None:
        self.stream = stream
        self.id = id
        self.fields = fields
        self._origin = None if client is None and group is None else Origin(client, group)

    @property
    def group(self) -> str | None:
        """The consumer group it was read with, or ``None``."""
        origin = self._origin
        return None if origin is None else origin.group

    async def ack(self) -> None:
        """Acknowledge the entry in its group (``XACK``): it will not be delivered again.

        Raises:
            DatabaseConnectionError: the server cannot be reached; the entry
                stays pending and is delivered again.
        """
        origin = self._origin
        if origin is None or origin.client is None or origin.group is None:
            return
        with translate_errors("XACK", self.stream):
            await origin.xack(self.stream, self.id)

    def __repr__(self) -> str:
        return f"StreamEntry(stream={self.stream!r}, id={self.id!r}, fields={self.fields!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StreamEntry):
            return NotImplemented
        return (self.stream, self.id, self.fields) == (other.stream, other.id, other.fields)

    __hash__ = None  # type: ignore[assignment]


class Origin:
    """What all the entries of one group subscription share: the client and group ``ack`` uses.

    ``url``: the URL the subscription opened its client from; once that client
    is closed (:attr:`closed`, the subscription ended: ``take(n)`` disposed it
    before ``ack()`` downstream sent the ``XACK``), an ``XACK`` goes on a
    client opened from ``url`` for it and closed after it, not on the closed
    client (whose pool would open a connection that nothing closes).
    """

    __slots__ = ("client", "closed", "group", "url")

    def __init__(self, client: aioredis.Redis | None, group: str | None, url: str | None = None) -> None:
        self.client = client
        self.group = group
        self.url = url
        self.closed = False

    async def xack(self, stream: str, *ids: str) -> None:
        """``XACK`` of ``ids`` in the group, on the subscription's client or, once it closed, a fresh one."""
        if self.closed and self.url is not None:
            async with open_client(self.url) as client:
                await client.xack(stream, self.group or "", *ids)
            return
        assert self.client is not None
        await self.client.xack(stream, self.group or "", *ids)


def stream_entries(
    raw: Sequence[Any], stream: str, origin: Origin | None, decode: str | None, errors: str
) -> Iterator[StreamEntry]:
    """The entries of one reply, built one at a time as the pump takes them.

    ``raw`` is the reply's list of ``[id, [field, value, field, value...]]``
    as the server sent it (redis-py's reshaping into ``(id, dict)`` pairs is
    skipped: see ``_client.unparsed_reads``); an entry deleted since it was
    delivered (``[id, None]``, in a pending list) is skipped. Taken one by
    one, an entry the consumer has dropped is freed before the next is made
    (no reply-sized list of them for the garbage collector to walk). With
    ``decode``, an entry that does not decode raises
    :class:`~rxasync.EntryDecodeError` when it is reached.
    """
    if not raw:
        return
    if decode is not None and isinstance(raw[0][0], bytes):  # bytes from the driver: decode here
        yield from _decoded(raw, stream, origin, decode, errors)
        return
    as_text = bytes.decode if isinstance(raw[0][0], bytes) else str  # a client with decode_responses
    new, cls = object.__new__, StreamEntry
    for entry_id, pairs in raw:  # the hot path: no call per entry but the C ones
        if pairs is None:
            continue
        it = iter(pairs)
        entry: StreamEntry = new(cls)
        entry.stream = stream
        entry.id = as_text(entry_id)
        entry.fields = dict(zip(it, it))  # noqa: B905 (pairs of one iterator; strict= costs per entry)
        entry._origin = origin
        yield entry


def _decoded(
    raw: Sequence[Any], stream: str, origin: Origin | None, decode: str, errors: str
) -> Iterator[StreamEntry]:
    new, cls = object.__new__, StreamEntry
    for entry_id, pairs in raw:
        if pairs is None:
            continue
        it = iter(pairs)
        try:
            fields = {k.decode(decode, errors): v.decode(decode, errors) for k, v in zip(it, it)}  # noqa: B905
        except UnicodeDecodeError as exc:
            raise _decode_error(stream, text(entry_id), decode, exc) from exc
        entry: StreamEntry = new(cls)
        entry.stream = stream
        entry.id = entry_id.decode()
        entry.fields = fields
        entry._origin = origin
        yield entry


def _decode_error(stream: str, entry_id: str, decode: str, exc: UnicodeDecodeError) -> EntryDecodeError:
    return EntryDecodeError(
        f"entry {entry_id} of {stream!r} has a field that is not valid {decode}: {exc} "
        f"(read with decode=None for bytes, or errors='replace')",
        target=stream,
        entry_id=entry_id,
    )


class Message:
    """One pub/sub message: ``channel``, ``data`` and the ``pattern`` it matched (or ``None``).

    Example:
        >>> from rxasync.redis import Message
        >>> Message("news", "hello")
        Message(channel='news', data='hello', pattern=None)
    """

    __slots__ = ("channel", "data", "pattern")

    def __init__(self, channel: str, data: str | bytes, pattern: str | None = None) -> None:
        self.channel = channel
        self.data = data
        self.pattern = pattern

    def __repr__(self) -> str:
        return f"Message(channel={self.channel!r}, data={self.data!r}, pattern={self.pattern!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return (self.channel, self.data, self.pattern) == (other.channel, other.data, other.pattern)

    __hash__ = None  # type: ignore[assignment]
