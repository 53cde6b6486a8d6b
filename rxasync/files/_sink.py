"""One subscription of ``write``/``write_lines``: a queue on the loop, a writer thread.

The loop side (``on_next``...) only appends to a queue under a lock and
counts the queued bytes in :attr:`Sink.demand`. The writer thread owns the
file descriptor: it opens (the temporary file when atomic), writes all that
is queued with one ``os.writev``, and at the end renames, or on failure or
dispose closes and removes the temporary file. It reports written bytes to
the loop in batches (one ``call_soon_threadsafe`` per batch, only when none
is pending) and hands the outcome back with one more.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import stat
import threading
from dataclasses import dataclass
from typing import Any

from reactivex import abc

from .._flow import Demand
from ._oserror import file_error

__all__ = ["Sink", "SinkOptions"]

_IOV_MAX = 1024  # buffers per os.writev call (Linux's limit)
_BYTES = (bytes, bytearray, memoryview)


@dataclass(frozen=True)
class SinkOptions:
    """What ``write``/``write_lines`` were called with, checked."""

    path: str
    append: bool
    text: bool
    atomic: bool
    fsync: bool
    encoding: str
    max_buffer: int
    newline: str | None  # write_lines: added after every item


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
        self._loop_thread = _loop_thread(loop)
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
        target = _Target(self.options)
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

    def _write_all(self, target: _Target) -> int:
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


class _Target:
    """The file descriptor the writer thread owns, and how it ends (commit or discard)."""

    def __init__(self, options: SinkOptions) -> None:
        self.options = options
        self.fd = -1
        self.temp: str | None = None
        self.final = options.path  # where the temporary file goes: a symlink's target
        self.committed = False

    def open(self) -> None:
        opts, path = self.options, self.options.path
        try:
            info: os.stat_result | None = os.stat(path)
        except FileNotFoundError:
            info = None
        if info is not None and stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(21, os.strerror(21), path)
        if not opts.atomic or (info is not None and not stat.S_ISREG(info.st_mode)):
            flags = os.O_APPEND if opts.append else os.O_TRUNC
            self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | flags, 0o666)
            return
        self.final = os.path.realpath(path)  # replace what a symlink points to, keep the link
        try:
            self.temp, self.fd = self._create_temp(*os.path.split(self.final))
        except OSError as exc:  # name the file the user asked for, not our temporary name
            raise OSError(exc.errno, exc.strerror, path) from exc
        if info is not None:
            os.fchmod(self.fd, stat.S_IMODE(info.st_mode))
            if opts.append:
                self._copy_old(path)

    def _create_temp(self, folder: str, name: str) -> tuple[str, int]:
        temp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
        return temp, os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)

    def _copy_old(self, path: str) -> None:
        src = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            while os.sendfile(self.fd, src, None, 1 << 30):
                pass
        finally:
            os.close(src)

    def write(self, batch: list[Any]) -> int:
        opts = self.options
        if opts.text:
            text = "".join(batch) if opts.newline is None else opts.newline.join(batch) + opts.newline
            batch = [text.encode(opts.encoding)]
        written = 0
        while batch:
            n = os.writev(self.fd, batch[:_IOV_MAX]) if len(batch) > 1 else os.write(self.fd, batch[0])
            written += n
            batch = _drop_front(batch, n)
        return written

    def commit(self) -> None:
        if self.options.fsync:
            os.fsync(self.fd)
        os.close(self.fd)
        self.fd = -1
        if self.temp is not None:
            os.replace(self.temp, self.final)
            self.committed = True
            if self.options.fsync:
                _fsync_folder(self.final)

    def close(self) -> None:
        """After success or failure: close the descriptor, remove an uncommitted temporary file."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self.temp is not None and not self.committed:
            with contextlib.suppress(OSError):
                os.unlink(self.temp)


def _loop_thread(loop: asyncio.AbstractEventLoop) -> int | None:
    try:
        if asyncio.get_running_loop() is loop:
            return threading.get_ident()
    except RuntimeError:
        pass
    return getattr(loop, "_thread_id", None)


def _drop_front(batch: list[Any], n: int) -> list[Any]:
    """``batch`` without its first ``n`` bytes (after a short write)."""
    i = 0
    if n == sum(len(memoryview(b).cast("B")) for b in batch):
        return []
    while i < len(batch):
        size = len(memoryview(batch[i]).cast("B"))
        if n < size:
            break
        n -= size
        i += 1
    rest = batch[i:]
    if rest and n:
        rest[0] = memoryview(rest[0]).cast("B")[n:]
    return rest


def _fsync_folder(path: str) -> None:
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
