"""One real-world happening, many reports: clusters of event mentions across documents, and claims.

`assign_clusters(store, doc_id)` runs after a document is saved. It first signs the document for
near-duplicate detection (`dedupe`), then places each current event of the document in a cluster.

**Joining.** An event joins an existing cluster when some member event of that cluster is
compatible with it on every count below, and the meaning check passes; otherwise it founds a new
cluster. Among several clusters it may join, the most similar in meaning wins.

- *type*: the same PLOVER type. The MOBILIZE alleged by an ACCUSE ("Kyiv accused Minsk of massing
  troops") is a MOBILIZE event of its own, so it joins the MOBILIZE reported elsewhere;
- *actors*: the actor codes overlap, or one side names none; the same for recipients;
- *place*: the same admin-1 region, or points no further apart than the sum of their uncertainty
  radii plus `place_margin_km` (25 km), or either place unknown; failing coordinates, different
  admin-1 regions or countries are incompatible;
- *date*: the date intervals are at most `window_days` (7) apart; an event with no date at all
  is compatible with any. "Ongoing" and "unknown" granularities are compatible within the wider
  `open_window_days` (30): the extractor dates them by the report, and treating them as timeless
  would chain years of reports about one garrison into one cluster that never raises a new alert;
- *meaning*: the best cosine between the event's evidence sentences and the cluster's reaches
  `similarity_threshold` (0.55 for the MiniLM embeddings of `borderwatch.assess.embed`; measured
  on our test reports: rewrites and the accusation or denial of the Mazyr build-up score
  0.58–0.76 against its wire story, a statement by the same government on another matter
  0.32–0.46, a protest 0.2). Troop moves of the same type elsewhere can score as high as a
  paraphrase (0.64 for Brest, 0.65 for Kursk), so place and date decide and meaning only vetoes.
  Skipped when no similarity function is available (or `meaning` is off), and for a cluster
  that already holds an event of the same document or one of its near-duplicates: a report's
  second sentence about the build-up ("Several convoys arrived there overnight", 0.26 to the
  first) is more evidence for it, not a new event (DESIGN §4).

Historical, negated and hypothetical events never join or found clusters; they stay in the store
with their claim (if any) and no cluster.

**Claims.** Every event with a claimant, or with a stance other than "asserted", has a claim row
(claimant code, stance, event, cluster). A REJECT event whose trigger is a denial ("Minsk denied
massing troops near Mazyr") is also recorded as a "denied" claim on the cluster it denies: one
whose actors include the denier, at a compatible place and date, and similar in meaning (without
a similarity function, the denial must repeat a trigger word of the cluster, like "massing"). A
denial that arrives before what it denies waits: each event placed later by one of the deniers
gives it another chance. An event the extractor itself marks "denied" ("Belarus denied that it
was massing troops") joins the cluster of what it denies like any other.

**Status** of a cluster, from its members and claims, first match wins:

1. ``disputed``: some claim on it is a denial;
2. ``corroborated``: more than one independent outlet asserts it in its own voice;
3. ``reported``: one outlet asserts it in its own voice;
4. ``alleged``: only claimed by others ("Ukraine accuses Belarus of ...", "X said ...").

**Outlets.** A document's outlet is its `outlet` field, else the host of its first URL (without
"www."), else the document itself. Each member document is first replaced by the original of its
near-duplicate group, so a wire copy reprinted by another outlet counts once, as its original's
outlet. `first_reported` is the earliest publication (else fetch) time among the documents.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, selectinload

from borderwatch.assess.dedupe import mark_near_duplicates, report_time
from borderwatch.errors import BorderwatchError, StoreError
from borderwatch.evaluate import haversine_km
from borderwatch.extract.lexicon import load_lexicon
from borderwatch.store import Store
from borderwatch.store.schema import (
    ClaimRow,
    ClusterMemberRow,
    ClusterRow,
    DocumentRow,
    EventRow,
    MinHashRow,
)

log = logging.getLogger(__name__)

Similarity = Callable[[list[str], list[str]], float]
"""Meaning similarity of two lists of sentences, higher is closer (cosine for embeddings)."""

OPEN_GRANULARITIES = frozenset({"ongoing", "unknown"})
MAX_CLUSTER_SENTENCES = 32
"""Evidence sentences of a cluster compared with a new event (its first ones, in member order)."""
MAX_SENTENCE_CHARS = 400
"""Characters of an evidence sentence the meaning check embeds: news sentences are shorter, and
the encoder's cost grows with length, so a page of endless "sentences" stays cheap."""


