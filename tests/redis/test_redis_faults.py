"""redis-server killed with SIGKILL and restarted mid-stream (append-only file on): nothing lost."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest
import redis.asyncio as aioredis
from reactivex import operators as ops

import rxasync
from rxasync.operators import map_async
from rxasync.redis import StreamEntry, ack, read_stream
from rxasync.testing import RedisServer

N = 10_000


@pytest.fixture
def own_server() -> Iterator[RedisServer]:
    """A server of this test's own, with an append-only file fsynced before each reply."""
    with RedisServer(appendonly=True) as server:
        yield server


async def fill(url: str, n: int) -> list[str]:
    client = aioredis.Redis.from_url(url)
    try:
        ids: list[str] = []
        for start in range(0, n, 1000):
            pipe = client.pipeline(transaction=False)
            for i in range(start, min(n, start + 1000)):
                pipe.xadd("s", {"n": str(i)})
            ids += [i.decode() for i in await pipe.execute()]
        return ids
    finally:
        await client.aclose()


async def crash_and_restart(
    server: RedisServer, after: asyncio.Event, at_kill: Callable[[], None] | None = None
) -> None:
    await after.wait()
    if at_kill is not None:
        at_kill()
    server.kill()
    await asyncio.sleep(0.3)  # the reader fails and backs off meanwhile
    server.start()


async def test_group_reader_delivers_every_entry_across_a_kill_and_repeats_only_unacked(
    own_server: RedisServer,
) -> None:
    ids = await fill(own_server.url, N)
    delivered: list[str] = []
    acked: set[str] = set()
    repeated_after_ack: list[str] = []
    halfway = asyncio.Event()

    def on_read(entry: StreamEntry) -> None:
        if entry.id in acked:
            repeated_after_ack.append(entry.id)
        delivered.append(entry.id)
        if len(delivered) == N // 3:
            halfway.set()

    async def sink(entry: StreamEntry) -> StreamEntry:
        await asyncio.sleep(0)
        return entry

    src = read_stream(own_server.url, "s", group="g", consumer="c", start="0", count=200, block=0.1)
    pipeline = src.pipe(
        ops.do_action(on_read),
        map_async(sink, concurrency=8),
        ack(batch_size=50),
        ops.do_action(lambda e: acked.add(e.id)),
        ops.take_while(lambda _: len(acked) < N, inclusive=True),
    )
    unacked_at_kill: set[str] = set()
    crash = asyncio.ensure_future(
        crash_and_restart(own_server, halfway, lambda: unacked_at_kill.update(set(ids) - acked))
    )
    await asyncio.wait_for(rxasync.to_list(pipeline), 60)
    await crash
    assert set(delivered) == set(ids)  # every entry at least once
    # Only entries not acknowledged at the kill come again. A re-read from the pending list after
    # the restart may reach `on_read` after its first copy's XACK has completed meanwhile (it waits
    # in the pipeline's buffer while that XACK, sent after the restart, runs): it was still pending
    # when the server sent it. CI saw 8 of those once, at load. An entry acknowledged before the
    # kill never comes again (the server's append-only file is fsynced before each reply).
    assert set(repeated_after_ack) <= unacked_at_kill
    print(f"delivered {len(delivered)}, distinct {len(set(delivered))}")
    client = aioredis.Redis.from_url(own_server.url)
    assert (await client.xpending("s", "g"))["pending"] == 0
    await client.xadd("s", {"n": "after"})  # and it goes on after the restart
    again = await rxasync.first(read_stream(own_server.url, "s", group="g", consumer="c"))
    assert again.fields == {"n": "after"}
    await client.aclose()


async def test_plain_reader_loses_and_repeats_nothing_across_a_kill(own_server: RedisServer) -> None:
    ids = await fill(own_server.url, N)
    delivered: list[str] = []
    halfway = asyncio.Event()

    def on_read(entry: StreamEntry) -> None:
        delivered.append(entry.id)
        if len(delivered) == N // 3:
            halfway.set()

    async def sink(entry: StreamEntry) -> str:
        await asyncio.sleep(0)
        return entry.id

    src = read_stream(own_server.url, "s", start="0", count=200, block=0.1)
    crash = asyncio.ensure_future(crash_and_restart(own_server, halfway))
    started = time.monotonic()
    got = await asyncio.wait_for(
        rxasync.to_list(src.pipe(ops.do_action(on_read), map_async(sink, concurrency=4), ops.take(N))), 60
    )
    await crash
    assert got == ids  # in order, each exactly once
    assert delivered == ids
    assert time.monotonic() - started < 30
