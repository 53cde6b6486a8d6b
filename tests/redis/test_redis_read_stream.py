"""read_stream against a real redis-server: order, demand, groups, pending, claims, decoding."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from reactivex import operators as ops

import rxasync
from rxasync.operators import map_async
from rxasync.redis import StreamEntry, ack, read_stream
from rxasync.testing import RedisServer, assert_run


async def fill(client: aioredis.Redis, stream: str, n: int, start: int = 1) -> list[str]:
    pipe = client.pipeline(transaction=False)
    for i in range(start, start + n):
        pipe.xadd(stream, {"n": str(i)}, id=f"{i}-0")
    return [i.decode() for i in await pipe.execute()]


async def test_read_stream_plain_reads_from_start_in_order(
    redis_client: aioredis.Redis, redis_server: RedisServer
) -> None:
    ids = await fill(redis_client, "s", 2500)
    got = await assert_run(
        lambda: read_stream(redis_server.url, "s", start="0", count=700).pipe(ops.take(2500))
    )
    assert [e.id for e in got] == ids
    assert got[0] == StreamEntry("s", "1-0", {"n": "1"})


async def test_read_stream_user_client_is_not_closed(redis_client: aioredis.Redis) -> None:
    await fill(redis_client, "s", 3)
    got = await rxasync.to_list(read_stream(redis_client, "s", start="1-0").pipe(ops.take(2)))
    assert [e.id for e in got] == ["2-0", "3-0"]
    assert await redis_client.ping()


async def test_read_stream_dollar_sees_only_entries_added_after_subscribe(
    redis_client: aioredis.Redis, redis_server: RedisServer
) -> None:
    await fill(redis_client, "s", 3)
    got = asyncio.ensure_future(rxasync.first(read_stream(redis_server.url, "s", block=0.05)))
    await asyncio.sleep(0.2)
    await redis_client.xadd("s", {"n": "new"}, id="10-0")
    assert (await got).id == "10-0"


async def test_read_stream_never_holds_more_entries_than_its_demand(
    redis_client: aioredis.Redis, redis_server: RedisServer
) -> None:
    await fill(redis_client, "s", 300)
    most_pending = 0

    async def slow(entry: StreamEntry) -> str:
        nonlocal most_pending
        # Entries handed out by XREADGROUP and not yet acknowledged: exactly what rxasync holds.
        most_pending = max(most_pending, (await redis_client.xpending("s", "g"))["pending"])
        await entry.ack()
        return entry.id

    src = read_stream(redis_server.url, "s", group="g", consumer="c", start="0", count=1000)
    got = await rxasync.to_list(src.pipe(map_async(slow, concurrency=2), ops.take(300)))
    assert len(got) == 300
    assert 1 <= most_pending <= 4  # map_async(concurrency=2) takes at most 4 items


async def test_read_stream_group_rereads_pending_after_dispose_then_new(
    redis_client: aioredis.Redis, redis_server: RedisServer
) -> None:
    await fill(redis_client, "s", 10)
    first = read_stream(redis_server.url, "s", group="g", consumer="c1", start="0", count=4)
    got = await rxasync.to_list(first.pipe(ops.take(6)))  # read, never acknowledged
    assert [e.id for e in got] == [f"{i}-0" for i in range(1, 7)]
    again = read_stream(redis_server.url, "s", group="g", consumer="c1", count=4)
    got = await rxasync.to_list(again.pipe(ack(), ops.take(10)))
    # Its pending entries first (at least those 6; the reader may have fetched a few more), then new ones.
    ids = [e.id for e in got]
    assert ids[:6] == [f"{i}-0" for i in range(1, 7)]
    assert sorted(set(ids), key=lambda i: int(i.split("-")[0])) == [f"{i}-0" for i in range(1, 11)]
    await asyncio.sleep(0)
    assert (await redis_client.xpending("s", "g"))["pending"] <= 10 - len(set(ids)) + 4


async def test_ack_refills_while_xack_travels_and_holds_at_most_three_batches(
    redis_client: aioredis.Redis, redis_server: RedisServer
) -> None:
    # As write_stream: a batch's credits come back once its XACK is on its way, so read_stream refills
    # the stage meanwhile; an entry still passes on only once Redis confirmed it.
    await fill(redis_client, "s", 5000)
    ahead: list[int] = []  # per entry taken by ack: the entries it holds, unconfirmed
    taken = acked = 0

    def on_taken(_: StreamEntry) -> None:
        nonlocal taken
        taken += 1
        ahead.append(taken - acked)

    def on_acked(_: StreamEntry) -> None:
        nonlocal acked
        acked += 1

    src = read_stream(redis_server.url, "s", group="g", consumer="c", start="0", count=100).pipe(
        ops.do_action(on_taken),
        ack(batch_size=100),
        ops.do_action(on_acked),
        ops.take(5000),
    )
    got = await rxasync.to_list(src)
    assert [e.id for e in got] == [f"{i}-0" for i in range(1, 5001)]
    assert (await redis_client.xpending("s", "g"))["pending"] == 0
    assert 2 * 100 < max(ahead) <= 3 * 100


async def test_read_stream_claim_idle_takes_a_dead_consumers_entries(
    redis_client: aioredis.Redis, redis_server: RedisServer
) -> None:
    await fill(redis_client, "s", 5)
    dead = read_stream(redis_server.url, "s", group="g", consumer="dead", start="0")
    await rxasync.to_list(dead.pipe(ops.take(5)))  # read and never acknowledged
    other = read_stream(redis_server.url, "s", group="g", consumer="alive", claim_idle=0.1, block=0.05)
    got = await rxasync.to_list(other.pipe(ack(), ops.take(5)))
    assert sorted(e.id for e in got) == [f"{i}-0" for i in range(1, 6)]
    assert (await redis_client.xpending("s", "g"))["pending"] == 0


async def test_read_stream_without_claim_idle_leaves_others_pending_entries(
    redis_client: aioredis.Redis, redis_server: RedisServer
) -> None:
    await fill(redis_client, "s", 3)
    await rxasync.to_list(
        read_stream(redis_server.url, "s", group="g", consumer="dead", start="0").pipe(ops.take(3))
    )
    other = read_stream(redis_server.url, "s", group="g", consumer="alive", block=0.05)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(rxasync.first(other), 0.3)


async def test_read_stream_non_utf8_field_error_names_entry_id(
    redis_client: aioredis.Redis, redis_server: RedisServer
) -> None:
    await redis_client.xadd("s", {"ok": "fine"}, id="1-0")
    await redis_client.xadd("s", {"bad": b"\xff\xfe"}, id="2-0")
    items: list[StreamEntry] = []
    with pytest.raises(rxasync.EntryDecodeError, match="2-0") as info:
        async for entry in rxasync.to_async_iterable(read_stream(redis_server.url, "s", start="0")):
            items.append(entry)
    assert [e.id for e in items] == ["1-0"]  # the good entry before the bad one is delivered
    assert info.value.entry_id == "2-0"
    assert info.value.target == "s"
    assert isinstance(info.value.__cause__, UnicodeDecodeError)
    assert isinstance(info.value, rxasync.DecodeError)


async def test_read_stream_non_utf8_field_as_bytes_or_replaced(
    redis_client: aioredis.Redis, redis_server: RedisServer
) -> None:
    await redis_client.xadd("s", {"bad": b"\xff"}, id="1-0")
    raw = await rxasync.first(read_stream(redis_server.url, "s", start="0", decode=None))
    assert raw.fields == {b"bad": b"\xff"}
    replaced = await rxasync.first(read_stream(redis_server.url, "s", start="0", errors="replace"))
    assert replaced.fields == {"bad": "\ufffd"}
    latin = await rxasync.first(read_stream(redis_server.url, "s", start="0", decode="latin-1"))
    assert latin.fields == {"bad": "\xff"}


def test_read_stream_validates_its_arguments() -> None:
    url = "redis://127.0.0.1:1/0"
    with pytest.raises(TypeError):
        read_stream(42, "s")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="group and consumer"):
        read_stream(url, "s", group="g")
    with pytest.raises(ValueError, match="count"):
        read_stream(url, "s", count=0)
    with pytest.raises(ValueError, match="block"):
        read_stream(url, "s", block=0)
    with pytest.raises(ValueError, match="claim_idle"):
        read_stream(url, "s", claim_idle=1.0)
    with pytest.raises(LookupError):
        read_stream(url, "s", decode="no-such-codec")
    with pytest.raises(TypeError, match="reconnect"):
        read_stream(url, "s", reconnect=3)  # type: ignore[arg-type]


async def test_read_stream_unreachable_server_gives_up_with_connection_error() -> None:
    from rxasync.http import Retry
    from rxasync.testing import free_port

    src = read_stream(
        f"redis://127.0.0.1:{free_port()}/0", "s", reconnect=Retry(attempts=3, initial_delay=0.01)
    )
    with pytest.raises(rxasync.DatabaseConnectionError) as info:
        await rxasync.first(src)
    assert info.value.__cause__ is not None
    assert any("gave up after 3" in note for note in info.value.__notes__)


async def test_read_stream_wrong_key_type_is_a_query_error(
    redis_client: aioredis.Redis, redis_server: RedisServer
) -> None:
    await redis_client.set("s", "a string")
    with pytest.raises(rxasync.DatabaseQueryError, match="WRONGTYPE"):
        await rxasync.first(read_stream(redis_server.url, "s", start="0"))


@pytest.mark.parametrize(
    "options",
    [{"protocol": 2}, {"protocol": 3}, {"decode_responses": True}, {"protocol": 2, "decode_responses": True}],
    ids=["resp2", "resp3", "resp3-str", "resp2-str"],
)
async def test_read_stream_user_client_of_any_protocol_and_decoding(
    redis_server: RedisServer, options: dict[str, object]
) -> None:
    # read_stream takes XREAD/XREADGROUP replies as received (a list over RESP2, a map over RESP3,
    # bytes or str) on a client of its own over the user's pool; the user's client keeps redis-py's shapes.
    client = aioredis.Redis.from_url(redis_server.url, **options)  # type: ignore[arg-type]
    try:
        await client.flushall()
        await client.xadd("s", {"a": "1", "b": "2"}, id="1-0")
        await client.xadd("s", {"a": "3"}, id="2-0")
        text = options.get("decode_responses", False)
        for group in (None, "g"):
            src = read_stream(client, "s", start="0", group=group, consumer=group and "c")
            got = await rxasync.to_list(src.pipe(ops.take(2)))
            assert got == [StreamEntry("s", "1-0", {"a": "1", "b": "2"}), StreamEntry("s", "2-0", {"a": "3"})]
            raw = await rxasync.first(read_stream(client, "s", start="0", decode=None))
            assert raw.fields == ({"a": "1", "b": "2"} if text else {b"a": b"1", b"b": b"2"})
        untouched = aioredis.Redis.from_url(redis_server.url, **options)  # type: ignore[arg-type]
        try:  # the user's client still shapes replies as redis-py does
            assert await client.xread({"s": "1-0"}) == await untouched.xread({"s": "1-0"})
        finally:
            await untouched.aclose()
    finally:
        await client.aclose()


async def test_read_stream_group_skips_entries_deleted_while_pending(
    redis_client: aioredis.Redis, redis_server: RedisServer
) -> None:
    await fill(redis_client, "s", 3)
    reader = read_stream(redis_server.url, "s", group="g", consumer="c", start="0")
    assert [e.id for e in await rxasync.to_list(reader.pipe(ops.take(3)))] == ["1-0", "2-0", "3-0"]
    await redis_client.xdel("s", "2-0")  # pending for c, gone from the stream: [id, nil] in its history
    await redis_client.xadd("s", {"n": "4"}, id="4-0")
    got = await rxasync.to_list(reader.pipe(ack(), ops.take(3)))
    assert [(e.id, e.group) for e in got] == [("1-0", "g"), ("3-0", "g"), ("4-0", "g")]


async def test_read_stream_first_is_the_good_entry_before_a_bad_one(
    redis_client: aioredis.Redis, redis_server: RedisServer
) -> None:
    # Also when a named source is pulled straight into a terminal, which takes a reply's batch whole.
    await redis_client.xadd("s", {"ok": "fine"}, id="1-0")
    await redis_client.xadd("s", {"bad": b"\xff"}, id="2-0")
    for name in (None, "named"):
        entry = await rxasync.first(read_stream(redis_server.url, "s", start="0", name=name))
        assert entry == StreamEntry("s", "1-0", {"ok": "fine"})


async def test_ack_after_take_with_a_url_acks_and_leaves_no_connection(
    redis_client: aioredis.Redis, redis_server: RedisServer
) -> None:
    # take(3) disposes the reader (closing its URL client) before ack() sends the XACK of those 3:
    # the XACK must still go through, on a connection that is closed afterwards (not one reopened
    # on the reader's closed pool and left to the garbage collector).
    await fill(redis_client, "s", 20)
    before = len(await redis_client.client_list())
    src = read_stream(redis_server.url, "s", group="g", consumer="c", start="0")
    got = await rxasync.to_list(src.pipe(ops.take(3), ack()))
    assert [e.fields["n"] for e in got] == ["1", "2", "3"]
    entry = await rxasync.first(read_stream(redis_server.url, "s", group="g2", consumer="c", start="0"))
    await entry.ack()  # the same, by hand, after first() disposed the reader
    pending = await redis_client.xpending_range("s", "g", min="-", max="+", count=100)
    assert [p["message_id"] for p in pending] == [f"{n}-0".encode() for n in range(4, 21)]
    pending = await redis_client.xpending_range("s", "g2", min="-", max="+", count=100)
    assert [p["message_id"] for p in pending] == [f"{n}-0".encode() for n in range(2, 21)]
    for _ in range(100):  # the server notices closed sockets at its own pace
        if len(await redis_client.client_list()) <= before:
            break
        await asyncio.sleep(0.02)
    assert len(await redis_client.client_list()) <= before
