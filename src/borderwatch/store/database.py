"""The event store: one transaction per document in, filtered events out.

SQLAlchemy and alembic exceptions are translated into `StoreError` here, at the stage boundary,
naming the database by a URL with its password hidden.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, cast, get_args

from alembic.util import CommandError
from sqlalchemy import URL, Engine, create_engine, event, func, literal_column, or_, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    IntegrityError,
    OperationalError,
    SQLAlchemyError,
    StatementError,
)
from sqlalchemy.orm import Session, load_only, selectinload, sessionmaker

from borderwatch.errors import StoreError
from borderwatch.models import Alert, AlertEvidence, Analysis, Cluster, Stance
from borderwatch.store.migrate import upgrade
from borderwatch.store.records import (
    Counts,
    SaveResult,
    StoredDocument,
    StoredEvent,
    decode_cursor,
    document_row,
    stored_document,
    stored_event,
)
from borderwatch.store.schema import (
    AlertRow,
    ClusterMemberRow,
    ClusterRow,
    DocumentRow,
    EventRow,
    UrlRow,
)

Severity = Literal["low", "medium", "high"]

ANALYZE_FROM_EVENTS = 1000
"""SQLite statistics are gathered once the store holds this many events, then whenever it doubles."""

SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3}
"""Alert severities in escalating order (an alert is raised again only when its rank rises)."""


def safe_url(url: str) -> str:
    """The URL as it may appear in messages and logs: never with its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def _reason(exc: BaseException) -> str:
    """The driver's own complaint, without the SQL statement and its (possibly huge) parameters."""
    cause = exc.orig if isinstance(exc, StatementError) and exc.orig is not None else exc
    return f"{type(cause).__name__}: {cause}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the writer; SQLite leaves foreign keys off unless asked."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _refresh_sqlite_statistics(engine: Engine) -> tuple[int, int]:
    """ANALYZE when the events table was never analysed or has doubled since it last was.

    Without statistics SQLite's planner takes any indexed equality to match a handful of rows, so
    it fetches every event of the two types asked for and sorts them all rather than walking the
    listing index (`bench/api_latency.py`: 31 ms against 12 ms on 100,000 events). `PRAGMA
    optimize` is no substitute before SQLite 3.46: it analyses only tables the closing connection
    itself queried. A store that cannot be written now (read-only, or locked by a writer) is left
    as it is: statistics only speed queries up. Returns the event count and the count at which the
    next ANALYZE is due.
    """
    with engine.connect() as conn:
        events = conn.scalar(text("SELECT count(*) FROM events")) or 0
        analysed = 0
        if conn.scalar(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")):
            stat = conn.scalar(text(
                "SELECT stat FROM sqlite_stat1 WHERE tbl = 'events' AND idx = 'ix_events_listing'"))
            analysed = int(stat.split()[0]) if stat else 0
        due = max(ANALYZE_FROM_EVENTS, 2 * analysed)
        if events < due:
            return events, due
        # The attempt must not wait: a reader (`events`, `export`, `serve`) opening beside a
        # writer would otherwise sit out the whole busy timeout (5 s by default) for an
        # optimisation. The connection goes back to the pool, so its timeout is restored.
        waited = conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
        conn.exec_driver_sql("PRAGMA busy_timeout = 0")
        try:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
        except OperationalError:
            conn.rollback()
            return events, due
        finally:
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(waited)}")
        return events, max(ANALYZE_FROM_EVENTS, 2 * events)


