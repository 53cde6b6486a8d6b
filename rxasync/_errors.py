"""Every exception rxasync raises, under one root.

Lower-layer errors (aiohttp, OS, codecs, JAX) are translated at the boundary
where they happen, once, into one of these classes and chained with
``raise ... from exc``, so ``__cause__`` always holds the original. Where a
standard exception is what users would naturally catch, the rxasync class
also derives from it (``SourceTimeoutError`` is a ``TimeoutError``,
``FileNotFoundSourceError`` is a ``FileNotFoundError``...).

The tree::

    RxAsyncError
    ├── NoRunningLoopError (RuntimeError)     subscribed with no event loop to run on
    ├── EmptySourceError (LookupError)        first()/last() of a source with no items
    ├── BufferOverflowError                   to_async_iterable(overflow="error") filled up
    ├── SourceTimeoutError (TimeoutError)     a total, connect or idle timeout ran out
    ├── DecodeError (ValueError)              bytes that do not decode; names line and offset
    │   └── LineTooLongError                  a line longer than max_line_length
    ├── HttpError                             carries method and url
    │   ├── HttpStatusError                   a non-2xx answer; status and start of body
    │   ├── HttpConnectionError (ConnectionError)  refused, reset, dropped mid-body
    │   │   └── WebSocketClosedError          a WebSocket closed without a Close frame (1006)
    │   ├── HttpProtocolError                 an answer the client cannot parse (huge headers...)
    │   ├── BodyTooLargeError                 a whole body longer than max_body_size
    │   ├── TooManyRedirectsError             a redirect loop or chain past max_redirects
    │   ├── InvalidUrlError (ValueError)      a URL that cannot be requested; names it
    │   └── HttpResumeError                   a broken body that cannot resume without replay
    ├── FileSourceError (OSError)             carries the path
    │   ├── FileNotFoundSourceError (FileNotFoundError)
    │   ├── IsADirectorySourceError (IsADirectoryError)
    │   ├── PermissionSourceError (PermissionError)
    │   └── FileChangedError                  a file truncated while read
    ├── JaxOperatorError                      a JAX function failed to trace or to run
    ├── DatabaseError                         Redis or PostgreSQL; carries statement and target
    │   ├── DatabaseConnectionError (ConnectionError)  refused, reset, server gone mid-command
    │   ├── DatabaseQueryError                the server refused a command; SQLSTATE for PostgreSQL
    │   └── EntryDecodeError (DecodeError)    a stream entry's field does not decode; names its ID
    └── ClusterError                          a task on a Dask cluster failed; carries the worker traceback
"""

from __future__ import annotations

__all__ = [
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
]


class RxAsyncError(Exception):
    """Root of every error rxasync raises. ``except RxAsyncError`` catches them all.

    Errors raised by *your* functions (a mapper given to ``map_async``, a
    coroutine given to ``from_awaitable``) are delivered unchanged, not wrapped.
    """


class NoRunningLoopError(RxAsyncError, RuntimeError):
    """Raised when an rxasync source or stage is subscribed with no asyncio loop.

    rxasync runs its work as tasks on an event loop. Subscribe from inside a
    coroutine (``asyncio.run(main())``), or pass ``scheduler=`` an
    ``AsyncIOScheduler``/``rxasync.schedulers.loop(loop)`` naming the loop to use.
    Not raised when a scheduler that names a loop was given.
    """


class EmptySourceError(RxAsyncError, LookupError):
    """Raised by ``first()``/``last()`` when the source completed without an item.

    ``to_list()`` never raises it: an empty source gives ``[]``.
    """


class BufferOverflowError(RxAsyncError):
    """Raised by ``to_async_iterable(overflow="error")`` when ``max_buffer`` items wait.

    The items already buffered are still delivered before the error is raised
    at the ``async for``. Never raised with the other overflow policies.
    """


class SourceTimeoutError(RxAsyncError, TimeoutError):
    """Raised when a source's total, connect or idle timeout runs out.

    Attributes:
        source: what timed out (a URL or a path).
        timeout: which limit ran out (``"total"``, ``"connect"``, ``"idle"``).
    """

    def __init__(self, message: str, *, source: str = "", timeout: str = "") -> None:
        super().__init__(message)
        self.source = source
        self.timeout = timeout


