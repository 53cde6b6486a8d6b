"""The city index: prefix first, then word prefix, substring and typo-tolerant matches.

Built once at start-up (about a second). Cities are numbered by population,
largest first, so "the most populous of these" is "the smallest numbers",
and every tier below can stop as soon as it has enough:

1. the main name starts with the query (``lond`` → London);
2. another name starts with it (``北京`` → Beijing, ``pekin`` → Beijing);
3. a word of a name starts with it (``paulo`` → São Paulo);
4. a name contains it;
5. the query is one or two typos away from the start of a main name
   (``lodnon`` → London).

Within a tier, the larger population wins. Names and queries go through the
same :func:`~._text.normalise`, so accents, case and punctuation never matter.
"""

from __future__ import annotations

import bisect
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ._cities import City
from ._fuzzy import bigrams, max_typos, prefix_distance
from ._text import normalise, normalise_with_map

__all__ = ["TIERS", "CityIndex", "Hit"]

TIERS = ("prefix", "other name", "word", "substring", "typo")
_SEP = "\x00"
_TYPO_SPAN = 12  # typos are looked for in the first letters of main names
_TYPO_CANDIDATES = 5  # names checked for typos, per result wanted


@dataclass(frozen=True, slots=True)
class Hit:
    """One result: the city, how it matched, and the name it matched in pieces for highlighting."""

    city: City
    tier: str
    matched_name: str
    parts: tuple[tuple[str, bool], ...]

    def to_json(self) -> dict[str, Any]:
        """The hit as the endpoint sends it: city fields plus ``match``."""
        out = self.city.to_json()
        out["match"] = {
            "tier": self.tier,
            "name": self.matched_name,
            "parts": [[text, hit] for text, hit in self.parts],
        }
        return out


class _Text:
    """Names joined into one string, in city order, for C-speed ``str.find`` scans."""

    def __init__(self, entries: Iterable[tuple[str, int]]) -> None:
        chunks: list[str] = []
        self.starts: list[int] = []
        self.entry: list[int] = []
        pos = 0
        for norm, entry in entries:
            self.starts.append(pos)
            self.entry.append(entry)
            chunks.append(_SEP + norm)
            pos += len(norm) + 1
        self.text = "".join(chunks)

    def find(self, needle: str) -> Iterator[tuple[int, int]]:
        """Yield ``(entry, offset in the entry's name)`` of each occurrence, in city order."""
        text, starts = self.text, self.starts
        pos = text.find(needle)
        while pos >= 0:
            i = bisect.bisect_right(starts, pos) - 1
            yield self.entry[i], pos - starts[i] - 1
            pos = text.find(needle, pos + 1)


