#!/usr/bin/env bash
# The JAX operators on a GPU machine (the `device` tool's): tests, then the benchmark.
#
# Run from the repository root on a machine whose python3 has jax with CUDA,
# aiohttp and aiofiles; reactivex / pytest-asyncio (and a newer pytest) travel
# as wheels in .whl/ (see docs/guides/jax.md, "On a GPU"). Output goes to
# $OUT (or ./gpu-out) as gpu.txt, pytest.txt and bench.txt.
set -u
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 JAX_PLATFORMS=${JAX_PLATFORMS:-cuda,cpu}  # cpu too: pure_callback runs there
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$OUT/gpu.txt"
if [ -d .whl ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
python3 -c "import jax, reactivex; print('jax', jax.__version__, jax.devices())" 2>&1 | tee -a "$OUT/gpu.txt"
# test_sharding.py needs two devices (two host CPUs in CI); one GPU here.
timeout "${TEST_TIMEOUT:-240}" python3 -m pytest -q -p no:cacheprovider -o addopts="--doctest-modules" \
    tests/jax rxasync/jax --ignore=tests/jax/test_sharding.py 2>&1 | tee "$OUT/pytest.txt"
timeout "${BENCH_TIMEOUT:-240}" python3 benchmarks/jax_gpu.py "$@" 2>&1 | tee "$OUT/bench.txt"
