"""The code of docs/recipes.md, run as written against real servers on 127.0.0.1 and real files."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from aiohttp import web

import rxasync
from rxasync import files

ROOT = Path(__file__).resolve().parents[1]
RECIPE = re.compile(r"<!-- recipe: (\w+)[^>]*-->\n```python\n(.*?)```", re.S)


def recipe(name: str) -> ModuleType:
    """The recipe's code block, executed as a module."""
    blocks = dict(RECIPE.findall((ROOT / "docs" / "recipes.md").read_text(encoding="utf-8")))
    module = ModuleType(f"recipe_{name}")
    exec(compile(blocks[name], f"docs/recipes.md:{name}", "exec"), module.__dict__)
    return module


@pytest.fixture
async def collector() -> Any:
    """A server that takes POSTed lines and answers 500 to the ones containing "bad"."""
    received: list[str] = []

    async def ingest(request: web.Request) -> web.Response:
        line = (await request.read()).decode()
        if "bad" in line:
            return web.Response(status=500, text="cannot store that")
        received.append(line)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/ingest", ingest)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/ingest", received
    finally:
        await runner.cleanup()


async def test_recipe_carry_on_logs_failed_posts_and_delivers_the_rest(
    collector: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url, received = collector
    log = tmp_path / "app.log"
    lines = [f"line {i}" if i % 4 else f"bad line {i}" for i in range(20)]
    log.write_text("\n".join(lines) + "\n")
    post_each = recipe("carry_on").post_each
    with caplog.at_level(logging.WARNING, logger="shipper"):
        results = await rxasync.to_list(post_each(files.read_lines(log), url))
    assert results == [(line, "bad" not in line) for line in lines]  # every line, in order
    assert sorted(received) == sorted(line for line in lines if "bad" not in line)
    warnings = [r.getMessage() for r in caplog.records if r.name == "shipper"]
    assert len(warnings) == 5
    assert all("not delivered" in w and "500" in w for w in warnings), warnings


async def test_recipe_csv_to_jax_gives_every_row_norm_in_order(tmp_path: Path) -> None:
    pytest.importorskip("jax")
    rng = np.random.default_rng(6)
    rows = rng.normal(size=(20_000, 3)).astype(np.float32)
    path = tmp_path / "points.csv"
    path.write_text("x,y,z\n" + "\n".join(",".join(f"{v:.6f}" for v in row) for row in rows) + "\n")
    chunks = await rxasync.to_list(recipe("csv_to_jax").row_norms(path))
    assert len(chunks) > 1  # it came in chunks, not all at once
    norms = np.concatenate(chunks)
    expected = np.linalg.norm(np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32), axis=1)
    np.testing.assert_allclose(norms, expected, rtol=1e-5)


async def test_recipe_download_with_progress(tmp_path: Path) -> None:
    import rxasync.operators

    if not hasattr(rxasync.operators, "progress"):
        pytest.skip("needs rxasync.operators.progress (the progress issue); runs once it exists")
    body = bytes(range(256)) * 4096  # 1 MiB

    async def blob(request: web.Request) -> web.Response:
        return web.Response(body=body)

    app = web.Application()
    app.router.add_route("*", "/blob", blob)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        target = tmp_path / "blob.bin"
        written = await recipe("download").download(f"http://127.0.0.1:{port}/blob", target)
    finally:
        await runner.cleanup()
    assert written == len(body)
    assert target.read_bytes() == body
