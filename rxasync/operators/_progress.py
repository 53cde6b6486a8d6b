"""``progress``: a pass-through operator that draws a tqdm progress bar."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, Disposable, SingleAssignmentDisposable

from .._stats import StageStats, stage_stats

__all__ = ["progress"]

_T = TypeVar("_T")


def _tqdm() -> Any:
    try:
        from tqdm import tqdm
    except ImportError as exc:
        raise ImportError(
            "rxasync.operators.progress needs tqdm, which is not installed: install rxasync[progress]"
            " (pip install 'rxasync[progress]')"
        ) from exc
    return tqdm


class _Bar:
    """One subscription's bar and counters: updated under a lock (items may come from worker
    threads, and ``+=`` is not atomic), closed once."""

    def __init__(self, bar: Any, weight: Callable[[Any], float] | None, stats: StageStats) -> None:
        self.bar, self.weight, self.stats = bar, weight, stats
        self.lock = threading.Lock()
        self.closed = False

    def update(self, item: Any) -> bool:
        """Count ``item``; False once the bar is closed (the item must not go on)."""
        amount = 1 if self.weight is None else self.weight(item)
        with self.lock:
            if self.closed:
                return False
            self.stats.items_in += 1
            self.bar.update(amount)
            self.stats.items_out += 1
            return True

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
        self.bar.close()


def progress(
    *,
    desc: str | None = None,
    total: float | None = None,
    unit: str = "it",
    weight: Callable[[_T], float] | None = None,
    name: str | None = None,
    **tqdm_options: Any,
) -> Callable[[Observable[_T]], Observable[_T]]:
    """Pass items through unchanged and draw a progress bar (tqdm) as they go.

    The bar shows items/s, or with ``weight=len, unit="B"`` bytes/s (scaled:
    kB, MB...), and an ETA when ``total`` is known: for a file,
    ``os.path.getsize(path)``; for an HTTP body, its Content-Length. Each
    subscription draws its own bar, closed when the source completes,
    fails, or is disposed. Items may arrive from worker threads. The
    operator also keeps :mod:`rxasync.stats` counters under ``name``
    (default: ``desc``).

    Marble::

        source:  -a--b-c-|
        result:  -a--b-c-|      bar: 0 → 1 → 2 → 3 (closed)

    Args:
        desc: the label before the bar.
        total: the expected sum of weights (items, or bytes), or ``None``.
        unit: what is counted; ``"B"`` turns on 1024-based scaling.
        weight: how much one item counts (default 1), e.g. ``len`` for chunks;
            if it raises, the stream fails with that error.
        name: the stage's name in :mod:`rxasync.stats` (default ``desc``).
        **tqdm_options: passed to ``tqdm.tqdm`` (``file=``, ``leave=``,
            ``mininterval=``, ``disable=``...).

    Raises:
        ImportError: tqdm is not installed (``pip install 'rxasync[progress]'``).

    Example:
        >>> import asyncio, io, reactivex, rxasync
        >>> from rxasync.operators import progress
        >>> out = io.StringIO()
        >>> chunks = reactivex.of(b"ab", b"cde").pipe(progress(desc="get", total=5, weight=len, unit="B", file=out))
        >>> asyncio.run(rxasync.to_list(chunks))
        [b'ab', b'cde']
        >>> "get: 100%" in out.getvalue()
        True
    """
    tqdm = _tqdm()
    options: dict[str, Any] = {"desc": desc, "total": total, "unit": unit, "dynamic_ncols": True}
    if unit == "B":
        options.update(unit_scale=True, unit_divisor=1024)
    options.update(tqdm_options)

    def operator(source: Observable[_T]) -> Observable[_T]:
        def subscribe(
            observer: abc.ObserverBase[_T], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            stats = stage_stats("progress", name or desc, passive=True)
            bar = _Bar(tqdm(**options), weight, stats)
            upstream = SingleAssignmentDisposable()

            def on_next(item: _T) -> None:
                try:
                    counted = bar.update(item)
                except Exception as exc:  # weight() raised: the stream fails with it
                    upstream.dispose()
                    on_error(exc)
                    return
                if counted:
                    observer.on_next(item)

            def on_error(error: Exception) -> None:
                if bar.closed:
                    return
                stats.failed()
                stats.finished("error")
                bar.close()
                observer.on_error(error)

            def on_completed() -> None:
                stats.finished("completed")
                bar.close()
                observer.on_completed()

            def dispose() -> None:
                stats.finished("disposed")
                bar.close()

            upstream.disposable = source.subscribe(on_next, on_error, on_completed, scheduler=scheduler)
            return CompositeDisposable(upstream, Disposable(dispose))

        return reactivex.create(subscribe)

    return operator
