"""Run a pipeline both ways, as users will: ``subscribe`` and ``async for``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from reactivex import Observable

from .._iterator import to_async_iterable
from .._terminals import to_list

__all__ = ["assert_run"]

_T = TypeVar("_T")


async def assert_run(
    make_source: Callable[[], Observable[_T]],
    expected: Sequence[_T] | None = None,
    *,
    error: type[BaseException] | None = None,
    max_buffer: int = 64,
) -> list[_T]:
    """Check a pipeline through ``subscribe`` and through ``to_async_iterable``.

    ``make_source`` is called once per way, so each run starts fresh. Both
    runs must give ``expected`` (if given) and the same items; with
    ``error=``, both must fail with that type. Returns the items of the
    ``subscribe`` run (those before the error, with ``error=``).

    Example:
        >>> import asyncio, reactivex
        >>> from rxasync.testing import assert_run
        >>> asyncio.run(assert_run(lambda: reactivex.of(1, 2), [1, 2]))
        [1, 2]
    """
    results: list[list[Any]] = []
    errors: list[BaseException | None] = []
    for way in ("subscribe", "async for"):
        items: list[Any] = []
        caught: BaseException | None = None
        try:
            if way == "subscribe":
                items = await to_list(make_source())
            else:
                async with to_async_iterable(make_source(), max_buffer=max_buffer) as it:
                    async for item in it:
                        items.append(item)
        except Exception as exc:
            caught = exc
        results.append(items)
        errors.append(caught)
        if error is None and caught is not None:
            raise AssertionError(f"through {way}: unexpected {caught!r}") from caught
        if error is not None and not isinstance(caught, error):
            raise AssertionError(f"through {way}: expected {error.__name__}, got {caught!r}")
        if expected is not None and error is None and items != list(expected):
            raise AssertionError(f"through {way}: {items!r} != {list(expected)!r}")
    return results[0]
