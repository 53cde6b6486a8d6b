"""Schedulers for the places rxasync runs work; see :mod:`rxasync._schedulers`."""

from ._exports import export as _export
from ._schedulers import __doc__ as _doc
from ._schedulers import loop, threads

__doc__ = _doc
__all__ = ["loop", "threads"]

_export(globals())
