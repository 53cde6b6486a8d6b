"""subscribe (pub/sub) and write_stream (pipelined XADD) against a real redis-server."""

from __future__ import annotations

import asyncio

import pytest
import reactivex
import redis.asyncio as aioredis
from reactivex import operators as ops

import rxasync
from rxasync.operators import map_async
from rxasync.redis import Message, subscribe, write_stream
from rxasync.testing import RedisServer


async def publish_until_heard(client: aioredis.Redis, channel: str, data: str) -> None:
    for _ in range(500):  # until the subscription is in place (at most 5 s)
        if await client.publish(channel, data) > 0:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"nobody subscribed to {channel!r}")


async def test_subscribe_channels_and_patterns(
    redis_client: aioredis.Redis, redis_server: RedisServer
) -> None:
    got = asyncio.ensure_future(
        rxasync.to_list(subscribe(redis_server.url, "a", patterns=["news.*"]).pipe(ops.take(3)))
    )
    await publish_until_heard(redis_client, "a", "1")
    for _ in range(500):
        if await redis_client.pubsub_numpat() > 0:
            break
        await asyncio.sleep(0.01)
    await redis_client.publish("news.sport", "2")
    await redis_client.publish("a", b"\xff")
    assert await got == [Message("a", "1"), Message("news.sport", "2", "news.*"), Message("a", b"\xff")]


async def test_subscribe_dispose_unsubscribes_and_releases_the_connection(
    redis_client: aioredis.Redis, redis_server: RedisServer
) -> None:
    before = len(await redis_client.client_list())
    got = asyncio.ensure_future(rxasync.first(subscribe(redis_client, "c")))
    await publish_until_heard(redis_client, "c", "x")
    assert (await got).data == "x"
    await asyncio.sleep(0.05)
    assert (await redis_client.pubsub_numsub("c")) == [(b"c", 0)]
    assert len(await redis_client.client_list()) <= before + 1  # our own pool keeps its idle connection


def test_subscribe_needs_a_channel() -> None:
    with pytest.raises(ValueError, match="channel"):
        subscribe("redis://127.0.0.1:1/0")


async def test_write_stream_ids_in_order_and_nothing_but_the_xadds(
    redis_client: aioredis.Redis, redis_server: RedisServer
) -> None:
    before = int((await redis_client.info("stats"))["total_commands_processed"])
    items = [{"n": str(i)} for i in range(250)]
    ids = await rxasync.to_list(
        reactivex.from_iterable(items).pipe(write_stream(redis_server.url, "w", batch_size=100))
    )
    assert len(ids) == 250
    entries = await redis_client.xrange("w")
    assert [e[0].decode() for e in entries] == ids
    assert [e[1][b"n"].decode() for e in entries] == [str(i) for i in range(250)]
    after = int((await redis_client.info("stats"))["total_commands_processed"])
    # The XADDs, plus the INFO and the new connection's handshake (HELLO, CLIENT SETINFO): no command per item.
    assert 250 < after - before <= 250 + 5


async def test_write_stream_honours_demand_and_maxlen(redis_client: aioredis.Redis) -> None:
    most_held = 0
    produced = written = 0

    async def numbers():  # type: ignore[no-untyped-def]
        nonlocal produced
        for i in range(400):
            produced += 1
            yield {"n": i}

    def on_written(_: str) -> None:
        nonlocal written, most_held
        written += 1
        most_held = max(most_held, produced - written)

    async def slow(entry_id: str) -> str:
        await asyncio.sleep(0.001)
        return entry_id

    src = rxasync.from_async_iterable(numbers).pipe(
        write_stream(redis_client, "w", batch_size=10, maxlen=50), ops.do_action(on_written), map_async(slow)
    )
    assert len(await rxasync.to_list(src)) == 400
    # What the sink holds: its demand (2 batches not yet in a pipeline) and the batch whose IDs wait for
    # the slow stage's credits.
    assert most_held <= 3 * 10
    assert await redis_client.xlen("w") <= 150  # trimmed (approximately) to 50


async def test_write_stream_refills_while_a_batch_is_sent_and_holds_at_most_three_batches(
    redis_client: aioredis.Redis,
) -> None:
    # A batch's credits come back once it is in the pipeline, so the source refills the stage while
    # Redis answers (its cost overlaps the server's), and no further: 2 * batch_size items not yet in a
    # pipeline plus the one batch in flight.
    ahead: list[int] = []
    written = [0]

    async def produce():  # type: ignore[no-untyped-def]
        for i in range(5000):
            ahead.append(i - written[0])  # items taken by the sink whose IDs are not out yet
            yield {"n": i}

    def on_id(_: str) -> None:
        written[0] += 1

    src = rxasync.from_async_iterable(produce).pipe(
        write_stream(redis_client, "w", batch_size=100), ops.do_action(on_id)
    )
    assert len(await rxasync.to_list(src)) == 5000 == await redis_client.xlen("w")
    assert 2 * 100 < max(ahead) <= 3 * 100


async def test_write_stream_error_is_a_query_error(redis_client: aioredis.Redis) -> None:
    await redis_client.set("w", "a string")
    with pytest.raises(rxasync.DatabaseQueryError, match="WRONGTYPE") as info:
        await rxasync.to_list(reactivex.of({"n": 1}).pipe(write_stream(redis_client, "w")))
    assert info.value.target == "w"
    assert info.value.__cause__ is not None
