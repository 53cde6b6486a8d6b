"""An outbox: items wait in it until a sink confirms them, and go again after the sink failed.

rxasync's sinks deliver an error and never re-send behind your back
(``write_stream``: "a failed batch is an error"; ``copy_records``: "whole
batches only"). To ride out a server restart, :func:`delivered` puts the
sink behind an :class:`Outbox` and resubscribes it with
``retry_with_backoff`` after a lost connection: the new subscription sends
the unconfirmed items first, then the new ones. An item is confirmed when
the sink emits its result (in input order: an ID per ``XADD``, a row count
per committed ``COPY``), so nothing handed to the outbox is lost. An item
is sent twice only when the server applied it but its reply was lost with
the connection (at least once).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Generic, TypeVar

from reactivex import Observable
from reactivex import operators as ops

import rxasync
from rxasync import DatabaseConnectionError, DatabaseError, DatabaseQueryError
from rxasync.operators import retry_with_backoff

__all__ = ["Outbox", "delivered"]

_T = TypeVar("_T")
_R = TypeVar("_R")


def _worth_retrying(exc: Exception) -> bool:
    """A lost server, not refused data: a new connection may succeed where this one failed.

    ``DatabaseConnectionError`` is the lost connection. A plain ``DatabaseError`` is a client-side
    state error of asyncpg's; one is seen when PostgreSQL shuts down in the middle of a ``COPY``
    (the transaction's rollback then fails with "cannot switch to state 15; another operation is
    in progress", translated as ``DatabaseError``, not as a lost connection). A
    ``DatabaseQueryError`` (bad SQL, a constraint, a type) would fail again: it is delivered.
    """
    if isinstance(exc, DatabaseConnectionError):
        return True
    return isinstance(exc, DatabaseError) and not isinstance(exc, DatabaseQueryError)


class Outbox(Generic[_T]):
    """Items not yet confirmed by the sink, in order; :meth:`batches` is one subscription's source.

    Example:
        >>> import asyncio
        >>> async def main() -> list[list[int]]:
        ...     box: Outbox[int] = Outbox()
        ...     box.put([1, 2, 3]); box.close()
        ...     first = [b async for b in box.batches()]   # sent, one confirmed
        ...     box.confirm(1)
        ...     return first + [b async for b in box.batches()]   # a new subscription: 2 and 3 again
        >>> asyncio.run(main())
        [[1, 2, 3], [2, 3]]
    """

    def __init__(self) -> None:
        self._items: deque[_T] = deque()
        self._confirmed = 0  # items confirmed since the start: the absolute index of _items[0]
        self._closed = False
        self._changed = asyncio.Event()
        self.subscriptions = 0  #: how many times the sink was (re)subscribed

    def put(self, items: Iterable[_T]) -> None:
        """Hand items to the sink."""
        self._items.extend(items)
        self._changed.set()

    def close(self) -> None:
        """No more items: :meth:`batches` ends once it has sent the last one."""
        self._closed = True
        self._changed.set()

    def confirm(self, n: int) -> None:
        """The sink confirmed the oldest ``n`` unconfirmed items."""
        for _ in range(n):
            self._items.popleft()
        self._confirmed += n

    @property
    def unconfirmed(self) -> int:
        """Items handed in and not confirmed yet."""
        return len(self._items)

    async def batches(self) -> AsyncIterator[list[_T]]:
        """Every unconfirmed item, then each new one, in lists; ends after :meth:`close`."""
        self.subscriptions += 1
        sent = self._confirmed  # absolute index of the next item to send: the unconfirmed ones again
        while True:
            start = sent - self._confirmed
            if start < len(self._items):
                batch = list(itertools.islice(self._items, start, None))
                sent += len(batch)
                yield batch
            elif self._closed:
                return
            else:
                self._changed.clear()
                await self._changed.wait()


def delivered(
    outbox: Outbox[_T],
    sink: Callable[[Observable[_T]], Observable[_R]],
    confirmed: Callable[[_R], int],
    *,
    name: str,
    attempts: int = 30,
    max_delay: float = 1.0,
) -> Observable[_R]:
    """The outbox's items through ``sink``, resubscribed after a lost connection; the sink's results out.

    Args:
        outbox: where the items wait.
        sink: the sink operator, e.g. ``write_stream(url, "alerts")``.
        confirmed: how many items one result of the sink confirms (1 per ID, the count per ``COPY``).
        name: the name of the outbox's source in :mod:`rxasync.stats`.
        attempts: subscriptions in a row without a confirmed result before the error is delivered
            (one outage's budget: a result starts the count again).
        max_delay: longest wait between two attempts, in seconds.

    Example:
        >>> import asyncio, rxasync
        >>> from reactivex import operators as ops
        >>> box: Outbox[int] = Outbox(); box.put([1, 2]); box.close()
        >>> asyncio.run(rxasync.to_list(delivered(box, ops.map(str), lambda _: 1, name="n")))
        ['1', '2']
    """

    def confirm(result: _R) -> None:
        outbox.confirm(confirmed(result))

    sent: Observable[_R] = rxasync.from_async_batches(outbox.batches, name=name).pipe(sink)
    attempt = sent.pipe(ops.do_action(confirm))
    return attempt.pipe(
        retry_with_backoff(
            max_attempts=attempts,
            initial_delay=0.05,
            max_delay=max_delay,
            retry_on=_worth_retrying,
            transient=True,
        )
    )
