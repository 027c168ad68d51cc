"""`borderwatch report`: a static briefing (HTML, map, timeline) from a real store, payloads inert."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from borderwatch.assess.cluster import assign_clusters
from borderwatch.config import Config, IngestConfig
from borderwatch.errors import GeoError
from borderwatch.ingest import document_from_record
from borderwatch.pipeline import Pipeline
from borderwatch.report import write_report
from borderwatch.store import open_store
from conftest import needs_gazetteer

if TYPE_CHECKING:
    from conftest import Cli

PAYLOAD_SCRIPT = "<script>alert(1)</script>"
PAYLOAD_IMG = "<img src=x onerror=alert(1)>"

# Short reports written for these tests.
ARTICLES = [
    {"id": "r1", "published": "2022-01-10", "title": "Trucks near Mazyr",
     "url": "https://example.org/r1",
     "text": "Military trucks moving south near Mazyr, Belarus, were filmed on Monday."},
    {"id": "r2", "published": "2022-01-12", "title": "Tanks towards Yelsk",
     "url": "javascript:alert(1)",
     "text": "Columns of tanks were seen moving towards Yelsk, Belarus, close to the Ukrainian border."},
    {"id": "r3", "published": "2022-01-14", "title": f"Tanks in Kalinkavichy {PAYLOAD_SCRIPT}",
     "text": f"Tanks were seen moving near Kalinkavichy, Belarus, as locals posted {PAYLOAD_SCRIPT} "
             f"{PAYLOAD_IMG} online."},
    {"id": "r4", "published": "2022-01-15", "title": "Far away",
     "text": "Tanks were seen moving near Novosibirsk, Russia."},
]
PNG = b"\x89PNG\r\n\x1a\n"


def build_store(pipeline: Pipeline, db: Path) -> None:
    store = open_store(f"sqlite:///{db}")
    try:
        docs = [document_from_record(r, f"test:{r['id']}", IngestConfig()) for r in ARTICLES]
        for analysis in pipeline.analyse(docs):
            assert analysis.error is None, analysis.error
            assign_clusters(store, store.save(analysis).doc_id)
    finally:
        store.close()


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG, f"{path.name} is not a PNG"
    assert len(data) > 10_000, f"{path.name} is only {len(data)} bytes"
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        image.verify()
        assert image.format == "PNG" and image.size[0] > 300 and image.size[1] > 200


@pytest.fixture(scope="module")
def briefing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The store and the briefing the CLI wrote from it (built once: spaCy and plotting are slow)."""
    from conftest import Cli  # borderwatch.cli.app through typer's CliRunner

    folder = tmp_path_factory.mktemp("report")
    db = folder / "store.sqlite"
    build_store(Pipeline(), db)
    cli = Cli(tmp_path_factory.mktemp("data-home"))
    result = cli("report", "--border", "ukr-blr", "--since", "2022-01-01", "--until", "2022-01-31",
                 "--db", db, "--out", folder / "out")
    assert result.exit_code == 0, result.output
    return folder / "out", (folder / "out" / "index.html").read_text(encoding="utf-8")


@needs_gazetteer
def test_report_writes_html_map_and_timeline(briefing: tuple[Path, str]) -> None:
    out, _ = briefing
    assert {p.name for p in out.iterdir()} == {"index.html", "map.png", "timeline.png"}
    assert_png(out / "map.png")
    assert_png(out / "timeline.png")


@needs_gazetteer
def test_report_lists_the_alerts_and_events_of_the_border(briefing: tuple[Path, str]) -> None:
    out, page = briefing
    db = out.parent / "store.sqlite"
    from borderwatch.assess import assessor, subjects

    store = open_store(f"sqlite:///{db}")
    try:
        alerts = [a for a in assessor(Config()).assess(subjects(store)) if a.border == "BLR-UKR"]
    finally:
        store.close()
    assert alerts, "the test articles raise an alert on BLR-UKR"
    import html

    for alert in alerts:
        assert html.escape(alert.explanation) in page
        for evidence in alert.evidence:
            assert html.escape(evidence.text) in page
    assert "Mazyr" in page and "Yelsk" in page and "Kalinkavichy" in page
    assert "Novosibirsk" not in page, "an event far from the border is not on the briefing"
    assert page.index("2022-01-14") < page.index("2022-01-10"), "newest first"


