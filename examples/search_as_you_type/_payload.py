"""What a result looks like: the matched name in highlighted pieces, and the JSON the endpoint sends.

A result is ``(city number, tier, entry, start, end, districts)``: ``start:end``
is where the query matched in the entry's normalised name. :func:`pieces`
maps that span back to the original name (accents, case and punctuation
kept); :class:`Payloads` encodes a list of results as the JSON array of
``Hit.to_json()`` objects, byte for byte, without building a dict per city:
each city's fields are encoded once, at start-up, so an
answer is a join of those bytes and one small ``match`` per result. A
``match`` whose name maps to its normalised form one to one and needs no
JSON escape (most) is written from the name's pieces directly; any other
goes through ``dumps``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from ._cities import City
from ._json import dumps
from ._text import folds_in_place, normalise_with_map

__all__ = ["Payloads", "Result", "pieces"]

#: city number, tier, entry, start and end of the match in the entry's normalised name, districts
Result = tuple[int, str, int, int, int, int]
Pieces = tuple[tuple[str, bool], ...]


@lru_cache(maxsize=16384)
def _mapped(name: str) -> list[int]:
    """For each character of the normalised ``name``, where it came from (cached: names recur)."""
    return normalise_with_map(name)[1]


def _origin(name: str, norm: str) -> Sequence[int]:
    # Each ASCII character folds to one character; only spaces are then dropped (leading,
    # trailing, repeated). So an ASCII name as long as its normalised form maps one to one.
    if (len(name) == len(norm) and name.isascii()) or folds_in_place(name):
        return range(len(norm))
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
        self.names, self.norms = names, norms
        # city number -> b'{"id":...,"population":...,"match":' (all at once: about 50 ms)
        self._heads = [dumps(city.to_json())[:-1] + b',"match":' for city in cities]

    def encode(self, results: Sequence[Result]) -> bytes:
        """The JSON array of the results' ``Hit.to_json()``, as ``dumps`` would write it."""
        names, norms, heads = self.names, self.norms, self._heads
        out = []
        for number, tier, entry, start, end, districts in results:
            name, norm = names[entry], norms[entry]
            span = len(norm)
            if ((span == len(name) and name.isascii()) or folds_in_place(name)) and _plain(name):
                # the common case: the match maps back one to one and the name needs no escape,
                # so its pieces go in as they are (what dumps would write, without the dict)
                a = start if start < span else len(name)
                b = end if 0 < end <= span else a
                match = _TIER_HEADS[tier] + b'"%s","parts":[%s]}' % (name.encode(), _parts(name, a, b))
            else:
                match = dumps({"tier": tier, "name": name, "parts": pieces(name, norm, start, end)})
            tail = b',"districts":%d}' % districts if districts else b"}"
            out.append(heads[number] + match + tail)
        return b"[" + b",".join(out) + b"]"


_TIER_HEADS = {
    tier: b'{"tier":"%s","name":' % tier.encode()
    for tier in ("exact", "prefix", "other name", "word", "substring", "typo")
}
_ESCAPED = re.compile(r'["\\\x00-\x1f]')  # what JSON escapes (orjson and json alike)


def _plain(name: str) -> bool:
    """Whether JSON writes ``name`` as it is, between quotes (no quote, backslash or control character)."""
    return _ESCAPED.search(name) is None


def _parts(name: str, a: int, b: int) -> bytes:
    """``pieces`` as JSON for a plain name cut at ``a`` and ``b``: only the non-empty ones."""
    out = []
    if a:
        out.append(b'["%s",false]' % name[:a].encode())
    if b > a:
        out.append(b'["%s",true]' % name[a:b].encode())
    if b < len(name):
        out.append(b'["%s",false]' % name[b:].encode())
    return b",".join(out)
