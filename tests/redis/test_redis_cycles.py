"""1,000 subscribe -> dispose cycles of read_stream and subscribe: no pending task, connections back."""

from __future__ import annotations

import asyncio
import random

import redis.asyncio as aioredis
from reactivex import Observable

from rxasync.redis import read_stream, subscribe
from rxasync.testing import RedisServer

CYCLES = 1000


async def connections(client: aioredis.Redis) -> int:
    return len(await client.client_list())


async def cycle(make: Observable[object], rng: random.Random) -> None:
    disposable = make.subscribe(lambda _: None, lambda exc: None)
    for _ in range(rng.randrange(6)):  # dispose before start, mid-connect, mid-read
        await asyncio.sleep(0)
    if rng.random() < 0.1:
        await asyncio.sleep(0.002)  # sometimes mid-XREAD BLOCK
    disposable.dispose()


async def run_cycles(
    client: aioredis.Redis, make: Observable[object], shared: aioredis.Redis | None = None
) -> None:
    rng = random.Random(13)
    await asyncio.sleep(0.05)
    before = await connections(client)
    for _ in range(CYCLES):
        await cycle(make, rng)
    if shared is not None:
        # A disposed reader gives its connection back when its task has ended, which under CPU load
        # takes a while (a fixed 0.05 s was once too short). Wait for that, bounded, and only then judge:
        # a connection of the user's pool still *in use* would be a leak; idle ones are the pool's.
        others = asyncio.all_tasks() - {asyncio.current_task()}  # the disposed readers' pumps
        if others:
            await asyncio.wait(others, timeout=10.0)
        assert not list(shared.connection_pool._in_use_connections)
        await shared.connection_pool.disconnect(inuse_connections=False)
    for _ in range(100):  # the server notices closed sockets at its own pace
        if await connections(client) <= before:
            break
        await asyncio.sleep(0.02)
    assert await connections(client) <= before
    # A task cancelled while redis-py awaits inside its own wait_for must still end: the leak check
    # of every test (tests/conftest.py) fails on any task left pending.


async def test_read_stream_1000_subscribe_dispose_cycles_leave_nothing(
    redis_client: aioredis.Redis, redis_server: RedisServer
) -> None:
    await redis_client.xadd("s", {"n": "1"})
    await run_cycles(redis_client, read_stream(redis_server.url, "s", start="0", block=0.05))


async def test_read_stream_group_cycles_with_a_shared_client_leave_nothing(
    redis_client: aioredis.Redis, redis_server: RedisServer
) -> None:
    await redis_client.xadd("s", {"n": "1"})
    shared = aioredis.Redis.from_url(redis_server.url)
    try:
        src = read_stream(shared, "s", group="g", consumer="c", block=0.05)
        await run_cycles(redis_client, src, shared)
    finally:
        await shared.aclose()


async def test_subscribe_1000_subscribe_dispose_cycles_leave_nothing(
    redis_client: aioredis.Redis, redis_server: RedisServer
) -> None:
    await run_cycles(redis_client, subscribe(redis_server.url, "c"))
