"""The data model every stage shares.

Every span carries character offsets back into the text it came from, so each field of an event
can be traced to the sentence that supports it (the spaCy idea, applied to our records).
`to_contract()` methods render the exact JSON shape of DESIGN §3.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

EVENT_TYPES: tuple[str, ...] = (
    "AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST", "ACCUSE",
    "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT", "FIGHT",
    "INVESTIGATE",
)
"""PLOVER event types (DESIGN §1, a contract)."""

PROXIMITY_CONTRACT = ("border_km", "border_with", "sites")
"""The proximity keys of the extract contract; the store keeps the rest (range, thresholds)."""

LEGACY_TYPES: dict[str, str] = {"DEMAND": "REQUEST", "DISAPPROVE": "ACCUSE"}

Stance = Literal["asserted", "alleged", "denied"]
Granularity = Literal["day", "week", "month", "year", "ongoing", "unknown"]


def document_id(clean_text: str) -> str:
    """A document is identified by the sha256 of its cleaned text, so copies collapse to one."""
    return hashlib.sha256(clean_text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Span:
    """A half-open character range [start, end) into some text."""

    start: int
    end: int

    def to_contract(self) -> dict[str, int]:
        return {"start": self.start, "end": self.end}


@dataclass(frozen=True)
class RemovedSpan:
    """A piece of the input text the cleaner dropped, and why."""

    start: int
    end: int
    reason: str

    def to_contract(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "reason": self.reason}


_ESCAPE_SEQUENCE = r"\x1b\[[0-?]*[ -/]*[@-~]"
_FORMATTING = "\x00-\x08\x0e-\x1b\x1f\x7f\x80-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069"
CONTROL_CHARACTERS = re.compile(rf"(?:{_ESCAPE_SEQUENCE}|[{_FORMATTING}])+")
"""Terminal escape sequences, C0 and C1 controls, DEL and bidirectional overrides, but none of the
characters `str.splitlines` breaks lines at (so a run never crosses a line): invisible in an
article, able to rewrite an analyst's terminal or reorder what it shows, and NUL is refused by
PostgreSQL text columns (a JSON string can carry an escaped NUL where a file could not)."""
LINE_CONTROLS = re.compile(
    rf"(?:{_ESCAPE_SEQUENCE}|[{_FORMATTING}\t\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029])+"
)
"""The same, and line breaks: a title, an outlet or an id is one line."""


def _one_line(value: str | None) -> str | None:
    return " ".join(LINE_CONTROLS.sub(" ", value).split()) if value else value


PUBLISHED_YEARS = range(1800, 2201)
"""Years a publication date may fall in: outside, a date is impossible for news (year 1, 9999)
and only overflows date arithmetic downstream, so it is taken as unknown."""


@dataclass
class Document:
    """One article as ingested: raw input, cleaned text and provenance."""

    source: str
    """Where it came from (path, URL, `stdin`, or `file.jsonl:LINE`): named in every error."""
    raw_text: str
    clean_text: str = ""
    removed: list[RemovedSpan] = field(default_factory=list)
    input_id: str | None = None
    url: str | None = None
    title: str | None = None
    outlet: str | None = None
    language: str | None = None
    published: str | None = None
    """ISO 8601 date or datetime, as given; None when unknown."""
    fetched_at: str | None = None
    is_html: bool = False
    warnings: list[str] = field(default_factory=list)
    """What was not taken as given but did not fail the document (an unreadable publication
    date, text past a parser limit); reported beside the result."""

    def __post_init__(self) -> None:
        # Metadata comes from outside and is printed to terminals: one line, no control characters.
        # In a URL they are percent-encoded rather than dropped, so the address is kept.
        self.title, self.outlet = _one_line(self.title), _one_line(self.outlet)
        self.language, self.input_id = _one_line(self.language), _one_line(self.input_id)
        if self.url:
            self.url = LINE_CONTROLS.sub(lambda m: quote(m.group(), safe=""), self.url)

    @property
    def id(self) -> str:
        return document_id(self.clean_text)


@dataclass(frozen=True)
class Actor:
    """A normalised participant: ISO3 for states, a slug for named groups, plus a sector."""

    code: str
    sector: str | None
    text: str

    def to_contract(self) -> dict[str, Any]:
        return {"code": self.code, "sector": self.sector, "text": self.text}


@dataclass(frozen=True)
class Place:
    """A resolved (or unresolved) location with an honest uncertainty radius."""

    name: str | None = None
    geonameid: int | None = None
    lat: float | None = None
    lon: float | None = None
    country: str | None = None
    admin1: str | None = None
    precision: int | None = None
    radius_km: float | None = None

    def to_contract(self) -> dict[str, Any]:
        return {
            "name": self.name, "geonameid": self.geonameid, "lat": self.lat, "lon": self.lon,
            "country": self.country, "admin1": self.admin1, "precision": self.precision,
            "radius_km": self.radius_km,
        }


@dataclass(frozen=True)
class PlaceMention:
    """A place name found in the clean text, resolved or not."""

    start: int
    end: int
    text: str
    place: Place | None = None
    reason: str | None = None
    """Why the mention stayed unresolved (None when resolved)."""

    def to_contract(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text,
                **(self.place or Place()).to_contract()}


@dataclass(frozen=True)
class EventDate:
    """When an event happened: an ISO start/end and how precisely we know it."""

    start: str | None = None
    end: str | None = None
    granularity: Granularity = "unknown"

    def to_contract(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "granularity": self.granularity}


@dataclass
class Claim:
    """Who says an event happened, and how the report frames it."""

    claimant: Actor | None = None
    stance: Stance = "asserted"
    outlet_voice: bool = True
    """True when the outlet states the event in its own voice rather than reporting a claim."""

    def to_contract(self) -> dict[str, Any]:
        return {"claimant": self.claimant.to_contract() if self.claimant else None,
                "stance": self.stance}


@dataclass
class Event:
    """One happening reported in one document, with every sentence that supports it."""

    type: str
    actors: list[Actor] = field(default_factory=list)
    recipients: list[Actor] = field(default_factory=list)
    mode: str | None = None
    context: str | None = None
    place: Place | None = None
    date: EventDate = field(default_factory=EventDate)
    historical: bool = False
    future: bool = False
    hypothetical: bool = False
    negated: bool = False
    claim: Claim = field(default_factory=Claim)
    evidence: list[Span] = field(default_factory=list)
    trigger: str = ""
    """The word or phrase that signalled the event (kept for review, not in the contract)."""
    status_cues: list[str] = field(default_factory=list)
    """The words that set its flags ("historical: In 2022", "future: will", "negated: never"),
    kept for review, not in the contract."""
    anchors: list[int] = field(default_factory=list)
    """Character offset of the trigger behind each evidence span (same order as `evidence`)."""
    confidence: float = 0.5
    proximity: dict[str, Any] | None = None

    @property
    def is_current(self) -> bool:
        """Current news: not background, not negated, not merely possible."""
        return not (self.historical or self.negated or self.hypothetical)

    def to_contract(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "mode": self.mode,
            "context": self.context,
            "actors": [a.to_contract() for a in self.actors],
            "recipients": [a.to_contract() for a in self.recipients],
            "place": self.place.to_contract() if self.place else None,
            "date": self.date.to_contract(),
            "historical": self.historical,
            "future": self.future,
            "hypothetical": self.hypothetical,
            "negated": self.negated,
            "claim": self.claim.to_contract(),
            "evidence": [e.to_contract() for e in self.evidence],
            "proximity": {k: self.proximity[k] for k in PROXIMITY_CONTRACT} if self.proximity else None,
            "confidence": round(self.confidence, 3),
        }


@dataclass
class Analysis:
    """Everything the pipeline learned about one document."""

    document: Document
    places: list[PlaceMention] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    error: str | None = None
    internal: bool = False
    """The error is a bug (an exception no stage expected), not something wrong with the input."""

    def to_contract(self) -> dict[str, Any]:
        """The DESIGN §3 output line for this document."""
        return {
            "id": str(self.document.input_id) if self.document.input_id is not None else self.document.id,
            "clean_text": self.document.clean_text,
            "removed": [r.to_contract() for r in self.document.removed],
            "places": [p.to_contract() for p in self.places],
            "events": [e.to_contract() for e in self.events],
            "error": self.error,
        }


@dataclass
class Cluster:
    """One real-world happening reported by many documents (DESIGN §1: Cluster)."""

    id: str
    type: str
    event_ids: list[str]
    doc_ids: list[str]
    first_reported: str | None
    """Earliest publication (or fetch) time among its documents, ISO 8601."""
    outlets: list[str]
    """Independent outlets: wire copies and syndicated reprints count once."""
    status: str = "reported"
    """reported | alleged | corroborated | disputed: claims and denials change it
    (rules in borderwatch.assess.cluster)."""

    @property
    def independent_outlets(self) -> int:
        return len(self.outlets)

    def to_json(self) -> dict[str, Any]:
        """The shape `clusters --json` and `/api/clusters` share."""
        return {
            "id": self.id,
            "type": self.type,
            "first_reported": self.first_reported,
            "status": self.status,
            "independent_outlets": self.independent_outlets,
            "outlets": self.outlets,
            "events": self.event_ids,
            "documents": self.doc_ids,
        }


@dataclass(frozen=True)
class AlertEvidence:
    doc: str
    start: int
    end: int
    text: str


@dataclass
class Alert:
    """A warning an analyst would act on (DESIGN §3: the `alerts --json` contract)."""

    id: str
    rule: str
    severity: Literal["low", "medium", "high"]
    as_of: str
    border: str | None
    sites: list[str]
    explanation: str
    events: list[str]
    evidence: list[AlertEvidence]

    def to_contract(self) -> dict[str, Any]:
        return {
            "id": self.id, "rule": self.rule, "severity": self.severity, "as_of": self.as_of,
            "border": self.border, "sites": list(self.sites), "explanation": self.explanation,
            "events": list(self.events),
            "evidence": [{"doc": e.doc, "start": e.start, "end": e.end, "text": e.text}
                         for e in self.evidence],
        }