class DecodeError(RxAsyncError, ValueError):
    """Raised when bytes do not decode with the chosen encoding (``errors="strict"``).

    Not raised with ``errors="replace"`` (or another lenient handler), which
    substitutes instead.

    Attributes:
        source: the URL or path being decoded ("" when unknown).
        line: 1-based number of the line the bad bytes are in.
        offset: 0-based byte offset of the first bad byte in the stream.
    """

    def __init__(self, message: str, *, source: str = "", line: int = 0, offset: int = 0) -> None:
        super().__init__(message)
        self.source = source
        self.line = line
        self.offset = offset


class LineTooLongError(DecodeError):
    """Raised when a line grows past ``max_line_length`` before its newline arrives.

    Raised as soon as the limit is passed, so an endless line never fills memory.
    """


class HttpError(RxAsyncError):
    """Base of HTTP errors; carries the request's ``method`` and ``url``."""

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        super().__init__(message)
        self.method = method
        self.url = url


class HttpStatusError(HttpError):
    """Raised for a non-2xx answer when ``raise_for_status=True`` (the default).

    Attributes:
        status: the HTTP status code.
        body: the first bytes of the answer's body (at most 1 KiB).
        retry_after: seconds the server asked to wait (``Retry-After`` on a
            429 or 503), or ``None``; ``retry_with_backoff`` honours it.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        url: str = "",
        status: int = 0,
        body: bytes = b"",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status = status
        self.body = body
        self.retry_after = retry_after


class HttpConnectionError(HttpError, ConnectionError):
    """Raised when a connection is refused, reset, or drops before the body ended."""


class WebSocketClosedError(HttpConnectionError):
    """Raised when a WebSocket connection ends without a Close frame (RFC 6455 code 1006).

    The server died, or the connection was reset or cut. A Close frame from
    the server, whatever its code, completes the incoming side instead; its
    code and reason are then on ``WebSocket.close_code``/``close_reason``.

    Attributes:
        code: the close code, ``1006`` (abnormal closure).
        reason: ``""``: no Close frame, so no reason.
    """

    def __init__(
        self, message: str, *, method: str = "", url: str = "", code: int = 1006, reason: str = ""
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.code = code
        self.reason = reason


class HttpProtocolError(HttpError):
    """Raised when the client cannot parse the server's answer (its status line or headers).

    For example a header line longer than ``max_field_size`` or more than
    ``max_headers`` headers (arguments of :class:`~rxasync.http.Client`).
    The server did not answer 400: there is no status to read. Not raised for
    an answer that parses, whatever its status (that is :class:`HttpStatusError`).
    """


class BodyTooLargeError(HttpError):
    """Raised when a whole body (``request``/``get``/``get_json``) passes ``max_body_size``.

    Counted after decompression, as it arrives, so memory stays bounded. Not
    raised by the streaming sources (``stream``, ``lines``...), which never
    hold a whole body.

    Attributes:
        limit: the ``max_body_size`` that was passed, in bytes.
    """

    def __init__(self, message: str, *, method: str = "", url: str = "", limit: int = 0) -> None:
        super().__init__(message, method=method, url=url)
        self.limit = limit


class TooManyRedirectsError(HttpError):
    """Raised when following redirects would pass ``max_redirects`` (a loop, or a long chain).

    Attributes:
        history: the URLs visited, in order, the request's own first.
    """

    def __init__(
        self, message: str, *, method: str = "", url: str = "", history: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.history = history


class InvalidUrlError(HttpError, ValueError):
    """Raised at subscribe when a URL cannot be requested (no scheme or host, bad syntax).

    Its message quotes the URL. Not raised for a well-formed URL whose host
    does not resolve or refuses: that is an :class:`HttpConnectionError`.
    """


class HttpResumeError(HttpError):
    """Raised when a body broke mid-stream and cannot resume without replaying bytes.

    That is the case when the server does not answer ``Accept-Ranges: bytes``,
    or when its ``ETag``/``Last-Modified`` shows the resource changed.
    """


class FileSourceError(RxAsyncError, OSError):
    """Base of file errors; an ``OSError`` with ``errno``, ``strerror`` and ``filename``."""


class FileNotFoundSourceError(FileSourceError, FileNotFoundError):
    """Raised when the path to read does not exist."""


class IsADirectorySourceError(FileSourceError, IsADirectoryError):
    """Raised when a file was expected and the path is a directory."""


class PermissionSourceError(FileSourceError, PermissionError):
    """Raised when the process may not read or write the path."""


class FileChangedError(FileSourceError):
    """Raised when a file is truncated while ``read_chunks`` or ``read_lines`` reads it.

    (Or ``read_line_batches``.) That is: the reader found the end of the
    file before the size it had when it was opened, and the file is shorter
    now than then. Not raised when the file grows (what is appended is
    read too), nor when another file is renamed over it or it is deleted:
    the file that was opened is read to its end, so you get the old version
    whole and the new file at that name is not read (``tail`` follows the
    name instead). Not raised either for bytes rewritten in place, or for a
    file truncated and then regrown past the point read, which its size does
    not tell apart; nor for pipes and devices, which have no size, nor for
    a file whose size never said what it holds (a sysfs file is 4096 bytes
    by ``stat`` and ends where its text does).

    Its ``errno`` is ``None`` and ``filename`` names the file; the message
    says what changed.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()


