"""rxasync.files re-exports its public functions, and only those."""

from __future__ import annotations

import rxasync.files


def test_files_all_pins_the_public_names() -> None:
    assert rxasync.files.__all__ == [
        "glob",
        "read_chunks",
        "read_line_batches",
        "read_lines",
        "tail",
        "walk",
        "write",
        "write_lines",
    ]


def test_files_objects_report_the_public_module() -> None:
    for name in rxasync.files.__all__:
        assert getattr(rxasync.files, name).__module__ == "rxasync.files", name
