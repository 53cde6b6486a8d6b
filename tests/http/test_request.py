"""request / get / get_json against a real loopback server."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
import reactivex
from aiohttp import web

import rxasync
from rxasync import DecodeError, HttpConnectionError, HttpStatusError, RxAsyncError
from rxasync.http import Client, InvalidUrlError, Retry, Timeout, get, get_json, request
from rxasync.operators import map_async
from rxasync.testing import assert_run

FAST = Retry(initial_delay=0.01, max_delay=0.05)


async def test_get_json_returns_decoded_value(server, json_decoder: str) -> None:
    async def handler(req: web.Request) -> web.Response:
        return web.json_response({"q": req.query["q"], "accept": req.headers["Accept"]})

    url = server.route("/search", handler)
    await assert_run(lambda: get_json(url, params={"q": "rx"}), [{"q": "rx", "accept": "application/json"}])


async def test_get_json_accept_header_added_merged_or_kept(server) -> None:
    async def handler(req: web.Request) -> web.Response:
        return web.json_response({"accept": req.headers.getall("Accept"), "x": req.headers.get("X-Y")})

    url = server.route("/h", handler)
    assert await rxasync.first(get_json(url)) == {"accept": ["application/json"], "x": None}
    mine = {"X-Y": "1"}
    assert await rxasync.first(get_json(url, headers=mine)) == {"accept": ["application/json"], "x": "1"}
    assert mine == {"X-Y": "1"}  # the caller's mapping is not changed
    kept = await rxasync.first(get_json(url, headers={"accept": "application/vnd.x+json"}))
    assert kept == {"accept": ["application/vnd.x+json"], "x": None}


async def test_get_json_503_gives_up_after_three_attempts_with_note(server) -> None:
    async def failing(req: web.Request) -> web.Response:
        return web.Response(status=503, text="busy")

    with pytest.raises(HttpStatusError) as info:
        await rxasync.first(get_json(server.route("/busy3", failing), retry=FAST))
    assert info.value.status == 503
    assert len(server.requests) == 3
    assert any("gave up after 3 attempts" in n for n in info.value.__notes__)
    assert info.value.__context__ is None  # the last attempt's error, not chained to the first's


async def test_request_post_json_echoes_body(server) -> None:
    async def echo(req: web.Request) -> web.Response:
        return web.json_response({"method": req.method, "got": await req.json()})

    url = server.route("/echo", echo)
    resp = await rxasync.first(request("post", url, json={"a": 1}))
    assert resp.status == 200
    assert resp.ok
    assert resp.method == "POST"
    assert resp.json() == {"method": "POST", "got": {"a": 1}}
    assert resp.headers["Content-Type"].startswith("application/json")


async def test_get_text_uses_charset(server) -> None:
    async def latin(req: web.Request) -> web.Response:
        return web.Response(body="café".encode("latin-1"), content_type="text/plain", charset="latin-1")

    resp = await rxasync.first(get(server.route("/latin", latin)))
    assert resp.charset == "latin-1"
    assert resp.text() == "café"


async def test_get_status_error_names_status_method_url_and_body(server) -> None:
    async def missing(req: web.Request) -> web.Response:
        return web.Response(status=404, text="no such thing here")

    url = server.route("/missing", missing)
    with pytest.raises(HttpStatusError) as info:
        await rxasync.first(get(url))
    err = info.value
    assert (err.status, err.method, err.url) == (404, "GET", url)
    assert err.body == b"no such thing here"
    assert "404" in str(err)
    assert url in str(err)
    assert "no such thing" in str(err)
    assert isinstance(err, RxAsyncError)
    assert len(server.requests) == 1  # 404 is not retried


async def test_get_raise_for_status_false_returns_error_answer(server) -> None:
    async def teapot(req: web.Request) -> web.Response:
        return web.Response(status=418, text="short and stout")

    resp = await rxasync.first(get(server.route("/tea", teapot), raise_for_status=False))
    assert (resp.status, resp.ok, resp.text()) == (418, False, "short and stout")


async def test_get_json_invalid_json_is_decode_error(server, json_decoder: str) -> None:
    async def bad(req: web.Request) -> web.Response:
        return web.Response(text='{"a": 1,\n oops}', content_type="application/json")

    url = server.route("/bad", bad)
    with pytest.raises(DecodeError) as info:
        await rxasync.first(get_json(url))
    assert info.value.line == 2
    assert url in str(info.value)


@pytest.mark.virtual_time
async def test_request_503_retry_after_then_200(server) -> None:
    times: list[float] = []
    loop = asyncio.get_running_loop()

    async def busy(req: web.Request) -> web.Response:
        times.append(loop.time())
        if len(times) == 1:
            return web.Response(status=503, text="busy", headers={"Retry-After": "1"})
        return web.json_response("ok")

    assert await rxasync.first(get_json(server.route("/busy", busy), retry=FAST)) == "ok"
    assert len(times) == 2
    assert 1.0 <= times[1] - times[0] < 1.1  # Retry-After: 1 honoured over the 10 ms backoff


@pytest.mark.virtual_time
async def test_request_429_gives_up_with_retry_after_attribute(server) -> None:
    async def limited(req: web.Request) -> web.Response:
        return web.Response(status=429, headers={"Retry-After": "0"})

    with pytest.raises(HttpStatusError) as info:
        await rxasync.first(get(server.route("/limited", limited), retry=FAST))
    assert info.value.status == 429
    assert info.value.retry_after == 0.0
    assert len(server.requests) == 3
    assert any("gave up after 3 attempts" in n for n in info.value.__notes__)


async def test_request_post_is_not_retried(server) -> None:
    async def failing(req: web.Request) -> web.Response:
        return web.Response(status=503)

    with pytest.raises(HttpStatusError):
        await rxasync.first(request("POST", server.route("/post", failing), data=b"x", retry=FAST))
    assert len(server.requests) == 1


async def test_request_retry_false_makes_one_attempt(server) -> None:
    async def failing(req: web.Request) -> web.Response:
        return web.Response(status=500)

    with pytest.raises(HttpStatusError):
        await rxasync.first(get(server.route("/fail", failing), retry=False))
    assert len(server.requests) == 1


@pytest.mark.parametrize("url", ["127.0.0.1/x", "ftp://127.0.0.1/x", "http:///nohost", "http://[::1/x"])
async def test_request_invalid_url_fails_at_subscribe_naming_it(url: str) -> None:
    errors: list[Exception] = []
    done = asyncio.Event()

    def on_error(exc: Exception) -> None:
        errors.append(exc)
        done.set()

    get(url).subscribe(on_error=on_error)
    await asyncio.wait_for(done.wait(), 5)
    assert isinstance(errors[0], InvalidUrlError)
    assert isinstance(errors[0], ValueError)
    assert repr(url) in str(errors[0])


async def test_request_connection_refused_is_connection_error(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/"
    with pytest.raises(HttpConnectionError) as info:
        await rxasync.first(get(url, retry=FAST))
    assert isinstance(info.value, ConnectionError)
    assert info.value.url == url
    assert isinstance(info.value.__cause__, aiohttp.ClientError)


async def test_request_dispose_mid_request_aborts_it(server) -> None:
    started = asyncio.Event()

    async def slow(req: web.Request) -> web.Response:
        started.set()
        await asyncio.sleep(30)
        return web.Response(text="too late")

    got: list[object] = []
    sub = get(server.route("/slow", slow)).subscribe(got.append, got.append, lambda: got.append("done"))
    await asyncio.wait_for(started.wait(), 5)
    sub.dispose()
    await asyncio.wait_for(server.disconnected.wait(), 1.0)  # the server sees the client leave
    assert got == []


async def test_request_given_session_is_used_and_left_open(server) -> None:
    async def hello(req: web.Request) -> web.Response:
        return web.Response(text=req.headers.get("X-Who", "?"))

    url = server.route("/hello", hello)
    async with aiohttp.ClientSession(headers={"X-Who": "me"}) as session:
        resp = await rxasync.first(get(url, session=session))
        assert resp.text() == "me"
        assert not session.closed
        resp = await rxasync.first(get(url, session=session))
        assert resp.text() == "me"


async def test_request_without_session_leaves_no_session_open(server) -> None:
    url = server.route("/x", lambda req: _text("x"))
    for _ in range(3):
        assert (await rxasync.first(get(url))).text() == "x"
    # the autouse no_leaks fixture fails the test on unclosed sessions or sockets


async def test_client_base_url_headers_and_defaults(server) -> None:
    async def who(req: web.Request) -> web.Response:
        return web.json_response([req.path, req.headers.get("Authorization")])

    server.route("/api/v1/users", who)
    async with Client(base_url=server.url("/api/v1"), headers={"Authorization": "Bearer t"}) as client:
        assert await rxasync.first(client.get_json("users")) == ["/api/v1/users", "Bearer t"]
        assert await rxasync.first(get_json("/users", session=client)) == ["/api/v1/users", "Bearer t"]
        resp = await rxasync.first(client.request("GET", server.url("/api/v1/users")))
        assert resp.json() == ["/api/v1/users", "Bearer t"]


async def test_client_outside_async_with_fails_clearly(server) -> None:
    client = Client(base_url=server.url("/"))
    with pytest.raises(RxAsyncError, match="async with Client"):
        await rxasync.first(client.get("x"))


async def test_client_pool_limit_bounds_server_connections(server) -> None:
    async def item(req: web.Request) -> web.Response:
        server.open_now += 1
        server.most_open = max(server.most_open, server.open_now)
        try:
            await asyncio.sleep(0.005)
            return web.json_response(int(req.query["i"]))
        finally:
            server.open_now -= 1

    url = server.route("/item", item)
    async with Client(limit=4) as client:

        async def fetch(i: int) -> int:
            value: int = await rxasync.first(client.get_json(url, params={"i": str(i)}))
            return value

        out = await rxasync.to_list(reactivex.range(100).pipe(map_async(fetch, concurrency=10)))
    assert out == list(range(100))
    assert len(server.requests) == 100
    assert len(server.connections) <= 4  # distinct client sockets the server saw
    assert server.most_open <= 4


async def test_client_validates_arguments() -> None:
    with pytest.raises(ValueError):
        Client(limit=0)
    with pytest.raises(InvalidUrlError):
        Client(base_url="nope")
    with pytest.raises(ValueError):
        request("", "http://127.0.0.1/")
    with pytest.raises(ValueError):
        request("POST", "http://127.0.0.1/", json={}, data=b"")
    with pytest.raises(TypeError):
        get("http://127.0.0.1/", session="not a session")  # type: ignore[arg-type]


async def _text(text: str) -> web.Response:
    return web.Response(text=text)


async def test_client_retry_and_timeout_defaults_apply_and_calls_override(server) -> None:
    async def busy(req: web.Request) -> web.Response:
        return web.Response(status=503)

    url = server.route("/busy", busy)
    async with Client(retry=False, timeout=Timeout(total=5)) as client:
        with pytest.raises(HttpStatusError):
            await rxasync.first(client.get(url))
        assert len(server.requests) == 1  # the client's retry=False
        with pytest.raises(HttpStatusError):
            await rxasync.first(client.get(url, retry=Retry(attempts=2, initial_delay=0.01)))
        assert len(server.requests) == 3  # the call's own policy
