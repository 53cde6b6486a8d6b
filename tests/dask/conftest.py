"""One real multi-process Dask cluster for the session, in its own process.

Its workers are spawned processes: they import the tests' functions from
``dask_funcs`` (this directory) and rxasync from this checkout, so both go on
their ``PYTHONPATH``. The cluster process is started before any test's leak
check takes its baseline (a session fixture), and each test connects its own
asynchronous client (``client``), which it closes before the check runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="the dask extra is not installed")

from distributed import Client

from rxasync.dask import connect

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def worker_env() -> dict[str, str]:
    """This environment, with this checkout and this directory importable and JAX on the CPU."""
    path = [str(ROOT), str(HERE), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path), "JAX_PLATFORMS": "cpu"}


@pytest.fixture(scope="session")
def cluster_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log_path = tmp_path_factory.mktemp("dask") / "cluster.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "cluster_main.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=worker_env(),
            text=True,
        )
    assert proc.stdout is not None
    assert proc.stdin is not None
    address = proc.stdout.readline().strip()
    try:
        if not address.startswith("tcp://127.0.0.1:"):
            pytest.fail(f"the test cluster did not start: {address!r}\n{log_path.read_text()}")
        yield address
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()  # this process only, by its pid
            proc.wait()
        proc.stdout.close()


@pytest.fixture
async def client(cluster_address: str) -> AsyncIterator[Client]:
    async with connect(cluster_address) as client:
        await client.wait_for_workers(2, timeout=60)
        yield client
