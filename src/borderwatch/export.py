"""Stored events out as CSV (spreadsheets), JSON Lines (scripts), GeoJSON (maps) or Parquet
(notebooks).

CSV columns, GeoJSON properties and Parquet columns are the same flat record, so a spreadsheet,
a map layer and a data frame of one query agree; JSON Lines carries the full nested record.
Parquet adds the document's title and date and the critical sites in range, typed.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Literal, TextIO

import pyarrow as pa
import pyarrow.parquet as pq

from borderwatch.models import Analysis, Place
from borderwatch.store import StoredEvent, event_id

ExportFormat = Literal["csv", "jsonl", "geojson"]

COLUMNS: tuple[str, ...] = (
    "id",
    "doc",
    "type",
    "mode",
    "actors",
    "recipients",
    "date_start",
    "date_end",
    "granularity",
    "flags",
    "stance",
    "claimant",
    "place_name",
    "place_lat",
    "place_lon",
    "place_country",
    "place_admin1",
    "place_precision",
    "place_radius_km",
    "border_km",
    "border_with",
    "confidence",
    "urls",
    "evidence",
)
"""CSV header, in order."""

FLAGS: tuple[str, ...] = ("historical", "future", "hypothetical", "negated")

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportResult:
    written: int
    skipped: int
    """Events left out: in GeoJSON, those without coordinates."""


def _spreadsheet_safe(value: Any) -> Any:
    """Quote text a spreadsheet would run as a formula: evidence is untrusted web text."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def flat_record(stored: StoredEvent) -> dict[str, Any]:
    """One event as a flat row: lists joined with ';', evidence sentences with ' | '."""
    event = stored.event
    place = event.place
    proximity = event.proximity or {}
    return {
        "id": stored.id,
        "doc": stored.doc_id,
        "type": event.type,
        "mode": event.mode,
        "actors": ";".join(actor.code for actor in event.actors),
        "recipients": ";".join(actor.code for actor in event.recipients),
        "date_start": event.date.start,
        "date_end": event.date.end,
        "granularity": event.date.granularity,
        "flags": ";".join(flag for flag in FLAGS if getattr(event, flag)),
        "stance": event.claim.stance,
        "claimant": event.claim.claimant.code if event.claim.claimant else None,
        "place_name": place.name if place else None,
        "place_lat": place.lat if place else None,
        "place_lon": place.lon if place else None,
        "place_country": place.country if place else None,
        "place_admin1": place.admin1 if place else None,
        "place_precision": place.precision if place else None,
        "place_radius_km": place.radius_km if place else None,
        "border_km": proximity.get("border_km"),
        "border_with": proximity.get("border_with"),
        "confidence": round(event.confidence, 3),
        "urls": ";".join(stored.urls),
        "evidence": " | ".join(stored.evidence_texts),
    }


def _write_csv(events: Iterable[StoredEvent], out: TextIO) -> ExportResult:
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    written = 0
    for stored in events:
        writer.writerow({key: _spreadsheet_safe(value) for key, value in flat_record(stored).items()})
        written += 1
    return ExportResult(written=written, skipped=0)


def _write_jsonl(events: Iterable[StoredEvent], out: TextIO) -> ExportResult:
    written = 0
    for stored in events:
        out.write(json.dumps(stored.to_dict(), ensure_ascii=False) + "\n")
        written += 1
    return ExportResult(written=written, skipped=0)


Geometry = Callable[[Place], dict[str, Any] | None]
"""The real shape of a place as a GeoJSON geometry (an oblast's polygon), or None for a point."""


def _write_geojson(
    events: Iterable[StoredEvent], out: TextIO, geometry: Geometry | None = None
) -> ExportResult:
    features: list[dict[str, Any]] = []
    skipped = 0
    for stored in events:
        place = stored.event.place
        if place is None or place.lat is None or place.lon is None:
            skipped += 1
            continue
        properties = flat_record(stored)
        del properties["place_lat"], properties["place_lon"]
        features.append(
            {
                "type": "Feature",
                "id": stored.id,
                # GeoJSON (RFC 7946) orders coordinates longitude first.
                "geometry": (geometry(place) if geometry else None)
                or {"type": "Point", "coordinates": [place.lon, place.lat]},
                "properties": properties,
            }
        )
    json.dump({"type": "FeatureCollection", "features": features}, out, ensure_ascii=False)
    out.write("\n")
    return ExportResult(written=len(features), skipped=skipped)


