"""``--workers N``: N server processes on one port, forked from the process that built the index.

The parent builds the index (all but the part a thread builds in the
first second: no thread may be alive at a fork), takes it out of the
garbage collector's generations (``gc.freeze()``: no worker's collection
walks it), reserves the port (a bound socket that never listens) and forks
the workers. Each worker, on a thread, first makes every page it shares
with its parent its own (``madvise(MADV_POPULATE_WRITE)``, in the kernel
and without the GIL, about 0.25 s for 280 MiB), then builds the rest of
its index (typos, substrings) as one process does; meanwhile it serves.
Pages shared copy-on-write are copied on the first write, and every
reference count a search changes is a write: without that step a worker's
first 2,000 cold searches took 40% longer than its parent's (250 against
175 µs each), and touching the heap from Python to copy it took 0.5 s.

Each worker runs its own asyncio loop and aiohttp server on the port with
``SO_REUSEPORT`` (the kernel spreads new connections among them), and also
on a free port of its own, through which its WebSockets' searches come back
to it (to the same answer cache, as with one process). The parent prints
the address once every worker listens, and on SIGINT or SIGTERM (or when a
worker dies) stops them all.

Each worker has its own state: ``/api/stats`` counts what the worker that
answers has seen, and the connection caps of :mod:`._guard` hold per worker.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import errno
import gc
import os
import select
import signal
import socket
import sys
import threading
import time
import traceback

from ._ranking import CityIndex
from ._server import HOST

__all__ = ["AUTO_MOST", "MAX_WORKERS", "serve_forked", "worker_count"]

MAX_WORKERS = 64
AUTO_MOST = 4  # --workers auto: one per core the demo may run on, at most this many
START_SECONDS = 60.0  # how long the workers get to listen
_MADV_POPULATE_WRITE = 23  # <linux/mman.h>, Linux 5.14+
STOP_SECONDS = 10.0  # how long they get to stop before they are killed
_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGCHLD}


def worker_count(value: str) -> int:
    """``--workers``: a number from 1 to :data:`MAX_WORKERS`, or ``auto`` (one per core, at most 4).

    Example:
        >>> worker_count("3")
        3
    """
    if value == "auto":
        return max(1, min(AUTO_MOST, len(os.sched_getaffinity(0))))
    count = int(value)  # ValueError: argparse says "invalid worker_count value"
    if not 1 <= count <= MAX_WORKERS:
        raise ValueError(value)
    return count


def own_pages() -> int:
    """Copy now every private writable page this process shares copy-on-write; the bytes asked for.

    ``madvise(MADV_POPULATE_WRITE)`` (Linux 5.14+) over the anonymous
    writable mappings: the kernel faults each page in for writing, so later
    writes (reference counts) cost no copy. Where the kernel lacks it, nothing
    is done (0), and pages are copied when first written, as without it.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    madvise = libc.madvise
    madvise.argtypes, madvise.restype = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int], ctypes.c_int
    asked = 0
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            if fields[1] != "rw-p" or (len(fields) > 5 and fields[5] != "[heap]"):
                continue  # files, the stack and such: not the interpreter's heap
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if madvise(start, end - start, _MADV_POPULATE_WRITE) != 0:
                if ctypes.get_errno() == errno.EINVAL:
                    return asked  # an older kernel: copied on first write instead
                continue  # a mapping that changed meanwhile (ENOMEM): the next one
            asked += end - start
    return asked


def serve_forked(args: argparse.Namespace, index: CityIndex) -> int:
    """Run ``args.workers`` forked servers of ``index`` on ``args.port``; the exit code.

    ``index`` is built with ``later=False``: each worker starts the thread
    that finishes it. Example (what ``--workers 2`` does)::

        index = load_index(later=False)
        raise SystemExit(serve_forked(parse_args(["--workers", "2"]), index))
    """
    if threading.active_count() > 1:
        raise RuntimeError(f"threads alive, cannot fork: {threading.enumerate()!r}")
    gc.collect()
    gc.freeze()  # the index stays out of the workers' collections
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind((HOST, args.port))  # bound, never listening: it only keeps the port
    except OSError as exc:
        holder.close()
        print(f"cannot listen on {HOST}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    port = holder.getsockname()[1]
    worker_args = argparse.Namespace(**{**vars(args), "port": port})
    signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)  # taken with sigtimedwait below
    ready_r, ready_w = os.pipe()
    sys.stdout.flush()
    children: list[int] = []
    try:
        for _ in range(args.workers):
            pid = os.fork()
            if pid == 0:  # pragma: no cover (a worker; the tests run it as a process)
                os.close(ready_r)
                holder.close()
                _worker(worker_args, index, ready_w)
            children.append(pid)
        os.close(ready_w)
        url = f"http://{HOST}:{port}"
        if not _wait_ready(ready_r, len(children)):
            return _stop(children, 1)
        from .__main__ import address_line

        print(address_line(args, url), flush=True)
        code = _wait_stop(children)
        print("stopping...", flush=True)
        return _stop(children, code)
    finally:
        os.close(ready_r)
        holder.close()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)


def _worker(args: argparse.Namespace, index: CityIndex, ready_w: int) -> None:  # pragma: no cover
    from .__main__ import run

    def listening(url: str) -> None:
        os.write(ready_w, b"1")
        os.close(ready_w)

    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
    index.build_later(own_pages)
    code = 0
    try:
        asyncio.run(run(args, index, listening))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


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
                print(f"a worker (pid {pid}) exited; stopping the others", file=sys.stderr, flush=True)
                return 1


def _stop(children: list[int], code: int) -> int:
    """SIGTERM every worker, wait for them (``STOP_SECONDS``), SIGKILL what is left."""
    for pid in children:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    left = list(children)
    while left and time.monotonic() < deadline:
        for pid in list(left):
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                left.remove(pid)
        time.sleep(0.02)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    print("stopped", flush=True)
    return code
