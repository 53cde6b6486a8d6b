"""Draw the observing guide's pictures from a real run of ``examples.pipelines.observed``.

    PYTHONPATH=. .venv/bin/python scripts/observing_pictures.py

Writes ``docs/images/observing_chart.png`` (``python -m rxasync.stats chart``)
and ``docs/images/observing_live.svg`` / ``.png`` (a frame of the live view,
recorded by rich and photographed by headless chromium).
"""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from examples.pipelines import observed
from rxasync.stats import chart

IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        jsonl = Path(tmp, "run.jsonl")
        console = Console(width=80, record=True, file=io.StringIO(), force_terminal=True)
        watcher = asyncio.run(observed.run(100_000, 4.0, {"interval": 0.25, "jsonl": jsonl, "view": False}))
        console.print(watcher.table())  # the last frame: rates over the whole run
        svg = IMAGES / "observing_live.svg"
        svg.write_text(console.export_svg(title="python -m examples.pipelines.observed"))
        chart(jsonl, IMAGES / "observing_chart.png")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("no chromium: the SVG is written, the PNG is not")
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--screenshot={IMAGES / 'observing_live.png'}", "--window-size=760,290", svg.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip


if __name__ == "__main__":
    main()
