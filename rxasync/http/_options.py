"""The keyword arguments of every HTTP source, declared once as ``TypedDict``\\ s.

Each source takes ``**options: Unpack[...]`` of one of these, and so does the
:class:`~rxasync.http.Client` method of the same name, so a misspelt option
(``timout=3``) fails ``mypy --strict`` and, at run time, raises ``TypeError``
when the source is created. Defaults are given in each source's docstring and
applied in one place: :func:`~rxasync.http._call.make_call` for the request
options, the source itself for its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from ._policy import RetryArg, TimeoutArg

__all__ = [
    "BodyOptions",
    "LinesOptions",
    "NdjsonOptions",
    "RequestOptions",
    "SseOptions",
    "StreamOptions",
    "WebSocketOptions",
    "check_options",
]


class RequestOptions(TypedDict, total=False):
    """What every HTTP source takes besides its URL and session (see :func:`~rxasync.http.request`).

    Keys: ``params``, ``headers``, ``json``, ``data``, ``timeout``, ``retry``,
    ``raise_for_status``, ``max_redirects`` (10), and aiohttp's parser limits
    ``max_line_size`` (status line, 8190), ``max_field_size`` (one header,
    8190) and ``max_headers`` (128), which an answer past them turns into
    :class:`~rxasync.HttpProtocolError`; and ``name``, the source's name in
    :mod:`rxasync.stats` (see the observing guide).
    """

    name: str | None
    params: Any
    headers: Mapping[str, str] | None
    json: Any
    data: Any
    timeout: TimeoutArg
    retry: RetryArg
    raise_for_status: bool
    max_redirects: int
    max_line_size: int
    max_field_size: int
    max_headers: int


class BodyOptions(RequestOptions, total=False):
    """:class:`RequestOptions` and ``max_body_size``: the whole-body sources (``request``, ``get``, ``get_json``)."""

    max_body_size: int


class StreamOptions(RequestOptions, total=False):
    """:class:`RequestOptions`, ``method`` (``"GET"``) and ``chunk_size``: the options of ``stream``."""

    method: str
    chunk_size: int


class LinesOptions(StreamOptions, total=False):
    """:class:`StreamOptions`, ``encoding``, ``errors`` and ``max_line_length``: the options of ``lines``."""

    encoding: str
    errors: str
    max_line_length: int


class NdjsonOptions(StreamOptions, total=False):
    """:class:`StreamOptions` and ``max_line_length``: the options of ``ndjson``."""

    max_line_length: int


class SseOptions(RequestOptions, total=False):
    """:class:`RequestOptions` and the reconnection settings of ``sse``."""

    method: str
    last_event_id: str | None
    reconnect: bool
    reconnect_delay: float
    max_line_length: int


class WebSocketOptions(TypedDict, total=False):
    """The options of ``websocket``: the handshake's and the connection's, and ``name`` (in :mod:`rxasync.stats`)."""

    name: str | None
    params: Any
    headers: Mapping[str, str] | None
    protocols: tuple[str, ...]
    heartbeat: float | None
    receive_timeout: float | None
    max_msg_size: int


def check_options(options: Mapping[str, object], allowed: type, source: str) -> None:
    """Raise ``TypeError`` naming the keys of ``options`` that ``allowed`` (a TypedDict) lacks."""
    keys: frozenset[str] = getattr(allowed, "__optional_keys__", frozenset())
    if keys.issuperset(options):  # the common case, without a loop in Python
        return
    unknown = [key for key in options if key not in keys]
    if unknown:
        raise TypeError(
            f"{source}() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
            f"it takes {', '.join(sorted(keys))}"
        )
