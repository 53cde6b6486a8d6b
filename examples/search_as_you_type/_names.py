"""The index's building blocks: every name of every city, normalised, ranked and sorted once.

Built once at start-up from the cities (numbered by population, largest
first). Each *entry* is one distinct normalised name of one city; its
*rank* orders all entries by the weight the ranking gives them (the city's
population, a tenth of it for an alternate name), so "the best entries
whose name starts with q" is "the smallest ranks in one bisected range of
the sorted names" (exact names are a dict). Word starts are found the same
way, in a sorted list of the later words of the names; substrings, the last
tier before typos, from an index of the three-letter pieces of those names
and one of their two-letter pieces (:class:`Pieces`: only the names holding
every piece of the query are looked at, in rank order), or for one-letter
queries by one ``str.find`` pass over the names joined in rank order
(:class:`Text`); both stop as soon as they have enough.
"""

from __future__ import annotations

import bisect
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence

from ._cities import City
from ._text import normalise_all
from ._typos import TypoIndex

__all__ = ["ALTERNATE_WEIGHT", "TYPO_SPAN", "Names", "Pieces", "Sorted", "Text", "find_inside"]

#: A match through an alternate name counts this share of the city's population.
ALTERNATE_WEIGHT = 0.1
_CJK = 0x2E80  # from here on, scripts written without spaces
_SEP = "\x00"  # between names in a Text
TYPO_SPAN = 12  # typos are looked for in the first letters of main names
_FEW = 24  # so many candidate names are read as they are, not narrowed further
_NARROW_RATIO = 8  # narrow with a piece held by at most this many times the candidates


class Text:
    """Names joined into one string, for C-speed ``str.find`` scans (substrings)."""

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
        """Yield ``(entry, offset in the entry's name)`` of each occurrence, in the order given."""
        text, starts = self.text, self.starts
        pos = text.find(needle)
        while pos >= 0:
            i = bisect.bisect_right(starts, pos) - 1
            yield self.entry[i], pos - starts[i] - 1
            pos = text.find(needle, pos + 1)


class Pieces:
    """Each piece of ``size`` letters of some names, to the names that hold it, in the order given.

    Finds what :meth:`Text.find` finds, in the same order, for needles of
    ``size`` letters or more, without reading every name: only the names
    that hold every piece of the needle are checked. The rarest piece's
    names are the candidates; when there are many, they are narrowed to
    those also holding the next rarest pieces (a set intersection, done
    only while it costs less than reading the names it saves).
    """

    def __init__(self, entries: Iterable[tuple[str, int]], size: int = 3) -> None:
        self.size = size
        self.names: list[str] = []
        self.entry: list[int] = []
        self.postings: dict[str, list[int]] = {}
        postings = self.postings
        for i, (norm, entry) in enumerate(entries):
            self.names.append(norm)
            self.entry.append(entry)
            for k in range(len(norm) - size + 1):
                gram = norm[k : k + size]
                holders = postings.get(gram)
                if holders is None:
                    postings[gram] = [i]
                elif holders[-1] != i:  # once per name: its own pieces come one after another
                    holders.append(i)

    def find(self, needle: str) -> Iterator[tuple[int, int]]:
        """Yield ``(entry, offset in the entry's name)`` of each occurrence of ``needle`` (``size``+ letters)."""
        names, entry = self.names, self.entry
        for i in self._candidates(needle):
            name = names[i]
            pos = name.find(needle)
            while pos >= 0:
                yield entry[i], pos
                pos = name.find(needle, pos + 1)

    def _candidates(self, needle: str) -> list[int]:
        postings, size = self.postings, self.size
        lists = []
        for k in range(len(needle) - size + 1):
            holders = postings.get(needle[k : k + size])
            if holders is None:
                return []  # a piece no name holds: no name holds the needle
            lists.append(holders)
        lists.sort(key=len)
        candidates = lists[0]
        if len(candidates) <= _FEW:
            return candidates
        keep: set[int] | None = None
        for other in lists[1:]:
            # a hash lookup per name of `other` against a find per candidate: about 10x cheaper
            if len(other) > _NARROW_RATIO * len(candidates):
                break
            keep = set(candidates) if keep is None else keep
            keep.intersection_update(other)
            if len(keep) <= _FEW:
                break
        return candidates if keep is None else sorted(keep)


