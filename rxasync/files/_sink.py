"""One subscription of ``write``/``write_lines``: a queue on the loop, a writer thread.

The loop side (``on_next``...) only appends to a queue under a lock and
counts the queued bytes in :attr:`Sink.demand`. The writer thread owns the
file (a :class:`~._target.Target`): it opens (the temporary file when atomic), writes all that
is queued with one ``os.writev``, and at the end renames, or on failure or
dispose closes and removes the temporary file. It reports written bytes to
the loop in batches (one ``call_soon_threadsafe`` per batch, only when none
is pending) and hands the outcome back with one more.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from reactivex import abc

from .._flow import Demand, loop_thread
from ._oserror import file_error
from ._target import SinkOptions, Target

__all__ = ["Sink"]

_BYTES = (bytes, bytearray, memoryview)


class Sink:
    """Queue on the loop thread, write on a dedicated thread."""

    def __init__(
        self, options: SinkOptions, observer: abc.ObserverBase[int], loop: asyncio.AbstractEventLoop
    ):
        self.options = options
        self.observer = observer
        self.loop = loop
        self.demand = Demand(options.max_buffer)
        self.upstream: abc.DisposableBase | None = None
        self.finished = False  # a terminal notification went out, or disposed
        self._cond = threading.Condition(threading.Lock())
        self._queue: list[Any] = []
        self._queued = 0  # demand credits of the items in _queue
        self._written = 0  # credits written, not yet released on the loop
        self._release_scheduled = False
        self._completed = False  # upstream completed: finish once the queue is written
        self._abort: BaseException | bool = False  # an error to deliver, or True: dispose
        self._loop_thread = loop_thread(loop)
        threading.Thread(target=self._run, name=f"rxasync write {options.path}", daemon=True).start()

    # -- loop thread -------------------------------------------------------------
    def on_next(self, item: Any) -> None:
        if threading.get_ident() != self._loop_thread:  # a source emitting from another thread
            self.loop.call_soon_threadsafe(self.on_next, item)
            return
        if self.finished or self._abort is not False:
            return
        if self.options.text:
            if not isinstance(item, str):
                self._stop(TypeError(f"write to {self.options.path!r}: expected str items, got {item!r:.80}"))
                return
            cost = len(item) or 1
        elif isinstance(item, _BYTES):
            cost = (item.nbytes if isinstance(item, memoryview) else len(item)) or 1
        else:
            self._stop(TypeError(f"write to {self.options.path!r}: expected bytes items, got {item!r:.80}"))
            return
        self.demand.pending += cost
        with self._cond:
            self._queue.append(item)
            self._queued += cost
            self._cond.notify()

    def on_error(self, error: Exception) -> None:
        if threading.get_ident() != self._loop_thread:
            self.loop.call_soon_threadsafe(self.on_error, error)
            return
        self._stop(error)

    def on_completed(self) -> None:
        if threading.get_ident() != self._loop_thread:
            self.loop.call_soon_threadsafe(self.on_completed)
            return
        with self._cond:
            self._completed = True
            self._cond.notify()

    def dispose(self) -> None:
        if not self.finished:
            self.finished = True
            self._stop(True)

    def _stop(self, why: BaseException | bool) -> None:
        """Abort the writer: it removes the temporary file, then delivers ``why`` if an error."""
        with self._cond:
            if self._abort is False:
                self._abort = why
            self._queue.clear()
            self._cond.notify()
        if self.upstream is not None:
            self.upstream.dispose()

    def _release(self) -> None:
        with self._cond:
            credits, self._written = self._written, 0
            self._release_scheduled = False
        self.demand.release(credits)

    def _finish(self, outcome: BaseException | int) -> None:
        if self.finished:
            return
        self.finished = True
        if isinstance(outcome, BaseException):
            if self.upstream is not None:
                self.upstream.dispose()
            self.observer.on_error(outcome)  # type: ignore[arg-type]
        else:
            self.observer.on_next(outcome)
            self.observer.on_completed()

    # -- writer thread -------------------------------------------------------------
    def _run(self) -> None:
        outcome: BaseException | int
        target = Target(self.options)
        try:
            target.open()
            outcome = self._write_all(target)
        except OSError as exc:
            outcome = file_error(exc, self.options.path)
        except BaseException as exc:  # delivered as on_error on the loop
            outcome = exc
        finally:
            target.close()
        with self._cond:
            if self._abort is not False:
                outcome = self._abort if isinstance(self._abort, BaseException) else 0
        try:
            self.loop.call_soon_threadsafe(self._finish, outcome)
        except RuntimeError:
            pass  # the loop is closed: nobody waits for the outcome

    def _write_all(self, target: Target) -> int:
        cond, total = self._cond, 0
        while True:
            with cond:
                while not self._queue and not self._completed and self._abort is False:
                    cond.wait()
                if self._abort is not False:
                    return total
                batch, self._queue = self._queue, []
                credits, self._queued = self._queued, 0
            if not batch:  # completed and everything written
                target.commit()
                return total
            total += target.write(batch)
            with cond:
                self._written += credits
                if self._release_scheduled:
                    continue
                self._release_scheduled = True
            self.loop.call_soon_threadsafe(self._release)
