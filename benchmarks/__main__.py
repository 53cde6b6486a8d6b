"""Run every benchmark: ``python -m benchmarks [--quick] [NAME ...]``.

Each ``benchmarks/*.py`` module that defines ``main(argv=None)`` runs in its
own subprocess, one after another (so one benchmark's threads, loops and
memory never disturb the next). ``--quick`` is passed through. A module that
fails to import (an optional extra such as jax is missing) is skipped with a
message; modules without ``main`` (helpers) are skipped silently. NAMEs pick
modules whose name contains any of them (``python -m benchmarks core_``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent

# Exit codes of the child runner below, distinct from a benchmark's own failure.
_IMPORT_FAILED = 97
_NO_MAIN = 98

_RUNNER = f"""
import importlib, sys
name = sys.argv[1]
try:
    module = importlib.import_module(name)
except Exception as exc:
    print(f"skip {{name}}: import failed: {{type(exc).__name__}}: {{exc}}", flush=True)
    sys.exit({_IMPORT_FAILED})
main = getattr(module, "main", None)
if not callable(main):
    sys.exit({_NO_MAIN})
main(sys.argv[2:])
"""


def _modules() -> list[str]:
    return sorted(p.stem for p in _HERE.glob("*.py") if not p.stem.startswith("_"))


def main(argv: list[str] | None = None) -> None:
    """Run the selected benchmark modules in sequence; exit 1 if any of them failed."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="passed to every benchmark")
    parser.add_argument("names", nargs="*", help="run only modules whose name contains one of these")
    args = parser.parse_args(argv)
    names = [m for m in _modules() if not args.names or any(n in m for n in args.names)]
    failed: list[str] = []
    for name in names:
        cmd = [sys.executable, "-c", _RUNNER, f"benchmarks.{name}"]
        if args.quick:
            cmd.append("--quick")
        rc = subprocess.run(cmd, cwd=_HERE.parent, check=False).returncode
        if rc not in (0, _IMPORT_FAILED, _NO_MAIN):
            print(f"benchmarks.{name} failed with exit status {rc}", flush=True)
            failed.append(name)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