class JaxOperatorError(RxAsyncError):
    """Raised when a function given to a JAX operator fails to trace or to run.

    Attributes:
        operator: the operator's name (``"map_batched"``, ``"scan"``, ``"from_jax"``).
        index: index of the failing element in the stream, or ``None`` if unknown.
    """

    def __init__(self, message: str, *, operator: str = "", index: int | None = None) -> None:
        super().__init__(message)
        self.operator = operator
        self.index = index


class DatabaseError(RxAsyncError):
    """Base of Redis and PostgreSQL errors (``rxasync.redis``, ``rxasync.postgres``).

    Translated from the driver's exception (redis-py, asyncpg) in one place
    per driver and chained: ``__cause__`` holds the original.

    Attributes:
        statement: the command or SQL that failed ("" when none ran).
        target: the stream, channel or table concerned ("" when none).
    """

    def __init__(self, message: str, *, statement: str = "", target: str = "") -> None:
        super().__init__(message)
        self.statement = statement
        self.target = target


class DatabaseConnectionError(DatabaseError, ConnectionError):
    """Raised when the server refuses the connection, drops it, or shuts down mid-command.

    Sources that follow a stream (``read_stream``, ``listen``) reconnect
    after it with their ``reconnect`` policy and raise it only once that
    gives up; ``query`` and the sinks raise it at once.
    """


class DatabaseQueryError(DatabaseError):
    """Raised when the server answers a command with an error (bad SQL, a constraint, a type).

    Not raised for a lost connection: that is :class:`DatabaseConnectionError`.

    Attributes:
        sqlstate: PostgreSQL's five-character SQLSTATE (``"42601"`` for a
            syntax error); "" for Redis.
    """

    def __init__(self, message: str, *, statement: str = "", target: str = "", sqlstate: str = "") -> None:
        super().__init__(message, statement=statement, target=target)
        self.sqlstate = sqlstate


class EntryDecodeError(DatabaseError, DecodeError):
    """Raised when a Redis entry's field does not decode with ``decode=`` (strict errors).

    Not raised with ``decode=None`` (fields stay ``bytes``) or a lenient
    ``errors=`` handler. Its ``target`` is the stream or channel and
    ``entry_id`` the ID of the entry that failed.
    """

    def __init__(self, message: str, *, target: str = "", entry_id: str = "") -> None:
        super().__init__(message, target=target)
        self.source = target
        self.entry_id = entry_id


class ClusterError(RxAsyncError):
    """Raised by ``rxasync.dask.map_on_cluster`` when a task on the Dask cluster fails.

    ``__cause__`` is the exception the task raised on the worker (its
    ``__traceback__`` holds the worker's frames), or Dask's own error when the
    cluster gave up on the task (``KilledWorker`` after a task killed too many
    workers, a future cancelled by another client). Not raised when a worker
    dies once: Dask recomputes its tasks and the stream goes on.

    Attributes:
        key: the Dask key of the failed task.
        index: the failing item's position in the stream.
        worker_traceback: the worker's traceback, formatted ("" when Dask sent none).
    """

    def __init__(
        self, message: str, *, key: str = "", index: int | None = None, worker_traceback: str = ""
    ) -> None:
        super().__init__(message)
        self.key = key
        self.index = index
        self.worker_traceback = worker_traceback
