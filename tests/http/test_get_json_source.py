"""get_json's source: a full observable on every path, whatever shortcut builds it.

``from_awaitable(fn)`` (under ``request``, ``get`` and ``get_json``) is an
``Observable`` subclass of its own, not ``reactivex.create``: these pin that
it still is one (its RxPY methods, operators, ``subscribe``), that dispose
aborts the request on the subscribe path, that ``name=`` counts it on both
paths, and that the option checks ``get_json`` now skips for the common
case still fail bad input.
"""

from __future__ import annotations

import asyncio

import pytest
import reactivex
from aiohttp import web
from reactivex import operators as ops
from support import recorded

import rxasync
from rxasync import BodyTooLargeError
from rxasync.http import get, get_json


async def _api(req: web.Request) -> web.Response:
    return web.json_response({"i": int(req.query.get("i", "0")), "accept": req.headers.get("Accept")})


async def test_get_json_keeps_rxpy_methods_and_operators(server) -> None:
    url = server.route("/api", _api)
    # .single() and .pipe() are Observable's own: a source that shadowed them would break these
    assert await rxasync.first(get_json(url, params={"i": 1}).single()) == {
        "i": 1,
        "accept": "application/json",
    }
    got = await rxasync.to_list(get_json(url, params={"i": 2}).pipe(ops.map(lambda v: v["i"] * 10)))
    assert got == [20]
    assert isinstance(get_json(url), reactivex.Observable)


async def test_get_json_subscribe_delivers_then_completes(server) -> None:
    url = server.route("/api", _api)
    done = asyncio.Event()
    got: list[object] = []
    get_json(url, params={"i": 3}).subscribe(got.append, got.append, lambda: (got.append("done"), done.set()))
    await asyncio.wait_for(done.wait(), 5)
    assert got == [{"i": 3, "accept": "application/json"}, "done"]


async def test_get_json_each_subscription_sends_again(server) -> None:
    url = server.route("/api", _api)
    source = get_json(url, params={"i": 4})
    assert (
        await rxasync.to_list(reactivex.concat(source, source))
        == [{"i": 4, "accept": "application/json"}] * 2
    )
    assert await rxasync.first(source) == {"i": 4, "accept": "application/json"}
    assert len(server.requests) == 3


async def test_get_json_dispose_mid_request_aborts_it(server) -> None:
    started = asyncio.Event()

    async def slow(req: web.Request) -> web.Response:
        started.set()
        await asyncio.sleep(30)
        return web.json_response("too late")

    got: list[object] = []
    sub = get_json(server.route("/slow", slow)).subscribe(got.append, got.append, lambda: got.append("done"))
    await asyncio.wait_for(started.wait(), 5)
    sub.dispose()
    await asyncio.wait_for(server.disconnected.wait(), 1.0)  # the server sees the client leave
    assert got == []


async def test_get_json_cancelled_first_aborts_it(server) -> None:
    started = asyncio.Event()

    async def slow(req: web.Request) -> web.Response:
        started.set()
        await asyncio.sleep(30)
        return web.json_response("too late")

    task = asyncio.ensure_future(rxasync.first(get_json(server.route("/slow", slow))))
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(server.disconnected.wait(), 1.0)


@pytest.mark.parametrize("way", ["first", "subscribe"])
async def test_named_get_json_is_counted_on_both_paths(server, way: str) -> None:
    url = server.route("/api", _api)
    source = get_json(url, params={"i": 5}, name=f"users-{way}")
    with recorded() as stages:
        if way == "first":
            assert (await rxasync.first(source))["i"] == 5
        else:
            assert (await rxasync.to_list(source.pipe(ops.map(lambda v: v))))[0]["i"] == 5
    mine = stages[f"users-{way}"].snapshot()
    assert (mine["kind"], mine["state"], mine["items_out"]) == ("from_awaitable", "completed", 1)


def test_get_json_bad_options_still_fail_when_created() -> None:
    with pytest.raises(TypeError, match="timout"):
        get_json("http://127.0.0.1:1/", timout=3)  # type: ignore[call-arg]
    with pytest.raises((TypeError, ValueError), match="max_body_size"):
        get_json("http://127.0.0.1:1/", max_body_size=0)
    with pytest.raises((TypeError, ValueError), match="max_body_size"):
        get_json("http://127.0.0.1:1/", max_body_size=None)  # type: ignore[arg-type]


async def test_small_body_read_with_its_head_keeps_max_body_size_and_empty_bodies(server) -> None:
    # a small answer arrives with its head: read without an await, still held to the limit
    async def small(req: web.Request) -> web.Response:
        return web.json_response({"pad": "x" * 80})

    url = server.route("/small", small)
    size = len((await rxasync.first(get(url))).body)
    with pytest.raises(BodyTooLargeError, match=f"max_body_size={size - 1} ") as info:
        await rxasync.first(get_json(url, max_body_size=size - 1))
    assert info.value.url == url
    assert await rxasync.first(get_json(url, max_body_size=size)) == {"pad": "x" * 80}  # the limit itself

    async def empty(req: web.Request) -> web.Response:
        return web.Response(status=204)

    resp = await rxasync.first(get(server.route("/empty", empty)))
    assert (resp.status, resp.body) == (204, b"")
