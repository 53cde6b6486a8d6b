"""rxasync.jax on whatever ``jax.devices()`` gives (a GPU, several, or the CPU): one command, figures out.

Needs only this checkout (rxasync and benchmarks._util): run from the repository root on a machine with JAX for its
accelerator installed::

    python benchmarks/jax_gpu.py            # or: python -m benchmarks.jax_gpu [--quick] [--reps N]

It runs, alternating, medians of ``--reps`` runs, with compilation outside
the timings:

* a two-layer MLP (``--width`` features, default 512) per element through
  ``map_batched(batch_size=B)``, against RxPY ``map(jitted)`` per element and
  a hand-written stack / ``jit(vmap)`` / split loop;
* the same over ``B``-row chunks (``chunked=True``) against a raw loop;
* with several devices, ``map_batched(device=jax.devices())`` (batch split
  with ``NamedSharding``) against one device;
* the event loop's longest stall while rxasync runs (ticker task).

It prints the issue-5 targets (>= 15x RxPY map, >= 0.7x the hand loop,
chunked >= 0.8x the raw loop) as met or not. Nothing is written to disk.
"""

from __future__ import annotations

import argparse
import asyncio
import queue
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # rxasync from this checkout

import jax
import jax.numpy as jnp
import numpy as np
import reactivex
from reactivex import operators as ops

import rxasync
from benchmarks._util import alternate, rate
from rxasync.jax import map_batched

TARGETS = {"per-element vs RxPY map": 15.0, "per-element vs hand loop": 0.7, "chunked vs raw loop": 0.8}


def make_mlp(width: int) -> Callable[[jax.Array], jax.Array]:
    rng = np.random.default_rng(0)
    w1 = jnp.asarray(rng.standard_normal((width, width)).astype(np.float32) / np.sqrt(width))
    w2 = jnp.asarray(rng.standard_normal((width, width)).astype(np.float32) / np.sqrt(width))

    def mlp(x: jax.Array) -> jax.Array:
        return jnp.tanh(jax.nn.relu(x @ w1) @ w2)

    return mlp


async def _ticked(
    make: Callable[[], Any], expect: int, stalls: list[float], tick_s: float | None = 0.001
) -> float:
    worst = 0.0

    async def tick() -> None:
        nonlocal worst
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            worst = max(worst, now - last - 0.001)
            last = now

    ticker = asyncio.create_task(tick()) if tick_s else None
    start = time.perf_counter()
    out = await rxasync.to_list(make())
    elapsed = time.perf_counter() - start
    if ticker is not None:
        ticker.cancel()
    assert len(out) == expect, (len(out), expect)
    stalls.append(worst)
    return elapsed


def rxasync_run(make: Callable[[], Any], expect: int, stalls: list[float], tick: bool = True) -> float:
    return asyncio.run(_ticked(make, expect, stalls, 0.001 if tick else None))


def rx_map(rows: list[np.ndarray], jitted: Callable[[Any], Any]) -> float:
    out: list[Any] = []
    start = time.perf_counter()
    reactivex.from_iterable(rows).pipe(ops.map(lambda r: np.asarray(jitted(r)))).subscribe(out.append)
    return time.perf_counter() - start


def hand_loop(rows: list[np.ndarray], vmapped: Callable[[Any], Any], batch: int) -> float:
    out: list[Any] = []
    start = time.perf_counter()
    for i in range(0, len(rows), batch):
        out.extend(np.asarray(vmapped(np.stack(rows[i : i + batch]))))
    return time.perf_counter() - start


