"""``listen``: PostgreSQL ``LISTEN``/``NOTIFY`` as an observable, reconnecting after a loss."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from reactivex import Observable

from .._bridge import from_async_iterable
from .._errors import DatabaseConnectionError
from .._reconnect import Reconnect
from ..http._policy import Retry
from ._pool import PoolArg, acquire, check_pool
from ._translate import translate_errors

__all__ = ["Notification", "listen"]


@dataclass(frozen=True, slots=True)
class Notification:
    """One ``NOTIFY``: the ``channel``, its ``payload`` and the ``pid`` of the sending backend.

    Example:
        >>> from rxasync.postgres import Notification
        >>> Notification("jobs", "42", 1234).payload
        '42'
    """

    channel: str
    payload: str
    pid: int


def listen(
    pool: PoolArg,
    *channels: str,
    on_gap: Callable[[], None] | None = None,
    reconnect: Retry | None = None,
    name: str | None = None,
) -> Observable[Notification]:
    """Notifications sent on ``channels`` (``LISTEN``), for ever.

    NOTIFY is not durable: a notification sent while no connection listens
    is gone, and PostgreSQL keeps no history to replay. So after a lost
    connection ``listen`` reconnects (``reconnect`` policy), listens again,
    and calls ``on_gap()`` before the first notification of the new
    connection: whatever it stands for may have changed meanwhile, resync
    from the tables. Delivery is at most once.

    Marble::

        NOTIFY:  -a--b--X(lost)---c--
        result:  -a--b---(on_gap)-c--   (never completes)

    Args:
        pool: a pool or connection you own, or a DSN (a connection of its own).
        channels: channel names (at least one).
        on_gap: called on the loop after each reconnect, before the next item.
        reconnect: a :class:`rxasync.http.Retry` (attempts and backoff).
        name: the name of its counters in :mod:`rxasync.stats` (default ``<kind>#<id>``).

    Returns:
        An ``Observable[Notification]`` that never completes.

    Raises:
        DatabaseConnectionError: (as ``on_error``) the server stayed away
            longer than ``reconnect`` allows.

    Example:
        >>> import asyncio, asyncpg, rxasync
        >>> from reactivex import operators as ops
        >>> from rxasync.postgres import listen
        >>> from rxasync.postgres._examples import dsn  # a private server for the example
        >>> async def main(dsn: str) -> str:
        ...     got = asyncio.ensure_future(rxasync.first(listen(dsn, "jobs")))
        ...     conn = await asyncpg.connect(dsn)
        ...     for _ in range(200):  # until the listener is in place
        ...         if got.done():
        ...             break
        ...         await conn.execute("NOTIFY jobs, 'hello'"); await asyncio.sleep(0.05)
        ...     await conn.close()
        ...     return (await got).payload
        >>> asyncio.run(main(dsn()))
        'hello'
    """
    check_pool(pool)
    if not channels:
        raise ValueError("listen needs at least one channel")
    Reconnect(reconnect)  # TypeError now for a wrong policy
    target = " ".join(channels)

    async def notifications() -> AsyncIterator[Notification]:
        retry, connected_before = Reconnect(reconnect), False
        while True:
            try:
                async with acquire(pool) as conn:
                    listener = _Listener(conn, channels, target)
                    try:
                        await listener.start()
                        retry.succeeded()
                        if connected_before and on_gap is not None:
                            on_gap()
                        connected_before = True
                        while (item := await listener.queue.get()) is not None:
                            yield item
                    finally:
                        await listener.stop()
                raise DatabaseConnectionError(f"LISTEN {target}: connection lost", target=target)
            except DatabaseConnectionError as exc:
                await retry.wait(exc)

    return from_async_iterable(notifications, name=name)


class _Listener:
    """The callbacks of one connection's ``LISTEN``: notifications into a queue, ``None`` when lost."""

    def __init__(self, conn: asyncpg.Connection, channels: tuple[str, ...], target: str) -> None:
        self.conn, self.channels, self.target = conn, channels, target
        self.queue: asyncio.Queue[Notification | None] = asyncio.Queue()

    def on_notify(self, _: Any, pid: int, channel: str, payload: str) -> None:
        self.queue.put_nowait(Notification(channel, payload, pid))

    def on_lost(self, _: Any) -> None:
        self.queue.put_nowait(None)

    async def start(self) -> None:
        self.conn.add_termination_listener(self.on_lost)
        with translate_errors(f"LISTEN {self.target}", self.target):
            for channel in self.channels:
                await self.conn.add_listener(channel, self.on_notify)

    async def stop(self) -> None:
        """Stop listening, so a pooled connection goes back with no callback of ours."""
        self.conn.remove_termination_listener(self.on_lost)
        if self.conn.is_closed():
            return
        try:
            for channel in self.channels:
                await self.conn.remove_listener(channel, self.on_notify)
        except Exception:  # the connection broke on the way out: close it, nothing listens
            self.conn.terminate()
