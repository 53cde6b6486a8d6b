"""The README's example runs and prints what it says it prints."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def test_readme_example_prints_its_comment() -> None:
    code = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert code is not None
    expected = re.search(r"print\(.*\)\s+# (.*)", code.group(1))
    assert expected is not None
    out = subprocess.run([sys.executable, "-c", code.group(1)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected.group(1).strip()