@dataclass(frozen=True)
class ClusterSettings:
    """The thresholds of clustering (see the module docstring for why these values)."""

    window_days: float = 7.0
    open_window_days: float = 30.0
    place_margin_km: float = 25.0
    similarity_threshold: float = 0.55
    meaning: bool = True
    """Compare evidence sentences by meaning; False clusters on type, actors, place and date only."""
    own_sentence_chars: int = 12_000
    """Characters of the document's own evidence sentences (each counted once, at most
    `MAX_SENTENCE_CHARS`) its clustering embeds for the meaning check. News articles use at most
    a few thousand (1,474 on our development articles); a page of hundreds of run-on "sentences"
    would spend seconds on each hundred. Past it, its further sentences are left out of the
    comparisons, and one left with no sentence on a side is decided as without a similarity
    function (`_Budget`)."""


@dataclass(frozen=True)
class ClaimRecord:
    """A stored claim: who says (or denies) which event, and the cluster it bears on."""

    event_id: str
    cluster_id: str | None
    claimant_code: str | None
    stance: str


@dataclass(frozen=True)
class Assignment:
    """What `assign_clusters` did for one document."""

    doc_id: str
    copy_of: str
    """The original of the document's near-duplicate group (itself when it has none)."""
    placed: dict[str, str] = field(default_factory=dict)
    """Event id → cluster id, for the events placed by this call."""
    denials: dict[str, str] = field(default_factory=dict)
    """REJECT event id → the cluster it denies, for denials linked by this call."""
    refreshed: tuple[str, ...] = ()
    """Clusters whose summary (outlets, status, first report) was recomputed."""


# --- meaning ---------------------------------------------------------------------------------