def raw_chunks(chunks: list[np.ndarray], vmapped: Callable[[Any], Any]) -> float:
    start = time.perf_counter()
    for c in chunks:
        np.asarray(vmapped(c))
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer rows and repetitions")
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 7, quick 3)")
    parser.add_argument("--width", type=int, default=512, help="MLP width (features per row)")
    parser.add_argument("--batch", type=int, default=1024, help="batch_size and chunk rows")
    parser.add_argument(
        "--diagnose", action="store_true", help="also time variants of the chunked path (where its time goes)"
    )
    parser.add_argument("--full-on-cpu", action="store_true", help="full sizes even without an accelerator")
    args = parser.parse_args(argv)
    devices = jax.devices()
    print(f"== jax_gpu: jax {jax.__version__}, devices {devices}", flush=True)
    if devices[0].platform == "cpu" and not args.full_on_cpu:
        print("   no accelerator: quick sizes, width <= 128 (--full-on-cpu for the full run)", flush=True)
        args.quick, args.width = True, min(args.width, 128)
    reps = args.reps or (3 if args.quick else 7)
    batch, width = args.batch, args.width
    n = (16 if args.quick else 64) * batch
    n_rx = min(n, 1024 if args.quick else 4096)
    print(f"   MLP {width}->{width}->{width}, {n:,} rows, batch {batch}, median of {reps} runs", flush=True)

    mlp = make_mlp(width)
    data = np.random.default_rng(1).standard_normal((n, width)).astype(np.float32)
    rows, chunks = list(data), [data[i : i + batch] for i in range(0, n, batch)]
    jitted, vmapped = jax.jit(mlp), jax.jit(jax.vmap(mlp))
    jax.block_until_ready((jitted(rows[0]), vmapped(chunks[0])))
    per_element = map_batched(mlp, batch_size=batch)
    chunked = map_batched(mlp, batch_size=batch, chunked=True)
    start = time.perf_counter()
    for op in (per_element, chunked):
        op.compile(rows[0])
    print(
        f"   ahead-of-time compile of {2 * len(per_element.buckets)} buckets: {time.perf_counter() - start:.2f}s"
    )

    stalls: list[float] = []
    med = alternate(
        {
            "rxasync": lambda: rxasync_run(
                lambda: reactivex.from_iterable(rows).pipe(per_element), n, stalls
            ),
            "rx_map": lambda: rx_map(rows[:n_rx], jitted),
            "hand": lambda: hand_loop(rows, vmapped, batch),
            "rxasync_chunks": lambda: rxasync_run(
                lambda: reactivex.from_iterable(chunks).pipe(chunked), len(chunks), stalls
            ),
            "raw_chunks": lambda: raw_chunks(chunks, vmapped),
        },
        reps,
    )
    per_s = {k: (n_rx if k == "rx_map" else n) / v for k, v in med.items()}
    labels = {
        "rxasync": "rxasync map_batched, per-element rows",
        "rx_map": "RxPY map(jitted) per element",
        "hand": "hand-written stack/vmap/split loop",
        "rxasync_chunks": f"rxasync map_batched, {batch}-row chunks",
        "raw_chunks": "raw loop over the same chunks",
    }
    for key, label in labels.items():
        print(f"   {label:<42} {rate(round(per_s[key]), 1):>10} rows", flush=True)
    ratios = {
        "per-element vs RxPY map": per_s["rxasync"] / per_s["rx_map"],
        "per-element vs hand loop": per_s["rxasync"] / per_s["hand"],
        "chunked vs raw loop": per_s["rxasync_chunks"] / per_s["raw_chunks"],
    }
    for name, ratio in ratios.items():
        met = "met" if ratio >= TARGETS[name] else "NOT met"
        print(f"rxasync {name}: ratio {ratio:.3g}, target >= {TARGETS[name]:g}: {met}", flush=True)
    print(
        f"event loop: longest stall {max(stalls) * 1e3:.1f} ms (median run {statistics.median(stalls) * 1e3:.1f} ms)"
    )
    print(f"compilations: per-element {per_element.compilations}, chunked {chunked.compilations}")

    if args.diagnose:
        diagnose(mlp, chunks, vmapped, batch, reps)

    if len(devices) > 1:
        split = map_batched(mlp, batch_size=batch * len(devices), chunked=True, device=devices)
        split.compile(rows[0])
        big = [data[i : i + batch * len(devices)] for i in range(0, n, batch * len(devices))]
        one = map_batched(mlp, batch_size=batch * len(devices), chunked=True)
        one.compile(rows[0])
        stalls2: list[float] = []
        med2 = alternate(
            {
                "split": lambda: rxasync_run(
                    lambda: reactivex.from_iterable(big).pipe(split), len(big), stalls2
                ),
                "one": lambda: rxasync_run(lambda: reactivex.from_iterable(big).pipe(one), len(big), stalls2),
            },
            reps,
        )
        print(
            f"{len(devices)} devices (NamedSharding) {rate(n, med2['split'])} rows vs one device "
            f"{rate(n, med2['one'])}: ratio {med2['one'] / med2['split']:.3g} (report)",
            flush=True,
        )


