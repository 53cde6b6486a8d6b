"""Argument checks shared by the file sources and sinks: fail at call time, clearly."""

from __future__ import annotations

import os
from typing import TypeAlias

__all__ = ["PathArg", "check_int", "check_path"]

PathArg: TypeAlias = "str | os.PathLike[str]"


def check_int(name: str, value: object, minimum: int) -> int:
    """``value`` if it is an ``int`` (not a bool) of at least ``minimum``, else ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def check_path(path: object) -> str:
    """``path`` as a ``str`` (``str`` or ``os.PathLike[str]``), else ``TypeError``."""
    result = os.fspath(path)  # type: ignore[call-overload]
    if not isinstance(result, str):
        raise TypeError(f"path must be a str or os.PathLike[str], got {path!r}")
    if not result:
        raise ValueError("path must not be empty")
    return result
