"""Options are typed: a misspelt or mistyped option fails ``mypy --strict`` and raises at run time."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from rxasync import http

CASES = Path(__file__).parent / "typing_cases" / "misspelt_options.py"


@pytest.mark.slow
def test_http_misspelt_options_fail_mypy() -> None:
    expected = {n for n, line in enumerate(CASES.read_text().splitlines(), 1) if "# E:" in line}
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file=", str(CASES)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    errors = list(re.finditer(r":(\d+): error: (.*)", run.stdout))
    lines = {int(m.group(1)) for m in errors}
    assert lines == expected, run.stdout
    assert any('Unexpected keyword argument "timout"' in m.group(2) for m in errors), run.stdout


@pytest.mark.parametrize(
    ("make", "word"),
    [
        (lambda: http.get_json("http://127.0.0.1:1/", timout=3), "timout"),  # type: ignore[call-arg]
        (lambda: http.stream("http://127.0.0.1:1/", chunksize=3), "chunksize"),  # type: ignore[call-arg]
        (lambda: http.sse("http://127.0.0.1:1/", reconect=False), "reconect"),  # type: ignore[call-arg]
        (lambda: http.websocket("ws://127.0.0.1:1/", heartbeet=1.0), "heartbeet"),  # type: ignore[call-arg]
    ],
)
def test_http_misspelt_option_raises_type_error_at_creation(make, word: str) -> None:
    with pytest.raises(TypeError, match=word):
        make()
