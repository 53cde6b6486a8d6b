"""Input for a run without ``--input``: PNGs of random shapes, their sizes varying a little."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw

__all__ = ["generate"]


def generate(folder: Path, count: int, *, side: int = 64, seed: int = 0) -> list[Path]:
    """Write ``count`` PNGs (``img00000.png``...) of ellipses, rectangles and lines into ``folder``.

    Each is RGB, its height and width drawn from ``3/4 * side`` to ``side``;
    the same ``seed`` gives the same files.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> from examples.pipelines.images._generate import generate
        >>> from examples.pipelines.images._reference import read_rgb
        >>> with tempfile.TemporaryDirectory() as d:
        ...     paths = generate(Path(d), 3, side=16)
        ...     shapes = [read_rgb(p).shape for p in paths]
        ...     [p.name for p in paths], all(12 <= min(s[:2]) <= max(s[:2]) <= 16 for s in shapes)
        (['img00000.png', 'img00001.png', 'img00002.png'], True)
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for i in range(count):
        path = folder / f"img{i:05d}.png"
        _picture(rng, side).save(path)
        paths.append(path)
    return paths


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return rng.randrange(256), rng.randrange(256), rng.randrange(256)


def _picture(rng: random.Random, side: int) -> Image.Image:
    width, height = rng.randint(side * 3 // 4, side), rng.randint(side * 3 // 4, side)
    image = Image.new("RGB", (width, height), _colour(rng))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(1, 4)):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1, y1 = rng.randint(x0, width), rng.randint(y0, height)
        shape = rng.choice(("ellipse", "rectangle", "line"))
        if shape == "line":
            draw.line((x0, y0, x1, y1), fill=_colour(rng), width=max(1, side // 16))
        else:
            getattr(draw, shape)((x0, y0, x1, y1), fill=_colour(rng))
    return image
