"""The audio pipeline on ~20 short WAVs of known tones, against a real private PostgreSQL."""

from __future__ import annotations

import doctest
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import reactivex
import soundfile

import rxasync
from examples.pipelines.audio import _draw, _stft, _wav
from examples.pipelines.audio.__main__ import main, parse
from examples.pipelines.audio._pipeline import list_wavs, run, spectra
from rxasync.jax import map_batched
from rxasync.jax._devices import call_pool
from rxasync.testing import PostgresServer, no_leaks

ROOT = Path(__file__).resolve().parents[2]
BIN = _wav.RATE / _stft.N_FFT  # the STFT's bin width: 15.6 Hz


@pytest.fixture(scope="module", autouse=True)
def _jax_started() -> None:
    # JAX opens its files and threads once, before any test's leak check counts them.
    jax.block_until_ready(jax.jit(jnp.sin)(jnp.zeros(2)))
    call_pool()


@pytest.fixture(scope="module")
def wavs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, list[float]]]:
    folder = tmp_path_factory.mktemp("wav")
    return folder, _wav.generate(folder, 20, seconds=0.5, seed=7)


def _args(folder: Path, out: Path, *where: str) -> list[str]:
    return [
        "--input",
        str(folder),
        "--output",
        str(out),
        "--threads",
        "2",
        "--no-progress",
        "--no-view",
        *where,
    ]


async def _table(dsn: str) -> dict[str, list[float]]:
    conn = await asyncpg.connect(dsn)
    try:
        found: dict[str, list[float]] = {}
        for row in await conn.fetch("SELECT file, hz FROM tones ORDER BY file, rank"):
            found.setdefault(row["file"], []).append(row["hz"])
        return found
    finally:
        await conn.close()


@pytest.mark.allow_leaks  # matplotlib keeps a font file open per drawing thread; tasks are checked below
async def test_audio_pipeline_copies_the_generated_tones_and_draws_each_file(
    wavs: tuple[Path, dict[str, list[float]]], postgres_server: PostgresServer, tmp_path: Path
) -> None:
    folder, tones = wavs
    out = tmp_path / "png"
    args = parse(_args(folder, out, "--dsn", postgres_server.dsn))
    async with no_leaks(check_fds=False):
        report = await run(args)
        table = await _table(postgres_server.dsn)
    assert sorted(table) == sorted(tones)
    for name, hz in tones.items():
        assert len(table[name]) == len(hz), name
        assert np.allclose(sorted(table[name]), sorted(hz), atol=BIN), (name, table[name], hz)
    assert report.rows == sum(len(hz) for hz in tones.values())
    assert [f.name for f in report.files] == sorted(tones)
    pngs = sorted(p.name for p in out.iterdir())
    assert pngs == sorted(Path(name).with_suffix(".png").name for name in tones)  # no temporary left
    for png in out.iterdir():
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 10_000


@pytest.mark.allow_leaks  # matplotlib's fonts, as above
async def test_audio_pipeline_run_twice_replaces_the_rows(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    tones = _wav.generate(folder, 3, seconds=0.2, seed=11)
    args = parse(_args(folder, tmp_path / "png", "--dsn", postgres_server.dsn, "--table", "tones_rerun"))
    first = await run(args)
    second = await run(args)
    conn = await asyncpg.connect(postgres_server.dsn)
    try:
        count = await conn.fetchval("SELECT count(*) FROM tones_rerun")
    finally:
        await conn.close()
    assert count == first.rows == second.rows == sum(len(hz) for hz in tones.values())


async def test_audio_jax_stft_equals_a_numpy_reference(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    lengths = [300, 1024, 1500, 8000, 8960, 40_000]  # shorter than a frame, exact, ragged, several segments
    for i, n in enumerate(lengths):
        soundfile.write(tmp_path / f"c{i}.wav", rng.uniform(-0.9, 0.9, n), _wav.RATE, "FLOAT")
    paths = list_wavs(tmp_path)
    clips = [_wav.decode(p, tmp_path) for p in paths]
    op = map_batched(_stft.segment_spectrum, batch_size=4, chunked=True, name="stft")
    out = await rxasync.to_list(reactivex.from_iterable(clips).pipe(spectra(op)))
    assert [clip.name for clip, _ in out] == [p.name for p in paths]
    for (clip, got), path in zip(out, paths, strict=True):
        want = _stft.reference_stft(soundfile.read(path, dtype="float32")[0])
        assert got.shape == want.shape == (clip.frames, _stft.N_FFT // 2 + 1)
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4 * float(want.max()))


@pytest.mark.allow_leaks  # the good files may be drawn (fonts) before the bad one fails the run
def test_audio_bad_wav_is_an_error_naming_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    _wav.generate(folder, 3, seconds=0.2)
    (folder / "tone_001.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio")
    with pytest.raises(SystemExit, match=r"audio: .*tone_001\.wav: not a readable audio file"):
        main(_args(folder, tmp_path / "png", "--no-db"))


async def test_audio_decode_error_is_a_decode_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(rxasync.DecodeError, match=r"bad\.wav") as caught:
        _wav.decode(bad, tmp_path)
    assert caught.value.source == str(bad)
    assert isinstance(caught.value.__cause__, soundfile.LibsndfileError)


_FULL_DISK = """
import resource, signal, sys
from pathlib import Path
import numpy as np
from examples.pipelines.audio._draw import draw_spectrogram
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)      # a write past the limit fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
try:
    draw_spectrogram(np.random.default_rng(0).random((64, 513)), 16000, Path(sys.argv[1]), "a", [])
except OSError as exc:
    print("failed:", exc.errno)
"""


def test_audio_png_is_written_atomically(tmp_path: Path) -> None:
    target = tmp_path / "a.png"
    target.write_bytes(b"the old picture")
    done = subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(target)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "failed: 27", done.stderr  # EFBIG: the file system said no mid-write
    assert target.read_bytes() == b"the old picture"
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]  # the temporary is gone


@pytest.mark.allow_leaks  # draws (fonts)
def test_audio_png_has_a_plain_files_permissions(tmp_path: Path) -> None:
    target = _draw.draw_spectrogram(np.zeros((4, 513)), 16000, tmp_path / "a.png", "a", [])
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not a temporary file's 0600


def test_audio_help_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "examples.pipelines.audio", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "--dsn" in done.stdout
    assert "--temp-db" in done.stdout
    assert "--no-db" in done.stdout


def test_audio_without_a_database_says_one_is_needed() -> None:
    with pytest.raises(SystemExit, match="the peaks go into PostgreSQL: give --dsn"):
        parse([])


def test_audio_missing_input_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no such folder"):
        parse(["--input", str(tmp_path / "nothing"), "--no-db"])


@pytest.mark.allow_leaks  # _draw's example draws a figure (fonts)
def test_audio_module_examples_run() -> None:
    for module in (_stft, _wav, _draw):
        result = doctest.testmod(module)
        assert result.failed == 0, module.__name__
        assert result.attempted > 0, module.__name__


def test_audio_command_makes_its_own_tones_and_finds_them(
    postgres_server: PostgresServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # no --input: the program writes WAVs of known tones, and says whether it found them all
    report = main(
        ["--dsn", postgres_server.dsn, "--table", "tones_cli", "--files", "3", "--seconds", "0.5",
         "--output", str(tmp_path), "--no-png", "--no-progress", "--no-view"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "wrote 3 WAV files of known tones" in out
    assert "detected = generated tones in 3 of 3 files" in out
    assert report.rows > 0
