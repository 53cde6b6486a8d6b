"""The pytest plugin as a user's project loads it: its own folder, pytest-asyncio's default (strict) mode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

USER_TEST = """
import asyncio

import pytest


@pytest.mark.asyncio
async def test_redis(redis_client, redis_server):
    assert redis_server.url.startswith("redis://127.0.0.1:")
    assert await redis_client.ping()


@pytest.mark.asyncio
async def test_postgres(postgres_connection, postgres_server):
    assert "127.0.0.1" in postgres_server.dsn
    assert await postgres_connection.fetchval("SELECT 40 + 2") == 42


@pytest.mark.asyncio
@pytest.mark.virtual_time
async def test_virtual_time():
    loop = asyncio.get_running_loop()
    start = loop.time()
    await asyncio.sleep(600)
    assert loop.time() - start >= 600
"""


@pytest.mark.allow_leaks  # a child pytest, its servers stopped by their own fixtures
def test_a_users_project_gets_the_servers_and_the_clock(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["rxasync.testing.pytest_plugin"]\n')
    (tmp_path / "test_user.py").write_text(USER_TEST)
    # pytest-asyncio in its default, strict, mode: only what is marked (or declared) async runs as such
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout, done.stdout