class CityIndex:
    """Ranked city search over precomputed, normalised names.

    Example:
        >>> from examples.search_as_you_type._cities import City
        >>> index = CityIndex([City(1, "London", "GB", "United Kingdom", 8_961_989, ("Londres",)),
        ...                    City(2, "Londrina", "BR", "Brazil", 506_701)])
        >>> [h.city.name for h in index.search("lond")]
        ['London', 'Londrina']
    """

    def __init__(self, cities: Sequence[City], *, cache_size: int = 4096) -> None:
        self.cities = sorted(cities, key=lambda c: (-c.population, c.name))
        self._names: list[str] = []  # entry -> original name
        self._norms: list[str] = []  # entry -> normalised name
        self._owner: list[int] = []  # entry -> city number
        self._is_main: list[bool] = []
        for number, city in enumerate(self.cities):
            seen: set[str] = set()
            for name in (city.name, *city.alternates):
                norm = normalise(name)
                if norm and norm not in seen:
                    seen.add(norm)
                    self._add(name, norm, number, not self._is_main or self._owner[-1] != number)
        entries = range(len(self._norms))
        main = sorted((self._norms[e], e) for e in entries if self._is_main[e])
        alt = sorted((self._norms[e], e) for e in entries if not self._is_main[e])
        self._main_keys, self._main_entries = [k for k, _ in main], [e for _, e in main]
        self._alt_keys, self._alt_entries = [k for k, _ in alt], [e for _, e in alt]
        # word and substring matches: main names in Latin letters, every name in other scripts
        self._ascii = _Text(
            (self._norms[e], e) for e in entries if self._is_main[e] and self._norms[e].isascii()
        )
        self._other = _Text((self._norms[e], e) for e in entries if not self._norms[e].isascii())
        self._grams: dict[tuple[str, int], list[int]] = {}
        for e in entries:
            if self._is_main[e]:
                for gram in bigrams(self._norms[e][:_TYPO_SPAN]):
                    self._grams.setdefault(gram, []).append(e)
        self._cache: OrderedDict[tuple[str, int], list[Hit]] = OrderedDict()
        self._cache_size = cache_size

    def _add(self, name: str, norm: str, number: int, is_main: bool) -> None:
        self._names.append(name)
        self._norms.append(norm)
        self._owner.append(number)
        self._is_main.append(is_main)

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
        found: dict[int, Hit] = {}
        word, inner = self._scan(q, limit + len(found))
        tiers = (
            self._prefix(q, self._main_keys, self._main_entries, limit),
            self._prefix(q, self._alt_keys, self._alt_entries, limit),
            word,
            inner,
            self._typos(q, limit),
        )
        for tier, matches in zip(TIERS, tiers, strict=True):
            for entry, start, end in matches:
                number = self._owner[entry]
                if number not in found:
                    found[number] = self._hit(entry, tier, start, end)
                    if len(found) >= limit:
                        return list(found.values())
        return list(found.values())

    def _prefix(
        self, q: str, keys: list[str], entries: list[int], limit: int
    ) -> Iterator[tuple[int, int, int]]:
        lo = bisect.bisect_left(keys, q)
        hi = bisect.bisect_left(keys, q + "\U0010ffff", lo)
        best: dict[int, int] = {}  # city number -> entry
        for e in entries[lo:hi]:
            number = self._owner[e]
            if number not in best:
                best[number] = e
        for number in sorted(best)[: 2 * limit]:
            yield best[number], 0, len(q)

    def _scan(
        self, q: str, limit: int
    ) -> tuple[Iterator[tuple[int, int, int]], Iterator[tuple[int, int, int]]]:
        """Lazily, in one pass over the names: word-prefix hits, then other substring hits."""
        word: list[tuple[int, int, int]] = []
        inner: list[tuple[int, int, int]] = []
        scanned = False

        def scan() -> None:
            nonlocal scanned
            if scanned:
                return
            scanned = True
            text = self._ascii if q.isascii() else self._other
            word_cities: set[int] = set()
            inner_cities: set[int] = set()
            for entry, offset in text.find(q):
                number = self._owner[entry]
                if offset > 0 and self._norms[entry][offset - 1] == " ":
                    if number not in word_cities:
                        word_cities.add(number)
                        word.append((entry, offset, offset + len(q)))
                        if len(word_cities) >= 2 * limit:
                            return  # every later word hit, and every inner one, ranks lower
                elif offset > 0 and number not in inner_cities and len(inner_cities) < 2 * limit:
                    inner_cities.add(number)
                    inner.append((entry, offset, offset + len(q)))

        def tier(hits: list[tuple[int, int, int]]) -> Iterator[tuple[int, int, int]]:
            scan()
            yield from hits

        return tier(word), tier(inner)

    def _typos(self, q: str, limit: int) -> Iterator[tuple[int, int, int]]:
        allowed = max_typos(q)
        if not allowed:
            return
        grams = bigrams(q[:_TYPO_SPAN])
        counts: Counter[int] = Counter()
        for gram, pos in grams:
            near: set[int] = set()
            for shift in range(max(0, pos - allowed), pos + allowed + 1):
                near.update(self._grams.get((gram, shift), ()))
            counts.update(near)
        need = len(grams) - 3 * allowed  # one typo spoils at most 3 pieces (a swap does)
        # Check the names sharing the most pieces first, and only as many as can fill
        # the list: the edit distance is the costly part.
        candidates = [
            (e, shared) for e, shared in counts.most_common(_TYPO_CANDIDATES * limit) if shared >= need
        ]
        scored = []
        for e, _ in candidates:
            distance, length = prefix_distance(q, self._norms[e], allowed)
            if distance <= allowed:
                scored.append((distance, self._owner[e], e, length))
        scored.sort()
        for _, _, e, length in scored[: 2 * limit]:
            yield e, 0, length

    def _hit(self, entry: int, tier: str, start: int, end: int) -> Hit:
        name = self._names[entry]
        _, origin = normalise_with_map(name)
        a = origin[start] if start < len(origin) else len(name)
        b = origin[end - 1] + 1 if 0 < end <= len(origin) else a
        parts = tuple(
            (text, hit) for text, hit in ((name[:a], False), (name[a:b], True), (name[b:], False)) if text
        )
        return Hit(self.cities[self._owner[entry]], tier, name, parts)
