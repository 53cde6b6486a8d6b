"""Access-log lines in the combined log format to ``(minute, status, path)`` hits.

The combined format (Apache's and nginx's default)::

    127.0.0.1 - frank [10/Oct/2026:13:55:36 -0700] "GET /a.gif?x=1 HTTP/1.1" 200 2326 "http://ref/" "Mozilla/5.0"

The time is the line's own (event time), truncated to the minute and
turned to UTC; the path loses its query string. A line that does not match
is *bad*: counted and kept as an example, never an error. The common log
format (no referer and user agent) parses too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

__all__ = ["Hit", "Parsed", "parse_lines"]

#: One request: the minute it was made in (UTC), its status, its path without the query.
Hit = tuple[datetime, int, str]

_LINE = re.compile(  # what follows the size (referer, user agent) is not read: nothing here needs it
    r"\S+ \S+ \S+ \[(\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d):\d\d ([+-]\d{4})\] "
    r'"[A-Z]+ ([^ "?]+)[^ "]* HTTP/[0-9.]+" (\d{3}) (?:\d+|-)(?= "|$)'
)
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}
_MINUTES: dict[tuple[str, str], datetime] = {}  # a log has few distinct minutes: parse each once

#: Bad lines kept as examples for the report.
EXAMPLES = 5


@dataclass
class Parsed:
    """One batch of lines, parsed: the hits, the number of bad lines and the first few of them."""

    hits: list[Hit] = field(default_factory=list)
    bad: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def lines(self) -> int:
        """Lines in the batch, good and bad."""
        return len(self.hits) + self.bad


def _minute(stamp: str, zone: str) -> datetime:
    """``10/Oct/2026:13:55`` and ``-0700`` to the UTC minute (``ValueError`` if not a date)."""
    key = (stamp, zone)
    found = _MINUTES.get(key)
    if found is None:
        day, month, rest = stamp.split("/")
        year, hour, minute = rest.split(":")
        local = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), tzinfo=UTC)
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
        found = local - offset if zone[0] == "+" else local + offset
        if len(_MINUTES) < 100_000:
            _MINUTES[key] = found
    return found


def parse_lines(lines: list[str]) -> Parsed:
    """Parse a batch of combined-format lines; bad lines are counted, not raised.

    Args:
        lines: the lines, without their newlines.

    Example:
        >>> p = parse_lines([
        ...     '1.2.3.4 - - [10/Oct/2026:13:55:36 +0200] "GET /a?q=1 HTTP/1.1" 503 12 "-" "curl/8"',
        ...     'not a log line',
        ... ])
        >>> p.hits, p.bad, p.examples
        ([(datetime.datetime(2026, 10, 10, 11, 55, tzinfo=datetime.timezone.utc), 503, '/a')], 1, ['not a log line'])
    """
    out = Parsed()
    hits, match = out.hits, _LINE.match
    for line in lines:
        found = match(line)
        if found is not None:
            stamp, zone, path, status = found.groups()
            try:
                hits.append((_minute(stamp, zone), int(status), path))
                continue
            except (ValueError, KeyError):
                pass  # a date that is not one: a bad line
        out.bad += 1
        if len(out.examples) < EXAMPLES:
            out.examples.append(line[:200])
    return out
