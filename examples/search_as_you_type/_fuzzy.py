"""Typo tolerance: how far a query is from being a prefix of a name.

The distance counts insertions, deletions, substitutions and swaps of two
neighbouring letters (optimal string alignment), so "lodnon", "londn" and
"lindon" are all close to "london".

:func:`prefix_distance` is the definition, in Python (0.1-0.2 ms a name);
:func:`nearest_prefix` gives the same answer with ``rapidfuzz``'s C++ OSA
distance (the ``demo`` extra; 1-2 µs a name) and falls back to
the definition when ``rapidfuzz`` is not installed.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["bigrams", "max_typos", "nearest_prefix", "prefix_distance"]


def max_typos(query: str) -> int:
    """How many typos a query of this length may hold: none below 4 letters, 1 up to 5, then 2.

    Example:
        >>> [max_typos("x" * n) for n in (3, 4, 8)]
        [0, 1, 2]
    """
    n = len(query)
    return 0 if n < 4 else 1 if n <= 7 else 2


def bigrams(text: str) -> list[tuple[str, int]]:
    """The two-letter pieces of ``"^" + text`` with their positions (``^`` anchors the start).

    A query with ``k`` typos still shares most of its pieces with the name,
    each within ``k`` places of where it is in the query.

    Example:
        >>> bigrams("abc")
        [('^a', 0), ('ab', 1), ('bc', 2)]
    """
    padded = "^" + text
    return [(padded[i : i + 2], i) for i in range(len(padded) - 1)]


def prefix_distance(query: str, name: str, limit: int) -> tuple[int, int]:
    """The fewest edits that turn ``query`` into a prefix of ``name``, and that prefix's length.

    Returns ``(limit + 1, 0)`` as soon as the distance is known to exceed ``limit``.

    Example:
        >>> prefix_distance("lodnon", "london", 2)
        (1, 6)
        >>> prefix_distance("lond", "paris", 1)
        (2, 0)
    """
    m = len(query)
    s = name[: m + limit]
    n = len(s)
    too_far = (limit + 1, 0)
    prev2: list[int] = []
    prev = list(range(n + 1))
    for i in range(1, m + 1):
        cur = [i] + [0] * n
        qc = query[i - 1]
        for j in range(1, n + 1):
            cost = 0 if qc == s[j - 1] else 1
            best = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and qc == s[j - 2] and query[i - 2] == s[j - 1]:
                best = min(best, prev2[j - 2] + 1)
            cur[j] = best
        if min(cur) > limit:
            return too_far
        prev2, prev = prev, cur
    best_j = min(range(n + 1), key=lambda j: (prev[j], -j))
    if prev[best_j] > limit:
        return too_far
    return prev[best_j], best_j


def _osa() -> Callable[..., int] | None:
    try:
        from rapidfuzz.distance import OSA
    except ImportError:  # pragma: no cover - the demo extra installs it
        return None
    return OSA.distance


_OSA = _osa()


def nearest_prefix(query: str, name: str, limit: int) -> tuple[int, int]:
    """:func:`prefix_distance`, the same answer, computed in C++ by ``rapidfuzz`` when it is installed.

    The distance to a prefix of ``name`` is the smallest OSA distance from
    ``query`` to ``name[:j]``; only ``j`` within ``limit`` of the query's
    length can be close enough, so at most ``2 * limit + 1`` distances are
    computed, each stopping at ``limit``. On a tie the longest prefix wins,
    as in :func:`prefix_distance`.

    Example:
        >>> nearest_prefix("lodnon", "london", 2), nearest_prefix("lond", "paris", 1)
        ((1, 6), (2, 0))
    """
    osa = _OSA
    if osa is None:  # pragma: no cover - the demo extra installs rapidfuzz
        return prefix_distance(query, name, limit)
    m = len(query)
    s = name[: m + limit]
    best, best_j = limit + 1, 0
    for j in range(max(0, m - limit), len(s) + 1):
        distance = osa(query, s[:j], score_cutoff=limit)
        if distance <= best:
            best, best_j = distance, j
    return (best, best_j) if best <= limit else (limit + 1, 0)
