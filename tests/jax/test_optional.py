"""rxasync.jax stays an optional extra (its public names: tests/test_surface.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCK_JAX = textwrap.dedent(
    """
    import importlib.abc, sys

    class NoJax(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "jax" or name.startswith("jax."):
                raise ImportError(f"No module named {name!r} (hidden by the test)")
            return None

    sys.meta_path.insert(0, NoJax())
    """
)


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )


def test_jax_import_rxasync_does_not_import_jax() -> None:
    result = _python("import sys, rxasync, rxasync.operators; print('jax' in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_jax_without_jax_installed_says_install_the_extra() -> None:
    code = BLOCK_JAX + textwrap.dedent(
        """
        import rxasync
        try:
            import rxasync.jax
        except ImportError as exc:
            print("ImportError:", exc)
        """
    )
    result = _python(code)
    assert result.returncode == 0, result.stderr
    assert "ImportError:" in result.stdout
    assert "install rxasync[jax]" in result.stdout
