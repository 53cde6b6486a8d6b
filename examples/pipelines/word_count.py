"""Count words in a stream of text with rxasync: async source → RxPY operators →
a thread pool for the CPU part → batches → a running total.

Run it: ``python -m examples.pipelines.word_count``.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from reactivex import operators as ops

import rxasync
from rxasync.operators import batch, map_async, map_on

TEXT = """It was the best of times, it was the worst of times, it was the age of
wisdom, it was the age of foolishness, it was the epoch of belief, it was the
epoch of incredulity, it was the season of Light, it was the season of Darkness"""


async def lines(repeat: int = 200) -> AsyncIterator[str]:
    """An async source: the text, line by line, as if read from a socket."""
    for _ in range(repeat):
        for line in TEXT.splitlines():
            await asyncio.sleep(0)
            yield line


def count_words(lines_: list[str]) -> collections.Counter[str]:
    """CPU work for the thread pool: a batch of lines to word counts."""
    counter: collections.Counter[str] = collections.Counter()
    for line in lines_:
        counter.update(word.strip(",.").lower() for word in line.split())
    return counter


async def enrich(counter: collections.Counter[str]) -> collections.Counter[str]:
    """An async stage (stands for a lookup over the network)."""
    await asyncio.sleep(0.001)
    return counter


def _not_blank(line: str) -> bool:
    return bool(line.strip())


def _add(total: collections.Counter[str], part: collections.Counter[str]) -> collections.Counter[str]:
    return total + part


async def main() -> collections.Counter[str]:
    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        totals: collections.Counter[str] = await rxasync.last(
            rxasync.from_async_iterable(lines).pipe(
                ops.filter(_not_blank),
                batch(64),
                map_on(count_words, pool),
                map_async(enrich, concurrency=4),
                ops.scan(_add, collections.Counter[str]()),
            )
        )
    print(f"counted {sum(totals.values())} words in {time.perf_counter() - started:.3f}s")
    for word, n in totals.most_common(5):
        print(f"{word:>10} {n}")
    return totals


if __name__ == "__main__":
    asyncio.run(main())
