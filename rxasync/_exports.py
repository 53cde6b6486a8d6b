"""The public façade's one helper: re-exported objects report their public namespace.

Code lives in private modules (``rxasync.files._read``); a namespace's
``__init__`` re-exports it and calls ``export(globals())`` last, so that
``rxasync.files.read_chunks.__module__`` is ``"rxasync.files"`` (what
``help()``, reprs, pickling by reference and the reference docs show).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

__all__ = ["export"]


def export(namespace: dict[str, Any]) -> None:
    """Set ``__module__`` of every name in ``namespace["__all__"]`` to the namespace's name.

    Modules are left alone, and so is an object that already reports a
    public namespace (an rxasync error re-exported by ``rxasync.http`` keeps
    ``rxasync``): only objects of private modules (a ``_name`` part) move.
    """
    public = namespace["__name__"]
    for name in namespace["__all__"]:
        obj = namespace[name]
        module = getattr(obj, "__module__", None)
        if isinstance(obj, ModuleType) or not isinstance(module, str):
            continue
        if any(part.startswith("_") for part in module.split(".")):
            obj.__module__ = public
