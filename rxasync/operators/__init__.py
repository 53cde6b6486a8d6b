"""rxasync's operators. They mix with ``reactivex.operators`` inside one ``pipe``.

Example:
    >>> import asyncio, reactivex, rxasync
    >>> from reactivex import operators as ops
    >>> from rxasync import operators as rxops
    >>> async def square(x: int) -> int:
    ...     await asyncio.sleep(0)
    ...     return x * x
    >>> src = reactivex.range(6).pipe(ops.filter(lambda x: x % 2 == 0), rxops.map_async(square))
    >>> asyncio.run(rxasync.to_list(src))
    [0, 4, 16]
"""

from .._exports import export as _export
from ._map_async import map_async, map_on
from ._observe_on import observe_on_loop
from ._progress import progress
from ._switch import switch_map_async
from ._timing import batch, retry_with_backoff

__all__ = [
    "batch",
    "map_async",
    "map_on",
    "observe_on_loop",
    "progress",
    "retry_with_backoff",
    "switch_map_async",
]

_export(globals())
