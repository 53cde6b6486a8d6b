"""What Redis sources emit: :class:`StreamEntry` and :class:`Message`, and how their bytes decode."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from .._errors import EntryDecodeError
from ._translate import translate_errors

__all__ = ["Message", "StreamEntry", "decode_fields", "text"]


def text(value: bytes | str) -> str:
    """A key or ID as ``str`` (Redis IDs and stream names are ASCII)."""
    return value if isinstance(value, str) else value.decode("utf-8", "surrogateescape")


def decode_fields(
    fields: dict[Any, Any], decode: str | None, errors: str, stream: str, entry_id: str
) -> dict[Any, Any]:
    """``fields`` with keys and values decoded (``decode=None``: as they came)."""
    if decode is None:
        return fields
    try:
        return {
            (k.decode(decode, errors) if isinstance(k, bytes) else k): (
                v.decode(decode, errors) if isinstance(v, bytes) else v
            )
            for k, v in fields.items()
        }
    except UnicodeDecodeError as exc:
        raise EntryDecodeError(
            f"entry {entry_id} of {stream!r} has a field that is not valid {decode}: {exc} "
            f"(read with decode=None for bytes, or errors='replace')",
            target=stream,
            entry_id=entry_id,
        ) from exc


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

    __slots__ = ("_client", "_group", "fields", "id", "stream")

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
        self._client = client
        self._group = group

    @property
    def group(self) -> str | None:
        """The consumer group it was read with, or ``None``."""
        return self._group

    async def ack(self) -> None:
        """Acknowledge the entry in its group (``XACK``): it will not be delivered again.

        Raises:
            DatabaseConnectionError: the server cannot be reached; the entry
                stays pending and is delivered again.
        """
        if self._client is None or self._group is None:
            return
        with translate_errors("XACK", self.stream):
            await self._client.xack(self.stream, self._group, self.id)

    def __repr__(self) -> str:
        return f"StreamEntry(stream={self.stream!r}, id={self.id!r}, fields={self.fields!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StreamEntry):
            return NotImplemented
        return (self.stream, self.id, self.fields) == (other.stream, other.id, other.fields)

    __hash__ = None  # type: ignore[assignment]


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
