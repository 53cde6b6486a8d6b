"""The package as a user gets it: wheel and sdist built, the wheel installed into a fresh venv
without extras, every public module imported, the README's example run.

It needs what a user's ``pip install`` needs: the build backend and the
dependencies from the package index pip is configured with (PyPI on CI).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]  # about 30-70 s: a build, a venv, an install

IMPORT_ALL = r"""
import importlib, pathlib, sys
import rxasync
root = pathlib.Path(rxasync.__file__).parent
assert "site-packages" in str(root), root  # the installed wheel, not the clone
names = ["rxasync"] + sorted(
    "rxasync." + p.stem for p in root.iterdir()
    if not p.name.startswith("_") and (p.suffix == ".py" or (p / "__init__.py").exists())
)
for name in names:
    try:
        importlib.import_module(name)
        print("ok", name)
    except ImportError as exc:  # a namespace whose extra is not installed says which one
        assert "rxasync[" in str(exc), (name, exc)
        print("extra", name)
heavy = {"jax", "dask", "distributed", "redis", "asyncpg", "tqdm", "rich", "aiofiles"}
assert not heavy & set(sys.modules), heavy & set(sys.modules)
"""


def run(*cmd: str | Path, cwd: Path = ROOT) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}  # the venv alone
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{cmd}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"```python\n(.*?)```", text, re.S)
    assert found, "the README has a ```python example"
    return found.group(1)


def test_wheel_and_sdist_build_and_the_wheel_installs_without_extras(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "build", "--wheel", "--sdist", "--outdir", dist, ROOT)
    [wheel] = dist.glob("rxasync-*.whl")
    [sdist] = dist.glob("rxasync-*.tar.gz")
    names = zipfile.ZipFile(wheel).namelist()
    assert "rxasync/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
    assert not any(n.startswith(("tests/", "examples/", "benchmarks/")) for n in names)
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("/METADATA"))).decode()
    requires = [
        line for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra" not in line
    ]
    assert not any("aiofiles" in line for line in requires), requires
    assert "Project-URL: Source" in metadata
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
    assert {"LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml"} <= members

    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", wheel, cwd=tmp_path)  # no extras
    out = run(python, "-c", IMPORT_ALL, cwd=tmp_path)
    assert "ok rxasync.operators" in out
    assert "ok rxasync.http" in out
    example = tmp_path / "readme_example.py"
    example.write_text(readme_example(), encoding="utf-8")
    assert run(python, example, cwd=tmp_path).strip() == "[0, 4, 16, 36, 64]"
