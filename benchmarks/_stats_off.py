"""The "counters off" build for ``stats_overhead``: this checkout's package with the counting cut out.

Each :data:`CUTS` entry is a regular expression over one module of
``rxasync/`` and what replaces it: the per-item counting and the timing of
the waits go, and nothing else changes (the same loops, the same demand
tests, the same calls), so the difference measured is what the counters
cost. A cut that no longer matches (the code moved) stops the benchmark
with its name, rather than measure something else. Left in the off build,
because they are paid once per subscription, not per item: the
registration of each stage's counters (``stage_stats``) and the pump's
:class:`~rxasync._pump.Meter` (one clock read at the start and one at the
end). ``to_async_iterable``'s loop keeps its runs of up to 64 items (only
their counting goes): its structure is not a cost of the counters alone.
The fused source of a one-worker ``map_async`` (``operators/_fused.py``)
loses its countdown, its timing and its counts too (before, "off" kept
them, so it measured less than the counters cost there).
"""

from __future__ import annotations

import re
from pathlib import Path

#: (module, name, pattern, replacement, how many matches are expected)
CUTS: list[tuple[str, str, str, str, int]] = [
    (
        "_pump.py",
        "pump: the count (a lookup after each item; its end, the timed item and dispose()'s stop), the timed wait",
        # "off" tests `disposed` after each emit instead, as code without counters would
        r"^( *)emit\(item\)\n(\1if demand and .*\n)\1    extra = 1.*\n\1    if self\.disposed:\n\1        break\n"
        r"\1    await demand\.wait\(stats\)\n\1    extra = 0\n"
        r"\1left = countup\[left\]\n",
        r"\1emit(item)\n\1if self.disposed:\n\1    break\n\2\1    await demand.wait()\n",
        1,
    ),
    (
        "_pump.py",
        "pump: batches, their count and their timed batch (and the iterator that dispose()'s stop ends)",
        # "off" loops over the batch and tests `disposed` after each item, as code without counters would
        r"^( *)got = await anext\(iterator\).*\n\1batch = got if .*\n"
        r"\1rest = self\.rest = iter\(batch\)\n\1began = .*\n\1waited = .*\n\1for item in rest:\n"
        r"\1    on_next\(item\)\n(\1    if demand and .*\n)\1        if self\.disposed:\n\1            break\n"
        r"\1        await demand\.wait\(stats\)\n\1out = .*\n\1n, batch, rest, self\.cut = .*\n"
        r"\1if self\.disposed:\n\1    break\n\1if began:\n\1    mark = .*\n",
        r"\1batch = await anext(iterator)\n\1for item in batch:\n\1    on_next(item)\n\1    if self.disposed:\n"
        r"\1        break\n\2\1        await demand.wait()\n\1if self.disposed:\n\1    break\n",
        1,
    ),
    (
        "_pump.py",
        "pump: the observer's on_next is the emit (no timed one first)",
        r"^( *)emit: Callable\[\[Any\], None\] = timed\n",
        r"\1emit: Callable[[Any], None] = on_next\n",
        1,
    ),
    (
        "_pump.py",
        "pump: the counts written at the end",
        r"^( *)if self\.batched:\n\1    meter\.sync\(.*\n\1else:\n\1    meter\.sync\(.*\n",
        "",
        1,
    ),
    (
        "_stage.py",
        "endpoint: an item in (the end of an idle wait, items in)",
        r"^( *)if self\.stats\.idle_since is not None:.*\n\1    self\.stats\.end_idle\(\)\n"
        r"\1demand, credits = self\.demand, 0\n\1if demand is None:.*\n\1    self\.stats\.items_in \+= 1\n"
        r"\1else:\n\1    if self\.weighted:\n\1        self\.stats\.items_in \+= 1\n"
        r"\1        credits = self\.weight\(value\)\n\1    else:.*\n\1        credits = 1\n",
        r"\1demand, credits = self.demand, 0\n\1if demand is not None:\n"
        r"\1    credits = self.weight(value) if self.weighted else 1\n",
        1,
    ),
    (
        "_stage.py",
        "endpoint: items out",
        r"^( *)self\.stats\.items_out \+= n\n",
        "",
        1,
    ),
    (
        "operators/_map_async.py",
        "map_async: the waits (blocked, unblocked, idle)",
        # the idle wait, where a worker waits for an item: the test and whatever it guards (a sampled idle)
        r"^( *)stats\.(blocked|unblocked)\(\).*\n|^( *)if not self\.demand\.pending and not self\.upstream_done\b.*\n"
        r"(?:\3    .*\n)+",
        "",
        3,
    ),
    (
        "operators/_fused.py",
        "map_async fused: the source's countdown to the next timed item, its timing and counts",
        r"^( *)left = self\.left = _COUNTDOWN\[self\.left\].*\n\1if left is None:.*\n\1    self\.began = perf_counter\(\)\n"
        r"|^( *)if self\.left is None:.*\n(?:\2    .*\n)+|^( *)if self\.meter is not None:\n\3    self\.meter\.sync\(.*\n",
        "",
        3,
    ),
    (
        "_iterator.py",
        "to_async_iterable: items out",
        r"^( *)(self\._stats|self\.stats|stats)\.items_out \+= (1|run|i \+ 1)\n",
        r"\1pass\n",
        4,
    ),
]


def cut_counters(package: Path) -> list[str]:
    """Apply :data:`CUTS` to the copy of ``rxasync`` at ``package``; returns the cuts' names.

    Raises:
        SystemExit: a cut matched a different number of times than expected.
    """
    done = []
    for module, name, pattern, replacement, expected in CUTS:
        path = package / module
        text, count = re.subn(pattern, replacement, path.read_text(), flags=re.MULTILINE)
        if count != expected:
            raise SystemExit(
                f"stats_overhead: the cut {name!r} matched {count} times in {module}, not {expected}: "
                "update benchmarks/_stats_off.py to the code"
            )
        path.write_text(text)
        done.append(name)
    return done
