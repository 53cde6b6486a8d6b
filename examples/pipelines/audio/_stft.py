"""The short-time Fourier transform: host-side segmenting, the jitted per-segment kernel, a NumPy
reference, and the dominant frequencies (peaks) of a spectrogram.

A file's signal is cut on the host into *segments* of ``FRAMES`` frames each
(consecutive segments overlap by ``N_FFT - HOP`` samples, so every frame lies
whole inside one segment). The JAX kernel takes one segment and does the
rest: it cuts the frames (a gather with a static index table), applies the
Hann window, takes the ``rfft`` and its magnitude. A file's segments form
one chunk for :func:`rxasync.jax.map_batched` (``chunked=True``), so the
frames of one file run as one compiled call, compiled once per bucket of
segment counts, whatever the files' lengths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["FRAMES", "HOP", "N_FFT", "Peak", "peaks", "reference_stft", "segment", "segment_spectrum"]

#: Samples per frame (the FFT length): 1024 samples at 16 kHz is a bin of 15.6 Hz.
N_FFT = 1024
#: Samples between the starts of consecutive frames.
HOP = 256
#: Frames per segment, the unit the JAX kernel works on.
FRAMES = 32
_SEGMENT = N_FFT + HOP * (FRAMES - 1)
_WINDOW = np.hanning(N_FFT + 1)[:-1].astype(np.float32)  # periodic Hann
_INDEX = HOP * np.arange(FRAMES)[:, None] + np.arange(N_FFT)[None, :]


def frame_count(samples: int) -> int:
    """Frames of a signal of ``samples`` samples (a short one is padded to one frame)."""
    return 1 + max(samples - N_FFT, 0) // HOP


def _padded(signal: np.ndarray, length: int, dtype: type[np.floating[Any]]) -> np.ndarray:
    """``signal`` cut or zero-padded to ``length`` samples (the samples after the last whole frame go)."""
    out = np.zeros(length, dtype)
    kept = min(length, len(signal))
    out[:kept] = signal[:kept]
    return out


def segment(signal: np.ndarray) -> np.ndarray:
    """The signal as ``(k, N_FFT + HOP * (FRAMES - 1))`` float32 segments, zero-padded at the end.

    Example:
        >>> segment(np.zeros(16000, np.float32)).shape   # 59 frames: two segments of 32
        (2, 8960)
    """
    count = -(-frame_count(len(signal)) // FRAMES)
    padded = _padded(signal, (count * FRAMES - 1) * HOP + N_FFT, np.float32)
    windows = np.lib.stride_tricks.sliding_window_view(padded, _SEGMENT)[:: FRAMES * HOP]
    return np.ascontiguousarray(windows)


def segment_spectrum(samples: jax.Array) -> jax.Array:
    """JAX: one segment to its ``(FRAMES, N_FFT // 2 + 1)`` magnitude spectrogram (frames, window, rfft, abs).

    Example:
        >>> segment_spectrum(jnp.zeros(8960)).shape
        (32, 513)
    """
    frames = samples[_INDEX] * _WINDOW
    return jnp.abs(jnp.fft.rfft(frames, axis=-1))


def reference_stft(signal: np.ndarray) -> np.ndarray:
    """The same spectrogram in plain NumPy, ``(frames, N_FFT // 2 + 1)``: what the tests compare with.

    Example:
        >>> reference_stft(np.zeros(16000, np.float32)).shape
        (59, 513)
    """
    n = frame_count(len(signal))
    padded = _padded(signal, (n - 1) * HOP + N_FFT, np.float64)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:n]
    return np.abs(np.fft.rfft(frames * _WINDOW, axis=-1))


@dataclass(frozen=True, slots=True)
class Peak:
    """A dominant frequency: ``rank`` 1 is the strongest; ``magnitude`` estimates the sine's amplitude."""

    rank: int
    hz: float
    magnitude: float


def peaks(spectrogram: np.ndarray, rate: int, *, most: int = 5, threshold: float = 0.1) -> list[Peak]:
    """The local maxima of the mean spectrum above ``threshold`` times the strongest, strongest first.

    Each frequency is refined between bins by a parabola through the log
    magnitudes of the peak bin and its neighbours.

    Example:
        >>> t = np.arange(16000) / 16000
        >>> tone = 0.5 * np.sin(2 * np.pi * 440.0 * t)
        >>> [(p.rank, round(p.hz), round(p.magnitude, 2)) for p in peaks(reference_stft(tone), 16000)]
        [(1, 440, 0.5)]
    """
    spectrum = np.asarray(spectrogram, np.float64).mean(axis=0)
    inner = spectrum[1:-1]
    local = np.flatnonzero((inner > spectrum[:-2]) & (inner >= spectrum[2:]) & (inner > 0)) + 1
    local = local[spectrum[local] >= threshold * spectrum.max()] if len(local) else local
    strongest = local[np.argsort(spectrum[local])[::-1][:most]]
    refined = sorted((_refined(spectrum, int(i), rate) for i in strongest), key=lambda hm: -hm[1])
    return [Peak(rank, hz, magnitude) for rank, (hz, magnitude) in enumerate(refined, 1)]


def _refined(spectrum: np.ndarray, i: int, rate: int) -> tuple[float, float]:
    a, b, c = np.log(spectrum[i - 1 : i + 2] + 1e-12)
    bend = a - 2 * b + c
    shift = 0.5 * (a - c) / bend if bend < 0 else 0.0
    top = float(np.exp(b - 0.25 * (a - c) * shift))
    return (i + shift) * rate / N_FFT, 2 * top / float(_WINDOW.sum())