class EmbeddingSimilarity:
    """The best cosine between two lists of sentences, from L2-normalised sentence embeddings."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], cache_size: int = 4096) -> None:
        self.encode = encode
        self.cache_size = cache_size
        self._cache: dict[str, np.ndarray] = {}

    def _vectors(self, sentences: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(s for s in sentences if s not in self._cache))
        if missing:
            embedded = self.encode([sentence[:MAX_SENTENCE_CHARS] for sentence in missing])
            for sentence, vector in zip(missing, embedded, strict=True):
                self._cache[sentence] = vector
            while len(self._cache) > self.cache_size:
                del self._cache[next(iter(self._cache))]
        return np.stack([self._cache[s] for s in sentences])

    def __call__(self, first: list[str], second: list[str]) -> float:
        if not first or not second:
            return 0.0
        return float((self._vectors(first) @ self._vectors(second).T).max())


class _Budget:
    """The meaning check for one document, within `ClusterSettings.own_sentence_chars`.

    The document's own sentences are admitted in the order the comparisons ask for them (the
    same for the same store), each costing its embedded length once; other documents' sentences
    are not counted. Returns None when a side has no sentence left: the caller decides that
    comparison as it would without a similarity function.
    """

    def __init__(self, similarity: Similarity, own: set[str], chars: int) -> None:
        self.similarity = similarity
        self.own = own
        self.left = chars
        self.admitted: set[str] = set()

    def _admit(self, sentences: list[str]) -> list[str]:
        kept = []
        for sentence in sentences:
            if sentence in self.own and sentence not in self.admitted:
                cost = min(len(sentence), MAX_SENTENCE_CHARS)
                if cost > self.left:
                    continue
                self.left -= cost
                self.admitted.add(sentence)
            kept.append(sentence)
        return kept

    def __call__(self, first: list[str], second: list[str]) -> float | None:
        first, second = self._admit(first), self._admit(second)
        if not first or not second:
            return None
        return self.similarity(first, second)


@functools.cache
def default_similarity() -> Similarity | None:
    """Sentence-embedding similarity when the embedder can be loaded, else None (no meaning check)."""
    try:
        from borderwatch.assess.embed import Embedder
    except ImportError as exc:
        log.warning("clustering without a meaning check: no sentence embedder (%s)", exc)
        return None
    try:
        embedder = Embedder.load()
    except (BorderwatchError, OSError) as exc:
        log.warning("clustering without a meaning check: %s", exc)
        return None
    return EmbeddingSimilarity(embedder.encode)


# --- compatibility of two event mentions -----------------------------------------------------


def _codes(actors: Iterable[dict[str, Any]]) -> set[str]:
    return {actor["code"] for actor in actors}


def _overlap_or_empty(first: set[str], second: set[str]) -> bool:
    return not first or not second or bool(first & second)


def places_compatible(
    first: dict[str, Any] | None, second: dict[str, Any] | None, margin_km: float
) -> bool:
    """Could two places be where one happening was? (DESIGN §1 places carry radius_km.)"""
    if not first or not second:
        return True
    admin_a, admin_b = first.get("admin1"), second.get("admin1")
    if admin_a and admin_a == admin_b:
        return True
    if None not in (first.get("lat"), first.get("lon"), second.get("lat"), second.get("lon")):
        reach = (first.get("radius_km") or 0.0) + (second.get("radius_km") or 0.0) + margin_km
        return haversine_km(first["lat"], first["lon"], second["lat"], second["lon"]) <= reach
    if admin_a and admin_b:
        return False
    country_a, country_b = first.get("country"), second.get("country")
    return not (country_a and country_b and country_a != country_b)


def _day(stamp: str | None) -> date | None:
    if not stamp:
        return None
    try:
        return date.fromisoformat(stamp[:10])
    except ValueError:
        return None


def _interval(row: EventRow) -> tuple[date, date] | None:
    start = _day(row.date_start)
    if start is None:
        return None
    end = _day(row.date_end) or start
    return (start, end) if end >= start else (end, start)


def dates_compatible(first: EventRow, second: EventRow, settings: ClusterSettings) -> bool:
    """Are the two date intervals within the window (the wider one for open-ended dates)?"""
    a, b = _interval(first), _interval(second)
    if a is None or b is None:
        return True
    open_ended = first.granularity in OPEN_GRANULARITIES or second.granularity in OPEN_GRANULARITIES
    window = settings.open_window_days if open_ended else settings.window_days
    gap = max(0, (b[0] - a[1]).days, (a[0] - b[1]).days)
    return gap <= window


def compatible(first: EventRow, second: EventRow, settings: ClusterSettings) -> bool:
    """Type, actors, recipients, place and date all allow the two mentions to be one event."""
    return (
        first.type == second.type
        and _overlap_or_empty(_codes(first.actors), _codes(second.actors))
        and _overlap_or_empty(_codes(first.recipients), _codes(second.recipients))
        and places_compatible(first.place, second.place, settings.place_margin_km)
        and dates_compatible(first, second, settings)
    )


def _is_current(row: EventRow) -> bool:
    return not (row.historical or row.negated or row.hypothetical)


def _sentences(rows: Iterable[EventRow], limit: int | None = MAX_CLUSTER_SENTENCES) -> list[str]:
    seen = dict.fromkeys(item["text"] for row in rows for item in row.evidence)
    return list(seen)[:limit]


# --- denials ---------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")


def _stems(lemma: str) -> set[str]:
    """What inflections of a lemma start with: "deny" → deny, deni; "refute" → refut."""
    if lemma.endswith("y"):
        return {lemma, lemma[:-1] + "i"}
    return {lemma[:-1]} if lemma.endswith("e") else {lemma}


@functools.cache
def _denial_stems() -> tuple[str, ...]:
    """Stems of the lexicon's denying verbs (data/cues.toml), for matching a trigger's surface."""
    return tuple(sorted(set().union(*(_stems(v) for v in load_lexicon().cues.denying_verbs))))


def is_denial(row: EventRow) -> bool:
    """A current REJECT whose trigger is a denial ("denied", "dismissed", "refutes")."""
    words = _WORD.findall(row.trigger.lower())
    return (
        row.type == "REJECT" and _is_current(row) and bool(words)
        and words[0].startswith(_denial_stems())
    )


def _mentions_trigger(sentences: list[str], members: Iterable[EventRow]) -> bool:
    words = {w for s in sentences for w in _WORD.findall(s.lower())}
    return any(set(_WORD.findall(m.trigger.lower())) <= words for m in members if m.trigger)


# --- the store side --------------------------------------------------------------------------


def cluster_id_for(founder_event_id: str) -> str:
    """A cluster is named after the event that founded it, so ids are stable across re-runs."""
    return hashlib.sha256(f"cluster:{founder_event_id}".encode()).hexdigest()[:32]


def claim_id(event_id: str, cluster_id: str | None) -> str:
    return hashlib.sha256(f"claim:{event_id}:{cluster_id or ''}".encode()).hexdigest()[:32]


def _date_prefilter(span: tuple[date, date], settings: ClusterSettings) -> ColumnElement[bool]:
    """SQL: the stored event is undated or its dates come within the widest window of `span`.

    Stored dates are ISO days, some followed by a time, so whole-string bounds select by day as
    `substr(date, 1, 10)` did while leaving the columns bare for an index, as in
    `Store.query_events`: a start on or before `high` sorts before the day after it, and an end
    on or after `low` sorts at or after it (a string sorts after its prefix).
    """
    reach = int(max(settings.window_days, settings.open_window_days)) + 1
    low = date.fromordinal(span[0].toordinal() - reach).isoformat()
    after_high = date.fromordinal(span[1].toordinal() + reach + 1).isoformat()
    starts_by_high = EventRow.date_start < after_high
    ends_from_low = func.coalesce(EventRow.date_end, EventRow.date_start) >= low
    return EventRow.date_start.is_(None) | (starts_by_high & ends_from_low)


def _candidates(
    session: Session, event: EventRow, settings: ClusterSettings, *, by_actor: bool = False
) -> dict[str, list[EventRow]]:
    """Clustered events that may be compatible in date (SQL prefilter), by cluster id.

    Of the event's type by default; with `by_actor`, of any type but naming one of its actors.
    """
    stmt = select(EventRow, ClusterMemberRow.cluster_id).join(
        ClusterMemberRow, ClusterMemberRow.event_id == EventRow.id
    )
    if by_actor:
        codes = sorted(_codes(event.actors))
        if not codes:
            return {}  # an actorless event names no actor another could share
        stmt = stmt.where(or_(
            *(EventRow.actor_codes.contains(f" {code} ", autoescape=True) for code in codes)
        ))
    else:
        stmt = stmt.join(ClusterRow, ClusterRow.id == ClusterMemberRow.cluster_id).where(
            ClusterRow.type == event.type
        )
    span = _interval(event)
    if span is not None:
        stmt = stmt.where(_date_prefilter(span, settings))
    found: dict[str, list[EventRow]] = {}
    for row, cluster_id in session.execute(stmt.order_by(ClusterMemberRow.cluster_id, EventRow.id)):
        found.setdefault(cluster_id, []).append(row)
    return found


def _roots(session: Session, doc_ids: Iterable[str]) -> dict[str, str]:
    """Document id → the original of its near-duplicate group (itself when unsigned)."""
    ids = set(doc_ids)
    known = {doc_id: root for doc_id, root in session.execute(
        select(MinHashRow.doc_id, MinHashRow.copy_of).where(MinHashRow.doc_id.in_(ids))
    )}
    return {doc_id: known.get(doc_id, doc_id) for doc_id in ids}


def _best_cluster(
    event: EventRow,
    candidates: dict[str, list[EventRow]],
    family: set[str],
    roots: dict[str, str],
    similarity: _Budget | None,
    settings: ClusterSettings,
) -> str | None:
    scored: list[tuple[float, str]] = []
    sentences = _sentences([event])
    for cluster_id, members in candidates.items():
        if not any(compatible(event, member, settings) for member in members):
            continue
        # A member that names no actor may join, but must not bridge two sides into one happening
        # ("Ukraine deployed troops" must not join a Belarusian build-up through an actorless report).
        if not _overlap_or_empty(_codes(event.actors), _member_codes(members)):
            continue
        sibling = any(roots.get(member.doc_id, member.doc_id) in family for member in members)
        if sibling:
            score: float | None = 2.0  # the cluster of the document (or its copies) first
        elif similarity is None:
            score = 1.0
        else:
            score = _meaning(sentences, members, similarity, settings, unmeasured=1.0)
        if score is not None:
            scored.append((score, cluster_id))
    return _best(scored)


def _best(scored: list[tuple[float, str]]) -> str | None:
    """The cluster with the highest score; the first of equals (candidates come in id order)."""
    return max(scored, key=lambda pair: pair[0])[1] if scored else None


def _member_codes(members: Iterable[EventRow]) -> set[str]:
    """Every actor code a cluster's members name."""
    return set().union(*(_codes(m.actors) for m in members))


