"""How far a located event is from the nearest international border and from critical sites.

Everything here is pure: geometries in lon/lat (shapely), country shapes and neighbours passed in
as callables (the gazetteer's), results in kilometres along the WGS84 ellipsoid. Degrees are not
distances (a degree of longitude is 111 km at the equator and 70 km at Kursk), so each query
projects the shapes near it into an azimuthal-equidistant frame centred on the query, finds the
nearest points there, and measures the geodesic between them with pyproj. Country polygons are
clipped to a window around the query first (Russia has millions of vertices), and the window grows
until the answer found inside it is provably the nearest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import Geod, Proj
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from borderwatch.geo.sites import Site

Shapes = Callable[[str], BaseGeometry | None]
"""ISO3 → the country's polygon in lon/lat, or None when unknown (the gazetteer's country_shape)."""
Neighbours = Callable[[str], Sequence[str]]
"""ISO3 → ISO3 codes of the countries it shares a land border with (the gazetteer's neighbours)."""

GEOD = Geod(ellps="WGS84")
_KM_PER_DEG_LAT = 110.5
"""A little under the shortest meridian degree (110.57 km), so windows err on the large side."""
_KM_PER_DEG_LON_EQUATOR = 111.3
_WINDOW_SLACK = 1.1
"""Windows are drawn this much wider than promised: a great circle cuts inside a parallel."""
_HALF_EARTH_KM = 20_004.0
"""No two points are further apart than this, so a window this wide is the whole world."""

Rect = tuple[float, float, float, float]


@dataclass(frozen=True)
class BorderDistance:
    """Distance to the nearest land neighbour's territory, and which neighbour that is."""

    km: float
    with_iso3: str


def _window(geometry: BaseGeometry, margin_km: float) -> list[Rect] | None:
    """Lon/lat rectangles holding every point within `margin_km` of `geometry`; None = everywhere.

    More than one rectangle when the window crosses the antimeridian (Chukotka does).
    """
    if margin_km >= _HALF_EARTH_KM:
        return None
    reach = margin_km * _WINDOW_SLACK
    west, south, east, north = geometry.bounds
    south = max(-90.0, south - reach / _KM_PER_DEG_LAT)
    north = min(90.0, north + reach / _KM_PER_DEG_LAT)
    widest = max(abs(south), abs(north))  # degrees of longitude are shortest on the poleward edge
    cos = math.cos(math.radians(widest))
    if cos < 0.01 or (east - west) + 2 * reach / (_KM_PER_DEG_LON_EQUATOR * cos) >= 360.0:
        return [(-180.0, south, 180.0, north)]
    west -= reach / (_KM_PER_DEG_LON_EQUATOR * cos)
    east += reach / (_KM_PER_DEG_LON_EQUATOR * cos)
    rects = [(max(west, -180.0), south, min(east, 180.0), north)]
    if west < -180.0:
        rects.append((west + 360.0, south, 180.0, north))
    if east > 180.0:
        rects.append((-180.0, south, east - 360.0, north))
    return rects


def _clip(shape: BaseGeometry, window: list[Rect] | None) -> BaseGeometry:
    if window is None:
        return shape
    parts = [part for rect in window if not (part := shapely.clip_by_rect(shape, *rect)).is_empty]
    # One piece needs no union: dissolving a country's polygons cost more than measuring to them.
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def _in_window(point: Point, window: list[Rect] | None) -> bool:
    return window is None or any(w <= point.x <= e and s <= point.y <= n for w, s, e, n in window)


class _Frame:
    """An azimuthal-equidistant frame centred on one query geometry, for measuring from it."""

    def __init__(self, geometry: BaseGeometry) -> None:
        self.geometry = geometry
        centre = geometry if isinstance(geometry, Point) else geometry.centroid
        self.proj = Proj(proj="aeqd", lat_0=centre.y, lon_0=centre.x, datum="WGS84")
        self.projected = self._project(geometry)

    def _project(self, geometry: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geometry, lambda xy: np.column_stack(self.proj(xy[:, 0], xy[:, 1])))

    def km(self, other: BaseGeometry) -> float:
        """Geodesic km between the nearest points of the query and `other` (0 when they meet)."""
        if other.is_empty:
            return math.inf
        if self.geometry.intersects(other):
            return 0.0
        near, far = nearest_points(self.projected, self._project(other))
        (lon1, lon2), (lat1, lat2) = self.proj([near.x, far.x], [near.y, far.y], inverse=True)
        return float(GEOD.inv(lon1, lat1, lon2, lat2)[2]) / 1000.0


def home_country(geometry: BaseGeometry, shapes: Shapes, countries: Iterable[str]) -> str | None:
    """The country whose polygon holds the geometry's representative point, if any does."""
    point = geometry.representative_point()
    for iso3 in countries:
        shape = shapes(iso3)
        if shape is None:
            continue
        west, south, east, north = shape.bounds
        if west <= point.x <= east and south <= point.y <= north and shape.contains(point):
            return iso3
    return None


def border_distance(
    geometry: BaseGeometry,
    home_iso3: str | None,
    shapes: Shapes,
    neighbours: Neighbours,
    *,
    countries: Iterable[str] = (),
    window_km: float = 100.0,
    touch_km: float = 1.0,
) -> BorderDistance | None:
    """Distance from a point or area to the nearest land neighbour of its country.

    Measured to the neighbour's territory, which from inside the home country is the distance to
    the shared border; 0 when the geometry touches or crosses it. The home is `home_iso3`, or else
    the one of `countries` containing the geometry. For an area (an oblast), gaps under `touch_km`
    count as touching: admin-1 and country polygons are digitised separately and never meet
    exactly. None when the home or its neighbours are unknown, or it has none (an island state).
    """
    home = home_iso3 or home_country(geometry, shapes, countries)
    if home is None:
        return None
    candidates = [(iso3, shape) for iso3 in neighbours(home) if (shape := shapes(iso3)) is not None]
    if not candidates:
        return None
    frame = _Frame(geometry)
    margin = window_km
    while True:
        window = _window(geometry, margin)
        parts = {iso3: _clip(shape, window) for iso3, shape in candidates}
        distances = {iso3: frame.km(part) for iso3, part in parts.items()}
        nearest = min(distances.values())
        if nearest <= margin or window is None:
            break
        margin = max(margin * 4.0, nearest if math.isfinite(nearest) else 0.0)
    if not math.isfinite(nearest):
        return None
    if isinstance(geometry, Point) or nearest >= touch_km:
        return BorderDistance(nearest, min(distances, key=distances.__getitem__))
    # An area touching several neighbours (Gomel oblast meets Ukraine and Russia) is said to be on
    # the border with the one nearest its centre, where most of it lies.
    touching = [iso3 for iso3, km in distances.items() if km < touch_km]
    centre = _Frame(geometry.centroid)
    return BorderDistance(0.0, min(touching, key=lambda iso3: centre.km(parts[iso3])))


def interval(km: float, radius_km: float | None) -> tuple[float, float]:
    """The range a distance measured from a place's point can take, given the place's radius."""
    radius = radius_km or 0.0
    return max(0.0, km - radius), km + radius


def sites_within(geometry: BaseGeometry, sites: Iterable[Site], max_km: float) -> list[tuple[Site, float]]:
    """Sites no further than `max_km` from the geometry (0 inside an area), nearest first."""
    window = _window(geometry, max_km)
    frame = _Frame(geometry)
    found = []
    for site in sites:
        point = site.point
        if _in_window(point, window) and (km := frame.km(point)) <= max_km:
            found.append((site, km))
    return sorted(found, key=lambda pair: (pair[1], pair[0].id))


def thresholds_within(km: float, thresholds: Mapping[str, float]) -> list[str]:
    """Names of the weapon ranges that reach `km` (e.g. tube artillery at 30 km), shortest first."""
    return [name for name, reach in sorted(thresholds.items(), key=lambda item: item[1]) if km <= reach]


@dataclass(frozen=True)
class Proximity:
    """The proximity record of one located event (DESIGN §1 Proximity, §3 `proximity`)."""

    border: BorderDistance | None
    border_range: tuple[float, float] | None
    """Where the border distance may lie given the place's uncertainty radius."""
    sites: tuple[tuple[Site, float], ...] = ()
    within: tuple[str, ...] = ()
    """Weapon-range thresholds the border distance falls within."""

    def to_contract(self) -> dict[str, Any]:
        border = self.border
        return {
            "border_km": round(border.km, 1) if border else None,
            "border_with": border.with_iso3 if border else None,
            "sites": [{"id": site.id, "name": site.name, "km": round(km, 1)} for site, km in self.sites],
            "border_km_range": [round(v, 1) for v in self.border_range] if self.border_range else None,
            "within": list(self.within),
        }


def measure(
    point: Point,
    radius_km: float | None,
    home_iso3: str | None,
    shapes: Shapes,
    neighbours: Neighbours,
    sites: Iterable[Site],
    *,
    area: BaseGeometry | None = None,
    site_range_km: float,
    thresholds: Mapping[str, float],
    countries: Iterable[str] = (),
) -> Proximity:
    """Proximity of a place given by its point and radius, or by its polygon when it has one.

    With an area (an oblast) distances are from the area itself, so one touching the border is at
    0 km, and the range's upper end is the distance from its point plus its radius; without one,
    distances are from the point and the range is the point's distance ± the radius.
    """
    subject = area if area is not None else point
    border = border_distance(subject, home_iso3, shapes, neighbours, countries=countries)
    border_range = None
    if border is not None:
        if area is None:
            border_range = interval(border.km, radius_km)
        else:
            centre = border_distance(point, home_iso3, shapes, neighbours, countries=countries)
            upper = interval(centre.km, radius_km)[1] if centre else border.km
            border_range = (border.km, max(border.km, upper))
    return Proximity(
        border=border,
        border_range=border_range,
        sites=tuple(sites_within(subject, sites, site_range_km)),
        within=tuple(thresholds_within(border.km, thresholds)) if border else (),
    )
