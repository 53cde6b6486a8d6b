"""rxasync.jax's public names, and that jax stays an optional extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import rxasync.jax

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


def test_jax_all_is_sorted_and_reports_rxasync_jax_as_module() -> None:
    assert rxasync.jax.__all__ == ["JaxOperator", "from_jax", "map_batched", "scan"]
    assert sorted(rxasync.jax.__all__) == rxasync.jax.__all__
    for name in rxasync.jax.__all__:
        assert getattr(rxasync.jax, name).__module__ == "rxasync.jax"


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
