"""A spectrogram PNG per file, drawn on a worker thread and written atomically.

Each call builds its own :class:`matplotlib.figure.Figure` on an Agg canvas:
no pyplot, so no global figure state is shared between the threads that draw
at once. The PNG goes to a temporary name beside its target and is renamed
over it (``os.replace``), so a reader sees the old picture or the new one,
never half of one.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ._stft import HOP, N_FFT, Peak

__all__ = ["draw_spectrogram"]


def _figure(spectrogram: np.ndarray, rate: int, title: str, found: list[Peak]) -> Figure:
    figure = Figure(figsize=(7, 3.6), dpi=100)  # fixed axes, no layout engine: it would double the cost
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.10, 0.14, 0.68, 0.78))
    decibels = 20 * np.log10(np.maximum(spectrogram.T, 1e-6))
    top = float(decibels.max())
    seconds = (len(spectrogram) * HOP + N_FFT - HOP) / rate
    image = axes.imshow(
        decibels,
        origin="lower",
        aspect="auto",
        extent=(0.0, seconds, 0.0, rate / 2),
        vmin=top - 80,
        vmax=top,
        cmap="magma",
    )
    for peak in found:
        axes.axhline(peak.hz, color="cyan", linewidth=0.6, linestyle="--")
        axes.annotate(
            f"{peak.hz:.0f} Hz",
            (seconds, peak.hz),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            color="black",
            annotation_clip=False,
        )
    axes.set(title=title, xlabel="time (s)", ylabel="frequency (Hz)")
    figure.colorbar(image, cax=figure.add_axes((0.89, 0.14, 0.02, 0.78)), label="dB")
    return figure


def draw_spectrogram(spectrogram: np.ndarray, rate: int, target: Path, title: str, found: list[Peak]) -> Path:
    """Draw ``spectrogram`` (frames x bins magnitudes) with its peaks marked into the PNG ``target``.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     png = draw_spectrogram(np.ones((4, 513)), 16000, Path(d, "a.png"), "a", [])
        ...     png.read_bytes()[:4]
        b'\\x89PNG'
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")  # unique per call and thread
    try:
        with open(temporary, "xb") as out:  # the umask's permissions, as a plain open would give
            _figure(spectrogram, rate, title, found).savefig(
                out, format="png", pil_kwargs={"compress_level": 1}
            )
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target
