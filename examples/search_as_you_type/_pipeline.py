"""The per-connection pipeline: keystrokes in, messages for the page out.

::

    keystrokes ──debounce──normalise──┬──────────────────────────────► {"type": "query"}   (ack)
                                      └─distinct─min length─switch_map_async(search)──► {"type": "results"}

* **debounce**: nothing happens while the user is still typing; only the box's
  content ``debounce`` seconds after the last key goes on.
* **normalise**: accents, case and punctuation stop mattering ("São" = "sao").
* **ack**: every debounced query is echoed with its sequence number and
  normalised form, so the page knows which answer fits what is in the box now.
* **distinct_until_changed**: "lond" → "londo" → "lond" within one debounce
  is one search, not three; the same query twice in a row is searched once.
* **min length**: a query shorter than ``min_length`` is answered at once
  with no results (no search); it still goes through the switch below, so
  it cancels a search in flight for an older, longer query.
* **switch_map_async(search)**: a newer query cancels the search in flight
  (through ``rxasync.first`` down to the HTTP request, which is aborted), and
  a stale answer is never emitted.

A search that fails becomes an ``{"type": "error"}`` message: the pipeline,
and the connection, live on.

The clock is a parameter (``scheduler``) and so is ``search``, so tests run
the whole pipeline on ``rxasync.testing``'s virtual clock
(``rxasync.schedulers.loop()`` for the debounce).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reactivex
from reactivex import Observable, abc
from reactivex import operators as ops
from reactivex.scheduler import CurrentThreadScheduler

import rxasync
from rxasync.operators import switch_map_async

from ._text import normalise

__all__ = [
    "DEBOUNCE_SECONDS",
    "MIN_LENGTH",
    "Keystroke",
    "Query",
    "SearchFunction",
    "long_enough",
    "queries",
    "search_pipeline",
]

DEBOUNCE_SECONDS = 0.15
MIN_LENGTH = 2

#: ``search(q)`` returns an observable of one JSON payload ``{"results": [...]}``;
#: disposing it must cancel the search (``rxasync.http.get_json`` does).
SearchFunction = Callable[[str], Observable[Any]]
Message = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Keystroke:
    """What the page sends on every input event: a sequence number and the box's text."""

    seq: int
    text: str


@dataclass(frozen=True, slots=True)
class Query:
    """A debounced keystroke, normalised."""

    seq: int
    q: str


def long_enough(q: str, min_length: int = MIN_LENGTH) -> bool:
    """Whether a normalised query is worth a search.

    One character of a script written without spaces (Chinese, Japanese,
    Korean) already names something, so those need only one.

    Example:
        >>> long_enough("l"), long_enough("lo"), long_enough("京")
        (False, True, True)
    """
    if not q:
        return False
    return len(q) >= min_length or any(ord(ch) >= 0x2E80 for ch in q)


def queries(
    keystrokes: Observable[Keystroke],
    *,
    debounce: float = DEBOUNCE_SECONDS,
    scheduler: abc.SchedulerBase | None = None,
) -> Observable[Query]:
    """Debounce the keystrokes and normalise what is left.

    Marble (debounce = 3 ticks)::

        keystrokes: -a-b--------c----|
        result:     -------B--------C|      B = Query(b), C = Query(c)
    """
    return keystrokes.pipe(
        ops.debounce(debounce, scheduler=scheduler),
        ops.map(_normalise),
    )


def _normalise(keystroke: Keystroke) -> Query:
    return Query(keystroke.seq, normalise(keystroke.text))


def _query_text(query: Query) -> str:
    return query.q


def search_pipeline(
    keystrokes: Observable[Keystroke],
    search: SearchFunction,
    *,
    debounce: float = DEBOUNCE_SECONDS,
    min_length: int = MIN_LENGTH,
    scheduler: abc.SchedulerBase | None = None,
) -> Observable[Message]:
    """The whole pipeline: keystrokes to ``query`` acks and ``results`` messages.

    Args:
        keystrokes: what the page sends, in order.
        search: ``q -> Observable`` of one ``{"results": [...]}`` payload.
        debounce: seconds of quiet before a query goes on.
        min_length: shorter queries get no results without a search.
        scheduler: the clock for the debounce (an ``AsyncIOScheduler`` in
            the server; ``rxasync.schedulers.loop()`` on the virtual clock in tests).

    Returns:
        An observable of JSON-ready messages for the page.
    """
    debounced = queries(keystrokes, debounce=debounce, scheduler=scheduler).pipe(ops.share())

    async def answer(query: Query) -> Message:
        return await _answer(query, search, min_length)

    acks = debounced.pipe(ops.map(_ack))
    results = debounced.pipe(
        ops.distinct_until_changed(_query_text),
        switch_map_async(answer),
    )
    # from_iterable on the trampoline: both halves are subscribed before subscribe() returns
    # (reactivex.merge would do it later, on the subscription's scheduler, and could miss
    # a keystroke sent right after subscribing)
    halves = reactivex.from_iterable([acks, results], scheduler=CurrentThreadScheduler.singleton())
    return halves.pipe(ops.merge_all())


def _ack(query: Query) -> Message:
    return {"type": "query", "seq": query.seq, "q": query.q}


async def _answer(query: Query, search: SearchFunction, min_length: int) -> Message:
    base: Message = {"type": "results", "seq": query.seq, "q": query.q}
    if not long_enough(query.q, min_length):
        return {**base, "results": [], "too_short": True}
    try:
        payload = await rxasync.first(search(query.q))
    except Exception as exc:  # the connection lives on; the page shows why
        return {"type": "error", "seq": query.seq, "q": query.q, "message": f"search failed: {exc}"}
    results = payload.get("results", []) if isinstance(payload, dict) else []
    return {**base, "results": results}