@needs_gazetteer
def test_report_escapes_payloads_and_runs_nothing(briefing: tuple[Path, str]) -> None:
    _, page = briefing
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page, "the evidence sentence carries the payload"
    assert PAYLOAD_SCRIPT not in page and PAYLOAD_IMG not in page
    assert not re.search(r"<script", page, flags=re.IGNORECASE)
    assert not re.search(r"<img[^>]*onerror", page, flags=re.IGNORECASE)
    assert 'href="javascript' not in page.lower()
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


@pytest.mark.parametrize("border", ["BLR", "BLR-UKRAINE", "BLR_UKR", "BLR-BLR", "12-34"])
def test_border_that_is_not_two_iso3_codes_is_a_usage_error(cli: Cli, tmp_path: Path, border: str) -> None:
    result = cli("report", "--border", border, "--since", "2022-01-01", "--db", tmp_path / "s.sqlite",
                 "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert not (tmp_path / "out").exists()


def test_bad_since_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("report", "--border", "BLR-UKR", "--since", "last week", "--db", tmp_path / "s.sqlite",
                 "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "--since" in result.stderr


def test_without_a_gazetteer_the_html_notes_the_missing_map(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from borderwatch.geo.gazetteer import Gazetteer

    def missing(*_args: object) -> Gazetteer:
        raise GeoError("gazetteer not installed; run `borderwatch data install`")

    monkeypatch.setattr(Gazetteer, "open", classmethod(missing))
    store = open_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    try:
        index = write_report(store, Config(), "BLR-UKR", "2022-01-01", None, tmp_path / "out")
    finally:
        store.close()
    page = index.read_text(encoding="utf-8")
    assert "No map: gazetteer not installed" in page
    assert not (tmp_path / "out" / "map.png").exists()
    assert (tmp_path / "out" / "timeline.png").read_bytes()[:8] == PNG


@needs_gazetteer
def test_the_map_frames_the_shared_border_not_both_countries_whole() -> None:
    from borderwatch.geo.gazetteer import Gazetteer
    from borderwatch.report import map_extent

    with Gazetteer.open() as gazetteer:
        russia, ukraine = gazetteer.country_shape("RUS"), gazetteer.country_shape("UKR")
    x0, y0, x1, y1 = map_extent([russia, ukraine], [])
    # The RUS-UKR land border runs from about 31.8°E to 40.2°E, 45.7°N to 52.4°N (Crimea included).
    assert 28 < x0 < 32 and 40 < x1 < 43, "not Russia from the Baltic to the Pacific"
    assert 43 < y0 < 46 and 52 < y1 < 55


@needs_gazetteer
def test_the_map_widens_to_take_in_located_events_but_not_country_wide_ones() -> None:
    from borderwatch.geo.gazetteer import Gazetteer
    from borderwatch.models import Event, Place
    from borderwatch.report import map_extent
    from borderwatch.store import StoredEvent

    def at(place: Place) -> StoredEvent:
        return StoredEvent("e", "d", None, None, [], Event(type="MOBILIZE", place=place), [])

    with Gazetteer.open() as gazetteer:
        shapes = [gazetteer.country_shape("RUS"), gazetteer.country_shape("UKR")]
    bare = map_extent(shapes, [])
    yelnya = at(Place(name="Yelnya", lat=54.58, lon=33.17, country="RUS", precision=4, radius_km=5.0))
    russia = at(Place(name="Russia", lat=61.5, lon=98.0, country="RUS", precision=1, radius_km=2300.0))
    assert map_extent(shapes, [yelnya])[3] > bare[3], "a town north of the border widens the view"
    assert map_extent(shapes, [russia]) == bare, "a country-wide event does not"
