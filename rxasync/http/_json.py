"""JSON decoding for ``get_json``, ``ndjson`` and SSE payloads: msgspec when installed, else the stdlib.

Measured (``benchmarks/http_json.py``, ``benchmarks/http_ndjson.py`` and the
table in ``docs/guides/http.md``): msgspec's ``json.Decoder`` decodes the
small objects these sources carry about 3-6x faster than ``json.loads``;
orjson is as fast on tiny objects but slower on lines of a few fields, and
turns integers past 64 bits into floats, where the stdlib keeps them exact.

The results and the errors are the stdlib's, exactly: whatever the fast
decoder does not accept (bad JSON, ``NaN``, a UTF-16 body, a lone surrogate)
is handed to ``json.loads``, which either decodes it as it always would or
raises the error with the stdlib's message, line, column and offset. Install
it with ``pip install rxasync[json]``.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Callable
from typing import Any

__all__ = ["decoder_name", "loads"]

_fast: Callable[[bytes | str], Any] | None
try:
    import msgspec
except ImportError:  # the stdlib alone
    _fast = None
else:
    _fast = msgspec.json.Decoder().decode


def loads(data: bytes | str) -> Any:
    """``json.loads(data)``, the same value or the same exception, faster when msgspec is installed."""
    fast = _fast
    if fast is not None:
        try:
            return fast(data)
        except Exception:  # the stdlib decides every input msgspec refuses
            pass
    return jsonlib.loads(data)


def decoder_name() -> str:
    """``"msgspec"`` or ``"json"``: the decoder tried first."""
    return "json" if _fast is None else "msgspec"
