"""What the server counts, and the knobs that bound each connection."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._pipeline import DEBOUNCE_SECONDS, MIN_LENGTH

__all__ = ["ConnectionLimits", "Settings", "Stats"]


@dataclass(frozen=True)
class ConnectionLimits:
    """Per-connection bounds that keep one misbehaving client from hurting the others.

    Incoming frames need no queue of ours: each is parsed and handed to the
    debounce at once (O(1)), and while we read, aiohttp's own flow control
    holds back a client that sends faster than that. Outgoing messages wait
    in an ``outbox`` of at most ``outbox`` messages; when it is full the
    oldest is dropped (a newer answer makes it stale anyway).
    """

    outbox: int = 32
    max_frame_bytes: int = 64 * 1024  # larger frames close the connection (1009)
    #: a request head must be complete this many seconds after the connection opens
    #: (also how long an idle keep-alive connection stays open)
    head_timeout: float = 5.0
    #: connections open at once, in all (never more than the fd limit allows) and per client address;
    #: past a cap the oldest idle connection is closed to make room (see ``_guard.py``)
    max_connections: int = 900
    max_per_client: int = 600


@dataclass(frozen=True)
class Settings:
    """How the app behaves; every field has the demo's default."""

    latency: float = 0.0  # up to this many seconds of random delay per search
    debounce: float = DEBOUNCE_SECONDS
    min_length: int = MIN_LENGTH
    limits: ConnectionLimits = field(default_factory=ConnectionLimits)


@dataclass
class Stats:
    """What the server counts; served at ``/api/stats`` (tests read it)."""

    searches_started: int = 0
    searches_completed: int = 0
    searches_aborted: int = 0
    searches_rejected: int = 0
    connections_open: int = 0
    connections_total: int = 0
    connections_evicted: int = 0  # idle or half-open connections closed to make room
    connections_refused: int = 0  # new connections closed at once: every other one was busy
    messages_received: int = 0
    messages_rejected: int = 0
    messages_dropped: int = 0
    max_outbox: int = 0