def _sqlite_file(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def start_day(value: date | str, source: str | None = None) -> date:
    """The day of a date, or of an ISO date or datetime string (its first ten characters).

    Public so the CLI refuses a bad `--since` as a usage error before it opens the store.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise StoreError(f"not an ISO date: {value!r}", source=source) from None


def border_pair(value: str, source: str | None = None) -> tuple[str, str]:
    """"BLR-UKR" or "ukr-blr" as ("BLR", "UKR"): a border is the same pair in either order.

    Public so the CLI refuses a bad `--border` as a usage error before it opens the store.
    """
    codes = value.upper().split("-")
    if len(codes) != 2 or not all(len(c) == 3 and c.isalpha() for c in codes) or codes[0] == codes[1]:
        raise StoreError(f"not a border pair of two ISO3 codes: {value!r}", source=source)
    first, second = sorted(codes)
    return first, second


def _encoding_error(exc: BaseException) -> bool:
    """Whether `exc` is psycopg failing to encode a parameter through the json module.

    psycopg dumps JSON parameters itself, so such a failure escapes SQLAlchemy's error wrapping
    (on SQLite it is a StatementError). Any other TypeError or ValueError is a bug and must
    surface as one, not pass for a document the store could not hold.
    """
    if not isinstance(exc, TypeError | ValueError) or exc.__traceback__ is None:
        return False
    modules = []
    trace: TracebackType | None = exc.__traceback__
    while trace is not None:
        modules.append(str(trace.tb_frame.f_globals.get("__name__", "")).partition(".")[0])
        trace = trace.tb_next
    return modules[-1] == "json" and "psycopg" in modules


def open_store(url: str) -> Store:
    """Open (creating if needed) the store at a SQLAlchemy URL, migrated to the latest schema."""
    safe = safe_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError("not a database URL", source=safe) from None
    is_sqlite = parsed.get_backend_name() == "sqlite"
    path = _sqlite_file(parsed) if is_sqlite else None
    try:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
    except (OSError, ImportError, SQLAlchemyError) as exc:
        raise StoreError(f"cannot open the store: {_reason(exc)}", source=safe) from exc
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        upgrade(engine)
    except (SQLAlchemyError, CommandError) as exc:
        engine.dispose()
        raise StoreError(f"cannot migrate the store: {_reason(exc)}", source=safe) from exc
    if not is_sqlite:
        return Store(engine, safe)
    try:
        events, analyse_at = _refresh_sqlite_statistics(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"cannot read the store: {_reason(exc)}", source=safe) from exc
    return Store(engine, safe, events=events, analyse_at=analyse_at)


class Store:
    """Documents, their URLs, events and place mentions in one SQL database."""

    def __init__(self, engine: Engine, url: str, *, events: int = 0,
                 analyse_at: int | None = None) -> None:
        self.engine = engine
        self.url = url
        """The database URL with any password hidden."""
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._events = events
        """The events counted at the last statistics check, plus those this object saved since."""
        self._analyse_at = analyse_at
        """The event count at which SQLite statistics are due again; None where the server keeps
        its own (PostgreSQL's autovacuum)."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            raise StoreError(f"{action}: {_reason(exc)}", source=self.url) from exc

    def save(self, analysis: Analysis) -> SaveResult:
        """Write a document with its URL, events and place mentions, all or nothing.

        A document already stored (same clean text) gains only its new URL, if any.
        """
        doc = analysis.document
        if analysis.error is not None:
            raise StoreError(f"{doc.source}: analysis failed, not saved: {analysis.error}",
                             source=self.url)
        action = f"cannot save {doc.source}"
        with self._translated(action):
            try:
                try:
                    result = self._save(analysis)
                except IntegrityError:
                    # Another writer stored the same document between our look-up and our
                    # insert; a second attempt finds it and records just the URL.
                    result = self._save(analysis)
            except (TypeError, ValueError) as exc:
                # Either attempt's transaction is rolled back all the same.
                if not _encoding_error(exc):
                    raise
                raise StoreError(f"{action}: {_reason(exc)}", source=self.url) from exc
        self._keep_statistics_current(result.events_added)
        return result

    def _keep_statistics_current(self, added: int) -> None:
        """Refresh SQLite's statistics once this object's saves have doubled the store.

        `borderwatch watch` and `serve` keep one store open for days, so the check at open alone
        would leave a store that grew from 1,000 to 100,000 events planned as if it were small.
        Counting in memory keeps the check free; the refresh itself counts again, so events other
        processes wrote are included then.
        """
        if self._analyse_at is None or not added:
            return
        self._events += added
        if self._events >= self._analyse_at:
            with self._translated("cannot gather statistics"):
                self._events, self._analyse_at = _refresh_sqlite_statistics(self.engine)

    def _save(self, analysis: Analysis) -> SaveResult:
        doc = analysis.document
        with self._sessions() as session, session.begin():
            row = session.get(DocumentRow, doc.id, options=[selectinload(DocumentRow.urls)])
            if row is None:
                session.add(document_row(analysis))
                return SaveResult(doc.id, True, len(analysis.events), doc.url is not None)
            if not doc.url or doc.url in {known.url for known in row.urls}:
                return SaveResult(doc.id, False, 0, False)
            row.urls.append(UrlRow(url=doc.url))
            return SaveResult(doc.id, False, 0, True)

    def query_events(
        self,
        *,
        types: Iterable[str] | None = None,
        country: str | None = None,
        since: date | str | None = None,
        until: date | str | None = None,
        text: str | None = None,
        include_historical: bool = False,
        border: str | None = None,
        claimant: str | None = None,
        stance: Stance | None = None,
        limit: int | None = None,
        offset: int = 0,
        after: str | None = None,
    ) -> list[StoredEvent]:
        """Events matching every filter given, newest first (undated events last).

        `after` is a page cursor (`StoredEvent.cursor`): the page starts just after that event
        in the listing order, found through the listing index however deep the page is (an
        OFFSET reads and drops every row before it).

        `country` matches an actor, a recipient or the place's country; `since`/`until` bound
        the start day inclusively and drop undated events; `text` is a case-insensitive
        substring of the evidence sentences. `border` ("BLR-UKR", either order) matches the
        place's country with the neighbour across its nearest border (`proximity.border_with`);
        `claimant` (ISO3 or slug, any case) and `stance` filter on the event's claim.
        """
        stmt = select(EventRow).options(
            selectinload(EventRow.document).options(
                load_only(DocumentRow.title, DocumentRow.published),
                selectinload(DocumentRow.urls),
            )
        )
        if types is not None:
            stmt = stmt.where(EventRow.type.in_(list(types)))
        if country:
            padded = f" {country} "
            stmt = stmt.where(
                EventRow.actor_codes.icontains(padded, autoescape=True)
                | EventRow.recipient_codes.icontains(padded, autoescape=True)
                | (func.upper(EventRow.place_country) == country.upper())
            )
        # Stored starts are ISO days, some followed by a time ("2024-09-02T10:30:00+02:00"), so
        # plain range bounds select by start day and an index serves them; a bound on
        # substr(date_start, 1, 10) could not use one. ISO digits and '-' sort alike bytewise
        # (SQLite) and under PostgreSQL's linguistic collations, and a longer string after its
        # prefix in both, so the backends agree.
        if since is not None:
            lower = EventRow.date_start >= start_day(since, self.url).isoformat()
            if until is None and self.engine.dialect.name == "sqlite":
                # Without histograms SQLite takes any range to keep a quarter of the rows, and
                # walked the listing index from the newest event down to `since` for a border
                # pair rather than look up its two countries (`bench/api_latency.py` page
                # filters: p95 114 ms against 34-59 ms). A lower bound alone reaches the newest
                # event, so it is told it keeps most; the index still serves it where nothing
                # narrower does (`combined`).
                lower = func.likelihood(lower, literal_column("0.9"))
            stmt = stmt.where(lower)
        if until is not None:
            last = start_day(until, self.url)
            stmt = stmt.where(EventRow.date_start < (last + timedelta(days=1)).isoformat()
                              if last < date.max else EventRow.date_start.is_not(None))
        if text:
            stmt = stmt.where(EventRow.evidence_text.icontains(text, autoescape=True))
        if not include_historical:
            stmt = stmt.where(EventRow.historical.is_(False))
        if border:
            a, b = border_pair(border, self.url)
            neighbour = EventRow.proximity["border_with"].as_string()
            stmt = stmt.where(or_(
                (EventRow.place_country == a) & (neighbour == b),
                (EventRow.place_country == b) & (neighbour == a),
            ))
        if claimant:
            stmt = stmt.where(func.lower(EventRow.claimant_code) == claimant.lower())
        if stance is not None:
            if stance not in get_args(Stance):
                raise StoreError(f"not a stance: {stance!r} (asserted, alleged or denied)",
                                 source=self.url)
            stmt = stmt.where(EventRow.stance == stance)
        if after is not None:
            stmt = stmt.where(self._after(after))
        # Spelled as `ix_events_listing` is, so a page walks that index instead of sorting.
        stmt = stmt.order_by(
            EventRow.date_start.desc().nulls_last(), EventRow.doc_id, EventRow.seq,
        ).limit(limit).offset(offset)
        with self._translated("cannot query events"), self._sessions() as session:
            return [stored_event(row) for row in session.scalars(stmt)]

    def _after(self, cursor: str) -> Any:
        """Rows after a cursor in the listing order (date DESC NULLS LAST, doc_id, seq)."""
        try:
            day, doc_id, seq = decode_cursor(cursor)
        except ValueError as exc:
            raise StoreError(f"bad page cursor: {exc}", source=self.url) from exc
        later_in_day = (EventRow.doc_id > doc_id) | ((EventRow.doc_id == doc_id) & (EventRow.seq > seq))
        if day is None:
            return EventRow.date_start.is_(None) & later_in_day
        return or_(
            EventRow.date_start < day,
            (EventRow.date_start == day) & later_in_day,
            EventRow.date_start.is_(None),
        )

    def counts(self) -> Counts:
        with self._translated("cannot count"), self._sessions() as session:
            def count(model: type[Any]) -> int:
                return session.scalar(select(func.count()).select_from(model)) or 0

            return Counts(documents=count(DocumentRow), events=count(EventRow), urls=count(UrlRow))

    def documents(self) -> Iterator[StoredDocument]:
        """Every stored document, oldest first, streamed in batches rather than loaded at once."""
        stmt = (
            select(DocumentRow)
            .options(selectinload(DocumentRow.urls))
            .order_by(DocumentRow.created_at, DocumentRow.id)
            .execution_options(yield_per=100)
        )
        with self._translated("cannot read documents"), self._sessions() as session:
            for row in session.scalars(stmt):
                yield stored_document(row)

    # --- assessment: clusters and alerts ----------------------------------------------------

    @contextmanager
    def transaction(self, action: str) -> Iterator[Session]:
        """An ORM session in one transaction, for the assess stage's own queries and writes.

        Committed when the block ends, rolled back on any error; SQLAlchemy errors become a
        `StoreError` naming `action` and the database.
        """
        with self._translated(action), self._sessions() as session, session.begin():
            yield session

    def clusters(self) -> list[Cluster]:
        """Every cluster, earliest first report first (unknown times last)."""
        stmt = (
            select(ClusterRow)
            .options(selectinload(ClusterRow.members))
            .order_by(ClusterRow.first_reported.is_(None), ClusterRow.first_reported, ClusterRow.id)
        )
        with self._translated("cannot read clusters"), self._sessions() as session:
            return [_cluster(row) for row in session.scalars(stmt)]

    def cluster_of(self, event_id: str) -> Cluster | None:
        """The cluster an event was placed in, or None (not clustered, or not current)."""
        stmt = (
            select(ClusterRow)
            .join(ClusterMemberRow, ClusterMemberRow.cluster_id == ClusterRow.id)
            .where(ClusterMemberRow.event_id == event_id)
            .options(selectinload(ClusterRow.members))
        )
        with self._translated(f"cannot read the cluster of event {event_id}"), self._sessions() as session:
            row = session.scalars(stmt).first()
            return _cluster(row) if row is not None else None

    def cluster_sources(self, cluster_id: str) -> dict[str, list[str]]:
        """Every document of a cluster with the URLs it was seen at, in first-stored order."""
        stmt = (
            select(DocumentRow)
            .where(DocumentRow.id.in_(
                select(ClusterMemberRow.doc_id).where(ClusterMemberRow.cluster_id == cluster_id)
            ))
            .options(load_only(DocumentRow.id, DocumentRow.created_at), selectinload(DocumentRow.urls))
            .order_by(DocumentRow.created_at, DocumentRow.id)
        )
        with self._translated(f"cannot read the sources of cluster {cluster_id}"), \
                self._sessions() as session:
            return {row.id: [url.url for url in row.urls] for row in session.scalars(stmt)}

    def save_alert(self, alert: Alert) -> bool:
        """Record an alert; True when it is new or escalated (its severity rose), else unchanged.

        An alert seen again at the same or a lower severity is left as first recorded, so a
        caller delivers exactly the alerts for which this returns True.
        """
        rank = SEVERITY_RANK.get(alert.severity)
        if rank is None:
            raise StoreError(f"alert {alert.id}: unknown severity {alert.severity!r}", source=self.url)
        fields = {
            "rule": alert.rule, "severity": alert.severity, "as_of": alert.as_of,
            "border": alert.border, "sites": list(alert.sites), "explanation": alert.explanation,
            "events": list(alert.events),
            "evidence": [{"doc": e.doc, "start": e.start, "end": e.end, "text": e.text}
                         for e in alert.evidence],
            "level_rank": rank,
        }
        with self.transaction(f"cannot save alert {alert.id}") as session:
            row = session.get(AlertRow, alert.id)
            if row is None:
                session.add(AlertRow(id=alert.id, **fields))
                return True
            if rank <= row.level_rank:
                return False
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = datetime.now(UTC)
            return True

    def alerts(self) -> list[Alert]:
        """Every recorded alert at its highest severity, by date of its latest event, then id."""
        stmt = select(AlertRow).order_by(AlertRow.as_of, AlertRow.id)
        with self._translated("cannot read alerts"), self._sessions() as session:
            return [
                Alert(
                    id=row.id, rule=row.rule, severity=cast(Severity, row.severity), as_of=row.as_of,
                    border=row.border, sites=list(row.sites), explanation=row.explanation,
                    events=list(row.events),
                    evidence=[AlertEvidence(**item) for item in row.evidence],
                )
                for row in session.scalars(stmt)
            ]


def _cluster(row: ClusterRow) -> Cluster:
    return Cluster(
        id=row.id,
        type=row.type,
        event_ids=[member.event_id for member in row.members],
        doc_ids=sorted({member.doc_id for member in row.members}),
        first_reported=row.first_reported,
        outlets=list(row.outlets),
        status=row.status,
    )
