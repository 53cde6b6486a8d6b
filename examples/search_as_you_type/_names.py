"""The index's building blocks: every name of every city, normalised, ranked and sorted once.

Built once at start-up from the cities (numbered by population, largest
first). Each *entry* is one distinct normalised name of one city; its
*rank* orders all entries by the weight the ranking gives them (the city's
population, a tenth of it for an alternate name), so "the best entries
whose name starts with q" is "the smallest ranks in one bisected range of
the sorted names". Words and substrings are found the same way, in sorted
lists of the names' word starts and of their other suffixes (a suffix
array of the names): no search scans all names.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterator, Sequence

from ._cities import City
from ._fuzzy import bigrams
from ._text import normalise

__all__ = ["ALTERNATE_WEIGHT", "TYPO_SPAN", "Names", "Sorted"]

#: A match through an alternate name counts this share of the city's population.
ALTERNATE_WEIGHT = 0.1
_CJK = 0x2E80  # from here on, scripts written without spaces
TYPO_SPAN = 12  # typos are looked for in the first letters of main names


class Sorted:
    """Strings sorted once, each with the rank of its entry: the best ranks among those starting with q."""

    def __init__(self, keys: list[str], ranks: list[int]) -> None:
        order = sorted(range(len(keys)), key=keys.__getitem__)
        self.keys = [keys[i] for i in order]
        self.ranks = [ranks[i] for i in order]

    def __len__(self) -> int:
        return len(self.keys)

    def starting(self, q: str, wanted: int) -> Iterator[int]:
        """The ranks of the keys that start with ``q``, best first: the best ``wanted``, then more."""
        lo = bisect.bisect_left(self.keys, q)
        hi = bisect.bisect_left(self.keys, q + "\U0010ffff", lo)
        ranks = self.ranks[lo:hi]
        taken = 0
        while taken < len(ranks):
            wanted = max(wanted, 2 * taken)
            best = heapq.nsmallest(wanted, ranks)
            yield from best[taken:]
            taken = len(best)


class Names:
    """Every entry (name, normalised name, owner city, main or not), with the lookups built on them."""

    def __init__(self, cities: Sequence[City]) -> None:
        self.names: list[str] = []  # entry -> original name
        self.norms: list[str] = []  # entry -> normalised name
        self.owner: list[int] = []  # entry -> city number
        self.is_main: list[bool] = []
        self.main: list[int] = []  # city number -> its main name's entry
        for number, city in enumerate(cities):
            seen: set[str] = set()
            for name in (city.name, *city.alternates):
                norm = normalise(name)
                if norm and norm not in seen:
                    self._add(name, norm, number, not seen)
                    seen.add(norm)
        self.by_rank = self._ranked(cities)
        self.rank = [0] * len(self.norms)
        for r, e in enumerate(self.by_rank):
            self.rank[e] = r
        self.prefixes = Sorted(self.norms, self.rank)
        self.words, self.inner = _suffixes(self)
        self.grams: dict[tuple[str, int], list[int]] = {}
        for e in range(len(self.norms)):
            if self.is_main[e]:
                for gram in bigrams(self.norms[e][:TYPO_SPAN]):
                    self.grams.setdefault(gram, []).append(e)
        self.parent = _districts(cities, self)

    def _add(self, name: str, norm: str, number: int, is_main: bool) -> None:
        if is_main:
            self.main.append(len(self.norms))
        self.names.append(name)
        self.norms.append(norm)
        self.owner.append(number)
        self.is_main.append(is_main)

    def _ranked(self, cities: Sequence[City]) -> list[int]:
        """Entries, best first: by population (a tenth for an alternate name), then city order."""
        population = [float(city.population) for city in cities]
        weight = [
            -population[number] * (1.0 if main else ALTERNATE_WEIGHT)
            for number, main in zip(self.owner, self.is_main, strict=True)
        ]
        return sorted(range(len(weight)), key=weight.__getitem__)  # stable: city order breaks ties

    def exact(self, q: str) -> list[int]:
        """The entries whose main name is exactly ``q``, best rank first."""
        keys = self.prefixes.keys
        lo = bisect.bisect_left(keys, q)
        hi = bisect.bisect_right(keys, q, lo)
        entries = (self.by_rank[r] for r in sorted(self.prefixes.ranks[lo:hi]))
        return [e for e in entries if self.is_main[e]]

    def starting(self, where: Sorted, q: str, wanted: int) -> Iterator[int]:
        """The entries of ``where`` (``prefixes``, ``words``, ``inner``) starting with ``q``, best first."""
        by_rank = self.by_rank
        for r in where.starting(q, wanted):
            yield by_rank[r]


def _suffixes(names: Names) -> tuple[Sorted, Sorted]:
    """Sorted word starts (after a space) and other suffixes of the names searched inside.

    Those are the main names, and the other names written in scripts without
    spaces (Chinese, Japanese, Korean: "京" is inside "北京"). Each key
    carries its entry's rank.
    """
    words: tuple[list[str], list[int]] = ([], [])
    inner: tuple[list[str], list[int]] = ([], [])
    for e, norm in enumerate(names.norms):
        if names.is_main[e] or (not norm.isascii() and ord(max(norm)) >= _CJK):
            rank = names.rank[e]
            for i in range(1, len(norm)):
                if norm[i] != " ":
                    keys, ranks = words if norm[i - 1] == " " else inner
                    keys.append(norm[i:])
                    ranks.append(rank)
    return Sorted(*words), Sorted(*inner)


def _districts(cities: Sequence[City], names: Names) -> list[int]:
    """City number -> the number of the city it is a district of (itself if none).

    A district is a place whose name (main or alternate) is a larger city's
    main name followed by more words, in the same country and region:
    "Paris 15 Vaugirard" under Paris, "London Borough of Brent" under London.
    """
    main: dict[tuple[str, str, str], int] = {}
    for e in names.main:
        city = cities[names.owner[e]]
        main.setdefault((city.country_code, city.admin1, names.norms[e]), names.owner[e])
    parent = list(range(len(cities)))
    for e, norm in enumerate(names.norms):
        if " " not in norm:
            continue
        number = names.owner[e]
        if parent[number] != number:
            continue
        city = cities[number]
        for i, ch in enumerate(norm):
            if ch == " ":
                bigger = main.get((city.country_code, city.admin1, norm[:i]))
                if bigger is not None and bigger < number:
                    parent[number] = bigger
                    break
    return parent
