"""Audio: WAV files → decode on threads → a JAX short-time Fourier transform → a spectrogram PNG per file
and the dominant frequencies into PostgreSQL.

Run it: ``python -m examples.pipelines.audio --help``.
"""
