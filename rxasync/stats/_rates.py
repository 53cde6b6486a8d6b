"""From two snapshots to rates, busy shares and the bottleneck: the one rule, shared by view and chart.

**The bottleneck rule.** Over an interval, a stage's *busy* share is the part
of the interval it spent neither waiting for downstream demand nor waiting
for upstream items: ``1 - (Δwait_demand + Δwait_upstream) / Δt``. Stages
above a bottleneck wait for its demand; stages below it wait for its
output; the bottleneck itself does not wait. So the bottleneck is the
stage (pass-throughs such as ``progress`` excluded) with the largest busy
share, provided that share is at least :data:`BUSY_THRESHOLD` and at least
two stages are measured. When every stage waits more than half the time,
none is marked: the pipeline waits on something outside it (the network, a
slow source's input), which the stage reading it shows as waiting upstream.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypedDict

from .._stats import StageSnapshot, State

__all__ = ["BUSY_THRESHOLD", "StageRate", "bottleneck", "fold", "rates"]

#: The least busy share for a stage to be called the bottleneck.
BUSY_THRESHOLD = 0.5


class StageRate(TypedDict):
    """One stage over one interval: what the live view shows in a row."""

    id: int
    name: str
    kind: str
    state: State
    items_out: int
    rate: float  # items out per second over the interval
    in_flight: int
    errors: int
    dropped: int  # items thrown away by design (a drop overflow) so far
    busy: float  # share of the interval not spent waiting, 0 to 1
    wait_demand: float  # share spent waiting for downstream demand
    wait_upstream: float  # share spent waiting for upstream items
    passive: bool
    bottleneck: bool


def _share(value: float, span: float) -> float:
    return min(1.0, max(0.0, value / span)) if span > 0 else 0.0


def _rate(before: StageSnapshot | None, now: StageSnapshot) -> StageRate:
    if before is None:
        before = {**now, "items_out": 0, "wait_demand_s": 0.0, "wait_upstream_s": 0.0, "age_s": 0.0}
    span = now["age_s"] - before["age_s"]
    demand = _share(now["wait_demand_s"] - before["wait_demand_s"], span)
    upstream = _share(now["wait_upstream_s"] - before["wait_upstream_s"], span)
    out = now["items_out"] - before["items_out"]
    return {
        "id": now["id"],
        "name": now["name"],
        "kind": now["kind"],
        "state": now["state"],
        "items_out": now["items_out"],
        "rate": out / span if span > 0 else 0.0,
        "in_flight": now["in_flight"],
        "errors": now["errors"],
        "dropped": now.get("dropped", 0),
        "busy": 0.0 if span <= 0 else max(0.0, 1.0 - demand - upstream),
        "wait_demand": demand,
        "wait_upstream": upstream,
        "passive": now["passive"],
        "bottleneck": False,
    }


def rates(before: Sequence[StageSnapshot], now: Sequence[StageSnapshot]) -> list[StageRate]:
    """Each stage of ``now`` over the interval since ``before`` (new stages: since they began),
    with the bottleneck marked.

    Example:
        >>> from rxasync.stats import rates
        >>> def snap(i, name, out, dem, up, age):
        ...     return {"id": i, "name": name, "kind": "demo", "state": "running", "items_in": out,
        ...             "items_out": out, "in_flight": 0, "errors": 0, "wait_demand_s": dem,
        ...             "wait_upstream_s": up, "age_s": age, "passive": False}
        >>> rows = rates([], [snap(1, "read", 100, 0.9, 0.0, 1.0), snap(2, "parse", 100, 0.0, 0.05, 1.0)])
        >>> [(r["name"], round(r["busy"], 2), r["bottleneck"]) for r in rows]
        [('read', 0.1, False), ('parse', 0.95, True)]
    """
    earlier: Mapping[int, StageSnapshot] = {s["id"]: s for s in before}
    rows = [_rate(earlier.get(s["id"]), s) for s in now]
    worst = bottleneck(rows)
    if worst is not None:
        worst["bottleneck"] = True
    return rows


def bottleneck(rows: Sequence[StageRate]) -> StageRate | None:
    """The stage the others wait on, by the rule in the module docstring, or ``None``."""
    measured = [r for r in rows if not r["passive"]]
    if len(measured) < 2:
        return None
    busiest = max(measured, key=lambda r: r["busy"])
    return busiest if busiest["busy"] >= BUSY_THRESHOLD else None


#: A group of at least this many stages (stages built per item or request) is one row.
FOLD_AT = 8


def group(s: StageSnapshot) -> tuple[str, str]:
    """The row ``s`` is shown in: its kind and its ``name=``, or its kind alone when unnamed."""
    unnamed = s["name"] == f"{s['kind']}#{s['id']}"  # stage_stats' default name
    return s["kind"], s["kind"] if unnamed else s["name"]


_SUMMED = ("items_in", "items_out", "in_flight", "errors", "wait_demand_s", "wait_upstream_s", "age_s")


def merge(into: StageSnapshot | None, s: StageSnapshot) -> StageSnapshot:
    """``s`` added into ``into``: counters, waits and ages summed, the oldest stage's id and name."""
    if into is None:
        return {**s}
    merged: StageSnapshot = {
        **into,
        "state": s["state"],
        "dropped": into.get("dropped", 0) + s.get("dropped", 0),
    }
    if s["id"] < into["id"]:  # the group keeps the id (and so the row) of its oldest stage
        merged["id"], merged["name"] = s["id"], s["name"]
    for field in _SUMMED:
        merged[field] = into[field] + s[field]  # type: ignore[literal-required]
    return merged


