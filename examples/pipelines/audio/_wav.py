"""WAV files in and out: generating files of known tones, and decoding one file (on a worker thread).

``generate`` writes 16-bit WAVs of 1 to 3 sine tones each, at frequencies
at least ``SPACING`` Hz apart, plus a little white noise, and returns what it
wrote so a run can be checked against it. ``decode`` reads one file with
soundfile into a mono float32 :class:`Clip` and its STFT segments; a file
that does not decode is a :class:`rxasync.DecodeError` naming it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

import rxasync

from ._stft import frame_count, segment

__all__ = ["RATE", "Clip", "decode", "generate", "load_manifest"]

#: Sample rate of the generated files (Hz).
RATE = 16_000
#: Lowest and highest generated tone (Hz), and the least distance between two tones of one file.
LOW, HIGH, SPACING = 200.0, 4000.0, 250.0
MANIFEST = "tones.json"


@dataclass(frozen=True, slots=True)
class Clip:
    """One decoded file: its name (relative to the input folder), rate, frames and STFT segments."""

    name: str
    rate: int
    samples: int
    frames: int
    segments: np.ndarray  # (k, segment length) float32, what the JAX stage takes

    @property
    def seconds(self) -> float:
        """The clip's duration."""
        return self.samples / self.rate


def decode(path: Path, root: Path) -> Clip:
    """Read ``path`` (any format soundfile reads; WAV here), mix down to mono, cut into segments.

    Raises:
        rxasync.DecodeError: the file is not audio soundfile can read; the message names it.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     _ = generate(Path(d), 1, seconds=1.0)
        ...     clip = decode(Path(d, "tone_000.wav"), Path(d))
        >>> clip.name, clip.rate, clip.frames, clip.segments.shape
        ('tone_000.wav', 16000, 59, (2, 8960))
    """
    name = path.relative_to(root).as_posix()
    try:
        data, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError) as exc:
        raise rxasync.DecodeError(f"{path}: not a readable audio file ({exc})", source=str(path)) from exc
    mono = data.mean(axis=1, dtype=np.float32)
    return Clip(name, int(rate), len(mono), frame_count(len(mono)), segment(mono))


def tone_signal(freqs: list[float], amps: list[float], seconds: float, noise: float, seed: int) -> np.ndarray:
    """Sines of ``freqs`` with amplitudes ``amps`` plus Gaussian noise of deviation ``noise``."""
    t = np.arange(round(seconds * RATE)) / RATE
    rng = np.random.default_rng(seed)
    signal = sum(
        a * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) for f, a in zip(freqs, amps, strict=True)
    )
    return np.asarray(signal + rng.normal(0.0, noise, len(t)), np.float64)


def _pick(rng: np.random.Generator) -> tuple[list[float], list[float]]:
    count = int(rng.integers(1, 4))
    freqs: list[float] = []
    while len(freqs) < count:
        f = float(round(rng.uniform(LOW, HIGH), 1))
        if all(abs(f - g) >= SPACING for g in freqs):
            freqs.append(f)
    weights = rng.uniform(0.5, 1.0, count)
    return freqs, [float(w) for w in 0.8 * weights / weights.sum()]


def generate(
    folder: Path, files: int, *, seconds: float = 1.0, noise: float = 0.01, seed: int = 0
) -> dict[str, list[float]]:
    """Write ``files`` WAVs ``tone_000.wav``... of known tones into ``folder``; return name -> Hz.

    The frequencies (and amplitudes) are also written to ``tones.json`` there.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     tones = generate(Path(d), 3, seconds=0.1)
        ...     sorted(tones) == sorted(p.name for p in Path(d).glob("*.wav"))
        True
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    manifest: dict[str, dict[str, list[float]]] = {}
    for i in range(files):
        freqs, amps = _pick(rng)
        name = f"tone_{i:03d}.wav"
        soundfile.write(folder / name, tone_signal(freqs, amps, seconds, noise, seed + i), RATE, "PCM_16")
        manifest[name] = {"hz": freqs, "amplitude": amps}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return {name: entry["hz"] for name, entry in manifest.items()}


def load_manifest(folder: Path) -> dict[str, list[float]] | None:
    """The tones ``generate`` wrote into ``folder`` (name -> Hz), or None if it has no manifest."""
    path = folder / MANIFEST
    if not path.exists():
        return None
    return {name: entry["hz"] for name, entry in json.loads(path.read_text()).items()}
