"""The genres OSINT work runs on (issue 10): sighting lines, analyst notes, conflict headlines.

Each test reads sentences written for it (or the project's own corpora in samples/) through the
real pipeline and checks what an analyst would check: the type, the actor, the date, the place.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from borderwatch.assess import assess_store
from borderwatch.assess.cluster import assign_clusters
from borderwatch.config import Config, IngestConfig
from borderwatch.evaluate import haversine_km, score
from borderwatch.extract.dates import numeric_dates, resolve, written_dates
from borderwatch.extract.sightings import load_vocabulary
from borderwatch.ingest import document_from_record
from borderwatch.models import Analysis
from borderwatch.pipeline import Pipeline
from borderwatch.store import open_store
from conftest import needs_gazetteer

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline()


def analyse(pipeline: Pipeline, text: str, published: str | None = None) -> Analysis:
    record = {"id": "t", "text": text, **({"published": published} if published else {})}
    return next(pipeline.analyse([document_from_record(record, "test:t", IngestConfig())]))


def current(analysis: Analysis) -> list:
    return [e for e in analysis.events if e.is_current]


def test_the_sighting_vocabulary_loads_and_its_patterns_compile() -> None:
    vocab = load_vocabulary()
    assert "tank" in vocab.materiel and "troop" in vocab.personnel
    assert vocab.models.search("Column of T-72B3 tanks") and vocab.models.search("S-400 launchers")
    assert not (vocab.sighting_verbs & vocab.not_sighting)


@needs_gazetteer
@pytest.mark.parametrize(
    ("line", "mode", "actor", "town"),
    [
        ("Train transporting military equipment near Yelsk, Gomel region, Belarus.", "weapons", None, "BLR"),
        ("Russian military equipment spotted at the railway station in Valuyki.", "weapons", "RUS", "RUS"),
        ("Belarusian paratroopers in a field near Pinsk", "troops", "BLR", "BLR"),
        ("Air-defence launchers on the move near Rechytsa", "weapons", None, "BLR"),
    ],
)
def test_a_sighting_line_is_a_mobilization_with_its_demonym_date_and_town(
    pipeline: Pipeline, line: str, mode: str, actor: str | None, town: str
) -> None:
    events = [e for e in current(analyse(pipeline, line, "2022-01-20")) if e.type == "MOBILIZE"]
    assert events, line
    event = events[0]
    assert event.mode == mode
    assert [a.code for a in event.actors] == ([actor] if actor else [])
    assert event.date.start == "2022-01-20"
    assert event.place is not None and event.place.country == town and event.place.precision == 4


@needs_gazetteer
@pytest.mark.parametrize(
    "line",
    [
        "Destroyed Russian tank near Izium.",
        "Ukrainian troops came under fire near Avdiivka",
        "Russian troops will be sent to Belarus for drills next month.",
        "A man is led away by officers after he climbed onto an armored police truck in Leipzig.",
    ],
)
def test_destruction_plans_and_stories_are_not_sightings(pipeline: Pipeline, line: str) -> None:
    events = current(analyse(pipeline, line, "2022-01-20"))
    assert not [e for e in events if e.type == "MOBILIZE" and not e.future and e.date.granularity == "day"]


@needs_gazetteer
def test_a_note_keeps_its_own_date_and_never_today(pipeline: Pipeline) -> None:
    note = (
        "On 3 May 2020, in Kuchlak (Quetta district, Balochistan), unidentified gunmen attacked a "
        "police checkpoint. Two days later, the army raided the area."
    )
    events = current(analyse(pipeline, note))
    violent = [e for e in events if e.type in ("FIGHT", "ASSAULT")]
    assert violent and violent[0].date.start == "2020-05-03"
    today = date.today().isoformat()
    assert all(e.date.start != today for e in events)


def test_relative_dates_stay_unresolved_without_a_publication_date() -> None:
    assert resolve("two days later", None) is None
    assert resolve("last week", None) is None
    assert resolve("in March", None) is None
    assert resolve("12 March 2021", None).start == "2021-03-12"
    assert resolve("around 5 April 2019", None).start == "2019-04-05"
    assert resolve("March 2021", None).granularity == "month"
    assert resolve("two days later", date(2022, 2, 1)) is not None


@needs_gazetteer
def test_a_nested_place_resolves_at_the_finest_level_known(pipeline: Pipeline) -> None:
    note = (
        "On 3 May 2020, in Kuchlak (Quetta district, Balochistan), unidentified gunmen attacked a "
        "police checkpoint."
    )
    place = next(e.place for e in current(analyse(pipeline, note)) if e.type == "FIGHT")
    # Kuchlak is not in the gazetteer; the district is, by its seat, with a district's radius.
    assert place is not None and place.country == "PAK"
    assert place.precision == 3 and place.radius_km >= 25
    assert haversine_km(place.lat, place.lon, 30.18, 67.0) < 30


@needs_gazetteer
@pytest.mark.parametrize(
    ("headline", "kind"),
    [
        ("Russia lost 100 servicemen per day near Bakhmut", "FIGHT"),
        ("27 Ukrainian servicemen died in the Kupiansk direction", "FIGHT"),
        ("Ukrainian artillery knocked out three Russian tanks near Vuhledar", "FIGHT"),
        ("Russian forces broke through Ukrainian defences near Soledar", "FIGHT"),
        ("200 militants liquidated in Donetsk region, says ministry", "FIGHT"),
        ("Armenia and Azerbaijan agreed to a ceasefire", "AGREE"),
        ("Sudan ceasefire collapses as fighting resumes in Khartoum", "FIGHT"),
    ],
)
def test_headline_losses_jargon_and_ceasefires_are_typed(
    pipeline: Pipeline, headline: str, kind: str
) -> None:
    types = {e.type for e in current(analyse(pipeline, headline, "2023-01-10"))}
    assert kind in types, types
    assert "REJECT" not in types


@needs_gazetteer
def test_a_ceasefire_agreed_is_not_a_retreat_and_a_natural_death_is_no_fight(pipeline: Pipeline) -> None:
    agreed = current(analyse(pipeline, "Israel and Hamas agree on ceasefire"))
    assert "RETREAT" not in {e.type for e in agreed}
    assert not current(analyse(pipeline, "Former president dies aged 90", "2023-01-10"))


@needs_gazetteer
@pytest.mark.parametrize("name", ["sightings", "notes", "headlines"])
def test_genre_corpora_quality_floor(pipeline: Pipeline, name: str) -> None:
    lines = (SAMPLES / f"{name}.input.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line]
    gold = {g["id"]: g for g in map(json.loads, (SAMPLES / f"{name}.gold.jsonl").read_text().splitlines())}
    assert len(records) >= 95 and {r["id"] for r in records} == set(gold)
    docs = [document_from_record(r, f"sample:{r['id']}", IngestConfig()) for r in records]
    pred = {a.document.input_id: a.to_contract() for a in pipeline.analyse(docs)}
    report = score(gold, pred).to_dict()
    if name == "sightings":
        # Measured 0.99 F1, places within 25 km 0.95, dates 1.0 when this floor was set.
        assert report["event_types"]["micro"]["f1"] >= 0.9
        assert report["event_places"]["within_25km"] >= 0.85
        assert report["event_dates"]["agreement"] >= 0.95
    elif name == "notes":
        # Measured found 1.0, places within 25 km 0.69, dates 0.98.
        assert report["event_found"]["found_share"] >= 0.95
        assert report["event_places"]["within_25km"] >= 0.6
        assert report["event_dates"]["agreement"] >= 0.95
    else:
        # Measured found 0.84 on the violent headlines, micro F1 0.90 on the typed ones.
        assert report["event_found"]["found_share"] >= 0.8
        assert report["event_types"]["micro"]["f1"] >= 0.8


@needs_gazetteer
def test_a_build_up_of_sightings_near_a_border_warns_and_the_same_deep_inside_does_not(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    near = ["Mazyr", "Yelsk", "Rechytsa", "Kalinkavichy"]
    far = ["Yekaterinburg", "Novosibirsk", "Omsk", "Krasnoyarsk"]
    lines = [f"Column of tanks and military trucks near {town}" for town in near + far]
    store = open_store(f"sqlite:///{tmp_path / 'genres.sqlite'}")
    try:
        records = [{"id": f"g{i}", "text": t, "published": "2022-01-20"} for i, t in enumerate(lines)]
        docs = [document_from_record(r, f"test:{r['id']}", IngestConfig()) for r in records]
        for analysis in pipeline.analyse(docs):
            assign_clusters(store, store.save(analysis).doc_id)
        alerts = assess_store(store, Config())
    finally:
        store.close()
    cited = " ".join(e.text for a in alerts for e in a.evidence)
    assert {a.border for a in alerts} == {"BLR-UKR"}
    assert {"troops-near-border", "mobilize-surge"} <= {a.rule for a in alerts}
    assert not any(town in cited for town in far)


def test_day_ranges_and_parts_of_days_resolve_to_days() -> None:
    both = resolve("3-4 May 2020", None)
    assert both is not None and (both.start, both.end) == ("2020-05-03", "2020-05-04")
    assert resolve("the night of 5 June 2021", None).start == "2021-06-05"
    assert resolve("between 3 and 5 May 2021", None).end == "2021-05-05"


@needs_gazetteer
def test_a_nested_string_read_by_ner_as_one_name_still_yields_its_places(pipeline: Pipeline) -> None:
    note = (
        "On 11 December 2021, armed herders attacked Fulani settlements near Bokkos (Bokkos, Plateau), "
        "killing 10 people."
    )
    places = [e.place for e in current(analyse(pipeline, note)) if e.type in ("FIGHT", "ASSAULT")]
    assert places and places[0] is not None and places[0].country == "NGA"


@needs_gazetteer
def test_a_namesake_abroad_gives_way_to_the_level_the_note_names(pipeline: Pipeline) -> None:
    note = "On 24 March 2021, in Palma (Cabo Delgado province), insurgents attacked the town."
    place = next(e.place for e in current(analyse(pipeline, note)) if e.type == "FIGHT")
    assert place is not None and place.country == "MOZ"


def test_numeric_dates_are_read_only_when_unambiguous() -> None:
    assert [d.start for _, d in numeric_dates("15.01.2022 - Column of tanks near Klintsy")] == ["2022-01-15"]
    assert [d.start for _, d in numeric_dates("2022-01-15 convoy")] == ["2022-01-15"]
    assert numeric_dates("03/04/2021 convoy") == []
    assert [d.start for _, d in numeric_dates("13/04/2021")] == ["2021-04-13"]


@needs_gazetteer
@pytest.mark.parametrize(
    "headline",
    [
        "Dozens dead as rebels claim control of the airport",  # a count and a casualty word
        "Two shot dead as police storm the square",  # an irregular verb the tagger makes a noun
        "Curfew imposed in the capital, one shot dead",  # beside another event of the line
        "Heavy clashes rock the border town ahead of peace talks",  # talks set the scene
        "Militants deny infighting after their leader's slaying",  # the denial governs the infighting only
        "Village without water as shelling damages the pumping station",
    ],
)
def test_headline_violence_without_an_attack_verb_or_beside_another_event_is_found(
    pipeline: Pipeline, headline: str
) -> None:
    types = {e.type for e in current(analyse(pipeline, headline, "2022-05-10"))}
    assert types & {"FIGHT", "ASSAULT"}, types


@needs_gazetteer
@pytest.mark.parametrize(
    "headline",
    [
        "Occupation authorities announce evacuation of civilians across the river",  # a kind of authority
        "Referendums on joining Russia begin in occupied regions",  # a state, not an event
        "President warns of civil war if talks fail",  # what the warning is about
        "Armenia and Azerbaijan agree to a ceasefire after two days of clashes",  # a span of time
        "No casualties reported as storm hits the coast",
    ],
)
def test_headline_kinds_states_arguments_and_spans_of_time_are_no_violence(
    pipeline: Pipeline, headline: str
) -> None:
    types = {e.type for e in current(analyse(pipeline, headline, "2022-05-10"))}
    assert not types & {"FIGHT", "ASSAULT"}, types


def test_written_dates_are_read_after_weekdays_and_in_either_order() -> None:
    assert [d.start for _, _, d in written_dates("Sat 9 Nov 2019: mortar rounds")] == ["2019-11-09"]
    assert [d.start for _, _, d in written_dates("On the 5th of March 2018, near")] == ["2018-03-05"]
    assert [d.start for _, _, d in written_dates("Sept. 9, 2017 - fighters")] == ["2017-09-09"]
    assert written_dates("On 31 June 2020") == [] and written_dates("in May 2020") == []


@needs_gazetteer
def test_a_note_dates_by_the_day_it_states_and_places_later_sentences_where_it_said(
    pipeline: Pipeline,
) -> None:
    note = (
        "Sat 9 Nov 2019: separatists and the army exchanged gunfire in Bamenda "
        "(Mezam department, North-West region, Cameroon). Three soldiers were killed."
    )
    events = [e for e in current(analyse(pipeline, note)) if e.type in ("FIGHT", "ASSAULT")]
    assert events and all(e.date.start == "2019-11-09" for e in events)
    places = [e.place for e in events]
    assert all(p is not None and haversine_km(p.lat, p.lon, 5.96, 10.15) < 25 for p in places)
    month = current(analyse(pipeline, "10 February 2022: rebels fired rockets at the town of Marib, Yemen."))
    assert month and month[0].date.start == "2022-02-10"


@needs_gazetteer
def test_a_town_named_with_its_kind_is_the_town_not_its_region(pipeline: Pipeline) -> None:
    note = "On 5 June 2021, gunmen raided a hamlet near Tillaberi town (Tillaberi region, Niger), killing 19."
    place = next(e.place for e in current(analyse(pipeline, note)) if e.type in ("FIGHT", "ASSAULT"))
    assert place is not None and place.precision == 4
    assert haversine_km(place.lat, place.lon, 14.21, 1.45) < 25


@needs_gazetteer
@pytest.mark.parametrize("name", ["notes_unseen", "headlines_unseen"])
def test_corpora_written_apart_from_the_detectors_stay_above_their_floor(
    pipeline: Pipeline, name: str
) -> None:
    """samples/*_unseen: notes and headlines in other styles and conflicts, written to test the
    genre readers rather than to build them (see samples/README.md)."""
    lines = (SAMPLES / f"{name}.input.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines if line]
    gold = {g["id"]: g for g in map(json.loads, (SAMPLES / f"{name}.gold.jsonl").read_text().splitlines())}
    docs = [document_from_record(r, f"sample:{r['id']}", IngestConfig()) for r in records]
    pred = {a.document.input_id: a.to_contract() for a in pipeline.analyse(docs)}
    report = score(gold, pred).to_dict()
    if name == "notes_unseen":
        # Measured found 0.97, dates 0.98, places within 25 km 0.75 (0.97, 0.95, 0.67 before).
        assert report["event_found"]["found_share"] >= 0.93
        assert report["event_dates"]["agreement"] >= 0.95
        assert report["event_places"]["within_25km"] >= 0.68
    else:
        # Measured found 69 of 70 violent lines, quiet on all 22 others (65 and 22 before).
        assert report["event_found"]["found_share"] >= 0.93
        assert report["event_found"]["quiet_share"] >= 0.9