_WRITERS: dict[str, Callable[[Iterable[StoredEvent], TextIO], ExportResult]] = {
    "csv": _write_csv,
    "jsonl": _write_jsonl,
    "geojson": _write_geojson,
}


def export_events(
    events: Iterable[StoredEvent], fmt: ExportFormat, out: TextIO, geometry: Geometry | None = None
) -> ExportResult:
    """Write `events` to `out` in `fmt`; open files for CSV with ``newline=""``.

    For GeoJSON, `geometry` supplies real shapes (regions as polygons); points otherwise."""
    if fmt not in _WRITERS:
        raise ValueError(f"unknown export format {fmt!r}; choose from {', '.join(_WRITERS)}")
    if fmt == "geojson":
        return _write_geojson(events, out, geometry)
    return _WRITERS[fmt](events, out)


_SITE = pa.struct([("id", pa.string()), ("name", pa.string()), ("km", pa.float64())])
PARQUET_SCHEMA = pa.schema(
    [
        *((name, pa.string()) for name in COLUMNS[:12]),  # id … claimant
        ("place_name", pa.string()),
        ("place_lat", pa.float64()),
        ("place_lon", pa.float64()),
        ("place_country", pa.string()),
        ("place_admin1", pa.string()),
        ("place_precision", pa.int8()),
        ("place_radius_km", pa.float64()),
        ("border_km", pa.float64()),
        ("border_with", pa.string()),
        ("confidence", pa.float64()),
        ("urls", pa.string()),
        ("evidence", pa.string()),
        ("title", pa.string()),
        ("published", pa.string()),
        ("sites", pa.list_(_SITE)),
    ]
)
"""One row per event: the flat record's columns, then the document's title and date and the
critical sites within range (id, name, km)."""


def parquet_row(stored: StoredEvent) -> dict[str, Any]:
    proximity = stored.event.proximity or {}
    return {
        **flat_record(stored),
        "title": stored.title,
        "published": stored.published,
        "sites": [{"id": s["id"], "name": s["name"], "km": s["km"]} for s in proximity.get("sites") or []],
    }


def stored_events(analysis: Analysis) -> list[StoredEvent]:
    """An analysis's events as the store would hand them back (same ids), without a store."""
    doc = analysis.document
    return [
        StoredEvent(
            id=event_id(doc.id, seq),
            doc_id=doc.id,
            title=doc.title,
            published=doc.published,
            urls=[doc.url] if doc.url else [],
            event=event,
            evidence_texts=[doc.clean_text[span.start : span.end] for span in event.evidence],
        )
        for seq, event in enumerate(analysis.events)
    ]


class ParquetSink:
    """A Parquet file written `rows_per_group` rows at a time: memory stays flat in its size, and
    readers get row groups large enough to scan quickly."""

    def __init__(self, path: Path, rows_per_group: int = 10_000) -> None:
        self.path = path
        self.rows_per_group = rows_per_group
        self.writer = pq.ParquetWriter(str(path), PARQUET_SCHEMA)
        self.written = 0
        self._rows: list[dict[str, Any]] = []

    def write(self, events: Iterable[StoredEvent]) -> int:
        """Queue events as rows; full row groups go to the file. Returns how many were queued."""
        rows = [parquet_row(stored) for stored in events]
        self._rows.extend(rows)
        while len(self._rows) >= self.rows_per_group:
            self._flush(self.rows_per_group)
        return len(rows)

    def _flush(self, count: int) -> None:
        group, self._rows = self._rows[:count], self._rows[count:]
        self.writer.write_table(pa.Table.from_pylist(group, schema=PARQUET_SCHEMA))
        self.written += len(group)

    def close(self) -> None:
        if self._rows or self.written == 0:  # an empty file still carries the schema
            self._flush(len(self._rows))
        self.writer.close()

    def __enter__(self) -> ParquetSink:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def export_parquet(events: Iterable[StoredEvent], path: Path, rows_per_group: int = 10_000) -> ExportResult:
    """Write `events` to a Parquet file at `path`, `rows_per_group` rows to a row group."""
    iterator = iter(events)
    with ParquetSink(path, rows_per_group) as sink:
        while chunk := list(islice(iterator, rows_per_group)):
            sink.write(chunk)
    return ExportResult(written=sink.written, skipped=0)
