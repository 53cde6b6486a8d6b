"""The city index and its ranking: exact names, then prefixes, words, substrings; typos last.

The ranking, best first (the guide's "Ranking" section says the same):

1. **exact**: the city's main name *is* the query (``paris`` → Paris, Paris (Texas));
2. **prefix**: a name starts with the query: the main name (``lond`` → London)
   or an alternate one (tier ``other name``: ``北京`` → Beijing, ``bombay`` →
   Mumbai, ``lond`` → East London, whose other names include "Londen-Oos");
3. **word**: a later word of the main name starts with it (``paulo`` → São Paulo);
4. **substring**: a name contains it;
5. **typo**: only when nothing above matched, the query is one typo (two from
   eight letters) away from the start of a main name (``lodnon`` → London).

The index is built once at start-up: exact names, prefixes and word starts
are bisected ranges of sorted lists, typo candidates come from positioned
letter pairs, substrings from three-letter pieces (only the names holding
the query's rarest piece are read, in rank order; a query shorter than
three letters is one C-speed ``str.find`` pass over the names), both
stopping when they have enough. Within a tier the larger population wins; a match through an alternate name
counts a tenth of the city's population (so East London, 478,676 people,
comes before Londuimbali, 17,000, but not before London, Ontario). A
district ("Paris 15 Vaugirard", "London Borough of Brent") is folded under
its city when both match: the city is listed once, with the number of its
districts that matched. Names and queries go through the same
:func:`~._text.normalise`, so accents, case and punctuation never matter.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from ._cities import City
from ._fuzzy import max_typos, prefix_distance
from ._names import Names, find_inside
from ._text import normalise, normalise_with_map

__all__ = ["RANKS", "TIERS", "CityIndex", "Hit"]

TIERS = ("exact", "prefix", "other name", "word", "substring", "typo")
#: The tier's place in the ranking: a main-name and an other-name prefix share one.
RANKS = {"exact": 0, "prefix": 1, "other name": 1, "word": 2, "substring": 3, "typo": 4}
_TYPO_CANDIDATES = 5  # names checked for typos, per result wanted
Match = tuple[int, int, int]  # entry, start and end of the match in its normalised name


@dataclass(frozen=True, slots=True)
class Hit:
    """One result: the city, how it matched, the name it matched in pieces, its districts that matched."""

    city: City
    tier: str
    matched_name: str
    parts: tuple[tuple[str, bool], ...]
    districts: int = 0

    def to_json(self) -> dict[str, Any]:
        """The hit as the endpoint sends it: city fields plus ``match`` (and ``districts``)."""
        out = self.city.to_json()
        out["match"] = {
            "tier": self.tier,
            "name": self.matched_name,
            "parts": [[text, hit] for text, hit in self.parts],
        }
        if self.districts:
            out["districts"] = self.districts
        return out


class CityIndex:
    """Ranked city search over names normalised, sorted and indexed once at start-up.

    Example:
        >>> from examples.search_as_you_type._cities import City
        >>> index = CityIndex([City(1, "London", "GB", "United Kingdom", 8_961_989, ("Londres",)),
        ...                    City(2, "Londrina", "BR", "Brazil", 506_701)])
        >>> [h.city.name for h in index.search("lond")]
        ['London', 'Londrina']
    """

    def __init__(self, cities: Sequence[City], *, cache_size: int = 4096) -> None:
        self.cities = sorted(cities, key=lambda c: (-c.population, c.name))
        self._n = Names(self.cities)
        self._cache: OrderedDict[tuple[str, int], list[Hit]] = OrderedDict()
        self._cache_size = cache_size

    def __len__(self) -> int:
        return len(self.cities)

    def search(self, query: str, limit: int = 10) -> list[Hit]:
        """The best ``limit`` cities for ``query`` (normalised here), best first.

        Results of recent queries are kept (an LRU of ``cache_size`` entries).
        """
        q = normalise(query)
        if not q or limit < 1:
            return []
        key = (q, limit)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        hits = self._search(q, limit)
        self._cache[key] = hits
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return hits

    def _search(self, q: str, limit: int) -> list[Hit]:
        found: dict[int, tuple[str, Match]] = {}  # city number -> how it matched, in order
        districts: Counter[int] = Counter()
        n = self._n
        for tier, matches in self._tiers(q, limit):
            for match in matches:
                number = n.owner[match[0]]
                if number in found:
                    continue
                parent = n.parent[number]
                if parent != number and parent in found:
                    districts[parent] += 1
                    continue
                found[number] = (tier, match)
                if len(found) >= limit:
                    return self._hits(found, districts)
            if tier == "substring" and found:
                break  # typos only when nothing matched
        return self._hits(found, districts)

    def _tiers(self, q: str, limit: int) -> Iterator[tuple[str, Iterator[Match]]]:
        n, span, wanted = self._n, len(q), 4 * limit
        yield "exact", ((e, 0, span) for e in n.exact(q))
        yield "prefix", ((e, 0, span) for e in n.starting(n.prefixes, q, wanted))
        yield "word", (_at(e, n.norms[e], q) for e in n.starting(n.words, q, wanted))
        yield "substring", self._inside(q)
        yield "typo", self._typos(q, limit)

    def _inside(self, q: str) -> Iterator[Match]:
        """Names containing ``q`` not at a word start, best first (one lazy scan)."""
        norms, span = self._n.norms, len(q)
        for entry, offset in find_inside(self._n, q):
            if offset > 0 and norms[entry][offset - 1] != " ":
                yield entry, offset, offset + span

    def _hits(self, found: dict[int, tuple[str, Match]], districts: Counter[int]) -> list[Hit]:
        n = self._n
        hits = []
        for number, (tier, (entry, start, end)) in found.items():
            if tier == "prefix" and not n.is_main[entry]:
                tier = "other name"
            hit = _hit(self.cities[number], n.names[entry], tier, start, end)
            hits.append(replace(hit, districts=districts[number]) if districts[number] else hit)
        return hits

    def _typos(self, q: str, limit: int) -> Iterator[Match]:
        allowed = max_typos(q)
        if not allowed:
            return
        n = self._n
        # Check the names sharing the most letter pairs first, and only as many as can
        # fill the list: the edit distance is the costly part.
        candidates = n.typos.candidates(q, allowed, _TYPO_CANDIDATES * limit)
        scored = []
        for e in candidates:
            distance, length = prefix_distance(q, n.norms[e], allowed)
            if distance <= allowed:
                scored.append((distance, n.owner[e], e, length))
        scored.sort()
        for _, _, e, length in scored[: 2 * limit]:
            yield e, 0, length


def _at(entry: int, norm: str, q: str) -> Match:
    """Where ``q`` starts a later word of ``norm``."""
    start = norm.find(" " + q) + 1
    return entry, start, start + len(q)


@lru_cache(maxsize=16384)
def _origin(name: str) -> list[int]:
    """For each character of the normalised ``name``, where it came from (cached: names recur)."""
    return normalise_with_map(name)[1]


def _hit(city: City, name: str, tier: str, start: int, end: int) -> Hit:
    """A hit whose ``parts`` mark ``start:end`` of the normalised ``name`` in the original one."""
    origin = _origin(name)
    a = origin[start] if start < len(origin) else len(name)
    b = origin[end - 1] + 1 if 0 < end <= len(origin) else a
    parts = tuple(
        (text, hit) for text, hit in ((name[:a], False), (name[a:b], True), (name[b:], False)) if text
    )
    return Hit(city, tier, name, parts)
