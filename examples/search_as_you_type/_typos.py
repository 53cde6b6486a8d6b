"""Typo candidates: the main names that share the most positioned letter pairs with a query.

A query with ``k`` typos still shares most of its letter pairs
(:func:`~._fuzzy.bigrams`) with the start of the name it means, each within
``k`` places of where it is in the query. The pairs of every main name are
indexed once at start-up, as numpy arrays of name slots; a query's shared
pairs are then counted for all names at once (one mark and one add of an
array per pair of the query) instead of set by set in Python, and only the
best few go on to the edit distance, which is the costly part.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._fuzzy import bigrams

if TYPE_CHECKING:
    import numpy as np

__all__ = ["TypoIndex"]


class TypoIndex:
    """The letter pairs of the first ``span`` letters of some names, to the names holding them.

    Example:
        >>> index = TypoIndex([0, 1], ["london", "paris"], span=12)
        >>> index.candidates("lodnon", allowed=1, wanted=5)
        [0]
    """

    def __init__(self, entries: Sequence[int], norms: Sequence[str], span: int) -> None:
        import numpy as np  # the demo extra; imported here, so a missing extra is reported clearly first

        self.np = np
        self.span = span
        self.entries: np.ndarray[Any, np.dtype[np.int64]] = np.asarray(
            entries, dtype=np.int64
        )  # slot -> entry
        lists: dict[tuple[str, int], list[int]] = {}
        for slot, entry in enumerate(entries):
            for gram in bigrams(norms[entry][:span]):
                holders = lists.get(gram)
                if holders is None:
                    lists[gram] = [slot]
                else:
                    holders.append(slot)
        self.postings = {gram: np.asarray(slots, dtype=np.int32) for gram, slots in lists.items()}

    def candidates(self, q: str, allowed: int, wanted: int) -> list[int]:
        """The entries of up to ``wanted`` names sharing the most of ``q``'s pairs (within ``allowed`` places).

        Only names sharing enough pairs to be ``allowed`` typos away count (one
        typo spoils at most three pairs: a swap does); among those, the most
        shared first, and the bigger city (the smaller slot) on a tie.
        """
        np = self.np
        grams = bigrams(q[: self.span])
        size = len(self.entries)
        counts = np.zeros(size, np.int16)
        mark = np.zeros(size, np.bool_)
        for gram, pos in grams:
            parts = [
                p
                for shift in range(max(0, pos - allowed), pos + allowed + 1)
                if (p := self.postings.get((gram, shift))) is not None
            ]
            if not parts:
                continue
            mark.fill(False)
            for part in parts:
                mark[part] = True  # a name counts once per pair of the query, at whichever place
            counts += mark
        need = max(1, len(grams) - 3 * allowed)
        slots = np.flatnonzero(counts >= need)
        key = (len(grams) - counts[slots].astype(np.int64)) * size + slots  # most shared, then slot
        if len(slots) > wanted:
            best = np.argpartition(key, wanted - 1)[:wanted]
            slots, key = slots[best], key[best]
        chosen: list[int] = self.entries[slots[np.argsort(key)]].tolist()
        return chosen
