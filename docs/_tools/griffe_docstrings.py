"""A griffe extension for the docs build: rxasync's docstring conventions, rendered well.

rxasync's docstrings are Google style with two habits that Markdown does not
know: Sphinx roles (``:class:`X```, shown as plain ``X``), an ``Example:`` section (griffe parses ``Examples:``, plural, as
doctest blocks; the singular would be an admonition whose ``>>>`` lines read
as text) and reST literal blocks introduced by ``Marble::``. This rewrites
both before griffe parses the docstring, so every example is a highlighted
Python console block and every marble diagram a monospaced one. The source
docstrings stay as they are (doctest runs them unchanged).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|mod|attr|exc|data|obj|ref):`~?\.?([^`]+)`")
_EXAMPLE = re.compile(r"^(\s*)Example:\s*$", re.M)
_LITERAL = re.compile(
    r"^(?P<indent>[ \t]*)(?P<title>\S[^\n]*?)::\s*\n\s*\n(?P<body>(?:(?P=indent)[ \t]+\S[^\n]*\n|\s*\n)+)",
    re.M,
)


def _fence(match: re.Match[str]) -> str:
    indent, title, body = match["indent"], match["title"], match["body"].rstrip("\n")
    lines = body.split("\n")
    depth = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    code = "\n".join(indent + line[depth:] if line.strip() else "" for line in lines)
    return f"{indent}{title}:\n\n{indent}```text\n{code}\n{indent}```\n\n"


def rewrite(text: str) -> str:
    r"""Roles to code, ``Example:`` to ``Examples:``, ``Title::`` literal blocks to fenced text blocks.

    Example:
        >>> rewrite("Marble::\n\n    a-b-|\n\nExample:\n    >>> 1\n").splitlines()
        ['Marble:', '', '```text', 'a-b-|', '```', '', 'Examples:', '    >>> 1']
        >>> rewrite("See :class:`~rxasync._flow.Demand` and :func:`map_async`.")
        'See `rxasync._flow.Demand` and `map_async`.'

    """
    text = _ROLE.sub(r"`\1`", text)
    return _EXAMPLE.sub(r"\1Examples:", _LITERAL.sub(_fence, text))


class RxasyncDocstrings(griffe.Extension):
    """Rewrite each docstring once it is loaded (see the module docstring)."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rewrite(obj.docstring.value)