class Sorted:
    """Strings sorted once, each with the rank of its entry: the best ranks among those starting with q."""

    def __init__(self, keys: list[str], ranks: list[int]) -> None:
        import numpy as np  # the demo extra (checked at start-up, before the index is built)

        order = sorted(range(len(keys)), key=keys.__getitem__)
        self.keys = [keys[i] for i in order]
        self.ranks = [ranks[i] for i in order]
        self._np = np
        self._array = np.asarray(self.ranks, dtype=np.int64)  # the same, for ranges of many keys

    def __len__(self) -> int:
        return len(self.keys)

    def starting(self, q: str, wanted: int) -> Iterator[int]:
        """The ranks of the keys that start with ``q``, best first: the best ``wanted``, then more."""
        keys, end = self.keys, q + "\U0010ffff"
        lo = bisect.bisect_left(keys, q)
        probe = lo + wanted
        if probe < len(keys) and keys[probe] < end:
            hi = bisect.bisect_left(keys, end, probe)
        else:  # most queries: a few names start with them, all within `wanted` of the first
            hi = bisect.bisect_left(keys, end, lo, min(probe, len(keys)))
        if hi - lo <= wanted:
            yield from sorted(self.ranks[lo:hi])
            return
        np, ranks = self._np, self._array[lo:hi]
        taken = 0
        while taken < len(ranks):  # the best `wanted` (C speed), then twice as many, and so on
            wanted = max(wanted, 2 * taken)
            best = ranks if wanted >= len(ranks) else np.partition(ranks, wanted - 1)[:wanted]
            chosen: list[int] = np.sort(best).tolist()
            yield from chosen[taken:]
            taken = len(chosen)


