"""What the store hands back, and the conversions between the data model and table rows."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from borderwatch.models import (
    Actor,
    Analysis,
    Claim,
    Event,
    EventDate,
    Granularity,
    Place,
    RemovedSpan,
    Span,
    Stance,
)
from borderwatch.store.schema import DocumentRow, EventRow, PlaceMentionRow, UrlRow


def event_id(doc_id: str, seq: int) -> str:
    """An event is named by its document and its position there, so the id never changes.

    128 bits of the hash are plenty for uniqueness and keep alert listings readable.
    """
    return hashlib.sha256(f"{doc_id}:{seq}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class SaveResult:
    """What one `Store.save` changed."""

    doc_id: str
    new_document: bool
    events_added: int
    new_url: bool


@dataclass(frozen=True)
class Counts:
    documents: int
    events: int
    urls: int


@dataclass(frozen=True)
class StoredDocument:
    """A document as stored, with every URL it was seen at."""

    id: str
    urls: list[str]
    title: str | None
    outlet: str | None
    language: str | None
    published: str | None
    fetched_at: str | None
    raw_text: str
    clean_text: str
    removed: list[RemovedSpan]
    created_at: datetime


@dataclass(frozen=True)
class StoredEvent:
    """An event read back from the store, with the document facts a reader needs beside it."""

    id: str
    doc_id: str
    title: str | None
    published: str | None
    urls: list[str]
    event: Event
    evidence_texts: list[str]
    """The sentence behind each span of `event.evidence`, in the same order."""
    seq: int = 0
    """Its position in its document's analysis: with the date and the document, its place in
    the listing order, which a keyset page cursor records."""

    @property
    def cursor(self) -> str:
        """Where the next page starts, after this event (opaque to callers)."""
        return encode_cursor(self.event.date.start, self.doc_id, self.seq)

    @property
    def evidence(self) -> list[dict[str, Any]]:
        """Evidence in the alert shape of DESIGN §3: doc, offsets and the sentence."""
        return [
            {"doc": self.doc_id, "start": span.start, "end": span.end, "text": text}
            for span, text in zip(self.event.evidence, self.evidence_texts, strict=True)
        ]

    def to_dict(self) -> dict[str, Any]:
        """The full record as plain JSON-ready data (the contract event plus provenance)."""
        record = self.event.to_contract()
        record["claim"]["outlet_voice"] = self.event.claim.outlet_voice
        record["trigger"] = self.event.trigger
        record["status_cues"] = self.event.status_cues
        record["evidence"] = self.evidence
        return {"id": self.id, "doc": self.doc_id, "title": self.title,
                "published": self.published, "urls": self.urls, **record}


Cursor = tuple[str | None, str, int]
"""(start date or None, document id, position in it): a place in the listing order."""


def encode_cursor(date_start: str | None, doc_id: str, seq: int) -> str:
    raw = json.dumps([date_start, doc_id, seq], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> Cursor:
    """The listing place a cursor records; ValueError for anything this store did not hand out."""
    if len(value) > _MAX_CURSOR:
        raise ValueError("cursor too long")
    try:
        raw = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("not a page cursor") from exc
    if not (isinstance(raw, list) and len(raw) == 3 and isinstance(raw[1], str)
            and (raw[0] is None or isinstance(raw[0], str)) and type(raw[2]) is int):
        raise ValueError("not a page cursor")
    return raw[0], raw[1], raw[2]


_MAX_CURSOR = 512


def _codes(actors: list[Actor]) -> str:
    return " ".join(["", *(actor.code for actor in actors), ""])


def _event_row(doc_id: str, seq: int, event: Event, clean_text: str) -> EventRow:
    place = event.place or Place()
    claim = event.claim
    evidence = [{"start": span.start, "end": span.end, "text": clean_text[span.start:span.end]}
                for span in event.evidence]
    return EventRow(
        id=event_id(doc_id, seq),
        seq=seq,
        type=event.type,
        mode=event.mode,
        context=event.context,
        trigger=event.trigger,
        actors=[actor.to_contract() for actor in event.actors],
        recipients=[actor.to_contract() for actor in event.recipients],
        actor_codes=_codes(event.actors),
        recipient_codes=_codes(event.recipients),
        place=event.place.to_contract() if event.place else None,
        place_lat=place.lat,
        place_lon=place.lon,
        place_country=place.country,
        place_admin1=place.admin1,
        date_start=event.date.start,
        date_end=event.date.end,
        granularity=event.date.granularity,
        historical=event.historical,
        future=event.future,
        hypothetical=event.hypothetical,
        negated=event.negated,
        claim={**claim.to_contract(), "outlet_voice": claim.outlet_voice},
        stance=claim.stance,
        claimant_code=claim.claimant.code if claim.claimant else None,
        evidence=evidence,
        evidence_text="\n".join(item["text"] for item in evidence),
        proximity=event.proximity,
        confidence=event.confidence,
        status_cues=event.status_cues,
    )


def document_row(analysis: Analysis) -> DocumentRow:
    """The document with its URL, events and place mentions, ready to insert in one go."""
    doc = analysis.document
    doc_id = doc.id
    return DocumentRow(
        id=doc_id,
        title=doc.title,
        outlet=doc.outlet,
        language=doc.language,
        published=doc.published,
        fetched_at=doc.fetched_at,
        raw_text=doc.raw_text,
        clean_text=doc.clean_text,
        removed=[span.to_contract() for span in doc.removed],
        urls=[UrlRow(url=doc.url)] if doc.url else [],
        events=[_event_row(doc_id, seq, event, doc.clean_text)
                for seq, event in enumerate(analysis.events)],
        place_mentions=[
            PlaceMentionRow(start_char=m.start, end_char=m.end, text=m.text,
                            place=m.place.to_contract() if m.place else None)
            for m in analysis.places
        ],
    )


def stored_event(row: EventRow) -> StoredEvent:
    claimant = row.claim["claimant"]
    event = Event(
        type=row.type,
        actors=[Actor(**actor) for actor in row.actors],
        recipients=[Actor(**actor) for actor in row.recipients],
        mode=row.mode,
        context=row.context,
        place=Place(**row.place) if row.place else None,
        date=EventDate(row.date_start, row.date_end, cast(Granularity, row.granularity)),
        historical=row.historical,
        future=row.future,
        hypothetical=row.hypothetical,
        negated=row.negated,
        claim=Claim(claimant=Actor(**claimant) if claimant else None,
                    stance=cast(Stance, row.stance), outlet_voice=row.claim["outlet_voice"]),
        evidence=[Span(item["start"], item["end"]) for item in row.evidence],
        trigger=row.trigger,
        status_cues=list(row.status_cues or []),
        confidence=row.confidence,
        proximity=row.proximity,
    )
    return StoredEvent(
        id=row.id,
        doc_id=row.doc_id,
        title=row.document.title,
        published=row.document.published,
        urls=[url.url for url in row.document.urls],
        event=event,
        evidence_texts=[item["text"] for item in row.evidence],
        seq=row.seq,
    )


def stored_document(row: DocumentRow) -> StoredDocument:
    return StoredDocument(
        id=row.id,
        urls=[url.url for url in row.urls],
        title=row.title,
        outlet=row.outlet,
        language=row.language,
        published=row.published,
        fetched_at=row.fetched_at,
        raw_text=row.raw_text,
        clean_text=row.clean_text,
        removed=[RemovedSpan(**span) for span in row.removed],
        created_at=row.created_at,
    )
