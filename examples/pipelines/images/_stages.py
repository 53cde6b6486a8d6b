"""The blocking steps (on threads) and the operator that carries each file's name past the JAX stage."""

from __future__ import annotations

import io
import os
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import reactivex
from numpy.typing import NDArray
from PIL import Image
from reactivex import Observable
from reactivex import operators as ops

from ._transform import Element, levels

__all__ = ["Decoded", "Skipped", "decoder", "keyed", "save_atomic", "writer"]

_K = TypeVar("_K")

#: What Pillow raises for a file that is not a readable image (truncated, not an image, a bomb...).
UNREADABLE = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)


@dataclass(frozen=True)
class Decoded:
    """A decoded image: its path and the element for the JAX stage."""

    path: Path
    element: Element


@dataclass(frozen=True)
class Skipped:
    """A file that could not be decoded, and why (the pipeline goes on without it)."""

    path: Path
    reason: str


def decoder(canvas: int) -> Callable[[Path], Decoded | Skipped]:
    """``decode(path)``: the file as RGB pixels in a ``canvas``-square uint8 array, or :class:`Skipped`.

    An image larger than ``canvas`` on either side is first shrunk by Pillow
    to fit (keeping its aspect ratio, box filter), so that one compiled
    program takes every file.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from PIL import Image
        >>> from examples.pipelines.images._stages import decoder
        >>> with tempfile.TemporaryDirectory() as d:
        ...     Image.new("L", (5, 3)).save(f"{d}/a.png"); Path(d, "b.png").write_bytes(b"no")
        ...     a, b = decoder(8)(Path(d, "a.png")), decoder(8)(Path(d, "b.png"))
        ...     a.element[0].shape, a.element[1].tolist(), type(b).__name__
        2
        ((8, 8, 3), [3, 5], 'Skipped')
    """

    def decode(path: Path) -> Decoded | Skipped:
        try:
            with Image.open(path) as image:
                image.load()
                rgb = image.convert("RGB")
        except UNREADABLE as exc:
            return Skipped(path, f"{type(exc).__name__}: {exc}")
        if max(rgb.size) > canvas:
            rgb.thumbnail((canvas, canvas), Image.Resampling.BOX)
        pixels = np.zeros((canvas, canvas, 3), np.uint8)
        pixels[: rgb.height, : rgb.width] = np.asarray(rgb)
        return Decoded(path, (pixels, np.array([rgb.height, rgb.width], np.int32)))

    return decode


def save_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``.

    Readers see the old file or the whole new one; on failure the temporary
    file is removed and ``path`` is untouched.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from examples.pipelines.images._stages import save_atomic
        >>> with tempfile.TemporaryDirectory() as d:
        ...     save_atomic(Path(d, "x.bin"), b"abc")
        ...     sorted(p.name for p in Path(d).iterdir()), Path(d, "x.bin").read_bytes()
        (['x.bin'], b'abc')
    """
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temp, "xb") as file:
            file.write(data)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def writer(source: Path, output: Path) -> Callable[[tuple[Path, NDArray[np.float32]]], Path]:
    """``write((path, edges))``: the edges as a grey PNG under ``output``, where ``path`` was under ``source``.

    Subfolders are kept, the name gets the suffix ``.png``; the write is
    :func:`save_atomic`. Returns the written path.

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> from pathlib import Path
        >>> from examples.pipelines.images._stages import writer
        >>> with tempfile.TemporaryDirectory() as d:
        ...     write = writer(Path(d, "in"), Path(d, "out"))
        ...     write((Path(d, "in", "sub", "a.jpg"), np.ones((4, 4), np.float32))).relative_to(d).as_posix()
        'out/sub/a.png'
    """

    def write(item: tuple[Path, NDArray[np.float32]]) -> Path:
        path, magnitude = item
        target = (output / path.relative_to(source)).with_suffix(".png")
        target.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        Image.fromarray(levels(magnitude)).save(buffer, format="PNG", compress_level=1)
        save_atomic(target, buffer.getvalue())
        return target

    return write


def keyed(
    stage: Callable[[Observable[Any]], Observable[Any]],
) -> Callable[[Observable[tuple[_K, Any]]], Observable[tuple[_K, Any]]]:
    """Run ``(key, value)`` items' values through ``stage``, and pair each result with its key again.

    ``stage`` must give one result per value, in order (``map_batched``,
    ``map_on_cluster`` with ``ordered=True``): the keys wait in a queue
    meanwhile, so only the values go to the device or the cluster.

    Example:
        >>> import asyncio, reactivex, rxasync
        >>> from reactivex import operators as ops
        >>> from examples.pipelines.images._stages import keyed
        >>> items = reactivex.of(("a", 1), ("b", 2))
        >>> asyncio.run(rxasync.to_list(items.pipe(keyed(ops.map(lambda v: v * 10)))))
        [('a', 10), ('b', 20)]
    """

    def operator(source: Observable[tuple[_K, Any]]) -> Observable[tuple[_K, Any]]:
        def subscribe(_: Any) -> Observable[tuple[_K, Any]]:
            keys: deque[_K] = deque()

            def value(item: tuple[_K, Any]) -> Any:
                keys.append(item[0])
                return item[1]

            return source.pipe(ops.map(value), stage, ops.map(lambda result: (keys.popleft(), result)))

        return reactivex.defer(subscribe)

    return operator
