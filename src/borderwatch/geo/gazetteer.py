"""Read the gazetteer: names → places, shapes, neighbours and "what is here / near here".

The index is one SQLite file built once by `borderwatch data install` (see `geo/build.py`) and only
read afterwards, so opening it costs a connection and a few hundred neighbour rows: everything
else is fetched on demand through indexes (names B-tree, R*Tree over bounding boxes). Distances
are geodesic (WGS84) and computed on the full Natural Earth 10m shapes.
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyproj
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from borderwatch.config import data_dir
from borderwatch.errors import GeoError
from borderwatch.geo.entries import GazetteerEntry

GAZETTEER_VERSION = 4
"""Format version of the index; a change gives a new file name, so `data install` rebuilds."""

GEOD = pyproj.Geod(ellps="WGS84")

_ENTRY_COLUMNS = (
    "e.key, e.name, e.kind, e.lat, e.lon, e.country, e.admin1, e.admin1_name, e.population, e.radius_km, "
    "e.geonameid"
)

_FOLD = str.maketrans(
    {
        **{cp: None for cp in range(0x300, 0x10000) if unicodedata.combining(chr(cp))},  # diacritics
        **dict.fromkeys("'’‘ʼʹʻ`´′", None),  # transliterated soft signs and elisions: Homyel' = Homyel
        **dict.fromkeys("-‐‑‒–—―./_", " "),  # Ivano-Frankivsk = Ivano Frankivsk, St. = St
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "ı": "i",
        "ħ": "h",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
    }
)


def normalize_name(text: str) -> str:
    """The form names are indexed and looked up under: case, diacritics, apostrophes, dashes,
    dots and spacing do not tell places apart in news text, so they are folded away."""
    return " ".join(unicodedata.normalize("NFKD", text.casefold()).translate(_FOLD).split())


_CYRILLIC = str.maketrans(
    {
        **dict(zip("абвгґдезийклмнопрстуфхцыэ", "abvhgdeziiklmnoprstufhcie", strict=True)),
        **dict(zip("єёїюяіў", "eoiuaiu", strict=True)),
        **{"ж": "zh", "ч": "ch", "ш": "sh", "щ": "sh", "ъ": None, "ь": None},
    }
)
_SPELLING_RULES = (
    (re.compile(r"shch|sch"), "sh"),
    (re.compile(r"tch"), "ch"),
    (re.compile(r"kh|g"), "h"),  # Kharkov/Harkiv, Gomel/Homel: Russian г is Ukrainian and Belarusian h
    (re.compile(r"ts|tz"), "c"),
    (re.compile(r"w"), "v"),
    (re.compile(r"[jy]"), "i"),  # Khoyniki/Khoiniki, Kup'yansk/Kupiansk
    (re.compile(r"i+(?=[aeou])"), ""),  # ya/ia/ja, ye/ie, yu/iu: the glide
    (re.compile(r"([a-z])\1+"), r"\1"),  # doubled letters: Avdiivka/Avdiyivka, Zaporizhzhia
)
MIN_SPELLING_KEY = 5
"""Shorter keys collide too often to be worth a guess."""


def spelling_key(name: str) -> str:
    """A coarse key under which the romanisations of one Slavic name meet: Bragin and Brahin,
    Khoiniki and Khoyniki, Kupiansk and Kup'yansk, and Cyrillic spellings of them. It is only a
    fallback for names the gazetteer does not know exactly, since unrelated names can share it."""
    key = normalize_name(name).translate(_CYRILLIC)
    for pattern, replacement in _SPELLING_RULES:
        key = pattern.sub(replacement, key)
    return key


def default_path() -> Path:
    """Where `borderwatch data install` puts the index of this format version."""
    return data_dir() / f"gazetteer-{GAZETTEER_VERSION}.sqlite"


def distance_km(lat: float, lon: float, geometry: BaseGeometry) -> float:
    """Geodesic distance (km) from a point to a geometry, 0 when the point lies on or inside it.

    Measured in an azimuthal equidistant projection centred on the point, where every distance
    from the centre is true; the geometry is first clipped to the box that must hold its nearest
    point, so a country with 10^5 vertices costs a few milliseconds. Pass `shape.boundary` for the
    distance to a border from inside.
    """
    here = Point(lon, lat)
    if geometry.covers(here):
        return 0.0
    # Any point of the geometry bounds the true distance: clip to the box of that radius.
    near_lon, near_lat = shapely.shortest_line(here, geometry).coords[1]
    bound = GEOD.inv(lon, lat, near_lon, near_lat)[2] / 1000.0
    boxes = _boxes(lat, lon, bound * 1.01 + 1.0)
    if len(boxes) == 1 and boxes[0][3] - boxes[0][2] < 360.0:
        min_lat, max_lat, min_lon, max_lon = boxes[0]
        geometry = shapely.clip_by_rect(geometry, min_lon, min_lat, max_lon, max_lat)
    aeqd = pyproj.Proj(proj="aeqd", lat_0=lat, lon_0=lon, datum="WGS84")
    projected = shapely.transform(geometry, lambda xy: _project(aeqd, xy))
    return float(shapely.distance(Point(0.0, 0.0), projected)) / 1000.0


def _project(proj: pyproj.Proj, xy: Any) -> Any:
    x, y = proj(xy[:, 0], xy[:, 1])
    xy[:, 0], xy[:, 1] = x, y
    return xy


Box = tuple[float, float, float, float]
"""min_lat, max_lat, min_lon, max_lon."""


def _boxes(lat: float, lon: float, km: float) -> list[Box]:
    """Lat/lon boxes covering a circle of `km` around a point;
    two when the circle crosses the antimeridian, whole parallels when it reaches a pole."""
    dlat = km / 110.574
    min_lat, max_lat = lat - dlat, lat + dlat
    if min_lat <= -90.0 or max_lat >= 90.0:
        return [(max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0)]
    cos = math.cos(math.radians(max(abs(min_lat), abs(max_lat))))
    dlon = km / (111.320 * cos)
    if dlon >= 180.0:
        return [(min_lat, max_lat, -180.0, 180.0)]
    west, east = lon - dlon, lon + dlon
    if west < -180.0:
        return [(min_lat, max_lat, -180.0, east), (min_lat, max_lat, west + 360.0, 180.0)]
    if east > 180.0:
        return [(min_lat, max_lat, west, 180.0), (min_lat, max_lat, -180.0, east - 360.0)]
    return [(min_lat, max_lat, west, east)]


class Gazetteer:
    """Read-only access to an installed gazetteer; safe to share between threads."""

    def __init__(
        self, connection: sqlite3.Connection, path: Path, meta: dict[str, str], shape_cache: int = 512
    ) -> None:
        self.path = path
        self.meta = meta
        self._db = connection
        self._lock = threading.Lock()
        self._neighbours: dict[str, list[str]] = {}
        for country, neighbour in self._rows("SELECT country, neighbour FROM neighbours ORDER BY 1, 2"):
            self._neighbours.setdefault(country, []).append(neighbour)
        self._shape = lru_cache(maxsize=shape_cache)(self._load_shape)

    @classmethod
    def open(cls, path: Path | None = None) -> Gazetteer:
        """Open the index at `path` (default: the user's data directory), or say how to get one."""
        path = path or default_path()
        if not path.is_file():
            raise GeoError("gazetteer not installed; run `borderwatch data install`", source=str(path))
        try:
            # immutable: the file is replaced whole by a rebuild, never written in place.
            db = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False
            )
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise GeoError(
                f"unreadable gazetteer ({exc}); run `borderwatch data install --force`", source=str(path)
            ) from exc
        if meta.get("version") != str(GAZETTEER_VERSION):
            db.close()
            raise GeoError(
                f"gazetteer format {meta.get('version')} is not {GAZETTEER_VERSION}; "
                "run `borderwatch data install --force`",
                source=str(path),
            )
        return cls(db, path, meta)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Gazetteer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    def lookup(self, name: str) -> list[GazetteerEntry]:
        """Every place known by this name (after `normalize_name`), most populous first."""
        return self._entries("names", "name", normalize_name(name))

    def lookup_abbreviation(self, text: str) -> list[GazetteerEntry]:
        """Regions whose press abbreviation this is ("Ky." is Kentucky); only as written, with
        its full stop, so "Miss Ukraine" and "a Mass" stay words."""
        if not text.strip().endswith("."):
            return []
        return self._entries("abbreviations", "name", normalize_name(text))

    def lookup_spelling(self, name: str) -> list[GazetteerEntry]:
        """Places whose name is spelled like this one under `spelling_key` (see there), most
        populous first; nothing for keys too short to tell places apart."""
        key = spelling_key(name)
        if len(key) < MIN_SPELLING_KEY:
            return []
        return self._entries("spellings", "key", key)

    def _entries(self, table: str, column: str, value: str) -> list[GazetteerEntry]:
        """The entries a name table (names, abbreviations, spellings) files under `value`, most
        populous first. `table` and `column` are this module's own constants, never input."""
        rows = self._rows(
            f"SELECT {_ENTRY_COLUMNS} FROM {table} t JOIN entries e ON e.id = t.entry "
            f"WHERE t.{column} = ? ORDER BY e.population DESC, e.key",
            (value,),
        )
        return [GazetteerEntry(*row) for row in rows]

    def get(self, key: str) -> GazetteerEntry | None:
        rows = self._rows(f"SELECT {_ENTRY_COLUMNS} FROM entries e WHERE e.key = ?", (key,))
        return GazetteerEntry(*rows[0]) if rows else None

    def shape(self, key: str) -> BaseGeometry | None:
        """The full-precision polygon of an admin-1 region ("a1:…") or a country ("c:…");
        None for places stored as points. Cached, and prepared for fast containment tests."""
        return self._shape(key)

    def _load_shape(self, key: str) -> BaseGeometry | None:
        rows = self._rows(
            "SELECT s.wkb FROM shapes s JOIN entries e ON e.id = s.entry WHERE e.key = ?", (key,)
        )
        if not rows:
            return None
        geometry = shapely.from_wkb(rows[0][0])
        shapely.prepare(geometry)
        return geometry

    def country_shape(self, iso3: str) -> BaseGeometry | None:
        return self.shape(f"c:{iso3.upper()}")

    def neighbours(self, iso3: str) -> list[str]:
        """Countries sharing a land border (GeoNames), as ISO3 codes in alphabetical order."""
        return list(self._neighbours.get(iso3.upper(), []))

    def _in_boxes(self, boxes: list[Box], kinds: Iterable[str] | None) -> list[tuple[Any, ...]]:
        kinds = list(kinds) if kinds is not None else None
        kind_filter = f" AND e.kind IN ({','.join('?' * len(kinds))})" if kinds else ""
        found: dict[str, tuple[Any, ...]] = {}
        for min_lat, max_lat, min_lon, max_lon in boxes:
            for row in self._rows(
                f"SELECT {_ENTRY_COLUMNS} FROM places_rtree r JOIN entries e ON e.id = r.id "
                "WHERE r.max_lat >= ? AND r.min_lat <= ? AND r.max_lon >= ? AND r.min_lon <= ?" + kind_filter,
                (min_lat, max_lat, min_lon, max_lon, *(kinds or ())),
            ):
                found[row[0]] = row
        return list(found.values())

    def distance_to(self, entry: GazetteerEntry, lat: float, lon: float) -> float:
        """Geodesic km from a point to a place: to its polygon where it has one, else its point."""
        geometry = self.shape(entry.key) if entry.kind in ("admin1", "country") else None
        if geometry is None:
            return GEOD.inv(lon, lat, entry.lon, entry.lat)[2] / 1000.0
        return distance_km(lat, lon, geometry)

    def near(
        self, lat: float, lon: float, km: float, kinds: Iterable[str] | None = None
    ) -> list[GazetteerEntry]:
        """Places within `km` of a point (regions and countries by their polygons), nearest first."""
        boxes = _boxes(lat, lon, km)
        rects = [
            shapely.box(min_lon, min_lat, max_lon, max_lat) for min_lat, max_lat, min_lon, max_lon in boxes
        ]
        scored = []
        for row in self._in_boxes(boxes, kinds):
            entry = GazetteerEntry(*row)
            geometry = self.shape(entry.key)
            # A bounding box round the globe (the USA, France with its overseas departments) says
            # little: a polygon outside the query boxes is out of range, without measuring.
            if geometry is not None and not any(geometry.intersects(rect) for rect in rects):
                continue
            distance = self.distance_to(entry, lat, lon)
            if distance <= km:
                scored.append((distance, -entry.population, entry.key, entry))
        return [item[-1] for item in sorted(scored, key=lambda item: item[:3])]

    def admin1_of(
        self, lat: float, lon: float, iso3: str | None = None, tolerance_km: float = 5.0
    ) -> GazetteerEntry | None:
        """The admin-1 region containing a point; failing that (a coastal town just outside the
        10m coastline) the nearest one within `tolerance_km`. `iso3` restricts to one country."""
        candidates = [
            GazetteerEntry(*row)
            for row in self._in_boxes(_boxes(lat, lon, tolerance_km), ["admin1"])
            if iso3 is None or row[5] == iso3.upper()
        ]
        here = Point(lon, lat)
        for entry in candidates:
            geometry = self.shape(entry.key)
            if geometry is not None and geometry.covers(here):
                return entry
        nearest = min(((self.distance_to(e, lat, lon), e.key, e) for e in candidates), default=None)
        return nearest[2] if nearest is not None and nearest[0] <= tolerance_km else None
