"""``rxasync.jax.map_batched`` against plain JAX loops, on the CPU, in one run.

A small dense layer, ``tanh(x @ W + b)`` with ``W`` 64x64 float32, over a
stream of 64-float rows. Four ways, alternating, medians of several runs:

* rxasync, per-element input: ``from_iterable(rows).pipe(map_batched(layer, batch_size=1024))``;
* RxPY ``map(jitted_layer)`` per element (``np.asarray`` of each result);
* a hand-written loop: stack 1024 rows, call ``jit(vmap(layer))``, split the output;
* chunked input: ``map_batched(..., chunked=True)`` over 1024-row arrays against a
  raw loop calling the vmapped function on the same chunks.

Targets (issue 5): per-element rxasync >= 15x RxPY ``map`` and >= 0.7x the
hand-written loop; chunked >= 0.8x the raw chunked loop. Compilation is
outside the timings (every bucket is compiled first, ``op.compile``). Last,
200 chunks of random sizes show the compilations bucketing saves.

    .venv/bin/python -m benchmarks.jax_cpu [--quick] [--reps N]
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax
import jax.numpy as jnp
import numpy as np
import reactivex
from reactivex import operators as ops

import rxasync
from benchmarks._util import alternate, header, parse_args, rate, verdict
from rxasync.jax import map_batched

BATCH = 1024
WIDTH = 64
TARGETS = {"vs RxPY map": 15.0, "vs hand-written loop": 0.7, "chunked vs raw loop": 0.8}

_rng = np.random.default_rng(0)
W = jnp.asarray(_rng.standard_normal((WIDTH, WIDTH)).astype(np.float32) / 8)
B = jnp.asarray(_rng.standard_normal(WIDTH).astype(np.float32))


def layer(x: jax.Array) -> jax.Array:
    return jnp.tanh(x @ W + B)


def _timed_async(make: Callable[[], Any], expect: int) -> float:
    async def run() -> float:
        start = time.perf_counter()
        out = await rxasync.to_list(make())
        elapsed = time.perf_counter() - start
        assert len(out) == expect, (len(out), expect)
        return elapsed

    return asyncio.run(run())


def _rx_map(rows: list[np.ndarray], jitted: Callable[[Any], Any]) -> float:
    out: list[np.ndarray] = []
    start = time.perf_counter()
    reactivex.from_iterable(rows).pipe(ops.map(lambda r: np.asarray(jitted(r)))).subscribe(out.append)
    elapsed = time.perf_counter() - start
    assert len(out) == len(rows)
    return elapsed


def _hand_loop(rows: list[np.ndarray], vmapped: Callable[[Any], Any]) -> float:
    out: list[np.ndarray] = []
    start = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        out.extend(np.asarray(vmapped(np.stack(rows[i : i + BATCH]))))
    elapsed = time.perf_counter() - start
    assert len(out) == len(rows)
    return elapsed


def _raw_chunks(chunks: list[np.ndarray], vmapped: Callable[[Any], Any]) -> float:
    start = time.perf_counter()
    out = [np.asarray(vmapped(c)) for c in chunks]
    elapsed = time.perf_counter() - start
    assert len(out) == len(chunks)
    return elapsed


def main(argv: list[str] | None = None) -> None:
    """Run the four ways and print rates, ratios and whether each target is met."""
    args = parse_args(argv, __doc__ or "")
    n = 16 * BATCH if args.quick else 128 * BATCH
    n_rx = 2048 if args.quick else 8192  # RxPY map is ~100x slower: fewer rows, compared as rates
    header(
        f"jax_cpu: dense {WIDTH}x{WIDTH} layer, {n:,} rows, batch {BATCH}, {jax.devices()[0].platform}", args
    )
    data = np.random.default_rng(1).standard_normal((n, WIDTH)).astype(np.float32)
    rows = list(data)
    chunks = [data[i : i + BATCH] for i in range(0, n, BATCH)]
    jitted, vmapped = jax.jit(layer), jax.jit(jax.vmap(layer))
    jax.block_until_ready((jitted(rows[0]), vmapped(chunks[0])))
    per_element = map_batched(layer, batch_size=BATCH)
    chunked = map_batched(layer, batch_size=BATCH, chunked=True)
    for op in (per_element, chunked):
        op.compile(rows[0])
    med = alternate(
        {
            "rxasync": lambda: _timed_async(lambda: reactivex.from_iterable(rows).pipe(per_element), n),
            "rx_map": lambda: _rx_map(rows[:n_rx], jitted),
            "hand": lambda: _hand_loop(rows, vmapped),
            "rxasync_chunks": lambda: _timed_async(
                lambda: reactivex.from_iterable(chunks).pipe(chunked), len(chunks)
            ),
            "raw_chunks": lambda: _raw_chunks(chunks, vmapped),
        },
        args.reps,
    )
    per_s = {k: (n_rx if k == "rx_map" else n) / v for k, v in med.items()}
    for name, label in [
        ("rxasync", "rxasync map_batched, per-element rows"),
        ("rx_map", "RxPY map(jitted) per element"),
        ("hand", "hand-written stack/vmap/split loop"),
        ("rxasync_chunks", "rxasync map_batched, 1024-row chunks"),
        ("raw_chunks", "raw loop over the same chunks"),
    ]:
        print(f"  {label:<40} {rate(n, n / per_s[name]):>10} rows")
    ratios = {
        "vs RxPY map": per_s["rxasync"] / per_s["rx_map"],
        "vs hand-written loop": per_s["rxasync"] / per_s["hand"],
        "chunked vs raw loop": per_s["rxasync_chunks"] / per_s["raw_chunks"],
    }
    for name, ratio in ratios.items():
        print(f"rxasync {name}: ratio {ratio:.3g}, {verdict(ratio, TARGETS[name])}", flush=True)
    print(
        f"compilations: per-element {per_element.compilations}, chunked {chunked.compilations} "
        f"(buckets {len(per_element.buckets)})",
        flush=True,
    )
    sizes = np.random.default_rng(2).integers(1, BATCH + 1, 200).tolist()
    bucketed = map_batched(layer, batch_size=BATCH, chunked=True)
    _timed_async(lambda: reactivex.from_iterable([data[:k] for k in sizes]).pipe(bucketed), len(sizes))
    print(
        f"200 chunks of random sizes: {bucketed.compilations} compilations with buckets; "
        f"{len(set(sizes))} distinct sizes, so as many compilations for jit(vmap) unpadded",
        flush=True,
    )


if __name__ == "__main__":
    main()
