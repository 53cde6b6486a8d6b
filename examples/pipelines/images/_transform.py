"""The JAX stage's work on one image: resize, normalise, a 3x3 edge filter.

An element is ``(canvas, size)``: the decoded RGB pixels in the top-left
corner of a fixed ``canvas x canvas x 3`` uint8 array, and their real
``(height, width)``. Every element has the same shape, so
``map_batched`` stacks any mix of image sizes into one batch and compiles
one program per bucket; the resize reads only the real pixels.

1. **Resize** to ``size x size``: bilinear, half-pixel centres, edges
   clamped, no antialiasing (the sample points are computed from the real
   ``height, width``, so the padding is never read).
2. **Normalise**: scale to [0, 1], then per image to mean 0 and standard
   deviation 1 over all pixels and channels.
3. **Edges**: luminance (ITU-R BT.601 weights), then the Sobel 3x3 filter
   with the border replicated; the result is the gradient magnitude,
   ``sqrt(gx**2 + gy**2)``, float32 ``size x size``.

:func:`levels` maps that to the uint8 grey levels written as a PNG.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["LUMA", "SCALE", "buckets", "edges", "edges_on_worker", "levels"]

#: Luminance weights of R, G, B (ITU-R BT.601).
LUMA = (0.299, 0.587, 0.114)
#: Grey levels per unit of gradient magnitude in the output PNG.
SCALE = 32.0

Element = tuple[NDArray[np.uint8], NDArray[np.int32]]


def edges(size: int) -> Callable[[Any], Any]:
    """The per-element JAX function for ``map_batched``: ``(canvas, hw) -> size x size`` float32.

    Example:
        >>> import numpy as np
        >>> from examples.pipelines.images._transform import edges
        >>> canvas = np.zeros((8, 8, 3), np.uint8); canvas[:, 2:4] = 255   # a 4x4 image, right half white
        >>> out = np.asarray(edges(4)((canvas, np.array([4, 4], np.int32))))
        >>> out.shape, bool(out[:, 0].max() < out[:, 1].min())             # edges at the step only
        ((4, 4), True)
    """
    import jax.numpy as jnp

    def fn(element: Any) -> Any:
        canvas, hw = element
        pixels = _resize(jnp, canvas, hw, size) / 255.0
        pixels = (pixels - pixels.mean()) / (pixels.std() + 1e-6)
        return _sobel(jnp, pixels @ jnp.asarray(LUMA, jnp.float32))

    return fn


def _coords(xp: Any, real: Any, size: int) -> tuple[Any, Any, Any]:
    """Sample rows (or columns) ``i0, i1`` and the weight of ``i1`` for ``size`` outputs from ``real``."""
    src = (xp.arange(size, dtype=xp.float32) + 0.5) * (real.astype(xp.float32) / size) - 0.5
    src = xp.clip(src, 0.0, real.astype(xp.float32) - 1.0)
    i0 = xp.floor(src).astype(xp.int32)
    i1 = xp.minimum(i0 + 1, real - 1)
    return i0, i1, (src - i0)[:, None]


def _resize(xp: Any, canvas: Any, hw: Any, size: int) -> Any:
    y0, y1, wy = _coords(xp, hw[0], size)
    x0, x1, wx = _coords(xp, hw[1], size)
    img = canvas.astype(xp.float32)
    rows = img[y0] * (1.0 - wy[..., None]) + img[y1] * wy[..., None]  # size x canvas x 3
    return rows[:, x0] * (1.0 - wx[None]) + rows[:, x1] * wx[None]  # size x size x 3


def _sobel(xp: Any, grey: Any) -> Any:
    p = xp.pad(grey, 1, mode="edge")
    gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])
    gy = (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:])
    return xp.sqrt(gx * gx + gy * gy)


@functools.cache
def _compiled(size: int) -> Callable[[Any], Any]:
    import jax

    return jax.jit(edges(size))


def edges_on_worker(element: Element, size: int) -> NDArray[np.float32]:
    """:func:`edges` for one element, jitted once per process and size: the cluster's task.

    Example:
        >>> import numpy as np
        >>> from examples.pipelines.images._transform import edges_on_worker
        >>> edges_on_worker((np.zeros((8, 8, 3), np.uint8), np.array([5, 7], np.int32)), 4).shape
        (4, 4)
    """
    return np.asarray(_compiled(size)(element))


def levels(magnitude: NDArray[np.floating[Any]]) -> NDArray[np.uint8]:
    """Gradient magnitudes to uint8 grey levels: ``round(SCALE * m)``, clipped to 0..255.

    Example:
        >>> import numpy as np
        >>> from examples.pipelines.images._transform import levels
        >>> levels(np.array([0.0, 1.0, 100.0])).tolist()
        [0, 32, 255]
    """
    grey: NDArray[np.uint8] = np.clip(np.rint(magnitude * SCALE), 0, 255).astype(np.uint8)
    return grey


def buckets(batch_size: int) -> tuple[int, ...]:
    """Batch sizes to compile for: 16, 64 and ``batch_size`` (three compilations, not log2 of it).

    Example:
        >>> from examples.pipelines.images._transform import buckets
        >>> buckets(256), buckets(32)
        ((16, 64, 256), (16, 32))
    """
    return tuple(sorted({min(16, batch_size), min(64, batch_size), batch_size}))
