"""``--workers N``: N server processes on one port, forked from the process that built the index.

The parent builds the index (all but the part a thread builds in the
first second: no thread may be alive at a fork), takes it out of the
garbage collector's generations (``gc.freeze()``: no worker's collection
walks it), reserves the port (a bound socket that never listens) and forks
the workers. Each worker, on a thread, first makes the pages it shares
with its parent its own (:func:`~._pages.own_pages`, in the kernel and
without the GIL, about 0.2 s for 195 MiB), then builds the rest of its
index (typos, substrings) as one process does; meanwhile it serves.
Pages shared copy-on-write are copied on the first write, and every
reference count a search changes is a write: without that step a worker's
first 2,000 cold searches took 40% longer than its parent's (250 against
175 µs each), and touching the heap from Python to copy it took 0.5 s.

Each worker runs its own asyncio loop and aiohttp server on the port with
``SO_REUSEPORT`` (the kernel spreads new connections among them), and also
on a free port of its own, through which its WebSockets' searches come back
to it (to the same answer cache, as with one process). The parent prints
the address once every worker listens, and on SIGINT or SIGTERM (or when a
worker dies) stops them all; a worker also dies with its parent.

Each worker has its own state: ``/api/stats`` counts what the worker that
answers has seen, and the connection caps of :mod:`._guard` hold per worker.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import os
import select
import signal
import socket
import sys
import threading
import time
import traceback
from typing import TextIO

from ._pages import own_pages
from ._ranking import CityIndex
from ._server import HOST

__all__ = ["AUTO_MOST", "MAX_WORKERS", "serve_forked", "worker_count"]

MAX_WORKERS = 64
AUTO_MOST = 4  # --workers auto: one per core the demo may run on, at most this many
START_SECONDS = 60.0  # how long the workers get to listen
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
STOP_SECONDS = 10.0  # how long they get to stop before they are killed
_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGCHLD}


def worker_count(value: str) -> int:
    """``--workers``: a number from 1 to :data:`MAX_WORKERS`, or ``auto`` (one per core, at most 4).

    Example:
        >>> worker_count("3")
        3
    """
    if value == "auto":
        if not hasattr(os, "fork") or not sys.platform.startswith("linux"):
            return 1  # SO_REUSEPORT spreads connections among processes on Linux only
        return max(1, min(AUTO_MOST, len(os.sched_getaffinity(0))))
    count = int(value)  # ValueError: argparse says "invalid worker_count value"
    if not 1 <= count <= MAX_WORKERS:
        raise ValueError(value)
    return count


def serve_forked(args: argparse.Namespace, index: CityIndex) -> int:
    """Run ``args.workers`` forked servers of ``index`` on ``args.port``; the exit code.

    ``index`` is built with ``later=False``: each worker starts the thread
    that finishes it. Example (what ``--workers 2`` does)::

        index = load_index(later=False)
        raise SystemExit(serve_forked(parse_args(["--workers", "2"]), index))
    """
    if index.later_started() or threading.active_count() > 1:
        raise RuntimeError(f"cannot fork: threads alive or started ({threading.enumerate()!r})")
    # From here on a Ctrl+C or SIGTERM is taken by sigtimedwait (never a KeyboardInterrupt), and
    # the workers are forked with them blocked (a worker unblocks them once it can stop cleanly).
    signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    children: list[int] = []
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ready_r, ready_w = os.pipe()
    try:
        gc.collect()
        gc.freeze()  # the index stays out of the workers' collections
        try:
            holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            holder.bind((HOST, args.port))  # bound, never listening: it only keeps the port
        except OSError as exc:
            _say(f"cannot listen on {HOST}:{args.port}: {exc.strerror or exc}", sys.stderr)
            return 1
        port = holder.getsockname()[1]
        worker_args = argparse.Namespace(**{**vars(args), "port": port})
        sys.stdout.flush()
        parent = os.getpid()
        for _ in range(args.workers):
            pid = os.fork()
            if pid == 0:  # pragma: no cover (a worker; the tests run it as a process)
                _worker(worker_args, index, (ready_r, ready_w, holder), parent)
            children.append(pid)
        os.close(ready_w)
        ready_w = -1
        url = f"http://{HOST}:{port}"
        if not _wait_ready(ready_r, len(children)):
            return _stop(children, 1)
        from .__main__ import address_line

        _say(address_line(args, url))
        code = _wait_stop(children)
        _say("stopping...")
        return _stop(children, code)
    finally:
        if children:  # also when the parent failed (a closed stdout, say): no worker is left behind
            _stop(children, 1, quiet=True)
        for fd in (ready_r, ready_w):
            if fd >= 0:
                os.close(fd)
        holder.close()
        while signal.sigtimedwait(_SIGNALS, 0) is not None:  # a second Ctrl+C: taken, not raised
            pass
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)


def _worker(
    args: argparse.Namespace, index: CityIndex, fds: tuple[int, int, socket.socket], parent: int
) -> None:  # pragma: no cover (a worker; the tests run it as a process)
    """A forked worker's whole life: it never returns (``os._exit``), whatever happens."""
    ready_r, ready_w, holder = fds
    code = 1
    try:
        os.close(ready_r)
        holder.close()
        _die_with_parent(parent)
        from .__main__ import run

        def listening(url: str) -> None:
            os.write(ready_w, b"1")
            os.close(ready_w)

        index.build_later(own_pages)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)  # a Ctrl+C pending since the fork: now
        asyncio.run(run(args, index, listening))
        code = 0
    except KeyboardInterrupt:  # before the loop took SIGINT over: the parent stops the rest
        code = 130
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)


def _die_with_parent(parent: int) -> None:  # pragma: no cover (a worker)
    """SIGTERM this worker when its parent dies (even by SIGKILL): no worker outlives the demo.

    Otherwise orphans would keep serving, and share the port with the next demo started on it.
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the prctl
        os._exit(1)


def _say(text: str, stream: TextIO | None = None) -> None:
    """Print a line; a reader that has gone (a closed pipe) does not stop the demo's shutdown."""
    with contextlib.suppress(OSError, ValueError):
        print(text, file=stream or sys.stdout, flush=True)


def _wait_ready(ready_r: int, workers: int) -> bool:
    """Whether every worker said it listens (within ``START_SECONDS``, no signal, none died)."""
    deadline, seen = time.monotonic() + START_SECONDS, 0
    while seen < workers and time.monotonic() < deadline:
        if signal.sigtimedwait({signal.SIGINT, signal.SIGTERM}, 0) is not None:
            return False
        readable, _, _ = select.select([ready_r], [], [], 0.1)
        if readable:
            got = os.read(ready_r, 64)
            if not got:  # every worker has exited
                return False
            seen += len(got)
    return seen == workers


def _wait_stop(children: list[int]) -> int:
    """Wait for SIGINT or SIGTERM (0), or for a worker to exit (1)."""
    while True:
        info = signal.sigtimedwait(_SIGNALS, 1.0)
        if info is not None and info.si_signo != signal.SIGCHLD:
            return 0
        for pid in children:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                children.remove(pid)
                _say(f"a worker (pid {pid}) exited; stopping the others", sys.stderr)
                return 1


def _stop(children: list[int], code: int, *, quiet: bool = False) -> int:
    """SIGTERM every worker, wait for them (``STOP_SECONDS``), SIGKILL what is left; empties ``children``."""
    if not children:
        return code
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    left = list(children)
    while left and time.monotonic() < deadline:
        for pid in list(left):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                left.remove(pid)
        time.sleep(0.02)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    children.clear()
    if not quiet:
        _say("stopped")
    return code