def _meaning(sentences: list[str], members: list[EventRow], similarity: _Budget,
             settings: ClusterSettings, unmeasured: float | None) -> float | None:
    """The meaning similarity of an event to a cluster, None when it falls below the threshold,
    and `unmeasured` (the decision without a similarity function) when the budget left a side
    with no sentence."""
    score = similarity(sentences, _sentences(members))
    if score is None:
        return unmeasured
    return score if score >= settings.similarity_threshold else None


def _denied_cluster(
    event: EventRow,
    candidates: dict[str, list[EventRow]],
    similarity: _Budget | None,
    settings: ClusterSettings,
) -> str | None:
    """The cluster a denial denies: the denier among its actors, near in place and time, and
    similar in meaning (or, with no similarity at hand, repeating one of its trigger words)."""
    deniers = _codes(event.actors)
    if not deniers:
        return None
    scored: list[tuple[float, str]] = []
    sentences = _sentences([event])
    for cluster_id, members in candidates.items():
        members = [m for m in members if m.type != "REJECT"]
        if not members or not deniers & _member_codes(members):
            continue
        if not any(places_compatible(event.place, m.place, settings.place_margin_km)
                   and dates_compatible(event, m, settings) for m in members):
            continue
        lexical = 1.0 if _mentions_trigger(sentences, members) else None
        score = lexical if similarity is None else _meaning(sentences, members, similarity, settings,
                                                            unmeasured=lexical)
        if score is not None:
            scored.append((score, cluster_id))
    return _best(scored)


