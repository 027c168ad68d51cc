"""Critical sites: the packaged nuclear-plant layer plus whatever layers the user points us at.

Proximity to a nuclear plant is what turns a troop report into an alert, so the layer must be
trustworthy: every row is validated on load, and a bad row stops the run with the file and row
named rather than silently dropping a plant. Users add dams, bases or cities as CSV files with the
same columns, or as GeoJSON FeatureCollections of Points.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from shapely.geometry import Point

from borderwatch.errors import ConfigError

COLUMNS: tuple[str, ...] = ("id", "name", "kind", "country", "lat", "lon", "status", "source")
"""Columns of a CSV layer; the first three plus lat/lon are required in every row."""
REQUIRED: tuple[str, ...] = ("id", "name", "kind")
PACKAGED = "critical_sites.csv"

_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_ISO3 = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Site:
    """One critical site: a point with a stable id that alerts cite."""

    id: str
    """Slug, unique across all layers (alerts list it in their `sites`)."""
    name: str
    kind: str
    """e.g. "nuclear-power-plant", "dam", "airbase"."""
    lat: float
    lon: float
    country: str | None = None
    """ISO 3166-1 alpha-3."""
    status: str | None = None
    source: str | None = None
    """Where the record and its coordinates come from."""
    layer: str = ""
    """The file it was loaded from, so a problem can be traced to it."""

    @property
    def point(self) -> Point:
        """The site as a shapely point in lon/lat order."""
        return Point(self.lon, self.lat)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _coordinate(value: Any, name: str, limit: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} {value!r} is not a number") from None
    if not math.isfinite(number) or abs(number) > limit:
        raise ValueError(f"{name} {value!r} is out of range ±{limit:g}")
    return number


def _site(record: Mapping[str, Any], lat: Any, lon: Any, layer: str) -> Site:
    """Build and check one site; raises ValueError saying what is wrong (the caller adds where)."""
    missing = [name for name in REQUIRED if not _text(record.get(name))]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    site_id = str(_text(record["id"]))
    if not _ID.match(site_id):
        raise ValueError(f"id {site_id!r} is not a lower-case slug")
    country = _text(record.get("country"))
    if country is not None and not _ISO3.match(country):
        raise ValueError(f"country {country!r} is not an ISO 3166-1 alpha-3 code")
    return Site(
        id=site_id,
        name=str(_text(record["name"])),
        kind=str(_text(record["kind"])),
        lat=_coordinate(lat, "lat", 90.0),
        lon=_coordinate(lon, "lon", 180.0),
        country=country,
        status=_text(record.get("status")),
        source=_text(record.get("source")),
        layer=layer,
    )


def _read_csv(text: str, layer: str) -> list[Site]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    absent = [name for name in ("lat", "lon", *REQUIRED) if name not in (reader.fieldnames or [])]
    if absent:
        raise ConfigError(f"missing columns: {', '.join(absent)}", source=layer)
    sites = []
    for row in reader:
        try:
            if None in row:
                raise ValueError("more values than columns")
            sites.append(_site(row, row.get("lat"), row.get("lon"), layer))
        except ValueError as exc:
            raise ConfigError(f"row at line {reader.line_num}: {exc}", source=layer) from None
    return sites


def _read_geojson(text: str, layer: str) -> list[Site]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON: {exc}", source=layer) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ConfigError("not a GeoJSON FeatureCollection", source=layer)
    sites = []
    for number, feature in enumerate(data.get("features") or [], start=1):
        try:
            geometry = feature.get("geometry") or {}
            coordinates = geometry.get("coordinates")
            if geometry.get("type") != "Point" or not isinstance(coordinates, list) or len(coordinates) < 2:
                raise ValueError("geometry is not a Point")
            properties = feature.get("properties") or {}
            if not isinstance(properties, dict):
                raise ValueError("properties is not an object")
            sites.append(_site(properties, coordinates[1], coordinates[0], layer))
        except (ValueError, AttributeError) as exc:
            raise ConfigError(f"feature {number}: {exc}", source=layer) from None
    return sites


def read_layer(path: Path) -> list[Site]:
    """One layer file: `.csv`, or `.geojson`/`.json` (a FeatureCollection of Points)."""
    layer = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read site layer: {exc}", source=layer) from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(text, layer)
    if suffix in (".geojson", ".json"):
        return _read_geojson(text, layer)
    raise ConfigError("site layers must be .csv, .geojson or .json files", source=layer)


def _packaged() -> list[Site]:
    data = resources.files("borderwatch").joinpath("data", PACKAGED)
    return _read_csv(data.read_text(encoding="utf-8"), f"borderwatch/data/{PACKAGED}")


def _unique(layers: Iterable[list[Site]]) -> list[Site]:
    """Alerts cite sites by id, so an id used twice (in one layer or across two) is an error."""
    seen: dict[str, Site] = {}
    for layer in layers:
        for site in layer:
            if site.id in seen:
                raise ConfigError(f"site id {site.id!r} is already used in {seen[site.id].layer}",
                                  source=site.layer)
            seen[site.id] = site
    return list(seen.values())


def load_sites(paths: Sequence[Path] | None = None) -> list[Site]:
    """The packaged layer followed by each configured user layer, validated, ids unique."""
    return _unique([_packaged(), *(read_layer(Path(path)) for path in paths or ())])
