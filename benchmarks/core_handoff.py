"""Worker thread → event loop hand-off: ``observe_on_loop()`` at 10k and 1M items.

Items are emitted on a worker thread
(``reactivex.from_iterable(range(n)).pipe(ops.subscribe_on(ThreadPoolScheduler(1)), ...)``)
and counted by a subscriber on the loop thread; the time runs from
``subscribe`` to ``on_completed`` on the loop.

Targets (issue 2): >= 1M items/s, and items/s at 1M items within 20% of
items/s at 10k (O(1) per item: the rate does not fall as the stream grows).
For comparison, RxPY's own ``ops.observe_on(AsyncIOThreadSafeScheduler(loop))``
runs at the same sizes; it slows as its queue grows, so its large run is
capped (``--rxpy-large``, default 200,000 items, quick 50,000; the printout says so).

    .venv/bin/python -m benchmarks.core_handoff [--quick] [--rxpy-large N]
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from collections.abc import Callable

import reactivex
from reactivex import Observable
from reactivex import operators as ops
from reactivex.scheduler import ThreadPoolScheduler
from reactivex.scheduler.eventloop import AsyncIOThreadSafeScheduler

from benchmarks._util import alternate, header, parse_args, rate, verdict
from rxasync.operators import observe_on_loop

TARGET_RATE = 1_000_000.0
TARGET_FLATNESS = 0.8  # rate at 1M / rate at 10k
SMALL = 10_000
SMALL_REPEATS = 20  # 10k-item hand-offs per timed trial, so a trial is not all noise

Hop = Callable[[asyncio.AbstractEventLoop], Callable[[Observable[int]], Observable[int]]]


def _rxasync_hop(loop: asyncio.AbstractEventLoop) -> Callable[[Observable[int]], Observable[int]]:
    return observe_on_loop()


def _rxpy_hop(loop: asyncio.AbstractEventLoop) -> Callable[[Observable[int]], Observable[int]]:
    return ops.observe_on(AsyncIOThreadSafeScheduler(loop))


async def _handoff(n: int, hop: Hop, pool: ThreadPoolScheduler) -> float:
    loop = asyncio.get_running_loop()
    loop_thread = threading.get_ident()
    done: asyncio.Future[None] = loop.create_future()
    count = 0

    def on_next(_: int) -> None:
        nonlocal count
        count += 1

    def on_completed() -> None:
        assert threading.get_ident() == loop_thread, "on_completed off the loop thread"
        done.set_result(None)

    source = reactivex.from_iterable(range(n)).pipe(ops.subscribe_on(pool), hop(loop))
    start = time.perf_counter()
    subscription = source.subscribe(on_next, done.set_exception, on_completed)
    await done
    elapsed = time.perf_counter() - start
    subscription.dispose()
    assert count == n, (count, n)
    return elapsed


def _trial(n: int, repeats: int, hop: Hop) -> Callable[[], float]:
    def run() -> float:
        pool = ThreadPoolScheduler(1)
        pool.executor.submit(lambda: None).result()  # the worker thread exists before timing

        async def many() -> float:
            return sum([await _handoff(n, hop, pool) for _ in range(repeats)])

        try:
            return asyncio.run(many())
        finally:
            pool.executor.shutdown()

    return run


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rxpy-large",
        type=int,
        default=None,
        metavar="N",
        help="items in RxPY's large run (default 200,000; quick 50,000); 1000000 takes minutes",
    )


def main(argv: list[str] | None = None) -> None:
    """Run the hand-offs at both sizes and print rates, flatness and the target verdicts."""
    args = parse_args(argv, __doc__ or "", _options)
    large = 200_000 if args.quick else 1_000_000
    rxpy_large = min(large, args.rxpy_large or (50_000 if args.quick else 200_000))
    header(f"core_handoff: worker thread -> loop, {SMALL:,} (x{SMALL_REPEATS}) and {large:,} items", args)
    small_items = SMALL * SMALL_REPEATS
    med = alternate(
        {
            "rx_small": _trial(SMALL, SMALL_REPEATS, _rxasync_hop),
            "py_small": _trial(SMALL, SMALL_REPEATS, _rxpy_hop),
            "rx_large": _trial(large, 1, _rxasync_hop),
            "py_large": _trial(rxpy_large, 1, _rxpy_hop),
        },
        args.reps,
    )
    rx_small, rx_large = small_items / med["rx_small"], large / med["rx_large"]
    py_small, py_large = small_items / med["py_small"], rxpy_large / med["py_large"]
    print(
        f"observe_on_loop at {SMALL:,}: {rate(small_items, med['rx_small'])}, "
        f"{verdict(rx_small, TARGET_RATE).replace('target', 'target items/s')}"
    )
    print(
        f"observe_on_loop at {large:,}: {rate(large, med['rx_large'])}, "
        f"{verdict(rx_large, TARGET_RATE).replace('target', 'target items/s')}"
    )
    print(
        f"observe_on_loop flatness ({large:,} vs {SMALL:,}): ratio {rx_large / rx_small:.3g}, "
        f"{verdict(rx_large / rx_small, TARGET_FLATNESS)}"
    )
    capped = f" (capped at {rxpy_large:,} items)" if rxpy_large < large else ""
    print(
        f"RxPY observe_on(AsyncIOThreadSafeScheduler) at {SMALL:,}: {rate(small_items, med['py_small'])}; "
        f"at {rxpy_large:,}{capped}: {rate(rxpy_large, med['py_large'])}; "
        f"flatness ratio {py_large / py_small:.3g}"
    )
    print(
        f"observe_on_loop vs RxPY observe_on: ratio {rx_small / py_small:.3g} at {SMALL:,}, "
        f"{rx_large / py_large:.3g} at the large size{capped}, no target (report)",
        flush=True,
    )


if __name__ == "__main__":
    main()