def fold(snapshots: Sequence[StageSnapshot], span: float, counts: Sequence[int] = ()) -> list[StageSnapshot]:
    """Stages that share a name (or, unnamed, a kind) as one snapshot each.

    A pipeline that builds stages per item (a ``first(get_json(url))`` per
    request inside ``map_async``) would otherwise add a row per item to the
    view and to every recorded line. A group of several stages becomes one
    snapshot once it has :data:`FOLD_AT` members or more: the id of its
    oldest, the name followed by ``(N stages)``, the sums of the counters,
    ``span`` (the seconds the watcher has run) as its age, so its rate is per
    wall second, and its waits scaled to that age, so its busy share is the
    members' mean. Smaller groups (two unnamed ``map_async`` in one chain)
    keep a row per stage, so the bottleneck among them still shows.
    ``counts[i]`` says how many stages ``snapshots[i]`` already sums (a
    :func:`merge` of finished ones; default 1).

    Example:
        >>> from rxasync.stats import fold
        >>> def snap(i, out, age):
        ...     return {"id": i, "name": f"first#{i}", "kind": "first", "state": "completed",
        ...             "items_in": out, "items_out": out, "in_flight": 0, "errors": 0,
        ...             "wait_demand_s": 0.0, "wait_upstream_s": age / 2, "age_s": age, "passive": False}
        >>> [(s["name"], s["items_out"], round(s["wait_upstream_s"], 3)) for s in fold([snap(i, 1, 0.1) for i in range(8)], 2.0)]
        [('first (8 stages)', 8, 1.0)]
        >>> [s["name"] for s in fold([snap(1, 1, 0.1), snap(2, 1, 0.1)], 2.0)]
        ['first#1', 'first#2']
    """
    groups: dict[tuple[str, str], tuple[StageSnapshot | None, int, bool]] = {}
    members: dict[tuple[str, str], list[StageSnapshot]] = {}
    for i, s in enumerate(snapshots):
        summed, n, running = groups.get(group(s), (None, 0, False))
        groups[group(s)] = (
            merge(summed, s),
            n + (counts[i] if i < len(counts) else 1),
            running or s["state"] == "running",
        )
        members.setdefault(group(s), []).append(s)
    folded: list[StageSnapshot] = []
    for key, (summed, n, running) in groups.items():
        assert summed is not None
        if n < FOLD_AT:  # a few stages of one kind: a chain's own stages, each its row
            folded.extend(members[key])
            continue
        name = key[1]
        scale = span / summed["age_s"] if summed["age_s"] > 0 else 0.0
        summed["name"] = f"{name} ({n} stages)"
        summed["state"] = "running" if running else summed["state"]
        summed["wait_demand_s"] *= scale
        summed["wait_upstream_s"] *= scale
        summed["age_s"] = span
        folded.append(summed)
    return sorted(folded, key=lambda s: s["id"])
