"""Counts per (minute, status, path) by event time, and the 5xx-rate alert of each minute.

**When a minute is final.** Minutes are the log lines' own (event time),
not the clock's. A minute is *open* until a line of a later minute has
been parsed: then it is final, and :meth:`Counts.add` returns it
(flushed), rows and alert decided. At the end of the run
(:meth:`Counts.close`, when the source completes) every open minute is
flushed. A *late* line (its minute already flushed: a log written by
several workers is only nearly in order) opens that minute again; it is
flushed with the next flush as rows of its own (the table holds sums:
query ``SUM(requests)``), and counted in :attr:`Counts.late`; the minute's
alert was decided at its first flush and is not revisited.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ._parse import Parsed

__all__ = ["AlertRule", "Counts", "Minute", "Row"]

#: A row of the counts table: (minute, status, path, requests).
Row = tuple[datetime, int, str, int]


@dataclass(frozen=True)
class AlertRule:
    """Alert on a minute whose share of 5xx answers is at least ``threshold`` of at least ``min_requests``."""

    threshold: float = 0.2
    min_requests: int = 20

    def alert(self, minute: datetime, requests: int, errors: int) -> dict[str, str] | None:
        """The alert's stream fields for a minute, or ``None``.

        Args:
            minute: the minute (UTC).
            requests: its requests.
            errors: its 5xx answers.

        Example:
            >>> from datetime import datetime, UTC
            >>> AlertRule(0.5, 10).alert(datetime(2026, 1, 1, tzinfo=UTC), 10, 6)
            {'minute': '2026-01-01T00:00:00+00:00', 'requests': '10', 'errors': '6', 'rate': '0.600'}
        """
        if requests < self.min_requests or errors < self.threshold * requests:
            return None
        return {
            "minute": minute.isoformat(),
            "requests": str(requests),
            "errors": str(errors),
            "rate": f"{errors / requests:.3f}",
        }


@dataclass
class Minute:
    """One flushed minute: its counts per (status, path), and whether it had been flushed before."""

    minute: datetime
    counts: Counter[tuple[int, str]]
    late: bool = False

    def rows(self) -> list[Row]:
        """Its rows for the counts table."""
        return [(self.minute, status, path, n) for (status, path), n in self.counts.items()]

    def alert(self, rule: AlertRule) -> dict[str, str] | None:
        """Its alert under ``rule``, decided once: none for a late flush."""
        if self.late:
            return None
        errors = sum(n for (status, _), n in self.counts.items() if status >= 500)
        return rule.alert(self.minute, self.counts.total(), errors)


class Counts:
    """The open minutes of the aggregation; see the module docstring for when one is final.

    Example:
        >>> from datetime import datetime, UTC
        >>> m0, m1 = datetime(2026, 1, 1, 0, 0, tzinfo=UTC), datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
        >>> counts = Counts()
        >>> counts.add(Parsed(hits=[(m0, 200, "/"), (m0, 200, "/")]))
        []
        >>> [m.rows() for m in counts.add(Parsed(hits=[(m1, 500, "/x")]))]  # m1 makes m0 final
        [[(datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.timezone.utc), 200, '/', 2)]]
        >>> [m.minute.minute for m in counts.close()]
        [1]
    """

    def __init__(self) -> None:
        self.open: dict[datetime, Counter[tuple[int, str]]] = {}
        self.flushed: set[datetime] = set()
        self.newest: datetime | None = None
        self.lines = 0  #: lines seen, good and bad
        self.hits = 0  #: good lines
        self.bad = 0  #: lines that did not parse
        self.late = 0  #: good lines whose minute had been flushed already
        self.examples: list[str] = []  #: the first bad lines

    def add(self, parsed: Parsed) -> list[Minute]:
        """Count a parsed batch; the minutes it made final, oldest first."""
        self.lines += parsed.lines
        self.hits += len(parsed.hits)
        self.bad += parsed.bad
        self.examples += parsed.examples[: max(0, 5 - len(self.examples))]
        open_, newest, flushed = self.open, self.newest, self.flushed
        for minute, status, path in parsed.hits:
            bucket = open_.get(minute)
            if bucket is None:
                bucket = open_[minute] = Counter()
                if newest is None or minute > newest:
                    newest = minute
            if minute in flushed:
                self.late += 1
            bucket[status, path] += 1
        self.newest = newest
        return self._flush(lambda m: newest is not None and m < newest)

    def close(self) -> list[Minute]:
        """The end of the run: every open minute, oldest first."""
        return self._flush(lambda _: True)

    def _flush(self, final: Callable[[datetime], bool]) -> list[Minute]:
        done = sorted(m for m in self.open if final(m))
        out = [Minute(m, self.open.pop(m), m in self.flushed) for m in done]
        self.flushed.update(done)
        return out
