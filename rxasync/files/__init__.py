"""Files as observables: chunks, lines, ``tail -F``, folders, and an atomic sink.

Sources read on a dedicated thread per file, in big blocks with bounded
read-ahead, and honour demand; the sink writes on its own thread and pauses
its source while it is behind. See ``docs/guides/files.md``.

Example:
    >>> import asyncio, os, pathlib, rxasync, tempfile
    >>> from reactivex import operators as ops
    >>> from rxasync import files
    >>> folder = tempfile.mkdtemp()
    >>> src, dst = os.path.join(folder, "in.txt"), os.path.join(folder, "out.txt")
    >>> _ = pathlib.Path(src).write_text("b\\na\\nc\\n")
    >>> pipeline = files.read_lines(src).pipe(ops.map(str.upper), files.write_lines(dst))
    >>> asyncio.run(rxasync.to_list(pipeline)), pathlib.Path(dst).read_text()
    ([6], 'B\\nA\\nC\\n')
    >>> import shutil; shutil.rmtree(folder)
"""

from .._exports import export as _export
from ._read import read_chunks, read_line_batches, read_lines
from ._tail import tail
from ._walk import glob, walk
from ._write import write, write_lines

__all__ = [
    "glob",
    "read_chunks",
    "read_line_batches",
    "read_lines",
    "tail",
    "walk",
    "write",
    "write_lines",
]

_export(globals())
