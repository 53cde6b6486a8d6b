"""Range resume against nginx (issue 11 item 5): never splice two versions of a file.

nginx with ``etag off`` sends only ``Last-Modified``. A file rewritten at the
same size within the same second keeps that date, so a resume with
``If-Range: <date>`` gets a ``206`` of the *new* file's rest: the old client
delivered the old file's start and the new file's end, with no error. A date
is not a strong validator (RFC 9110 §13.1.5): rxasync now resumes only on a
strong ``ETag`` and otherwise fails with ``HttpResumeError``.

A proxy on 127.0.0.1 between rxasync and nginx cuts the first connection
after ``CUT`` bytes, and at that moment rewrites the file.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import rxasync
from rxasync import HttpResumeError
from rxasync.http import Retry, stream

NGINX = "/usr/sbin/nginx"
SIZE = 1 << 20
CUT = 256 << 10
FAST = Retry(initial_delay=0.01, max_delay=0.05)

pytestmark = pytest.mark.skipif(not os.path.exists(NGINX), reason="nginx is not installed (make system-deps)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def nginx_conf(root: Path, port: int) -> str:
    tmp = root / "tmp"
    temps = "\n".join(
        f"    {kind}_temp_path {tmp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;" if os.geteuid() == 0 else ""
    return f"""
daemon off;
master_process off;
worker_processes 1;
{user}
pid {root / "nginx.pid"};
error_log {root / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
{temps}
    server {{
        listen 127.0.0.1:{port};
        root {root / "www"};
        location /weak/ {{ etag off; }}
        location /strong/ {{ etag on; }}
    }}
}}
"""


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """nginx on a free 127.0.0.1 port serving ``tmp_path/www``; yields (base URL, www), stopped by PID."""
    (tmp_path / "tmp").mkdir()
    www = tmp_path / "www"
    for sub in ("weak", "strong"):
        (www / sub).mkdir(parents=True)
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_conf(tmp_path, port))
    proc = subprocess.Popen(
        [NGINX, "-e", str(tmp_path / "error.log"), "-p", str(tmp_path), "-c", str(conf)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"nginx did not start: {(tmp_path / 'error.log').read_text()}"
                    ) from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", www
    finally:
        proc.terminate()  # by its PID, the one we started
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class CuttingProxy:
    """Forwards 127.0.0.1 connections to ``port``; the first answer is cut after ``cut`` bytes,
    and ``on_cut`` runs just before the cut."""

    def __init__(self, port: int, cut: int, on_cut: Callable[[], None]) -> None:
        self.port, self.cut, self.on_cut = port, cut, on_cut
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, limit: int | None
    ) -> None:
        sent = 0
        try:
            while data := await reader.read(65536):
                if limit is not None and sent + len(data) >= limit:
                    writer.write(data[: limit - sent])
                    await writer.drain()
                    self.on_cut()
                    break
                sent += len(data)
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        first = self.connections == 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)
        request = await reader.readuntil(b"\r\n\r\n")
        self.requests.append(request)
        up_writer.write(request)
        upstream = asyncio.create_task(self._pipe(reader, up_writer, None))
        self.tasks.add(upstream)
        upstream.add_done_callback(self.tasks.discard)
        await self._pipe(up_reader, writer, self.cut if first else None)
        up_writer.close()
        upstream.cancel()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._on_client, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.server.wait_closed()


def rewrite_same_size_same_second(path: Path) -> Callable[[], None]:
    """Rewrite ``path`` with other bytes of the same size, keeping its mtime (same-second edit)."""

    def rewrite() -> None:
        stat = path.stat()
        path.write_bytes(b"B" * SIZE)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    return rewrite


@pytest.fixture
async def served(nginx: tuple[str, Path]) -> tuple[int, Path]:
    base, www = nginx
    for sub in ("weak", "strong"):
        (www / sub / "data.bin").write_bytes(b"A" * SIZE)
    return int(base.rsplit(":", 1)[1]), www


async def test_resume_with_only_last_modified_is_resume_error_not_a_splice(served) -> None:
    port, www = served
    proxy = CuttingProxy(port, CUT, rewrite_same_size_same_second(www / "weak" / "data.bin"))
    got: list[bytes] = []
    async with proxy as base:
        with pytest.raises(HttpResumeError, match="strong ETag") as info:
            async for chunk in rxasync.to_async_iterable(stream(base + "/weak/data.bin", retry=FAST)):
                got.append(chunk)
    body = b"".join(got)
    assert set(body) <= {ord("A")}, "bytes of the rewritten file were spliced in"
    assert 0 < len(body) < SIZE
    assert "RFC 9110" in str(info.value)
    assert all(b"If-Range" not in r for r in proxy.requests)  # no unsafe If-Range was even sent


async def test_resume_with_strong_etag_is_byte_exact_through_nginx(served) -> None:
    port, _www = served
    proxy = CuttingProxy(port, CUT, lambda: None)
    async with proxy as base:
        chunks = await rxasync.to_list(stream(base + "/strong/data.bin", retry=FAST))
    assert b"".join(chunks) == b"A" * SIZE
    assert proxy.connections == 2
    assert b'If-Range: "' in proxy.requests[1]


async def test_resume_with_strong_etag_detects_rewrite_through_nginx(served) -> None:
    port, www = served
    path = www / "strong" / "data.bin"

    def rewrite() -> None:  # a new mtime, so nginx's ETag (mtime-size) changes
        path.write_bytes(b"B" * SIZE)
        os.utime(path, (time.time() + 5, time.time() + 5))

    got: list[bytes] = []
    async with CuttingProxy(port, CUT, rewrite) as base:
        with pytest.raises(HttpResumeError):
            async for chunk in rxasync.to_async_iterable(stream(base + "/strong/data.bin", retry=FAST)):
                got.append(chunk)
    assert set(b"".join(got)) <= {ord("A")}
