"""The index's lookups agree with the plain scans they replace, over the real cities."""

from __future__ import annotations

import random

import pytest

from examples.search_as_you_type import CityIndex, load_cities, normalise
from examples.search_as_you_type._fuzzy import bigrams, nearest_prefix, prefix_distance
from examples.search_as_you_type._names import find_inside
from examples.search_as_you_type._text import folds_in_place, normalise_all, normalise_with_map
from examples.search_as_you_type._typos import TypoIndex


def needles(index: CityIndex, n: int, seed: int) -> list[str]:
    """Pieces of real names (every length, every script), and some that are in no name."""
    rng = random.Random(seed)
    names = index._n.text.text.split("\x00")[1:]
    out = ["zzqx", "qqq", "京", "xq", "ing", "burg", "an", "a"]
    for _ in range(n):
        name = rng.choice(names)
        start = rng.randrange(len(name))
        out.append(name[start : start + rng.randint(1, 6)])
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_index_substrings_are_the_scan_s_in_the_same_order(city_index: CityIndex, seed: int) -> None:
    names = city_index._n
    assert names.trigrams_ready.wait(60)  # the index of pieces, built on a thread at start
    for needle in needles(city_index, 300, seed):
        want = list(names.text.find(needle))
        assert list(find_inside(names, needle)) == want, needle


def test_index_typo_candidates_share_the_most_pairs_bigger_city_first() -> None:
    norms = [normalise(n) for n in ("London", "Londrina", "Lyon", "Paris", "Londonderry")]
    index = TypoIndex(range(len(norms)), norms, span=12)
    # "lodnon": one swap from "london"; Londonderry shares as many pairs and is a smaller city
    assert index.candidates("lodnon", allowed=1, wanted=2) == [0, 4]
    assert index.candidates("lodnon", allowed=1, wanted=10)[:2] == [0, 4]
    assert index.candidates("xyzzy", allowed=1, wanted=10) == []


def _dense_candidates(index: TypoIndex, q: str, allowed: int, wanted: int) -> list[int]:
    """The definition: a pass over every name per pair of the query, counting it once per pair."""
    shared = [0] * len(index.entries)
    grams = bigrams(q[: index.span])
    for gram, pos in grams:
        holders: set[int] = set()
        for shift in range(max(0, pos - allowed), pos + allowed + 1):
            holders.update(int(slot) for slot in index.postings.get((gram, shift), ()))
        for slot in holders:
            shared[slot] += 1
    need = max(1, len(grams) - 3 * allowed)
    best = sorted((len(grams) - c, slot) for slot, c in enumerate(shared) if c >= need)[:wanted]
    return [int(index.entries[slot]) for _, slot in best]


def test_index_typo_candidates_are_the_definition_s_on_real_names(city_index: CityIndex) -> None:
    rng = random.Random(8)
    typos = city_index._n.typos
    queries = ["anan", "aaaa", "lodnon", "sna nic", "xyzzy", "nnnnnnnnnn", "^^^^"]
    for city in load_cities()[:2000:40]:
        q = normalise(city.name)[: rng.randint(4, 10)]
        i = rng.randrange(len(q))
        queries.append(q[:i] + rng.choice("aenrx") + q[i + 1 :])
    for q in queries:
        for allowed in (1, 2):
            want = _dense_candidates(typos, q, allowed, 50)
            assert typos.candidates(q, allowed, 50) == want, (q, allowed)
            assert typos.candidates(q, allowed, 50) == want, (q, allowed)  # kept unions: the same


def test_index_finds_the_city_behind_a_swap_in_its_first_letters(city_index: CityIndex) -> None:
    rng = random.Random(3)
    tried = found = 0
    for city in load_cities()[:300]:
        q = normalise(city.name)[:8]
        if len(q) < 5 or " " in q:
            continue
        i = rng.randrange(1, len(q) - 1)
        typo = q[:i] + q[i + 1] + q[i] + q[i + 2 :]  # two letters swapped
        hits = city_index.search(typo, limit=10)
        if typo == q or not hits or hits[0].tier != "typo":
            continue  # the swap made another name's prefix or substring: no typo search
        tried += 1
        found += normalise(city.name) in {normalise(hit.city.name) for hit in hits}
    assert tried > 50
    assert found / tried > 0.9, (found, tried)


def test_index_nearest_prefix_is_the_python_definition() -> None:
    rng = random.Random(4)
    names = [normalise(city.name) for city in load_cities()[:2000]]
    for _ in range(3000):
        name = rng.choice(names)
        q = list(
            rng.choice(names)[: rng.randint(1, 10)] if rng.random() < 0.3 else name[: rng.randint(1, 10)]
        )
        for _ in range(rng.randint(0, 3)):  # a delete, an insert, a change or a swap
            i, op = rng.randrange(len(q) + 1), rng.randrange(4)
            if op == 0 and i < len(q):
                del q[i]
            elif op == 1:
                q.insert(i, rng.choice("aeilnorst "))
            elif op == 2 and i < len(q):
                q[i] = rng.choice("aeilnorst")
            elif i + 1 < len(q):
                q[i], q[i + 1] = q[i + 1], q[i]
        for limit in (1, 2):
            assert nearest_prefix("".join(q), name, limit) == prefix_distance("".join(q), name, limit), (
                q,
                name,
            )


def test_index_normalise_all_and_the_in_place_map_agree_with_the_one_by_one_rules() -> None:
    names = [name for city in load_cities()[:5000] for name in (city.name, *city.alternates)]
    names += ["  São-Paulo!! ", "a\x00b", " ", "", "Straße", "x  y", "ຊຳເໜືອ"]
    assert normalise_all(names) == [normalise(name) for name in names]
    for name in names:
        norm, origin = normalise_with_map(name)
        if folds_in_place(name):
            assert origin == list(range(len(norm))), name