class Names:
    """Every entry (name, normalised name, owner city, main or not), with the lookups built on them."""

    def __init__(self, cities: Sequence[City], *, later: bool = True) -> None:
        self.names: list[str] = []  # entry -> original name
        self.norms: list[str] = []  # entry -> normalised name
        self.owner: list[int] = []  # entry -> city number
        self.is_main: list[bool] = []
        self.main: list[int] = []  # the entries of main names
        self._read(cities)
        self.by_rank = self._ranked(cities)
        self.rank = [0] * len(self.norms)
        for r, e in enumerate(self.by_rank):
            self.rank[e] = r
        self.prefixes = Sorted(self.norms, self.rank)
        self._exact: dict[str, list[int]] = {}  # main name -> its entries, best rank first
        for e in self.main:  # main entries come in rank order (by population, then city order)
            self._exact.setdefault(self.norms[e], []).append(e)
        inside = list(_searched_inside(self))
        self.words = _word_starts(self, inside)
        self.text = Text((self.norms[e], e) for e in inside)  # in rank order: the first hits are the best
        self.wide = Text((self.norms[e], e) for e in inside if not self.norms[e].isascii())
        self.parent = _districts(cities, self)
        # The typo index and the indexes of pieces are built on a thread, so start-up does not
        # wait for them (about a second of the build). Until the pieces are there, the scan
        # answers substrings (the same hits in the same order, only slower); a typo search
        # in that second waits for its index.
        self.trigrams: Pieces | None = None
        self.bigrams: Pieces | None = None
        self.trigrams_ready, self._typos_ready = threading.Event(), threading.Event()
        self._typos: TypoIndex | None = None
        self._pieces = [(self.norms[e], e) for e in inside]
        self.later_started = False
        if later:
            self.build_later()

    def build_later(self, before: Callable[[], object] | None = None) -> None:
        """Start the thread that builds the typo index and the pieces (``later=False`` waits for this).

        ``before``: run first on that thread (a ``--workers`` worker makes its pages its own there).
        """
        if self.later_started:
            raise RuntimeError("the rest of the index is already being built")
        self.later_started = True
        pieces, self._pieces = self._pieces, []
        thread = threading.Thread(target=self._index_later, args=(pieces, before), name="index", daemon=True)
        thread.start()

    @property
    def typos(self) -> TypoIndex:
        """The typo index (waits for the start-up thread that builds it, in the first second)."""
        self._typos_ready.wait()
        if self._typos is None:
            raise RuntimeError("the typo index could not be built (see the index thread's error)")
        return self._typos

    def _index_later(self, pieces: list[tuple[str, int]], before: Callable[[], object] | None) -> None:
        if before is not None:
            try:
                before()
            except Exception as exc:  # only a speed-up: the index is built all the same
                print(f"index thread: {before!r} failed: {exc!r}", file=sys.stderr, flush=True)
        try:
            self._typos = TypoIndex(self.main, self.norms, TYPO_SPAN)
        finally:
            self._typos_ready.set()
        self.trigrams = Pieces(pieces, 3)
        self.bigrams = Pieces(pieces, 2)
        self.trigrams_ready.set()

    def _read(self, cities: Sequence[City]) -> None:
        """One entry per distinct normalised name of each city; the first is its main name."""
        names, norms, owner, is_main, main = self.names, self.norms, self.owner, self.is_main, self.main
        every = [name for city in cities for name in (city.name, *city.alternates)]
        folded = iter(normalise_all(every))
        for number, city in enumerate(cities):
            seen: set[str] = set()
            for name in (city.name, *city.alternates):
                norm = next(folded)
                if norm and norm not in seen:
                    if not seen:
                        main.append(len(norms))
                    names.append(name)
                    norms.append(norm)
                    owner.append(number)
                    is_main.append(not seen)
                    seen.add(norm)

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
        return self._exact.get(q, [])

    def starting(self, where: Sorted, q: str, wanted: int) -> Iterator[int]:
        """The entries of ``where`` (``prefixes``, ``words``) starting with ``q``, best first."""
        return map(self.by_rank.__getitem__, where.starting(q, wanted))


def find_inside(names: Names, needle: str) -> Iterator[tuple[int, int]]:
    """Every occurrence of ``needle`` in the names searched inside, best rank first: ``(entry, offset)``."""
    pieces = names.trigrams if len(needle) >= 3 else names.bigrams if len(needle) == 2 else None
    if pieces is not None:
        return pieces.find(needle)
    # one letter (or the indexes not built yet): one scan; a needle that is not ASCII can only
    # be in a name that is not
    return names.text.find(needle) if needle.isascii() else names.wide.find(needle)


def _searched_inside(names: Names) -> Iterator[int]:
    """The entries searched for words and substrings, best rank first.

    The main names, and the other names written in scripts without spaces
    (Chinese, Japanese, Korean: "京" is inside "北京").
    """
    is_main, norms = names.is_main, names.norms
    for e in names.by_rank:
        if is_main[e] or (not norms[e].isascii() and ord(max(norms[e])) >= _CJK):
            yield e


def _word_starts(names: Names, entries: list[int]) -> Sorted:
    """Every later word of those names, to its end ("paulo" of "sao paulo"), with its entry's rank."""
    keys: list[str] = []
    ranks: list[int] = []
    for e in entries:
        norm = names.norms[e]
        space = norm.find(" ")
        while space >= 0:
            keys.append(norm[space + 1 :])
            ranks.append(names.rank[e])
            space = norm.find(" ", space + 1)
    return Sorted(keys, ranks)


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
        space = norm.find(" ")
        while space >= 0:
            bigger = main.get((city.country_code, city.admin1, norm[:space]))
            if bigger is not None and bigger < number:
                parent[number] = bigger
                break
            space = norm.find(" ", space + 1)
    return parent
