"""Argument validation shared by every public function: fail at call time, clearly.

Each check returns the value it accepted, so a call site reads
``size = check_int("chunk_size", chunk_size)``. A ``bool`` is never taken
for a number (``True`` is an ``int`` to Python, not a size to a user).
"""

from __future__ import annotations

import math
import os
from collections.abc import AsyncIterable
from typing import Any, TypeAlias

__all__ = ["PathArg", "check_int", "check_number", "check_observable", "check_path"]

PathArg: TypeAlias = "str | os.PathLike[str]"


def check_int(name: str, value: object, minimum: int = 1) -> int:
    """``value`` if it is an ``int`` (not a bool) of at least ``minimum``, else ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def check_number(name: str, value: object, minimum: float = 0.0, *, strict: bool = False) -> float:
    """``value`` if it is an ``int``/``float`` (not a bool, not NaN) ``>= minimum``, else ``ValueError``.

    ``strict``: it must be ``> minimum`` (a poll interval of 0 is no interval).
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or math.isnan(value)
        or (value <= minimum if strict else value < minimum)
    ):
        raise ValueError(f"{name} must be a number {'>' if strict else '>='} {minimum:g}, got {value!r}")
    return value


def check_path(path: object) -> str:
    """``path`` as a ``str`` (``str`` or ``os.PathLike[str]``), else ``TypeError``."""
    result = os.fspath(path)  # type: ignore[call-overload]
    if not isinstance(result, str):
        raise TypeError(f"path must be a str or os.PathLike[str], got {path!r}")
    if not result:
        raise ValueError("path must not be empty")
    return result


def check_observable(what: str, source: Any) -> None:
    """``TypeError`` unless ``source`` can be subscribed; an async iterable is pointed to the bridge."""
    if callable(getattr(source, "subscribe", None)):
        return
    if isinstance(source, AsyncIterable) or _async_gen_function(source):
        raise TypeError(
            f"{what}() takes a reactivex Observable, got {source!r:.80}, an async iterable: "
            f"turn it into one with rxasync.from_async_iterable(...) first, or iterate it with "
            f"`async for`"
        )
    raise TypeError(f"{what}() takes a reactivex Observable, got {source!r:.80}")


def _async_gen_function(value: Any) -> bool:
    import inspect

    return inspect.isasyncgenfunction(value)
