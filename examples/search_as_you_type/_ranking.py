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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ._cities import City
from ._fuzzy import max_typos, nearest_prefix
from ._names import Names, find_inside
from ._payload import Payloads, Result, pieces
from ._text import normalise

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

    def __init__(self, cities: Sequence[City], *, cache_size: int = 4096, later: bool = True) -> None:
        self.cities = sorted(cities, key=lambda c: (-c.population, c.name))
        self._n = Names(self.cities, later=later)
        self._payloads = Payloads(self.cities, self._n.names, self._n.norms)
        self._cache: OrderedDict[tuple[str, int], list[Hit]] = OrderedDict()
        self._cache_size = cache_size

    def __len__(self) -> int:
        return len(self.cities)

    def build_later(self, before: Callable[[], object] | None = None) -> None:
        """With ``later=False``: start the thread that builds the rest (typos, substrings; about a second).

        Until it is done, substrings are found by a slower scan and a typo search waits.
        ``before`` runs first on that thread.
        """
        self._n.build_later(before)

    def later_started(self) -> bool:
        """Whether the thread that builds the rest has been started (it can be, once)."""
        return self._n.later_started

    def ready(self) -> bool:
        """Whether the indexes built on a thread at start-up are all there (about a second)."""
        return self._n.trigrams_ready.is_set()

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
        hits = [self._hit(result) for result in self._results(q, limit)]
        self._cache[key] = hits
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return hits

    def search_json(self, query: str, limit: int = 10) -> bytes:
        """:meth:`search`'s hits as the JSON array of their ``to_json()``, encoded (not cached).

        Example:
            >>> index = CityIndex([City(1, "Paris", "FR", "France", 2_000_000)])
            >>> index.search_json("par")[:40]
            b'[{"id":1,"name":"Paris","country":"Franc'
        """
        q = normalise(query)
        if not q or limit < 1:
            return b"[]"
        return self._payloads.encode(self._results(q, limit))

    def _results(self, q: str, limit: int) -> list[Result]:
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
                    return self._resolved(found, districts)
            if tier == "substring" and found:
                break  # typos only when nothing matched
        return self._resolved(found, districts)

    def _resolved(self, found: dict[int, tuple[str, Match]], districts: Counter[int]) -> list[Result]:
        """``(number, tier, entry, start, end, districts)``; a prefix of another name is ``other name``."""
        is_main = self._n.is_main
        return [
            (
                number,
                "other name" if tier == "prefix" and not is_main[e] else tier,
                e,
                a,
                b,
                districts[number],
            )
            for number, (tier, (e, a, b)) in found.items()
        ]

    def _hit(self, result: Result) -> Hit:
        number, tier, entry, start, end, districts = result
        name = self._n.names[entry]
        return Hit(self.cities[number], tier, name, pieces(name, self._n.norms[entry], start, end), districts)

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
            distance, length = nearest_prefix(q, n.norms[e], allowed)
            if distance <= allowed:
                scored.append((distance, n.owner[e], e, length))
        scored.sort()
        for _, _, e, length in scored[: 2 * limit]:
            yield e, 0, length


def _at(entry: int, norm: str, q: str) -> Match:
    """Where ``q`` starts a later word of ``norm``."""
    start = norm.find(" " + q) + 1
    return entry, start, start + len(q)
