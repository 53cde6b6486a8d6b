"""One subscription of ``write``/``write_lines``: a queue on the loop, a writer thread.

The loop side (a :class:`~rxasync._stage.Stage`) only appends to a queue
under a lock and counts the queued bytes in :attr:`Sink.demand`. The writer thread owns the
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

from .._stage import Stage
from ._oserror import file_error
from ._target import SinkOptions, Target

__all__ = ["Sink"]

_BYTES = (bytes, bytearray, memoryview)


class Sink(Stage):
    """Queue on the loop thread, write on a dedicated thread.

    Its counters (kind ``write``): items in as taken, items out as written,
    in flight the items buffered; waiting for upstream while nothing is.

    On the stage protocol: items are taken on the loop and weigh their
    bytes; cleanup aborts the writer, and an error is delivered only once the
    writer thread has closed and removed the temporary file
    (:meth:`send_error` waits for :meth:`_finish`).
    """

    def __init__(
        self, options: SinkOptions, observer: abc.ObserverBase[int], loop: asyncio.AbstractEventLoop
    ):
        super().__init__(observer, loop, options.max_buffer, options.name)
        self.options = options
        self._written_items = 0  # items written, not yet counted out on the loop
        self._cond = threading.Condition(threading.Lock())
        self._queue: list[Any] = []
        self._queued = 0  # demand credits of the items in _queue
        self._written = 0  # credits written, not yet released on the loop
        self._release_scheduled = False
        self._completed = False  # upstream completed: finish once the queue is written
        self._abort = False  # stop writing, remove the temporary file
        self._writer_done = False  # the writer thread has posted its outcome
        self._error: Exception | None = None  # the end, delivered once the writer is done
        self._expected = str if options.text else _BYTES
        threading.Thread(target=self._run, name=f"rxasync write {options.path}", daemon=True).start()

    # -- loop thread: the stage protocol -------------------------------------------
    weighted = True
    kind = "write"

    def weight(self, item: Any) -> int:
        if not isinstance(item, self._expected):
            return 0  # refused by on_item
        return (item.nbytes if isinstance(item, memoryview) else len(item)) or 1

    def on_item(self, item: Any) -> None:
        if not isinstance(item, self._expected):
            kind = "str" if self.options.text else "bytes"
            self.fail(TypeError(f"write to {self.options.path!r}: expected {kind} items, got {item!r:.80}"))
            return
        with self._cond:
            self._queue.append(item)
            self._queued += self.weight(item)
            self._cond.notify()

    def upstream_completed(self) -> None:
        with self._cond:
            self._completed = True
            self._cond.notify()

    def idle(self) -> bool:
        return self._writer_done

    def cleanup(self) -> None:
        """Abort the writer: it closes and removes the temporary file (a no-op once it is done)."""
        with self._cond:
            self._abort = True
            self._queue.clear()
            self._cond.notify()

    def dispose(self) -> None:
        """Abort the writer here, from any thread (under the lock); the rest hops to the loop."""
        if not self.on_loop():
            self.cleanup()  # the temporary file goes now, even while the loop is idle
        super().dispose()

    def send_error(self, error: Exception) -> None:
        if self._writer_done:
            self.observer.on_error(error)
        else:
            self._error = error  # delivered by _finish, after the temporary file is gone

    def _release(self) -> None:
        with self._cond:
            credits, self._written = self._written, 0
            items, self._written_items = self._written_items, 0
            self._release_scheduled = False
        self.stats.items_out += items  # weighted: finish counts credits (bytes), not items
        self.finish(credits)
        if not self.demand.pending and not self.upstream_done:
            self.stats.idle()  # nothing buffered: waiting for upstream

    def _finish(self, outcome: BaseException | int) -> None:
        """The writer's outcome (loop thread): bytes written, or the error it met."""
        self._writer_done = True
        if self.disposed or (self._abort and not self.terminated):
            return  # disposed (from another thread, the rest of dispose still on its way): nothing goes out
        if self.terminated:
            if self._error is not None:
                self.observer.on_error(self._error)
        elif isinstance(outcome, BaseException):
            self.fail(outcome)  # type: ignore[arg-type]  # delivered as it is, as before
        else:
            self.observer.on_next(outcome)
            self.check_done()

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
        self.hop(self._finish, outcome)

    def _write_all(self, target: Target) -> int:
        cond, total = self._cond, 0
        while True:
            with cond:
                while not self._queue and not self._completed and not self._abort:
                    cond.wait()
                if self._abort:
                    return total
                batch, self._queue = self._queue, []
                credits, self._queued = self._queued, 0
            if not batch:  # completed and everything written
                target.commit()
                return total
            total += target.write(batch)
            with cond:
                self._written += credits
                self._written_items += len(batch)
                if self._release_scheduled:
                    continue
                self._release_scheduled = True
            self.hop(self._release)
