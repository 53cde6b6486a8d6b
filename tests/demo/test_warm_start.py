"""A fresh server process has its WebSocket pipeline's code loaded before it listens."""

from __future__ import annotations

import subprocess
import sys

from tests.demo._process import ROOT

# In a fresh interpreter: start the app (its on_startup runs, as before it listens), then look
# at which modules the first WebSocket search would still have to import.
_CHECK = """
import asyncio, sys
from aiohttp import web
from examples.search_as_you_type._cities import City
from examples.search_as_you_type._ranking import CityIndex
from examples.search_as_you_type._server import create_app

WANTED = ["rxasync.http", "reactivex.operators._debounce", "reactivex.operators._distinctuntilchanged",
          "reactivex.operators._map", "reactivex.operators.connectable._refcount"]

async def main():
    index = CityIndex([City(1, "London", "GB", "United Kingdom", 8_961_989)])
    runner = web.AppRunner(create_app(index))
    await runner.setup()
    try:
        print(" ".join(m for m in WANTED if m not in sys.modules) or "none missing")
    finally:
        await runner.cleanup()

asyncio.run(main())
"""


def test_the_pipelines_modules_are_loaded_before_the_server_listens() -> None:
    # RxPY imports each operator's module on its first call: without one pipeline built at
    # start-up, the first WebSocket search of each process imported rxasync.http, msgspec and
    # five operator modules, 50-90 ms on top of the search (each --workers worker paid it once)
    done = subprocess.run(
        [sys.executable, "-c", _CHECK], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "none missing"
