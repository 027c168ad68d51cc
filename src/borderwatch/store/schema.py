"""The store's tables as typed ORM classes.

Only portable column types are used, so one schema serves SQLite (the embedded default) and
PostgreSQL. Structured fields (actors, places, claims, evidence) are JSON columns; the few fields
that queries filter on are copied into plain columns beside them. The migration in
``migrations/versions`` must create exactly these tables (a test compares the two).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Deterministic constraint names, so later migrations can alter them on every backend."""


NULLABLE_JSON = JSON(none_as_null=True)
"""JSON whose None is SQL NULL (not the JSON text 'null'), so `IS NULL` finds absent values."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class DocumentRow(Base):
    """One cleaned article; its id is the sha256 of the clean text, so reprints collapse."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str | None] = mapped_column(Text)
    outlet: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String)
    published: Mapped[str | None] = mapped_column(String)
    fetched_at: Mapped[str | None] = mapped_column(String)
    raw_text: Mapped[str] = mapped_column(Text)
    clean_text: Mapped[str] = mapped_column(Text)
    removed: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)

    urls: Mapped[list[UrlRow]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="UrlRow.id"
    )
    events: Mapped[list[EventRow]] = relationship(
        back_populates="document", cascade="all, delete-orphan"
    )
    place_mentions: Mapped[list[PlaceMentionRow]] = relationship(cascade="all, delete-orphan")


class UrlRow(Base):
    """A URL a document was fetched from; the same text from a second URL adds a row here."""

    __tablename__ = "document_urls"
    __table_args__ = (UniqueConstraint("doc_id", "url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    doc_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)

    document: Mapped[DocumentRow] = relationship(back_populates="urls")


class EventRow(Base):
    """One event from one document, with its filterable fields denormalised into columns."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    doc_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    """Position of the event in its document's analysis, for a stable order."""
    type: Mapped[str] = mapped_column(String)
    mode: Mapped[str | None] = mapped_column(String)
    context: Mapped[str | None] = mapped_column(String)
    trigger: Mapped[str] = mapped_column(Text)
    actors: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    recipients: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    actor_codes: Mapped[str] = mapped_column(Text)
    """Actor codes between spaces (" UKR BLR "), so a LIKE finds one code on any backend."""
    recipient_codes: Mapped[str] = mapped_column(Text)
    place: Mapped[dict[str, Any] | None] = mapped_column(NULLABLE_JSON)
    place_lat: Mapped[float | None] = mapped_column(Float)
    place_lon: Mapped[float | None] = mapped_column(Float)
    place_country: Mapped[str | None] = mapped_column(String, index=True)
    place_admin1: Mapped[str | None] = mapped_column(String)
    date_start: Mapped[str | None] = mapped_column(String, index=True)
    date_end: Mapped[str | None] = mapped_column(String)
    granularity: Mapped[str] = mapped_column(String)
    historical: Mapped[bool] = mapped_column(Boolean)
    future: Mapped[bool] = mapped_column(Boolean)
    hypothetical: Mapped[bool] = mapped_column(Boolean)
    negated: Mapped[bool] = mapped_column(Boolean)
    claim: Mapped[dict[str, Any]] = mapped_column(JSON)
    stance: Mapped[str] = mapped_column(String)
    claimant_code: Mapped[str | None] = mapped_column(String)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """[{start, end, text}]: offsets into the document's clean text and the sentence itself."""
    evidence_text: Mapped[str] = mapped_column(Text)
    """The evidence sentences joined by newlines, for text search."""
    proximity: Mapped[dict[str, Any] | None] = mapped_column(NULLABLE_JSON)
    confidence: Mapped[float] = mapped_column(Float)
    status_cues: Mapped[list[str] | None] = mapped_column(NULLABLE_JSON)
    """The words that set the status flags (migration 0006); NULL for events stored before it."""

    document: Mapped[DocumentRow] = relationship(back_populates="events")


Index(
    "ix_events_listing",
    EventRow.date_start.desc().nulls_last(), EventRow.doc_id, EventRow.seq, EventRow.historical,
)
"""The listing order of `Store.query_events` (newest first, undated last), with `historical` beside
it, so a page is read in index order and stops after its rows instead of sorting every match
(`bench/api_latency.py` measures it). On SQLite, migration 0003 builds it with a plain DESC, which
already puts NULLs last there (SQLite's CREATE INDEX has no NULLS clause); PostgreSQL's DESC puts
NULLs first, so migration 0004 rebuilds it there as DESC NULLS LAST."""

Index(
    "ix_events_type_listing",
    EventRow.type, EventRow.date_start.desc().nulls_last(), EventRow.doc_id, EventRow.seq,
    EventRow.historical,
)
"""The listing order within one event type (migration 0005), so a type-filtered page is read in
order too; SQLite would otherwise find a type's events by type alone and sort all of them."""


class PlaceMentionRow(Base):
    """A place name found in a document's clean text, resolved (place set) or not."""

    __tablename__ = "place_mentions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    doc_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    start_char: Mapped[int] = mapped_column(Integer)
    end_char: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    place: Mapped[dict[str, Any] | None] = mapped_column(NULLABLE_JSON)


class MinHashRow(Base):
    """A document's MinHash signature, kept so later documents are compared with it incrementally."""

    __tablename__ = "minhashes"

    doc_id: Mapped[str] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    """A serialised ``datasketch.LeanMinHash`` (seed, scheme and hash values)."""
    copy_of: Mapped[str] = mapped_column(String(64), index=True)
    """The earliest-published document of its near-duplicate group (itself when it has none)."""


class ClusterRow(Base):
    """One real-world happening reported by many documents, with its summary kept up to date."""

    __tablename__ = "clusters"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String, index=True)
    first_reported: Mapped[str | None] = mapped_column(String)
    """Earliest publication (or fetch) time among its documents, as that document gave it."""
    status: Mapped[str] = mapped_column(String)
    outlets: Mapped[list[str]] = mapped_column(JSON)
    """Independent outlets, near-duplicate copies collapsed to their original's outlet."""
    independent_outlets: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)

    members: Mapped[list[ClusterMemberRow]] = relationship(
        back_populates="cluster", cascade="all, delete-orphan", order_by="ClusterMemberRow.event_id"
    )


class ClusterMemberRow(Base):
    """An event placed in a cluster; an event belongs to at most one cluster."""

    __tablename__ = "cluster_members"

    event_id: Mapped[str] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    cluster_id: Mapped[str] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"), index=True)
    doc_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)

    cluster: Mapped[ClusterRow] = relationship(back_populates="members")


class ClaimRow(Base):
    """Who claims an event, and how: links a claimed or denied event to the cluster it is about."""

    __tablename__ = "claims"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """Derived from the event and cluster ids, so recording a claim twice changes nothing."""
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    cluster_id: Mapped[str | None] = mapped_column(
        ForeignKey("clusters.id", ondelete="SET NULL"), index=True
    )
    claimant_code: Mapped[str | None] = mapped_column(String)
    stance: Mapped[str] = mapped_column(String)


class AlertRow(Base):
    """An alert as raised (DESIGN §3), kept so it is raised again only when it escalates."""

    __tablename__ = "alerts"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    rule: Mapped[str] = mapped_column(String, index=True)
    severity: Mapped[str] = mapped_column(String)
    as_of: Mapped[str] = mapped_column(String)
    border: Mapped[str | None] = mapped_column(String)
    sites: Mapped[list[str]] = mapped_column(JSON)
    explanation: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    level_rank: Mapped[int] = mapped_column(Integer)
    """The severity as a number (low 1, medium 2, high 3), so escalation is a comparison."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_utcnow)
