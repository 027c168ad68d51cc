"""Alert rules over the store: what an analyst would be warned about, and what stays quiet."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from borderwatch.assess import assess_store
from borderwatch.assess.cluster import assign_clusters
from borderwatch.assess.rules import load_rules
from borderwatch.config import Config, IngestConfig
from borderwatch.errors import ConfigError
from borderwatch.ingest import document_from_record
from borderwatch.models import Alert
from borderwatch.pipeline import Pipeline
from borderwatch.store import open_store
from conftest import SEED, needs_gazetteer

pytestmark = needs_gazetteer

# Terse, dated sightings in the style OSINT accounts post them (written for these tests).
SIGHTINGS = [
    ("2022-01-10", "Military trucks moving south near Mazyr, Belarus."),
    ("2022-01-12", "Columns of tanks were seen moving towards Yelsk, Belarus."),
    ("2022-01-14", "Troops deployed near Klintsy in the Bryansk region, close to the border."),
    ("2022-01-15", "Russian troops and armour massed near Valuyki."),
    ("2022-01-15", "Military trucks moving east near Yekaterinburg, Russia."),
    ("2022-01-16", "Tanks were seen moving near Novosibirsk, Russia."),
]


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline()


def run(pipeline: Pipeline, db: Path, records: list[dict]) -> list[Alert]:
    store = open_store(f"sqlite:///{db}")
    try:
        docs = [document_from_record(r, f"test:{r['id']}", IngestConfig()) for r in records]
        for analysis in pipeline.analyse(docs):
            assert analysis.error is None, analysis.error
            assign_clusters(store, store.save(analysis).doc_id)
        return assess_store(store, Config())
    finally:
        store.close()


def sighting_records(order: list[int]) -> list[dict]:
    return [{"id": f"s{i}", "text": SIGHTINGS[i][1], "published": SIGHTINGS[i][0]} for i in order]


def test_sightings_near_borders_warn_and_far_ones_stay_quiet(pipeline: Pipeline, tmp_path: Path) -> None:
    alerts = run(pipeline, tmp_path / "s.sqlite", sighting_records(list(range(len(SIGHTINGS)))))
    borders = {a.border for a in alerts}
    assert {"BLR-UKR", "RUS-UKR"} <= borders
    cited = " ".join(e.text for a in alerts for e in a.evidence)
    assert "Yekaterinburg" not in cited and "Novosibirsk" not in cited
    assert all(a.as_of < "2022-01-24" for a in alerts), "warned a month before 24 February"


def test_order_of_processing_does_not_change_the_alerts(pipeline: Pipeline, tmp_path: Path) -> None:
    order = list(range(len(SIGHTINGS)))
    first = run(pipeline, tmp_path / "a.sqlite", sighting_records(order))
    random.Random(7).shuffle(order)
    second = run(pipeline, tmp_path / "b.sqlite", sighting_records(order))

    def key(alerts: list[Alert]) -> set[tuple[str, str, str, str | None]]:
        return {(a.rule, a.severity, a.as_of, a.border) for a in alerts}

    assert key(first) == key(second)


def test_alert_json_has_the_contract_shape(pipeline: Pipeline, tmp_path: Path) -> None:
    alerts = run(pipeline, tmp_path / "c.sqlite", sighting_records([0]))
    assert alerts
    for alert in alerts:
        record = json.loads(json.dumps(alert.to_contract()))
        assert set(record) == {
            "id",
            "rule",
            "severity",
            "as_of",
            "border",
            "sites",
            "explanation",
            "events",
            "evidence",
        }
        assert record["severity"] in ("low", "medium", "high")
        assert all(set(e) == {"doc", "start", "end", "text"} for e in record["evidence"])


def test_a_surge_along_one_border_is_flagged(pipeline: Pipeline, tmp_path: Path) -> None:
    towns = ["Mazyr", "Yelsk", "Rechytsa", "Kalinkavichy"]
    records = [
        {
            "id": f"q{i}",
            "published": "2022-02-01",
            "text": f"Belarusian troops deployed near {town}, Belarus, on Tuesday.",
        }
        for i, town in enumerate(towns)
    ]
    alerts = run(pipeline, tmp_path / "d.sqlite", records)
    surges = [a for a in alerts if a.rule == "mobilize-surge"]
    assert surges and surges[0].border == "BLR-UKR" and surges[0].as_of == "2022-02-01"
    assert len(surges[0].evidence) >= 3


def test_background_history_raises_nothing(pipeline: Pipeline, tmp_path: Path) -> None:
    text = "In February 2022 Russian troops massed near Mazyr before they crossed into Ukraine."
    alerts = run(pipeline, tmp_path / "e.sqlite", [{"id": "h", "text": text, "published": "2024-08-25"}])
    assert alerts == []


def test_user_rules_are_validated() -> None:
    with pytest.raises(ConfigError, match="unknown keys"):
        load_rules(
            [
                {
                    "id": "x",
                    "kind": "proximity",
                    "types": ["FIGHT"],
                    "severity": "high",
                    "site_km": 5,
                    "colour": "red",
                }
            ]
        )
    rules = load_rules(
        [
            {
                "id": "troops-near-border",
                "kind": "proximity",
                "types": ["MOBILIZE"],
                "severity": "low",
                "border": 10,
            }
        ]
    )
    assert next(r for r in rules if r.id == "troops-near-border").severity == "low"


@pytest.mark.skipif(not SEED.exists(), reason=f"seed article not found at {SEED}")
def test_seed_raises_one_high_alert_on_the_gomel_buildup(pipeline: Pipeline, tmp_path: Path) -> None:
    record = {"id": "seed", "text": SEED.read_text(encoding="utf-8"), "published": "2024-08-25"}
    alerts = [a for a in run(pipeline, tmp_path / "seed.sqlite", [record]) if a.border == "BLR-UKR"]
    assert len(alerts) == 1
    (alert,) = alerts
    assert alert.severity == "high" and "npp-chernobyl" in alert.sites
    assert "Chernobyl" in alert.explanation
    cited = " ".join(e.text for e in alert.evidence)
    assert "Gomel region" in cited and "2022" not in " ".join(e.text for e in alert.evidence[1:2])
    assert len(alert.evidence) >= 2


GOMEL_REPORTS = [
    {
        "id": "r1",
        "published": "2024-08-26",
        "url": "https://polesie-monitor.test/a",
        "text": "Belarus has moved several battalions with tanks and artillery into the Gomel region, "
        "close to the border with Ukraine, Ukrainian border guards said on Monday. Minsk calls "
        "the deployment a readiness exercise.",
    },
    {
        "id": "r2",
        "published": "2024-08-27",
        "url": "https://dnipro-wire.test/b",
        "text": "Satellite images show Belarusian troops and armour massing near Mazyr in the Gomel "
        "region, a few dozen kilometres from Ukraine, an analyst group said on Tuesday.",
    },
]


@pytest.mark.skipif(not SEED.exists(), reason=f"seed article not found at {SEED}")
def test_seed_and_two_more_reports_make_one_cluster_and_one_alert(pipeline: Pipeline, tmp_path: Path) -> None:
    seed = {
        "id": "seed",
        "text": SEED.read_text(encoding="utf-8"),
        "published": "2024-08-25",
        "url": "https://seed-outlet.test/s",
    }
    alerts = [
        a for a in run(pipeline, tmp_path / "g.sqlite", [seed, *GOMEL_REPORTS]) if a.border == "BLR-UKR"
    ]
    assert len(alerts) == 1
    (alert,) = alerts
    assert alert.severity == "high" and "npp-chernobyl" in alert.sites
    cited_docs = {e.doc for e in alert.evidence}
    assert len(cited_docs) == 3, "the alert cites sentences from all three reports"
    assert "2022" not in " ".join(e.text for e in alert.evidence)


def test_nuclear_rule_only_counts_nuclear_sites(pipeline: Pipeline, tmp_path: Path) -> None:
    """A user's dam layer next to the fighting must not raise the nuclear-plant rule."""
    from borderwatch.assess import assessor, subjects
    from borderwatch.config import GeoConfig

    dams = tmp_path / "dams.csv"
    dams.write_text(
        "id,name,kind,country,lat,lon,status,source\n"
        "dam-test,Test Dam,dam,UKR,48.62,38.00,operating,written for this test\n",
        encoding="utf-8",
    )
    config = Config(geo=GeoConfig(site_files=(str(dams),)))
    store = open_store(f"sqlite:///{tmp_path / 'dam.sqlite'}")
    try:
        doc = document_from_record(
            {
                "id": "d",
                "published": "2024-08-25",
                "text": "Russian forces shelled positions near Bakhmut on Sunday.",
            },
            "test:d",
            IngestConfig(),
        )
        (analysis,) = Pipeline(config).analyse([doc])
        store.save(analysis)
        sites = [s["id"] for e in analysis.events for s in (e.proximity or {}).get("sites", [])]
        assert "dam-test" in sites, "the dam is near the event"
        rules = {a.rule for a in assessor(config).assess(subjects(store))}
        assert "armed-activity-near-nuclear-plant" not in rules
    finally:
        store.close()


@needs_gazetteer
def test_troops_placed_only_at_a_whole_country_are_near_no_border(pipeline: Pipeline, tmp_path: Path) -> None:
    """A country's point is hundreds of km from everything: no false precision in an alert."""
    vague = {"id": "v", "published": "2024-02-10",
             "text": "Venezuela moved troops and armoured vehicles on Venezuelan territory on Friday."}
    sharp = {"id": "s", "published": "2024-02-10",
             "text": "Belarus moved troops and armoured vehicles into the Gomel region on Friday."}
    assert [a.border for a in run(pipeline, tmp_path / "v.sqlite", [vague])] == []
    assert "BLR-UKR" in {a.border for a in run(pipeline, tmp_path / "s.sqlite", [sharp])}
