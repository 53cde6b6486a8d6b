"""Text normalisation shared by the index, the endpoint and the pipeline.

One rule, applied to city names once at start-up and to every query: take
accents off (NFKD, drop combining marks), fold case, turn every run of
characters that are not letters or digits into one space. "São-Paulo " and
"sao paulo" both become ``"sao paulo"``; "北京" stays "北京".
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_QUERY_CHARS", "normalise", "normalise_with_map"]

#: Longer queries are rejected with a clear message (no city name is this long).
MAX_QUERY_CHARS = 200


def _fold_char(ch: str) -> str:
    out = []
    for part in unicodedata.normalize("NFKD", ch):
        if unicodedata.category(part).startswith("M"):
            continue  # accents, and the marks of abugidas (dropped alike in names and queries)
        for folded in part.casefold():
            out.append(folded if folded.isalnum() else " ")
    return "".join(out)


class _FoldTable(dict[int, str]):
    """``str.translate`` table computed on first use of each character."""

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        self[code] = folded
        return folded


_FOLD = _FoldTable()
_SPACES = re.compile(" +")


def normalise(text: str) -> str:
    """The searchable form of ``text``: no accents, case folded, single spaces.

    Example:
        >>> normalise("  São-Paulo!! ")
        'sao paulo'
        >>> normalise("北京")
        '北京'
    """
    return _SPACES.sub(" ", text.translate(_FOLD)).strip()


def normalise_with_map(text: str) -> tuple[str, list[int]]:
    """:func:`normalise`, plus for each output character the index of the input one it came from.

    The map lets a match found in the normalised name be highlighted in the
    original one.

    Example:
        >>> normalise_with_map("Ås")
        ('as', [0, 1])
    """
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for folded in _FOLD[ord(ch)]:
            if folded == " " and (not chars or chars[-1] == " "):
                continue
            chars.append(folded)
            origin.append(i)
    if chars and chars[-1] == " ":
        chars.pop()
        origin.pop()
    return "".join(chars), origin
