"""rxasync: asyncio work as composable RxPY observables, with demand and cancellation.

Example:
    >>> import asyncio, rxasync
    >>> from reactivex import operators as ops
    >>> from rxasync.operators import map_async
    >>> async def lines():
    ...     for word in ["async", "rx", "composes"]:
    ...         yield word
    >>> async def shout(word: str) -> str:
    ...     await asyncio.sleep(0)
    ...     return word.upper()
    >>> src = rxasync.from_async_iterable(lines).pipe(
    ...     ops.filter(lambda w: len(w) > 2), map_async(shout, concurrency=4))
    >>> asyncio.run(rxasync.to_list(src))
    ['ASYNC', 'COMPOSES']
"""

from . import operators, schedulers
from ._bridge import from_async_batches, from_async_iterable, from_awaitable
from ._errors import (
    BodyTooLargeError,
    BufferOverflowError,
    ClusterError,
    DatabaseConnectionError,
    DatabaseError,
    DatabaseQueryError,
    DecodeError,
    EmptySourceError,
    EntryDecodeError,
    FileChangedError,
    FileNotFoundSourceError,
    FileSourceError,
    HttpConnectionError,
    HttpError,
    HttpProtocolError,
    HttpResumeError,
    HttpStatusError,
    InvalidUrlError,
    IsADirectorySourceError,
    JaxOperatorError,
    LineTooLongError,
    NoRunningLoopError,
    PermissionSourceError,
    RxAsyncError,
    SourceTimeoutError,
    TooManyRedirectsError,
    WebSocketClosedError,
)
from ._exports import export as _export
from ._iterator import AsyncObservableIterator, to_async_iterable
from ._terminals import first, last, to_list

__version__ = "0.1.0"

__all__ = [
    "AsyncObservableIterator",
    "BodyTooLargeError",
    "BufferOverflowError",
    "ClusterError",
    "DatabaseConnectionError",
    "DatabaseError",
    "DatabaseQueryError",
    "DecodeError",
    "EmptySourceError",
    "EntryDecodeError",
    "FileChangedError",
    "FileNotFoundSourceError",
    "FileSourceError",
    "HttpConnectionError",
    "HttpError",
    "HttpProtocolError",
    "HttpResumeError",
    "HttpStatusError",
    "InvalidUrlError",
    "IsADirectorySourceError",
    "JaxOperatorError",
    "LineTooLongError",
    "NoRunningLoopError",
    "PermissionSourceError",
    "RxAsyncError",
    "SourceTimeoutError",
    "TooManyRedirectsError",
    "WebSocketClosedError",
    "first",
    "from_async_batches",
    "from_async_iterable",
    "from_awaitable",
    "last",
    "operators",
    "schedulers",
    "to_async_iterable",
    "to_list",
]

_export(globals())
