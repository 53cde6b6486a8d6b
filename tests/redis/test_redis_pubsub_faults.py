"""subscribe across a SIGKILL and restart of redis-server: it reconnects, subscribes again, tells of the gap."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
import redis.asyncio as aioredis

import rxasync
from rxasync.http import Retry
from rxasync.redis import Message, subscribe
from rxasync.testing import RedisServer


@pytest.fixture
def own_server() -> Iterator[RedisServer]:
    """A server of this test's own, to kill."""
    with RedisServer() as server:
        yield server


async def publish_until(url: str, channel: str, prefix: str, heard: Callable[[], bool]) -> None:
    """Publish ``prefix-0``, ``prefix-1``... on a fresh connection until ``heard()`` (at most about 10 s)."""
    client = aioredis.Redis.from_url(url)
    try:
        for i in range(500):
            await client.publish(channel, f"{prefix}-{i}")
            await asyncio.sleep(0.02)
            if heard():
                return
        raise AssertionError(f"no {prefix!r} message on {channel!r} arrived")
    finally:
        await client.aclose()


@pytest.mark.parametrize("owner", ["url", "user client"])
async def test_subscribe_reconnects_after_a_kill_and_signals_the_gap(
    own_server: RedisServer, owner: str
) -> None:
    # A URL's client has redis-py's retries off: rxasync's reconnect policy retries the read. A user's
    # client keeps redis-py's own retries, which may reconnect and re-subscribe behind the scenes:
    # on_gap is called either way.
    received: list[Message] = []
    gaps: list[int] = []  # how many messages had arrived when on_gap was called
    errors: list[Exception] = []
    user = aioredis.Redis.from_url(own_server.url) if owner == "user client" else None
    src = subscribe(
        user or own_server.url, "news", patterns=["alerts.*"], on_gap=lambda: gaps.append(len(received))
    )
    sub = src.subscribe(received.append, errors.append)

    def heard(prefix: str) -> Callable[[], bool]:
        return lambda: any(str(m.data).startswith(prefix) for m in received)

    try:
        await publish_until(own_server.url, "news", "before", heard("before"))
        own_server.kill()
        await asyncio.sleep(0.3)  # the subscriber reads what had reached it, then fails and backs off
        own_server.start()  # same port, nobody subscribed
        await publish_until(own_server.url, "news", "after", heard("after"))
        await publish_until(own_server.url, "alerts.fire", "pattern", heard("pattern"))
    finally:
        sub.dispose()
        if user is not None:
            await user.aclose()
    assert errors == []
    heard_before = sum(str(m.data).startswith("before") for m in received)
    assert gaps == [heard_before]  # once: after the old connection's messages, before the new one's
    assert all(str(m.data).startswith("before") for m in received[:heard_before])
    after = [str(m.data) for m in received[heard_before:]]
    assert after  # messages published after the restart arrive...
    assert len(after) == len(set(after))  # ...each once
    assert received[-1].pattern == "alerts.*"  # the pattern was subscribed again too


async def test_subscribe_gives_up_when_the_server_stays_away(own_server: RedisServer) -> None:
    gaps: list[None] = []
    got: list[Message] = []
    src = subscribe(
        own_server.url,
        "news",
        on_gap=lambda: gaps.append(None),
        reconnect=Retry(attempts=3, initial_delay=0.01),
    )
    done: asyncio.Future[Exception] = asyncio.get_running_loop().create_future()
    sub = src.subscribe(got.append, done.set_result)
    try:
        await publish_until(own_server.url, "news", "before", lambda: bool(got))
        own_server.kill()
        error = await asyncio.wait_for(done, 10)
    finally:
        sub.dispose()
    assert isinstance(error, rxasync.DatabaseConnectionError)
    assert isinstance(error.__cause__, Exception)
    assert any("gave up after 3" in note for note in error.__notes__)
    assert gaps == []


@pytest.mark.parametrize("owner", ["url", "user client"])
async def test_subscribe_two_reconnects_two_gaps_one_subscription(
    own_server: RedisServer, owner: str
) -> None:
    # Each kill is one gap (on_gap once each), and after two reconnects the server counts one
    # subscriber on the channel, not one per reconnect: every message arrives once.
    received: list[Message] = []
    gaps: list[int] = []
    errors: list[Exception] = []
    user = aioredis.Redis.from_url(own_server.url) if owner == "user client" else None
    src = subscribe(user or own_server.url, "news", on_gap=lambda: gaps.append(len(received)))
    sub = src.subscribe(received.append, errors.append)

    def heard(prefix: str) -> Callable[[], bool]:
        return lambda: any(str(m.data).startswith(prefix) for m in received)

    probe = aioredis.Redis.from_url(own_server.url)
    try:
        await publish_until(own_server.url, "news", "a", heard("a"))
        for prefix in ("b", "c"):
            own_server.kill()
            await asyncio.sleep(0.3)
            own_server.start()
            await publish_until(own_server.url, "news", prefix, heard(prefix))
        numsub = await probe.pubsub_numsub("news")
    finally:
        sub.dispose()
        await probe.aclose()
        if user is not None:
            await user.aclose()
    assert errors == []
    data = [str(m.data) for m in received]
    assert len(data) == len(set(data))
    assert len(gaps) == 2
    assert numsub == [(b"news", 1)]


@pytest.mark.parametrize("owner", ["url", "user client"])
async def test_subscribe_disposed_while_waiting_to_reconnect_leaves_nothing(
    own_server: RedisServer, owner: str
) -> None:
    # Disposed during the reconnect policy's wait: no task left (the leak check of every test), and
    # once the server is back no connection of the subscription comes to it.
    received: list[Message] = []
    user = aioredis.Redis.from_url(own_server.url) if owner == "user client" else None
    sub = subscribe(user or own_server.url, "news").subscribe(received.append, lambda _: None)
    await publish_until(own_server.url, "news", "a", lambda: bool(received))
    own_server.kill()
    await asyncio.sleep(0.5)  # the read failed; the policy waits before trying again
    sub.dispose()
    own_server.start()
    await asyncio.sleep(0.5)  # a reconnect that should not happen would have happened by now
    probe = aioredis.Redis.from_url(own_server.url)
    try:
        assert len(await probe.client_list()) == 1  # the probe only
        if user is not None:
            assert not list(user.connection_pool._in_use_connections)
    finally:
        await probe.aclose()
        if user is not None:
            await user.aclose()
