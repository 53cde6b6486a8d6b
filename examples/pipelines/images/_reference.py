"""A plain NumPy reference of the JAX stage, written apart from it, for checking its outputs.

The same three steps as :mod:`._transform` in float64, in another form: the
resize as two interpolation matrices (``My @ image @ Mx.T``), the filter as a
sum over the 3x3 kernel's taps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from ._transform import LUMA

__all__ = ["read_rgb", "reference"]

SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float64)


def _matrix(real: int, size: int) -> NDArray[np.float64]:
    """``size x real``: row ``i`` holds the bilinear weights of output ``i`` (half-pixel centres)."""
    matrix = np.zeros((size, real))
    for i in range(size):
        src = min(max((i + 0.5) * real / size - 0.5, 0.0), real - 1.0)
        low = int(np.floor(src))
        high = min(low + 1, real - 1)
        matrix[i, low] += 1.0 - (src - low)
        matrix[i, high] += src - low
    return matrix


def _correlate(grey: NDArray[np.float64], kernel: NDArray[np.float64]) -> NDArray[np.float64]:
    padded = np.pad(grey, 1, mode="edge")
    out = np.zeros_like(grey)
    h, w = grey.shape
    for dy in range(3):
        for dx in range(3):
            out += kernel[dy, dx] * padded[dy : dy + h, dx : dx + w]
    return out


def reference(rgb: NDArray[np.uint8], size: int) -> NDArray[np.float64]:
    """The gradient magnitude of ``rgb`` (height x width x 3, uint8) resized to ``size x size``.

    Example:
        >>> import numpy as np
        >>> from examples.pipelines.images._reference import reference
        >>> flat = np.full((5, 7, 3), 200, np.uint8)
        >>> float(reference(flat, 4).max())            # no edges in a flat image
        0.0
    """
    image = rgb.astype(np.float64)
    rows = np.einsum("ij,jkc->ikc", _matrix(rgb.shape[0], size), image)
    resized = np.einsum("lk,ikc->ilc", _matrix(rgb.shape[1], size), rows)
    pixels = resized / 255.0
    pixels = (pixels - pixels.mean()) / (pixels.std() + 1e-6)
    grey = pixels @ np.array(LUMA)
    gx, gy = _correlate(grey, SOBEL_X), _correlate(grey, SOBEL_X.T)
    result: Any = np.sqrt(gx * gx + gy * gy)
    return result  # type: ignore[no-any-return]


def read_rgb(path: Path) -> NDArray[np.uint8]:
    """The image at ``path`` as a height x width x 3 uint8 array (the file closed again)."""
    with Image.open(path) as image:
        rgb: NDArray[np.uint8] = np.asarray(image.convert("RGB"))
    return rgb
