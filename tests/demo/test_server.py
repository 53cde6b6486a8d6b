"""The app in-process on 127.0.0.1: the endpoint, the WebSocket, and bad input of every kind.

Every test runs inside ``no_leaks()`` (tests/conftest.py): a search left
running, a socket left open or a task left pending fails it.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from support import wait_until

from examples.search_as_you_type import CityIndex, ConnectionLimits, Settings, Stats, create_app, serve
from examples.search_as_you_type._connection import Connection
from examples.search_as_you_type._server import RANDOM, STATIC, STATS

Message = dict[str, Any]


class Slowest(random.Random):
    """Every random delay is the longest allowed, so a search is surely in flight."""

    def uniform(self, a: float, b: float) -> float:
        return b


@asynccontextmanager
async def running(
    index: CityIndex, settings: Settings | None = None, *, slow: bool = False
) -> AsyncIterator[tuple[str, Stats, aiohttp.ClientSession]]:
    app = create_app(index, settings or Settings(debounce=0.05))
    if slow:
        app[RANDOM] = Slowest()
    async with serve(app) as url, aiohttp.ClientSession() as session:
        yield url, app[STATS], session


async def receive(
    ws: aiohttp.ClientWebSocketResponse, want: Callable[[Message], bool], within: float = 5
) -> Message:
    """The first message that ``want`` accepts (others are skipped)."""
    deadline = time.monotonic() + within
    while True:
        message = await ws.receive(timeout=max(0.01, deadline - time.monotonic()))
        assert message.type == aiohttp.WSMsgType.TEXT, message
        data: Message = json.loads(message.data)
        if want(data):
            return data


def results_for(q: str) -> Callable[[Message], bool]:
    return lambda m: m["type"] == "results" and m["q"] == q


def is_error(m: Message) -> bool:
    return bool(m["type"] == "error")


async def type_text(
    ws: aiohttp.ClientWebSocketResponse, text: str, start: int = 1, delay: float = 0.0
) -> int:
    """Send ``text`` one keystroke at a time, as the page does; return the last seq."""
    seq = start
    for i in range(1, len(text) + 1):
        await ws.send_json({"seq": seq, "q": text[:i]})
        seq += 1
        await asyncio.sleep(delay)
    return seq - 1


# -- the endpoint -------------------------------------------------------------------------


async def test_api_search_returns_ranked_json(city_index: CityIndex) -> None:
    async with (
        running(city_index) as (url, stats, session),
        session.get(f"{url}/api/search", params={"q": "Lond", "limit": "3"}) as response,
    ):
        assert response.status == 200
        body = await response.json()
    assert body["q"] == "lond"
    assert [r["name"] for r in body["results"]][:1] == ["London"]
    assert len(body["results"]) == 3
    assert body["results"][0]["match"]["parts"] == [["Lond", True], ["on", False]]
    assert stats.searches_completed == 1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "x" * 10_240}, "query too long: 10240 characters"),
        ({"q": "lond", "limit": "many"}, "limit must be"),
    ],
)
async def test_api_search_rejects_bad_parameters_clearly(
    city_index: CityIndex, params: dict[str, str], message: str
) -> None:
    async with (
        running(city_index) as (url, stats, session),
        session.get(f"{url}/api/search", params=params) as r,
    ):
        assert r.status == 400
        assert message in (await r.json())["error"]
    assert stats.searches_started == 0


async def test_page_is_served_locally_with_a_strict_content_security_policy(city_index: CityIndex) -> None:
    async with running(city_index) as (url, _, session):
        async with session.get(url + "/") as response:
            assert response.status == 200
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
            html = await response.text()
        for asset in ("/static/app.js", "/static/app.css"):
            assert asset in html
            async with session.get(url + asset) as response:
                assert response.status == 200


def test_static_files_load_nothing_from_elsewhere() -> None:
    for path in Path(STATIC).iterdir():  # no CDN: nothing is fetched from anywhere else
        text = path.read_text(encoding="utf-8")
        for remote in ("http://", "https://", "//cdn"):
            assert remote not in text, path


# -- the WebSocket ------------------------------------------------------------------------


async def test_websocket_typing_gets_an_ack_then_results(city_index: CityIndex) -> None:
    async with running(city_index) as (url, stats, session), session.ws_connect(url + "/ws") as ws:
        last = await type_text(ws, "lond")
        ack = await receive(ws, lambda m: m["type"] == "query")
        assert ack == {"type": "query", "seq": last, "q": "lond"}
        results = await receive(ws, results_for("lond"))
        assert results["seq"] == last
        assert results["results"][0]["name"] == "London"
        assert stats.searches_started == 1


async def test_websocket_typing_on_aborts_the_http_request_in_flight(city_index: CityIndex) -> None:
    settings = Settings(latency=30.0, debounce=0.02)
    async with (
        running(city_index, settings, slow=True) as (url, stats, session),
        session.ws_connect(url + "/ws") as ws,
    ):
        await ws.send_json({"seq": 1, "q": "lon"})
        await wait_until(lambda: stats.searches_started == 1)
        await ws.send_json({"seq": 2, "q": "l"})  # too short: answered at once, cancels "lon"
        message = await receive(ws, lambda m: m["type"] == "results")
        assert (message["q"], message["too_short"]) == ("l", True)
        await wait_until(lambda: stats.searches_aborted == 1)
        assert stats.searches_completed == 0


async def test_websocket_disconnect_mid_search_disposes_the_pipeline(city_index: CityIndex) -> None:
    async with running(city_index, Settings(latency=30.0, debounce=0.02), slow=True) as (url, stats, session):
        async with session.ws_connect(url + "/ws") as ws:
            await ws.send_json({"seq": 1, "q": "lond"})
            await wait_until(lambda: stats.searches_started == 1)
        await wait_until(lambda: stats.searches_aborted == 1 and stats.connections_open == 0)
    # no_leaks() then checks that no task (search, sender, request) is left pending


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"seq": "one", "q": "lond"}', '"seq" must be'),
        ('{"seq": 1, "q": 42}', '"q" must be a string'),
        (b"\x00\xff binary", "binary frames are not accepted"),
        (json.dumps({"seq": 1, "q": "x" * 10_240}), "query too long: 10,240 characters"),
    ],
)
async def test_websocket_bad_frame_gets_an_error_and_keeps_the_connection(
    city_index: CityIndex, frame: str | bytes, expected: str
) -> None:
    async with running(city_index) as (url, stats, session), session.ws_connect(url + "/ws") as ws:
        if isinstance(frame, bytes):
            await ws.send_bytes(frame)
        else:
            await ws.send_str(frame)
        error = await receive(ws, is_error)
        assert expected in error["message"]
        await ws.send_json({"seq": 2, "q": "paris"})
        assert (await receive(ws, results_for("paris")))["results"][0]["name"] == "Paris"
    assert stats.messages_rejected == 1
    assert stats.searches_started == 1  # the 10 KB query was never searched


async def test_websocket_html_in_the_query_is_data(city_index: CityIndex) -> None:
    async with running(city_index) as (url, _, session), session.ws_connect(url + "/ws") as ws:
        await ws.send_json({"seq": 1, "q": "<script>alert(1)</script>"})
        message = await receive(ws, lambda m: m["type"] == "results")
        assert message["q"] == "script alert 1 script"


async def test_websocket_flooding_client_keeps_memory_bounded_and_others_responsive(
    city_index: CityIndex,
) -> None:
    limits = ConnectionLimits(outbox=8)
    async with running(city_index, Settings(debounce=0.15, limits=limits)) as (url, stats, session):
        async with session.ws_connect(url + "/ws") as flood, session.ws_connect(url + "/ws") as polite:

            async def flooding() -> None:  # 1,000 messages a second for 2 s, half of them garbage
                for burst in range(40):  # never reads what the server sends back
                    for i in range(25):
                        seq = burst * 100 + i
                        await flood.send_json({"seq": seq, "q": f"flood {seq}"})
                        await flood.send_str("{garbage")
                    await asyncio.sleep(0.05)

            flooder = asyncio.create_task(flooding())
            waits = []
            for seq, query in enumerate(["paris", "berlin", "madrid", "tokyo", "lima"], start=1):
                started = time.monotonic()
                await polite.send_json({"seq": seq, "q": query})
                await receive(polite, results_for(query))
                waits.append(time.monotonic() - started)
                await asyncio.sleep(0.2)
            await flooder
            await wait_until(lambda: stats.messages_received >= 2_000 + 5)
        assert max(waits) < 2.0, waits  # loose on purpose: the machine is shared
        assert stats.max_outbox <= limits.outbox
        # the flood's keystrokes never paused long enough to be searched, except maybe once at the end
        assert stats.searches_started <= 5 + 1


async def test_connection_outbox_drops_the_oldest_when_full() -> None:
    stats = Stats()
    connection = Connection(None, lambda q: None, Settings(limits=ConnectionLimits(outbox=3)), stats)  # type: ignore[arg-type]
    for i in range(10):
        connection.send({"n": i})
    assert [m["n"] for m in connection.outbox] == [7, 8, 9]
    assert (stats.messages_dropped, stats.max_outbox) == (7, 3)


async def test_stats_say_when_the_index_is_ready(city_index: CityIndex) -> None:
    assert city_index._n.trigrams_ready.wait(60)
    async with running(city_index) as (url, _, session), session.get(url + "/api/stats") as response:
        assert (await response.json())["index_ready"] is True