def _pending_denials(session: Session, event: EventRow, settings: ClusterSettings) -> list[EventRow]:
    """Denials by one of the event's actors, near it in time, not yet linked to what they deny.

    A denial may arrive before the reports of what it denies; each newly placed event gives the
    waiting denials another chance, so the order of arrival does not change the outcome.
    """
    codes = sorted(_codes(event.actors))
    if not codes:
        return []
    linked = select(ClaimRow.event_id).where(ClaimRow.stance == "denied")
    stmt = select(EventRow).where(
        EventRow.type == "REJECT",
        EventRow.id.not_in(linked),
        or_(*(EventRow.actor_codes.contains(f" {code} ", autoescape=True) for code in codes)),
    )
    span = _interval(event)
    if span is not None:
        stmt = stmt.where(_date_prefilter(span, settings))
    return [row for row in session.scalars(stmt.order_by(EventRow.id)) if is_denial(row)]


def _add_claim(session: Session, event: EventRow, cluster_id: str | None, stance: str,
               claimant: str | None) -> None:
    key = claim_id(event.id, cluster_id)
    if session.get(ClaimRow, key) is None:
        session.add(ClaimRow(id=key, event_id=event.id, cluster_id=cluster_id,
                             claimant_code=claimant, stance=stance))


def _outlet(doc: DocumentRow) -> str:
    if doc.outlet and doc.outlet.strip():
        return doc.outlet.strip()
    for url in doc.urls:
        host = (urlsplit(url.url).hostname or "").lower()
        if host:
            return host.removeprefix("www.")
    return f"document {doc.id[:12]}"


def _refresh(session: Session, cluster_id: str) -> None:
    """Recompute a cluster's first report, independent outlets and status from its members."""
    cluster = session.get(ClusterRow, cluster_id)
    if cluster is None:
        return
    members = list(session.scalars(
        select(EventRow).join(ClusterMemberRow, ClusterMemberRow.event_id == EventRow.id)
        .where(ClusterMemberRow.cluster_id == cluster_id)
    ))
    roots = _roots(session, {m.doc_id for m in members})
    docs = {
        doc.id: doc for doc in session.scalars(
            select(DocumentRow).where(DocumentRow.id.in_(set(roots) | set(roots.values())))
            .options(selectinload(DocumentRow.urls))
        )
    }
    outlet_of = {doc_id: _outlet(docs[root]) for doc_id, root in roots.items()}
    dated = [(report_time(docs[d].published, docs[d].fetched_at), d) for d in roots]
    known = [(moment, d) for moment, d in dated if moment is not None]
    if known:
        first = docs[min(known)[1]]
        cluster.first_reported = first.published if first.published else first.fetched_at
    else:
        cluster.first_reported = None
    outlets = sorted(set(outlet_of.values()))
    cluster.outlets = outlets
    cluster.independent_outlets = len(outlets)
    voiced = {outlet_of[m.doc_id] for m in members
              if m.stance == "asserted" and m.claim.get("outlet_voice", True)}
    denied = session.scalar(
        select(func.count()).select_from(ClaimRow)
        .where(ClaimRow.cluster_id == cluster_id, ClaimRow.stance == "denied")
    )
    if denied:
        cluster.status = "disputed"
    elif len(voiced) > 1:
        cluster.status = "corroborated"
    elif voiced:
        cluster.status = "reported"
    else:
        cluster.status = "alleged"
    cluster.updated_at = datetime.now(UTC)


