"""The endpoint's answers: encoded once per query (orjson or the stdlib, same JSON), kept in an LRU."""

from __future__ import annotations

import json

import aiohttp
import pytest

from examples.search_as_you_type import CityIndex, Settings, create_app, serve
from examples.search_as_you_type._json import EncodedCache, _stdlib_dumps, dumps
from examples.search_as_you_type._server import ANSWERS

QUERIES = ["lond", "北京", "Москва", "القاهرة", "sao paulo", "lodnon", "zzzzq"]


def test_encoders_give_the_same_bytes_on_real_answers(city_index: CityIndex) -> None:
    for q in QUERIES:
        results = [hit.to_json() for hit in city_index.search(q, 10)]
        assert dumps(results) == _stdlib_dumps(results), q
        assert json.loads(dumps(results)) == results


def test_encoded_cache_evicts_the_least_recently_used() -> None:
    cache = EncodedCache(size=2)
    cache.get("a", lambda: 1)
    cache.get("b", lambda: 2)
    cache.get("a", lambda: -1)  # a hit: "a" is now the most recent
    cache.get("c", lambda: 3)  # evicts "b"
    assert cache.get("a", lambda: -1) == b"1"
    assert cache.get("b", lambda: 20) == b"20"
    assert len(cache) == 2
    with pytest.raises(ValueError, match="at least 1"):
        EncodedCache(size=0)


async def test_search_answer_repeated_is_the_same_as_the_index_says(city_index: CityIndex) -> None:
    app = create_app(city_index, Settings())
    async with serve(app) as url, aiohttp.ClientSession() as session:
        for q in [*QUERIES, *QUERIES]:  # the second round comes from the cache
            async with session.get(url + "/api/search", params={"q": q, "limit": "5"}) as response:
                assert response.status == 200
                assert response.content_type == "application/json"
                assert response.charset == "utf-8"
                body = await response.json()
            assert set(body) == {"q", "results", "took_ms"}
            assert body["results"] == [hit.to_json() for hit in city_index.search(q, 5)]
        assert len(app[ANSWERS]) == len(QUERIES)


def test_search_json_is_the_hits_encoded_byte_for_byte(city_index: CityIndex) -> None:
    queries = [*QUERIES, "paris", "saint pe", "new york", "東京", "vaugirard", "st. lou", "", "!!!", "a"]
    queries += [
        name[:n]
        for name in ("Zürich", "São Paulo", "Ōsaka", "Nishi-Tokyo-shi", "Winston-Salem")
        for n in (3, 5, 9)
    ]
    for q in queries:
        for limit in (1, 10, 50):
            want = dumps([hit.to_json() for hit in city_index.search(q, limit)])
            assert city_index.search_json(q, limit) == want, (q, limit)
