"""JSON encoding for the endpoint: orjson when it is installed, the standard ``json`` otherwise.

Both give the same JSON values (orjson writes it compactly, in UTF-8); the
``demo`` extra installs orjson, which encodes a search answer about four
times faster than ``json.dumps``.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

__all__ = ["ENCODER", "EncodedCache", "dumps"]


def _stdlib_dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _pick() -> tuple[str, Callable[[Any], bytes]]:
    try:
        import orjson
    except ImportError:  # pragma: no cover - the demo extra installs it
        return "json", _stdlib_dumps
    return "orjson", orjson.dumps


#: The encoder in use: ``"orjson"`` or ``"json"``.
ENCODER, _dumps = _pick()


def dumps(obj: Any) -> bytes:
    """``obj`` as UTF-8 JSON bytes, with the fastest encoder installed.

    Example:
        >>> dumps({"q": "são", "n": [1, 2.5]})
        b'{"q":"s\\xc3\\xa3o","n":[1,2.5]}'
    """
    return _dumps(obj)


class EncodedCache:
    """The last ``size`` answers, already encoded, by key: an LRU of bytes.

    Search-as-you-type repeats itself (every user types "l", "lo", "lon"...),
    so most answers are sent again; keeping the bytes skips the search and
    the encoding alike. Memory: ``size`` times one answer (about 850 bytes
    for ten results, measured), so about 4 MB at the default 4096.

    Example:
        >>> cache = EncodedCache(size=1)
        >>> cache.get(("lond", 10), lambda: [1, 2])
        b'[1,2]'
        >>> cache.get(("lond", 10), lambda: [3])  # a hit: not computed again
        b'[1,2]'
        >>> cache.get(("par", 10), lambda: [3]), len(cache)
        (b'[3]', 1)
    """

    def __init__(self, size: int = 4096) -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1, got {size}")
        self._size = size
        self._items: OrderedDict[object, bytes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: object, compute: Callable[[], Any]) -> bytes:
        """The encoded answer for ``key``: the cached bytes, or ``compute()`` encoded and kept."""
        return self.get_encoded(key, lambda: _dumps(compute()))

    def get_encoded(self, key: object, encode: Callable[[], bytes]) -> bytes:
        """The cached bytes for ``key``, or ``encode()`` (already JSON bytes) kept."""
        items = self._items
        body = items.get(key)
        if body is not None:
            items.move_to_end(key)
            return body
        body = items[key] = encode()
        if len(items) > self._size:
            items.popitem(last=False)
        return body