def assign_clusters(
    store: Store,
    doc_id: str,
    *,
    similarity: Similarity | None = None,
    settings: ClusterSettings | None = None,
) -> Assignment:
    """Place the current events of a stored document in clusters, record claims, update statuses.

    `similarity` compares evidence sentences; None uses the sentence embedder when it can be
    loaded, and no meaning check otherwise (nor with `settings.meaning` off). Idempotent: events
    already placed are left alone, so processing a document twice adds nothing.
    """
    settings = settings or ClusterSettings()
    if not settings.meaning:
        similarity = None
    elif similarity is None:
        similarity = default_similarity()
    duplicates = mark_near_duplicates(store, doc_id)
    placed: dict[str, str] = {}
    denials: dict[str, str] = {}
    with store.transaction(f"cannot cluster the events of document {doc_id}") as session:
        if session.get(DocumentRow, doc_id) is None:
            raise StoreError(f"no stored document {doc_id}", source=store.url)
        events = list(session.scalars(
            select(EventRow).where(EventRow.doc_id == doc_id).order_by(EventRow.seq)
        ))
        done = set(session.scalars(
            select(ClusterMemberRow.event_id).where(ClusterMemberRow.doc_id == doc_id)
        ))
        family = {duplicates.copy_of, doc_id}
        budget = None if similarity is None else _Budget(
            similarity, set(_sentences(events, limit=None)), settings.own_sentence_chars
        )
        touched: set[str] = set()
        waiting: dict[str, EventRow] = {}
        for event in events:
            if event.id in done:
                continue
            cluster_id: str | None = None
            if _is_current(event):
                candidates = _candidates(session, event, settings)
                roots = _roots(session, {m.doc_id for ms in candidates.values() for m in ms})
                cluster_id = _best_cluster(event, candidates, family, roots, budget, settings)
                if cluster_id is None:
                    cluster_id = cluster_id_for(event.id)
                    session.add(ClusterRow(id=cluster_id, type=event.type, status="reported",
                                           outlets=[], independent_outlets=0))
                session.add(ClusterMemberRow(cluster_id=cluster_id, event_id=event.id, doc_id=doc_id))
                session.flush()
                placed[event.id] = cluster_id
                touched.add(cluster_id)
            if event.claimant_code or event.stance != "asserted":
                _add_claim(session, event, cluster_id, event.stance, event.claimant_code)
            if is_denial(event):
                waiting.setdefault(event.id, event)
            if cluster_id is not None and event.type != "REJECT":
                for denial in _pending_denials(session, event, settings):
                    waiting.setdefault(denial.id, denial)
        # Each waiting denial is weighed once, against every cluster this document placed: not
        # once per event of the document (a long page made that quadratic in its events).
        session.flush()
        for denial in waiting.values():
            denied = _denied_cluster(
                denial, _candidates(session, denial, settings, by_actor=True), budget, settings
            )
            if denied is not None:
                _add_claim(session, denial, denied, "denied", denial.actors[0]["code"])
                session.flush()
                denials[denial.id] = denied
                touched.add(denied)
        if duplicates.regrouped:
            touched.update(session.scalars(
                select(ClusterMemberRow.cluster_id).where(
                    ClusterMemberRow.doc_id.in_(duplicates.regrouped)
                )
            ))
        session.flush()
        for cluster_id in sorted(touched):
            _refresh(session, cluster_id)
    return Assignment(doc_id, duplicates.copy_of, placed, denials, tuple(sorted(touched)))


def claims_of(store: Store, cluster_id: str | None = None) -> list[ClaimRecord]:
    """Stored claims, of one cluster or all, in event order."""
    stmt = select(ClaimRow).order_by(ClaimRow.event_id, ClaimRow.cluster_id)
    if cluster_id is not None:
        stmt = stmt.where(ClaimRow.cluster_id == cluster_id)
    with store.transaction("cannot read claims") as session:
        return [ClaimRecord(row.event_id, row.cluster_id, row.claimant_code, row.stance)
                for row in session.scalars(stmt)]
