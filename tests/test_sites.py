"""The critical-sites layer: the packaged nuclear plants are complete and sane, and user layers load
(or fail by file and row) the way the configuration promises."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyproj import Geod

from borderwatch.errors import ConfigError
from borderwatch.geo.sites import COLUMNS, Site, load_sites

GEOD = Geod(ellps="WGS84")
STATUSES = {"operating", "under-construction", "construction-suspended", "shut-down", "decommissioning"}

REQUIRED_PLANTS = [
    # Ukraine, Belarus, Russia, Armenia, Turkey, Lithuania
    "Chernobyl", "Zaporizhzhia", "Rivne", "Khmelnytskyi", "South Ukraine", "Belarusian", "Kursk", "Kursk II",
    "Smolensk", "Novovoronezh", "Leningrad", "Kola", "Kalinin", "Balakovo", "Beloyarsk", "Bilibino",
    "Rostov", "Akademik Lomonosov", "Baltic", "Armenian", "Akkuyu", "Ignalina",
    # France
    "Belleville", "Blayais", "Bugey", "Cattenom", "Chinon", "Chooz", "Civaux", "Cruas", "Dampierre",
    "Fessenheim", "Flamanville", "Golfech", "Gravelines", "Nogent", "Paluel", "Penly", "Saint-Alban",
    "Saint-Laurent", "Tricastin", "Brennilis", "Creys-Malville",
    # Germany, including every plant shut down
    "Brokdorf", "Brunsbüttel", "Krümmel", "Stade", "Unterweser", "Emsland", "Grohnde", "Würgassen",
    "Grafenrheinfeld", "Gundremmingen", "Isar", "Philippsburg", "Neckarwestheim", "Obrigheim", "Biblis",
    "Mülheim-Kärlich", "Greifswald", "Rheinsberg", "THTR-300",
    # United Kingdom
    "Heysham", "Hartlepool", "Torness", "Sizewell", "Hinkley Point C", "Dungeness", "Hunterston",
    "Sellafield", "Chapelcross", "Bradwell", "Berkeley", "Oldbury", "Trawsfynydd", "Wylfa", "Dounreay",
    # Spain, Italy
    "Almaraz", "Ascó", "Cofrentes", "Trillo", "Vandellòs", "Garoña", "José Cabrera",
    "Caorso", "Trino", "Latina", "Garigliano",
    # Nordic, Benelux, Switzerland, central and south-eastern Europe
    "Loviisa", "Olkiluoto", "Forsmark", "Oskarshamn", "Ringhals", "Barsebäck", "Borssele", "Dodewaard",
    "Doel", "Tihange", "Beznau", "Gösgen", "Leibstadt", "Mühleberg", "Krško", "Paks", "Dukovany", "Temelín",
    "Bohunice", "Mochovce", "Cernavodă", "Kozloduy",
]


@pytest.fixture(scope="module")
def packaged() -> list[Site]:
    return load_sites()


def test_packaged_layer_is_valid_and_unique(packaged: list[Site]) -> None:
    assert len(packaged) >= 100
    assert len({site.id for site in packaged}) == len(packaged)
    for site in packaged:
        assert site.id.startswith("npp-"), site
        assert site.kind == "nuclear-power-plant", site
        assert site.status in STATUSES, site
        assert site.country is not None and len(site.country) == 3, site
        assert site.source and "compiled by the project" in site.source, site
        assert -90 <= site.lat <= 90 and -180 <= site.lon <= 180, site


@pytest.mark.parametrize("name", REQUIRED_PLANTS)
def test_every_required_plant_is_listed(packaged: list[Site], name: str) -> None:
    names = [site.name for site in packaged]
    assert any(name in listed for listed in names), f"{name} missing from the critical-sites layer"


def test_chernobyl_is_where_it_is(packaged: list[Site]) -> None:
    chernobyl = next(site for site in packaged if site.id == "npp-chernobyl")
    metres = GEOD.inv(chernobyl.lon, chernobyl.lat, 30.099, 51.389)[2]
    assert metres < 3000, f"Chernobyl NPP placed {metres / 1000:.1f} km from the plant"


def _write_csv(path: Path, *rows: str) -> Path:
    path.write_text(",".join(COLUMNS) + "\n" + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def test_user_csv_and_geojson_layers_are_added(tmp_path: Path) -> None:
    dams = _write_csv(tmp_path / "dams.csv",
                      "dam-kakhovka,Kakhovka dam,dam,UKR,46.7781,33.3706,destroyed,user survey")
    bases = tmp_path / "bases.geojson"
    bases.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [30.5, 50.4]},
        "properties": {"id": "base-1", "name": "Base one", "kind": "airbase"},
    }]}), encoding="utf-8")
    sites = load_sites([dams, bases])
    by_id = {site.id: site for site in sites}
    assert by_id["dam-kakhovka"].kind == "dam" and by_id["dam-kakhovka"].layer == str(dams)
    assert (by_id["base-1"].lat, by_id["base-1"].lon, by_id["base-1"].country) == (50.4, 30.5, None)
    assert "npp-chernobyl" in by_id


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("dam-1,Dam,dam,UKR,91.0,30.0,,", "lat '91.0' is out of range"),
        ("dam-1,Dam,dam,UKR,north,30.0,,", "lat 'north' is not a number"),
        ("dam-1,,dam,UKR,50.0,30.0,,", "missing name"),
        ("Dam 1,Dam,dam,UKR,50.0,30.0,,", "not a lower-case slug"),
        ("dam-1,Dam,dam,Ukraine,50.0,30.0,,", "not an ISO 3166-1 alpha-3 code"),
        ("dam-1,Dam,dam,UKR,50.0,30.0,,,extra", "more values than columns"),
    ],
)
def test_malformed_csv_row_names_file_and_line(tmp_path: Path, row: str, problem: str) -> None:
    layer = _write_csv(tmp_path / "mine.csv", "dam-0,Dam zero,dam,UKR,50.0,30.0,,", row)
    with pytest.raises(ConfigError) as caught:
        load_sites([layer])
    assert str(layer) in str(caught.value)
    assert "line 3" in str(caught.value) and problem in str(caught.value)


def test_malformed_geojson_feature_is_named(tmp_path: Path) -> None:
    layer = tmp_path / "mine.geojson"
    layer.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [30.0, 50.0]},
         "properties": {"id": "ok", "name": "Fine", "kind": "dam"}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[30, 50], [31, 51]]},
         "properties": {"id": "line", "name": "Line", "kind": "dam"}},
    ]}), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"feature 2: geometry is not a Point") as caught:
        load_sites([layer])
    assert str(layer) in str(caught.value)


def test_duplicate_ids_across_layers_are_refused(tmp_path: Path) -> None:
    layer = _write_csv(tmp_path / "mine.csv", "npp-chernobyl,Chernobyl again,dam,UKR,51.39,30.1,,")
    with pytest.raises(ConfigError, match=r"'npp-chernobyl' is already used in borderwatch/data/critical_"):
        load_sites([layer])


def test_duplicate_ids_within_a_layer_are_refused(tmp_path: Path) -> None:
    layer = _write_csv(tmp_path / "mine.csv", "dam-1,Dam,dam,UKR,50,30,,", "dam-1,Dam,dam,UKR,50.1,30.1,,")
    with pytest.raises(ConfigError, match=r"'dam-1' is already used in .*mine\.csv"):
        load_sites([layer])


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("sites.txt", "id,name\n", "must be .csv, .geojson or .json"),
        ("sites.csv", "id,name,kind\nx,X,dam\n", "missing columns: lat, lon"),
        ("sites.json", "[1, 2]", "not a GeoJSON FeatureCollection"),
        ("sites.geojson", "{", "not valid JSON"),
    ],
)
def test_unusable_layer_files_are_refused(tmp_path: Path, name: str, content: str, problem: str) -> None:
    layer = tmp_path / name
    layer.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=problem):
        load_sites([layer])


def test_missing_layer_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read site layer") as caught:
        load_sites([tmp_path / "absent.csv"])
    assert "absent.csv" in str(caught.value)