def diagnose(
    mlp: Callable[[jax.Array], jax.Array], chunks: list[np.ndarray], vmapped: Any, batch: int, reps: int
) -> None:
    """Variants of the chunked comparison, each against the same raw loop: what costs what."""
    aot = jax.jit(jax.vmap(mlp)).lower(jax.ShapeDtypeStruct(chunks[0].shape, chunks[0].dtype)).compile()

    def loop_with(call: Callable[[Any], Any], put: bool = False) -> Callable[[], float]:
        def trial() -> float:
            start = time.perf_counter()
            for c in chunks:
                np.asarray(call(jax.device_put(c) if put else c))
            return time.perf_counter() - start

        return trial

    async def in_thread() -> float:
        # The floor of any design that keeps the loop free: the raw loop on a
        # thread, each result posted to the loop.
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        out: list[Any] = []

        def work() -> None:
            for c in chunks:
                loop.call_soon_threadsafe(out.append, np.asarray(vmapped(c)))
            loop.call_soon_threadsafe(done.set_result, None)

        start = time.perf_counter()
        threading.Thread(target=work).start()
        await done
        return time.perf_counter() - start

    async def two_threads() -> float:
        # Dispatch on one thread, wait for results on another: the next
        # batch's host-to-device copy overlaps this one's device-to-host copy.
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        out: list[Any] = []
        handles: queue.SimpleQueue[Any] = queue.SimpleQueue()
        gate = threading.Semaphore(2)  # at most two batches in flight

        def dispatch() -> None:
            for c in chunks:
                gate.acquire()
                handles.put(vmapped(c))
            handles.put(None)

        def fetch() -> None:
            while (h := handles.get()) is not None:
                host = np.asarray(h)
                gate.release()
                loop.call_soon_threadsafe(out.append, host)
            loop.call_soon_threadsafe(done.set_result, None)

        start = time.perf_counter()
        threading.Thread(target=dispatch).start()
        threading.Thread(target=fetch).start()
        await done
        return time.perf_counter() - start

    ops_by_depth = {d: map_batched(mlp, batch_size=batch, chunked=True, depth=d) for d in (1, 2, 4)}
    for op in ops_by_depth.values():
        op.compile(chunks[0][0])
    stalls: list[float] = []
    trials: dict[str, Callable[[], float]] = {
        "raw loop, jit": loop_with(vmapped),
        "raw loop, AOT compiled": loop_with(aot),
        "raw loop, jit after device_put": loop_with(vmapped, put=True),
        "raw loop, AOT after device_put": loop_with(aot, put=True),
        "raw loop on a thread, posted to loop": lambda: asyncio.run(in_thread()),
        "dispatch thread + fetch thread": lambda: asyncio.run(two_threads()),
    }
    for d, op in ops_by_depth.items():
        trials[f"rxasync depth {d}, ticker"] = lambda op=op: rxasync_run(
            lambda: reactivex.from_iterable(chunks).pipe(op), len(chunks), stalls
        )
        trials[f"rxasync depth {d}, no ticker"] = lambda op=op: rxasync_run(
            lambda: reactivex.from_iterable(chunks).pipe(op), len(chunks), stalls, tick=False
        )
    med = alternate(trials, reps)
    base = med["raw loop, jit"]
    print("diagnose (chunked, per chunk; ratio = raw jit loop time / this):")
    for name, t in med.items():
        print(f"   {name:<38} {t / len(chunks) * 1e3:8.3f} ms  ratio {base / t:.3g}", flush=True)


if __name__ == "__main__":
    main()
