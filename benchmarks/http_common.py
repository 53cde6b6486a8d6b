"""The HTTP benchmarks' server, run in another process on 127.0.0.1, and how to start it.

``python -m benchmarks.http_common`` serves, on a free loopback port it prints
as its first line of output:

* ``/bytes?size=N``: ``N`` bytes (``Content-Length`` set), written 1 MiB at a time;
* ``/lines?size=N``: ``N`` bytes of 100-byte ASCII lines (99 characters and ``\\n``);
* ``/json?i=K``: a small JSON object;
* ``/ndjson?size=N``: ``N`` bytes of 100-byte NDJSON lines (small objects).

:func:`server` starts it as a subprocess and stops it when the block ends.
No ``main``: the benchmark runner skips this module.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web

_MIB = 1 << 20
_BLOCK = bytes(range(256)) * (_MIB // 256)
_LINES = b"".join(b"line %09d " % i + b"y" * 84 + b"\n" for i in range(_MIB // 100 + 1))[
    : (_MIB // 100) * 100
]

_NDJSON = b"".join(
    (b'{"id": %d, "name": "item", "value": 3.25, "ok": true, "tags": ["x", "y"], "p": "' % i).ljust(97, b"q")
    + b'"}\n'
    for i in range(_MIB // 100 + 1)
)[: (_MIB // 100) * 100]


async def _bytes(req: web.Request) -> web.StreamResponse:
    return await _send(req, _BLOCK, int(req.query["size"]), "application/octet-stream")


async def _lines(req: web.Request) -> web.StreamResponse:
    return await _send(req, _LINES, int(req.query["size"]), "text/plain")


async def _send(req: web.Request, block: bytes, size: int, mime: str) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": mime})
    resp.content_length = size
    await resp.prepare(req)
    view = memoryview(block)
    left = size
    while left > 0:
        piece = view[: min(left, len(block))]
        await resp.write(piece)
        left -= len(piece)
    await resp.write_eof()
    return resp


async def _ndjson(req: web.Request) -> web.StreamResponse:
    return await _send(req, _NDJSON, int(req.query["size"]), "application/x-ndjson")


async def _json(req: web.Request) -> web.Response:
    return web.json_response({"i": int(req.query.get("i", "0")), "ok": True, "tags": ["a", "b"]})


async def _serve() -> None:
    app = web.Application()
    app.router.add_get("/bytes", _bytes)
    app.router.add_get("/lines", _lines)
    app.router.add_get("/json", _json)
    app.router.add_get("/ndjson", _ndjson)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


@contextmanager
def server() -> Iterator[str]:
    """Start the server in a subprocess; yield its base URL; stop it at the end."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.http_common"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def trial(make: Callable[[], Coroutine[Any, Any, float]]) -> Callable[[], float]:
    """A benchmark trial: one ``asyncio.run`` of ``make()``, which returns the seconds it measured."""
    return lambda: asyncio.run(make())


if __name__ == "__main__":
    try:
        asyncio.run(_serve())
    except KeyboardInterrupt:
        pass
