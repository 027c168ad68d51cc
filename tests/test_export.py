"""Exports: each format parses back with a standard reader and carries the right fields."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from borderwatch.export import COLUMNS, PARQUET_SCHEMA, export_events, export_parquet, stored_events
from borderwatch.models import Actor, Analysis, Claim, Document, Event, EventDate, Place, Span
from borderwatch.store import StoredEvent, open_store

OBLAST = Place(name="Гомельская вобласць", lat=52.4, lon=30.98, country="BLR", admin1="BY-HO",
               precision=2, radius_km=120.0)


def stored(event_id: str, event: Event, evidence: list[str]) -> StoredEvent:
    spans = []
    offset = 0
    for sentence in evidence:
        spans.append(Span(offset, offset + len(sentence)))
        offset += len(sentence) + 1
    event.evidence = spans
    return StoredEvent(id=event_id, doc_id="d" * 64, title="Troops near the border",
                       published="2024-08-25", urls=["https://example.org/a", "https://b.example/a"],
                       event=event, evidence_texts=evidence)


@pytest.fixture
def events() -> list[StoredEvent]:
    mobilize = stored("e1", Event(
        type="MOBILIZE", mode="troops", actors=[Actor("BLR", "MIL", "Minsk")], place=OBLAST,
        date=EventDate("2024-08-25", None, "day"),
        claim=Claim(claimant=Actor("UKR", "INTEL", "Ukrainian intelligence"), stance="alleged",
                    outlet_voice=False),
        proximity={"border_km": 0.0, "border_with": "UKR", "sites": []}, confidence=0.72,
    ), ["Troops massed in the Gomel region.", "Equipment, too, was seen."])
    unplaced = stored("e2", Event(
        type="ACCUSE", actors=[Actor("UKR", "MFA", "Kyiv")],
        recipients=[Actor("BLR", "GOV", "Minsk"), Actor("RUS", "GOV", "Moscow")],
        historical=True, negated=True,
    ), ["=HYPERLINK(\"http://evil.example\") Kyiv accused Minsk."])
    # A place without coordinates (unresolved name) cannot be a map point either.
    unlocated = stored("e3", Event(type="FIGHT", place=Place(name="the front")), ["Fighting."])
    return [mobilize, unplaced, unlocated]


def test_csv_parses_back_with_flat_columns(events: list[StoredEvent]) -> None:
    out = io.StringIO(newline="")
    result = export_events(events, "csv", out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert (result.written, result.skipped) == (3, 0)
    assert tuple(rows[0]) == COLUMNS
    first = rows[0]
    assert (first["id"], first["type"], first["mode"], first["actors"]) == (
        "e1", "MOBILIZE", "troops", "BLR")
    assert (first["stance"], first["claimant"], first["flags"]) == ("alleged", "UKR", "")
    assert (first["place_name"], first["place_admin1"], first["place_precision"]) == (
        "Гомельская вобласць", "BY-HO", "2")
    assert (float(first["place_lat"]), float(first["place_lon"])) == (52.4, 30.98)
    assert (first["place_radius_km"], first["border_km"], first["border_with"]) == (
        "120.0", "0.0", "UKR")
    assert first["evidence"] == "Troops massed in the Gomel region. | Equipment, too, was seen."
    assert first["urls"] == "https://example.org/a;https://b.example/a"
    assert first["date_end"] == "" and first["confidence"] == "0.72"
    second = rows[1]
    assert second["recipients"] == "BLR;RUS"
    assert second["flags"] == "historical;negated"
    assert second["place_lat"] == "" and second["claimant"] == ""


def test_csv_defuses_spreadsheet_formulas(events: list[StoredEvent]) -> None:
    out = io.StringIO(newline="")
    export_events(events, "csv", out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert rows[1]["evidence"].startswith("'=HYPERLINK(")


def test_jsonl_has_one_full_record_per_line(events: list[StoredEvent]) -> None:
    out = io.StringIO()
    result = export_events(events, "jsonl", out)
    lines = out.getvalue().splitlines()
    assert result.written == len(lines) == 3
    assert "Гомельская" in lines[0]  # readable, not \u-escaped
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == ["e1", "e2", "e3"]
    first = records[0]
    assert first["place"]["radius_km"] == 120.0
    assert first["claim"] == {"claimant": {"code": "UKR", "sector": "INTEL",
                                           "text": "Ukrainian intelligence"},
                              "stance": "alleged", "outlet_voice": False}
    assert first["evidence"][1] == {"doc": "d" * 64, "start": 35, "end": 60,
                                    "text": "Equipment, too, was seen."}
    assert first["date"] == {"start": "2024-08-25", "end": None, "granularity": "day"}
    assert records[1]["historical"] is True and records[1]["negated"] is True


def test_geojson_keeps_located_events_and_counts_the_rest(events: list[StoredEvent]) -> None:
    out = io.StringIO()
    result = export_events(events, "geojson", out)
    collection = json.loads(out.getvalue())
    assert (result.written, result.skipped) == (1, 2)
    assert collection["type"] == "FeatureCollection"
    [feature] = collection["features"]
    assert feature["type"] == "Feature" and feature["id"] == "e1"
    assert feature["geometry"] == {"type": "Point", "coordinates": [30.98, 52.4]}  # lon, lat
    properties = feature["properties"]
    assert (properties["place_radius_km"], properties["place_precision"]) == (120.0, 2)
    assert properties["type"] == "MOBILIZE" and properties["border_km"] == 0.0
    assert "place_lat" not in properties


def test_unknown_format_is_refused(events: list[StoredEvent]) -> None:
    with pytest.raises(ValueError, match="unknown export format 'xml'"):
        export_events(events, "xml", io.StringIO())  # type: ignore[arg-type]


def test_export_of_a_store_query_round_trips(tmp_path: Path) -> None:
    text = "Belarus moved troops to the Gomel region."
    doc = Document(source="t.txt", raw_text=text, clean_text=text, url="https://example.org/t")
    event = Event(type="MOBILIZE", actors=[Actor("BLR", "MIL", "Belarus")], place=OBLAST,
                  evidence=[Span(0, len(text))])
    with open_store(f"sqlite:///{tmp_path / 'store.sqlite'}") as store:
        store.save(Analysis(document=doc, events=[event]))
        queried = store.query_events()
    out = io.StringIO()
    export_events(queried, "jsonl", out)
    [record] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert record == queried[0].to_dict()
    assert record["doc"] == doc.id and record["urls"] == ["https://example.org/t"]
    assert record["evidence"][0]["text"] == text


def test_geojson_uses_real_shapes_when_given(events: list[StoredEvent]) -> None:
    square = {"type": "Polygon", "coordinates": [[[30, 52], [31, 52], [31, 53], [30, 53], [30, 52]]]}
    out = io.StringIO()
    result = export_events(events, "geojson", out, geometry=lambda place: square)
    features = json.loads(out.getvalue())["features"]
    assert result.written == len(features) > 0
    assert all(f["geometry"] == square for f in features)
    assert all("place_radius_km" in f["properties"] for f in features)


def test_parquet_has_one_typed_row_per_event(events: list[StoredEvent], tmp_path: Path) -> None:
    events[0].event.proximity = {"border_km": 0.0, "border_with": "UKR",
                                 "sites": [{"id": "chernobyl", "name": "Chernobyl", "km": 9.6}]}
    path = tmp_path / "events.parquet"
    result = export_parquet(events, path, rows_per_group=2)
    table = pq.read_table(path)
    assert result.written == table.num_rows == 3
    assert table.schema.equals(PARQUET_SCHEMA)
    assert tuple(table.column_names[: len(COLUMNS)]) == COLUMNS
    first = table.to_pylist()[0]
    assert (first["type"], first["place_precision"], first["border_with"]) == ("MOBILIZE", 2, "UKR")
    assert first["sites"] == [{"id": "chernobyl", "name": "Chernobyl", "km": 9.6}]
    assert (first["title"], first["published"]) == ("Troops near the border", "2024-08-25")
    assert pq.ParquetFile(path).metadata.num_row_groups == 2


def test_empty_parquet_keeps_its_schema(tmp_path: Path) -> None:
    path = tmp_path / "none.parquet"
    assert export_parquet([], path).written == 0
    assert pq.read_table(path).schema.equals(PARQUET_SCHEMA)


def test_stored_events_match_what_the_store_hands_back(tmp_path: Path) -> None:
    text = "Belarus moved troops to the Gomel region."
    doc = Document(source="t.txt", raw_text=text, clean_text=text, url="https://example.org/t",
                   title="T", published="2024-08-25")
    event = Event(type="MOBILIZE", actors=[Actor("BLR", "MIL", "Belarus")], place=OBLAST,
                  evidence=[Span(0, len(text))])
    analysis = Analysis(document=doc, events=[event])
    with open_store(f"sqlite:///{tmp_path / 'store.sqlite'}") as store:
        store.save(analysis)
        queried = store.query_events()
    [direct] = stored_events(analysis)
    assert direct.to_dict() == queried[0].to_dict()
