"""PostgreSQL as observables: queries through cursors, ``LISTEN``/``NOTIFY``, and a ``COPY`` sink.

Built on asyncpg; needs the ``postgres`` extra (``pip install 'rxasync[postgres]'``).
``import rxasync`` alone never imports asyncpg. Delivery: ``query`` reads a
consistent snapshot once (an error mid-result is delivered, not resumed);
``listen`` is at most once and says when it may have missed notifications;
``copy_records`` commits whole batches only. See ``docs/guides/databases.md``.
"""

try:
    import asyncpg as _asyncpg
except ImportError as _exc:
    raise ImportError(
        "rxasync.postgres needs asyncpg, which is not installed: "
        "install rxasync[postgres] (pip install 'rxasync[postgres]')"
    ) from _exc

from .._exports import export as _export
from ._copy import copy_records
from ._listen import Notification, listen
from ._query import query

__all__ = ["Notification", "copy_records", "listen", "query"]

_export(globals())
del _asyncpg
