"""``python -m rxasync.stats chart FILE.jsonl -o out.png``: draw a recorded run."""

from __future__ import annotations

import argparse
import sys

from ._chart import chart


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the command; the exit status."""
    parser = argparse.ArgumentParser(prog="python -m rxasync.stats", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    draw = commands.add_parser("chart", help="draw items/s per stage over time as a PNG")
    draw.add_argument("jsonl", help="a file written by rxasync.stats.watch(jsonl=...)")
    draw.add_argument("-o", "--output", default=None, help="the PNG to write (default: FILE.png)")
    draw.add_argument("--title", default=None, help="the chart's title (default: names the bottleneck)")
    args = parser.parse_args(argv)
    out = args.output or args.jsonl.rsplit(".", 1)[0] + ".png"
    try:
        written = chart(args.jsonl, out, title=args.title)
    except (OSError, ValueError, ImportError) as exc:
        sys.stderr.write(f"rxasync.stats chart: {exc}\n")
        return 1
    sys.stdout.write(f"wrote {written}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
