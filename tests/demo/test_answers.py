"""The endpoint's answers: encoded once per query (orjson or the stdlib, same JSON), kept in an LRU."""

from __future__ import annotations

import json
import random

import aiohttp
import pytest

from examples.search_as_you_type import CityIndex, Settings, create_app, normalise, serve
from examples.search_as_you_type._cities import City
from examples.search_as_you_type._json import EncodedCache, _stdlib_dumps, dumps
from examples.search_as_you_type._payload import Payloads, Result, pieces
from examples.search_as_you_type._ranking import TIERS
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


def _reference(payloads: Payloads, cities: list[City], result: Result) -> dict[str, object]:
    """What ``Payloads.encode`` must write for one result: ``Hit.to_json()`` built the slow way."""
    number, tier, entry, start, end, districts = result
    name, norm = payloads.names[entry], payloads.norms[entry]
    out = cities[number].to_json()
    out["match"] = {"tier": tier, "name": name, "parts": [list(p) for p in pieces(name, norm, start, end)]}
    if districts:
        out["districts"] = districts
    return out


def test_payloads_write_what_dumps_writes_for_every_kind_of_name(city_index: CityIndex) -> None:
    # the one-to-one fast path and the general one, over names that need escapes, fold to
    # several characters, end in punctuation, are not ASCII; and a sample of the real names
    odd = [
        'Say "Hi"',
        "Back\\slash",
        "Tab\there",
        "Straße",
        " Lead",
        "Trail!",
        "São-Paulo",
        "北京市",
        "Ǆemal",
        "Del\x7fete",
        "Line\u2028Sep",
        "Ctrl\x01",
    ]
    names = [*odd, *city_index._n.names[::997]]
    norms = [normalise(name) for name in names]
    cities = [City(i, name, "XX", "Nowhere", i * 1000) for i, name in enumerate(names)]
    payloads = Payloads(cities, names, norms)
    rng = random.Random(5)
    for entry, norm in enumerate(norms):
        for _ in range(3):
            start = rng.randrange(len(norm) + 1)
            end = rng.randint(start, len(norm))
            tier = rng.choice(TIERS)
            result = (entry, tier, entry, start, end, rng.choice((0, 0, 3)))
            want = [_reference(payloads, cities, result)]
            assert payloads.encode([result]) == dumps(want), (names[entry], start, end)
            assert payloads.encode([result]) == _stdlib_dumps(want), (names[entry], start, end)
