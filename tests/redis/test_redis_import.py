"""The drivers stay optional: ``import rxasync`` imports neither, and a missing one names its extra."""

from __future__ import annotations

import subprocess
import sys

import pytest

BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == {driver!r} or name.startswith({driver!r} + "."):
            raise ImportError(f"No module named {{name!r}} (blocked by the test)")
        return None
sys.meta_path.insert(0, Block())
try:
    import {module}
except ImportError as exc:
    print(exc)
else:
    print("imported")
"""


def run(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_import_rxasync_imports_no_database_driver() -> None:
    code = "import sys, rxasync, rxasync.testing; print(sorted(m for m in ('redis', 'asyncpg') if m in sys.modules))"
    assert run(code) == "[]"


@pytest.mark.parametrize(
    ("module", "driver", "extra"),
    [("rxasync.redis", "redis", "redis"), ("rxasync.postgres", "asyncpg", "postgres")],
)
def test_subpackage_without_its_driver_names_the_extra(module: str, driver: str, extra: str) -> None:
    out = run(BLOCK.format(driver=driver, module=module))
    assert f"install rxasync[{extra}]" in out
