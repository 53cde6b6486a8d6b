"""What a result looks like: the matched name in highlighted pieces, and the JSON the endpoint sends.

A result is ``(city number, tier, entry, start, end, districts)``: ``start:end``
is where the query matched in the entry's normalised name. :func:`pieces`
maps that span back to the original name (accents, case and punctuation
kept); :class:`Payloads` encodes a list of results as the JSON array of
``Hit.to_json()`` objects, byte for byte, without building a dict per city:
each city's fields are encoded once, on its first result, and kept, so an
answer is a join of those bytes and one small encoded ``match`` per result.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from ._cities import City
from ._json import dumps
from ._text import normalise_with_map

__all__ = ["Payloads", "Result", "pieces"]

#: city number, tier, entry, start and end of the match in the entry's normalised name, districts
Result = tuple[int, str, int, int, int, int]
Pieces = tuple[tuple[str, bool], ...]


@lru_cache(maxsize=16384)
def _mapped(name: str) -> list[int]:
    """For each character of the normalised ``name``, where it came from (cached: names recur)."""
    return normalise_with_map(name)[1]


def _origin(name: str, norm: str) -> Sequence[int]:
    # An ASCII name whose lower case is its normalised form maps one to one (every other
    # character would have become a space, been dropped or been merged with another).
    if name.isascii() and name.lower() == norm:
        return range(len(name))
    return _mapped(name)


def pieces(name: str, norm: str, start: int, end: int) -> Pieces:
    """``name`` cut into pieces, the one matched by ``norm[start:end]`` marked ``True``.

    Example:
        >>> pieces("São Paulo", "sao paulo", 4, 9)
        (('São ', False), ('Paulo', True))
    """
    origin = _origin(name, norm)
    a = origin[start] if start < len(origin) else len(name)
    b = origin[end - 1] + 1 if 0 < end <= len(origin) else a
    return tuple(
        (text, hit) for text, hit in ((name[:a], False), (name[a:b], True), (name[b:], False)) if text
    )


class Payloads:
    """Results as the endpoint's JSON, from each city's fields encoded once.

    Example:
        >>> london = City(1, "London", "GB", "United Kingdom", 8_961_989)
        >>> Payloads([london], ["London"], ["london"]).encode([(0, "prefix", 0, 0, 4, 0)])[:45]
        b'[{"id":1,"name":"London","country":"United Ki'
    """

    def __init__(self, cities: Sequence[City], names: Sequence[str], norms: Sequence[str]) -> None:
        self.cities, self.names, self.norms = cities, names, norms
        self._heads: dict[int, bytes] = {}  # city number -> '{"id":...,"population":...,"match":'

    def _head(self, number: int) -> bytes:
        head = self._heads.get(number)
        if head is None:
            head = self._heads[number] = dumps(self.cities[number].to_json())[:-1] + b',"match":'
        return head

    def encode(self, results: Sequence[Result]) -> bytes:
        """The JSON array of the results' ``Hit.to_json()``, as ``dumps`` would write it."""
        names, norms, head = self.names, self.norms, self._head
        out = []
        for number, tier, entry, start, end, districts in results:
            name = names[entry]
            parts = [[text, hit] for text, hit in pieces(name, norms[entry], start, end)]
            match = dumps({"tier": tier, "name": name, "parts": parts})
            tail = b',"districts":%d}' % districts if districts else b"}"
            out.append(head(number) + match + tail)
        return b"[" + b",".join(out) + b"]"
