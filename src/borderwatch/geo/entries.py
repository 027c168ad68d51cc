"""What the gazetteer knows about a place: the record every geography module shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FeatureKind = Literal[
    "site", "city", "admin2", "admin1", "country", "region-of-country", "world-region", "continent"
]

PRECISION: dict[str, int] = {
    "site": 5, "city": 4, "admin2": 3, "admin1": 2, "region-of-country": 1, "country": 1,
    "world-region": 1, "continent": 1,
}
"""PLOVER resolution levels (DESIGN §1): 5 sub-city/site … 1 country."""


@dataclass(frozen=True)
class GazetteerEntry:
    """One place the gazetteer can resolve a name to."""

    key: str
    """Stable id: "gn:<geonameid>" for GeoNames places, "a1:<ISO 3166-2>" for admin-1 regions,
    "c:<ISO3>" for countries, "site:<id>" for critical sites."""
    name: str
    kind: FeatureKind
    lat: float
    lon: float
    country: str | None
    """ISO 3166-1 alpha-3."""
    admin1: str | None
    """ISO 3166-2 code of the admin-1 region containing it (or itself), e.g. "BY-HO"."""
    admin1_name: str | None
    population: int
    radius_km: float
    """Honest uncertainty radius: a city's few km, an oblast's from its polygon area."""
    geonameid: int | None = None
    spelled_like: bool = False
    """Found only by a spelling key (`Gazetteer.lookup_spelling`), not by any of its names."""

    @property
    def precision(self) -> int:
        return PRECISION[self.kind]
