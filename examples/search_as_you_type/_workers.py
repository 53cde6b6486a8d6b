"""``--workers N``: N server processes on one port, forked from the process that built the index.

The parent builds the index (and waits for the thread that finishes it: no
thread is alive at the fork), freezes it out of the garbage collector's
generations (its pages stay shared, copy-on-write), reserves the port and
forks the workers; each runs its own asyncio loop and aiohttp server on the
port with ``SO_REUSEPORT``, and the kernel spreads new connections among
them. The parent prints the address once every worker listens, and on
SIGINT or SIGTERM (or when a worker dies) stops them all.

Each worker has its own state: ``/api/stats`` counts what the worker that
answers has seen, the connection caps of :mod:`._guard` hold per worker, and a
WebSocket's searches go through the shared port to any worker.
"""

from __future__ import annotations

import argparse
import asyncio
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

__all__ = ["serve_forked"]

START_SECONDS = 60.0  # how long the workers get to listen
STOP_SECONDS = 10.0  # how long they get to stop before they are killed
_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGCHLD}


def wait_for_threads(index: CityIndex, within: float = START_SECONDS) -> None:
    """Wait until the index is complete and no thread but this one is alive (safe to fork)."""
    deadline = time.monotonic() + within
    index._n.trigrams_ready.wait(within)
    index._n.typos  # noqa: B018  (raises if the typo index failed)
    while threading.active_count() > 1:
        if time.monotonic() > deadline:
            raise RuntimeError(f"threads still alive, cannot fork: {threading.enumerate()!r}")
        time.sleep(0.01)


def serve_forked(args: argparse.Namespace, index: CityIndex) -> int:
    """Run ``args.workers`` forked servers of ``index`` on ``args.port``; the exit code.

    Example (what ``python -m examples.search_as_you_type --workers 2`` does)::

        index = load_index()
        raise SystemExit(serve_forked(parse_args(["--workers", "2"]), index))
    """
    wait_for_threads(index)
    gc.collect()
    gc.freeze()  # the index stays out of the workers' collections (and their pages shared)
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
