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

__all__ = ["BUSY_THRESHOLD", "StageRate", "bottleneck", "rates"]

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
