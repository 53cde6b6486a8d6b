"""Private Redis and PostgreSQL servers for tests: 127.0.0.1, a free port, data in a temp folder.

Each server is a child process started from the Debian binaries
(``redis-server``; PostgreSQL 15's ``initdb`` and ``postgres``), stopped by
its PID. PostgreSQL refuses to run as root: as root, its data folder is
given to the ``postgres`` user and the server runs as that user.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["PostgresServer", "RedisServer", "free_port"]

PG_BIN = Path(os.environ.get("RXASYNC_PG_BIN", "/usr/lib/postgresql/15/bin"))
_START_TIMEOUT = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now.

    Example:
        >>> 1024 <= free_port() < 65536
        True
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class _Server:
    """What both servers share: a folder, a port, a child process stopped by PID."""

    #: Where a server's own temporary folder is made (``None``: ``tempfile``'s default).
    _temp_root: str | None = None

    def __init__(self, directory: str | os.PathLike[str] | None = None, *, port: int | None = None) -> None:
        self._own_dir = directory is None
        if directory is None:
            directory = tempfile.mkdtemp(prefix="rxasync-db-", dir=self._temp_root)
        self.dir = Path(directory)
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._at_exit = False

    def _spawn(self, argv: list[str], **kwargs: Any) -> None:
        with open(self.dir / "server.log", "ab") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL, **kwargs)
        if not self._at_exit:  # a test that fails before close() still leaves no server running
            atexit.register(self.close)
            self._at_exit = True

    def _ready(self) -> bool:  # pragma: no cover - each server overrides it
        raise NotImplementedError

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._ready():
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{type(self).__name__} exited at start; see {self.dir / 'server.log'}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{type(self).__name__} not ready after {_START_TIMEOUT:g} s")
            time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL the server (a crash): no shutdown, only what is on disk survives."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """Stop the server cleanly (it may be started again)."""
        self._signal(signal.SIGTERM)

    def _signal(self, sig: int) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=_START_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def close(self) -> None:
        """Stop the server and delete its folder if it made it."""
        self.stop()
        if self._at_exit:
            atexit.unregister(self.close)
            self._at_exit = False
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Any:
        self.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def start(self) -> None:  # pragma: no cover - each server overrides it
        raise NotImplementedError


class RedisServer(_Server):
    """A private ``redis-server`` on 127.0.0.1; ``appendonly=True`` keeps data across a kill.

    Args:
        directory: its data folder (default: a new temporary folder, deleted by :meth:`close`).
        port: the port (default: a free one).
        appendonly: log every write to an append-only file, fsynced before
            each reply, so a SIGKILL loses nothing acknowledged.

    Example:
        >>> from rxasync.testing import RedisServer
        >>> with RedisServer() as server:
        ...     server.url.startswith("redis://127.0.0.1:")
        True
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        port: int | None = None,
        appendonly: bool = False,
    ) -> None:
        super().__init__(directory, port=port)
        self.appendonly = appendonly

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or restart, on the same port and data) and wait until it answers PING."""
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        argv = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.dir)]
        argv += ["--save", "", "--daemonize", "no", "--maxclients", "4000", "--loglevel", "warning"]
        if self.appendonly:
            argv += ["--appendonly", "yes", "--appendfsync", "always"]
        self._spawn(argv)
        self._wait_ready()

    def _ready(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False


class PostgresServer(_Server):
    """A private PostgreSQL 15 on 127.0.0.1 (trust authentication, user ``postgres``).

    Durability settings are off (``fsync``, ``synchronous_commit``): it is
    for tests. Its unix socket lives in its folder, never in ``/run``.

    Args:
        directory: its folder (default: a new temporary folder, deleted by :meth:`close`).
        port: the port (default: a free one).

    Example:
        >>> from rxasync.postgres._examples import dsn  # the examples' server, a PostgresServer
        >>> dsn().startswith("postgresql://postgres@127.0.0.1:")
        True
    """

    # As root the server runs as ``postgres``, which must reach its folder: under /tmp,
    # never under a TMPDIR that only root may enter.
    _temp_root = "/tmp" if os.geteuid() == 0 and os.path.isdir("/tmp") else None

    @property
    def dsn(self) -> str:
        """``postgresql://postgres@127.0.0.1:PORT/postgres?sslmode=disable``.

        The server has no TLS; ``sslmode=disable`` also spares asyncpg's TLS
        probe, whose future reports "exception never retrieved" when a
        connect is cancelled in the middle of it (asyncpg 0.32).
        """
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres?sslmode=disable"

    def _as_owner(self) -> dict[str, Any]:
        if os.geteuid() != 0:
            return {}
        return {"user": "postgres", "group": _postgres_user().pw_gid, "extra_groups": []}

    def start(self) -> None:
        """Create the cluster on first start, then start the server and wait until it accepts."""
        data = self.dir / "data"
        if not data.exists():
            self._initdb(data)
        argv = [str(PG_BIN / "postgres"), "-D", str(data), "-p", str(self.port), "-h", "127.0.0.1"]
        argv += ["-k", str(self.dir), "-c", "fsync=off", "-c", "synchronous_commit=off"]
        argv += ["-c", "full_page_writes=off", "-c", "max_connections=200"]
        self._spawn(argv, **self._as_owner())
        self._wait_ready()

    def _initdb(self, data: Path) -> None:
        if os.geteuid() == 0:
            owner = _postgres_user()
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        argv = [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
        argv += ["-E", "UTF8", "--no-sync", "--locale=C"]
        with open(self.dir / "initdb.log", "wb") as log:
            subprocess.run(argv, stdout=log, stderr=log, check=True, cwd=self.dir, **self._as_owner())

    def stop(self) -> None:
        """Fast shutdown (SIGINT): sessions are ended, the server may be started again."""
        self._signal(signal.SIGINT)

    def _ready(self) -> bool:
        argv = [str(PG_BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        return subprocess.run(argv, check=False).returncode == 0


def _postgres_user() -> pwd.struct_passwd:
    """The ``postgres`` user that Debian's package creates, to run the server as when we are root."""
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError(
            "PostgreSQL refuses to run as root and there is no 'postgres' user to run it as: "
            "install Debian's postgresql package (it creates one) or run the tests as another user"
        ) from None
