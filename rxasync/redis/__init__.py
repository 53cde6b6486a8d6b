"""Redis as observables: streams (plain and consumer groups), pub/sub, and a stream sink.

Built on redis-py's ``redis.asyncio``; needs the ``redis`` extra
(``pip install 'rxasync[redis]'``). ``import rxasync`` alone never imports
redis. Delivery: ``read_stream`` without a group loses and repeats nothing
across a lost connection; with a group, entries are delivered at least once
(acknowledge after the sink with :func:`ack`); ``subscribe`` is at most once
(after a lost connection it reconnects and calls ``on_gap``).
See ``docs/guides/databases.md``.

Example:
    >>> import asyncio, reactivex, rxasync
    >>> from reactivex import operators as ops
    >>> from rxasync import redis as rxredis
    >>> from rxasync.testing import RedisServer
    >>> async def main(url: str) -> list[str]:
    ...     await rxasync.to_list(reactivex.of({"w": "a"}, {"w": "b"}).pipe(rxredis.write_stream(url, "words")))
    ...     entries = rxredis.read_stream(url, "words", start="0").pipe(ops.take(2))
    ...     return [e.fields["w"] for e in await rxasync.to_list(entries)]
    >>> with RedisServer() as server:
    ...     asyncio.run(main(server.url))
    ['a', 'b']
"""

try:
    import redis.asyncio as _redis_asyncio
except ImportError as _exc:
    raise ImportError(
        "rxasync.redis needs redis-py, which is not installed: install rxasync[redis] (pip install 'rxasync[redis]')"
    ) from _exc

from .._exports import export as _export
from ._entries import Message, StreamEntry
from ._pubsub import subscribe
from ._read import read_stream
from ._write import ack, write_stream

__all__ = ["Message", "StreamEntry", "ack", "read_stream", "subscribe", "write_stream"]

_export(globals())
del _redis_asyncio
