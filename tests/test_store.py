"""The store: migrations, idempotent saves, all-or-nothing writes and event queries."""

from __future__ import annotations

import io
import re
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import delete, insert, inspect, select, text
from sqlalchemy import event as sa_event
from sqlalchemy.exc import IntegrityError

from borderwatch.errors import StoreError
from borderwatch.models import (
    EVENT_TYPES,
    Actor,
    Analysis,
    Claim,
    Document,
    Event,
    EventDate,
    Place,
    PlaceMention,
    RemovedSpan,
    Span,
)
from borderwatch.store import Counts, SaveResult, Store, StoredEvent, database, event_id, open_store
from borderwatch.store.migrate import alembic_config
from borderwatch.store.schema import Base, DocumentRow, EventRow

TEXT_A = (
    "Kyiv accused Minsk of massing troops in the Gomel region. "
    "Equipment and troops were seen on the border. "
    "In 2022 Russian troops invaded Ukraine from Belarus."
)
TEXT_B = (
    "Wagner fighters held drills near Brest. "
    "Poland protested to Minsk about the 50% rise in incidents."
)

UKR_MFA = Actor("UKR", "MFA", "Kyiv")
BLR_GOV = Actor("BLR", "GOV", "Minsk")
GOMEL = Place(name="Гомельская вобласць", geonameid=628035, lat=52.4, lon=30.98, country="BLR",
              admin1="BY-HO", precision=2, radius_km=120.0)
BREST = Place(name="Brest", geonameid=629634, lat=52.1, lon=23.7, country="BLR", admin1="BY-BR",
              precision=4, radius_km=10.0)


def sentence(text: str, words: str) -> Span:
    """The span of the sentence containing `words`."""
    at = text.index(words)
    start = text.rfind(". ", 0, at)
    start = 0 if start < 0 else start + 2
    end = text.index(".", at) + 1
    return Span(start, end)


def analysis_a(url: str | None = "https://example.org/a") -> Analysis:
    doc = Document(source="a.txt", raw_text=TEXT_A + "\nDonate now!", clean_text=TEXT_A,
                   removed=[RemovedSpan(len(TEXT_A), len(TEXT_A) + 12, "donation appeal")],
                   url=url, title="Kyiv accuses Minsk", outlet="Example News", language="en",
                   published="2024-08-25", fetched_at="2024-08-25T12:00:00+00:00")
    accuse = Event(type="ACCUSE", actors=[UKR_MFA], recipients=[BLR_GOV],
                   date=EventDate("2024-08-25", "2024-08-25", "day"),
                   evidence=[sentence(TEXT_A, "accused")], trigger="accused", confidence=0.8)
    mobilize = Event(
        type="MOBILIZE", mode="troops", context="exercise",
        actors=[Actor("BLR", "MIL", "Minsk")], place=GOMEL,
        date=EventDate("2024-08-25", None, "day"),
        claim=Claim(claimant=UKR_MFA, stance="alleged", outlet_voice=False),
        evidence=[sentence(TEXT_A, "massing"), sentence(TEXT_A, "Equipment")],
        trigger="massing", confidence=0.7,
        proximity={"border_km": 0.0, "border_with": "UKR",
                   "sites": [{"id": "chernobyl-npp", "name": "Chernobyl", "km": 10.2}]},
    )
    invasion = Event(type="FIGHT", actors=[Actor("RUS", "MIL", "Russian troops")],
                     recipients=[Actor("UKR", None, "Ukraine")],
                     date=EventDate("2022-02-24", None, "month"), historical=True,
                     evidence=[sentence(TEXT_A, "invaded")], trigger="invaded",
                     status_cues=["historical: February 2022"])
    mention = PlaceMention(TEXT_A.index("Gomel"), TEXT_A.index("Gomel") + 5, "Gomel", GOMEL)
    unresolved = PlaceMention(TEXT_A.index("Minsk"), TEXT_A.index("Minsk") + 5, "Minsk")
    return Analysis(document=doc, places=[mention, unresolved],
                    events=[accuse, mobilize, invasion])


def analysis_b() -> Analysis:
    doc = Document(source="b.txt", raw_text=TEXT_B, clean_text=TEXT_B,
                   url="https://example.org/b", title="Wagner near Brest")
    wagner = Event(type="MOBILIZE", mode="militia",
                   actors=[Actor("wagner-group", "REB", "Wagner fighters")], place=BREST,
                   evidence=[sentence(TEXT_B, "Wagner")], trigger="drills")
    protest = Event(type="PROTEST", actors=[Actor("POL", "GOV", "Poland")],
                    recipients=[BLR_GOV],
                    date=EventDate("2024-09-02T10:30:00+02:00", None, "day"),
                    evidence=[sentence(TEXT_B, "protested")], trigger="protested")
    return Analysis(document=doc, events=[wagner, protest])


def db_url(path: Path) -> str:
    return f"sqlite:///{path}"


sqlite_only = pytest.mark.sqlite_only
"""For tests of the `store`/`filled` fixtures that hold only on SQLite: test_store_postgres.py
collects every other test using them again, on PostgreSQL."""


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """The database the backend-neutral tests open: SQLite here, PostgreSQL in test_store_postgres."""
    return db_url(tmp_path / "store.sqlite")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


@pytest.fixture
def filled(store: Store) -> Store:
    store.save(analysis_a())
    store.save(analysis_b())
    return store


def ids(events: list[StoredEvent]) -> list[str]:
    return [stored.id for stored in events]


A_ID, B_ID = analysis_a().document.id, analysis_b().document.id
ACCUSE, MOBILIZE, FIGHT = (event_id(A_ID, seq) for seq in range(3))
WAGNER, PROTEST = (event_id(B_ID, seq) for seq in range(2))


# --- schema and migrations ---------------------------------------------------------------

def test_open_creates_folder_schema_and_records_the_head_revision(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "deeper" / "store.sqlite"
    with open_store(db_url(path)) as store:
        tables = set(inspect(store.engine).get_table_names())
        with store.engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert path.is_file()
    assert {"documents", "document_urls", "events", "place_mentions", "alembic_version"} <= tables
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert version == head == "0006"


def test_migrated_schema_matches_the_orm_models(store: Store) -> None:
    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert differences == []


@sqlite_only
def test_sqlite_runs_in_wal_mode_with_foreign_keys_enforced(store: Store) -> None:
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            conn.execute(text("INSERT INTO document_urls (doc_id, url) VALUES ('nope', 'u')"))


def test_reopening_keeps_data_and_does_not_migrate_again(store_url: str) -> None:
    with open_store(store_url) as store:
        store.save(analysis_a())
    with open_store(store_url) as store:
        assert store.counts().documents == 1
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


def test_downgrade_to_base_removes_every_table(store: Store) -> None:
    config = alembic_config()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert set(inspect(store.engine).get_table_names()) == {"alembic_version"}


def test_migration_renders_for_postgresql_offline() -> None:
    # The password holds an encoded "@": a "%" must survive alembic's ini-style config.
    config = alembic_config("postgresql://bw:p%40ss@db.example/borderwatch")
    config.output_buffer = io.StringIO()
    command.upgrade(config, "head", sql=True)
    sql = config.output_buffer.getvalue()
    assert "CREATE TABLE events" in sql
    assert "actors JSON NOT NULL" in sql
    assert "historical BOOLEAN NOT NULL" in sql
    assert "created_at TIMESTAMP WITH TIME ZONE NOT NULL" in sql
    assert "INSERT INTO alembic_version (version_num) VALUES ('0001')" in sql
    assert "ON events (date_start DESC NULLS LAST, doc_id, seq, historical)" in sql  # 0004
    assert "ON events (type, date_start DESC NULLS LAST, doc_id, seq, historical)" in sql  # 0005


# --- errors -------------------------------------------------------------------------------

def test_error_names_the_database_without_its_password() -> None:
    # No PostgreSQL driver or server is needed: either failure must be a StoreError.
    with pytest.raises(StoreError) as caught:
        open_store("postgresql://bw:s3cret@127.0.0.1:1/borderwatch")
    message = str(caught.value)
    assert "s3cret" not in message
    assert "bw:***@127.0.0.1:1/borderwatch" in message
    assert caught.value.stage == "store"


def test_unparseable_url_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="not a database URL"):
        open_store("no scheme here")


def test_unusable_sqlite_path_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot open the store") as caught:
        open_store(db_url(blocker / "store.sqlite"))
    assert str(blocker) in str(caught.value)


def test_database_from_a_newer_version_is_refused(store_url: str) -> None:
    with open_store(store_url) as store, store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match=r"cannot migrate the store.*9999"):
        open_store(store_url)


def test_the_words_that_set_a_status_are_stored_and_read_back(filled: Store) -> None:
    events = filled.query_events(include_historical=True)
    (invasion,) = [e for e in events if e.event.type == "FIGHT"]
    assert invasion.event.status_cues == ["historical: February 2022"]
    assert invasion.to_dict()["status_cues"] == ["historical: February 2022"]
    assert all(e.event.status_cues == [] for e in events if e.event.type != "FIGHT")


def test_failed_analysis_is_refused(store: Store) -> None:
    broken = Analysis(document=Document(source="bad.jsonl:3", raw_text=""), error="empty input")
    with pytest.raises(StoreError, match=r"bad\.jsonl:3.*empty input"):
        store.save(broken)
    assert store.counts().documents == 0


def test_bad_since_date_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError, match="not an ISO date"):
        store.query_events(since="last tuesday")


# --- saving -------------------------------------------------------------------------------

def test_save_writes_document_urls_events_and_mentions(store: Store) -> None:
    result = store.save(analysis_a())
    assert (result.doc_id, result.new_document, result.events_added, result.new_url) == (
        A_ID, True, 3, True)
    counts = store.counts()
    assert (counts.documents, counts.events, counts.urls) == (1, 3, 1)
    with store.engine.connect() as conn:
        # Read as SQL sees it: an absent place is NULL, not the JSON text 'null'.
        mentions = conn.execute(text(
            "SELECT start_char, end_char, text, place IS NULL, CAST(place AS TEXT) FROM place_mentions"
            " ORDER BY start_char"
        )).fetchall()
        codes = conn.execute(text("SELECT actor_codes, recipient_codes FROM events WHERE id = :id"),
                             {"id": ACCUSE}).one()
    assert [m[2] for m in mentions] == ["Minsk", "Gomel"]
    assert mentions[0][3] and mentions[0][4] is None
    assert not mentions[1][3] and "BY-HO" in mentions[1][4]
    assert tuple(codes) == (" UKR ", " BLR ")


def test_documents_iterates_the_stored_documents(store: Store) -> None:
    store.save(analysis_a())
    store.save(analysis_b())
    docs = {doc.id: doc for doc in store.documents()}
    assert set(docs) == {A_ID, B_ID}
    a = docs[A_ID]
    assert a.clean_text == TEXT_A and a.raw_text.endswith("Donate now!")
    assert a.removed == analysis_a().document.removed
    assert (a.title, a.outlet, a.language, a.published) == (
        "Kyiv accuses Minsk", "Example News", "en", "2024-08-25")
    assert a.urls == ["https://example.org/a"]


def test_saving_again_adds_nothing(store: Store) -> None:
    store.save(analysis_a())
    before = store.counts()
    again = analysis_a()
    again.events.append(Event(type="THREATEN"))  # a later extractor run finds more: still a no-op
    result = store.save(again)
    assert (result.new_document, result.events_added, result.new_url) == (False, 0, False)
    assert store.counts() == before


def test_same_text_from_a_second_url_records_only_the_url(store: Store) -> None:
    store.save(analysis_a())
    result = store.save(analysis_a(url="https://mirror.example.net/a"))
    assert (result.new_document, result.events_added, result.new_url) == (False, 0, True)
    assert store.counts().documents == 1 and store.counts().urls == 2
    assert store.counts().events == 3
    [doc] = store.documents()
    assert doc.urls == ["https://example.org/a", "https://mirror.example.net/a"]
    accuse = store.query_events(types=["ACCUSE"])[0]
    assert accuse.urls == doc.urls


def test_losing_a_race_to_another_writer_records_just_the_url(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_store(store_url) as first, open_store(store_url) as second:
        real_row = database.document_row

        def other_writer_wins(analysis: Analysis) -> DocumentRow:
            # After `first` found no such document, `second` stores it before `first` inserts.
            monkeypatch.setattr(database, "document_row", real_row)
            second.save(analysis_a())
            return real_row(analysis)

        monkeypatch.setattr(database, "document_row", other_writer_wins)
        result = first.save(analysis_a(url="https://mirror.example.net/a"))
        assert result == SaveResult(A_ID, new_document=False, events_added=0, new_url=True)
        assert first.counts() == Counts(documents=1, events=3, urls=2)


def test_document_without_url_records_none(store: Store) -> None:
    result = store.save(analysis_a(url=None))
    assert result.new_document and not result.new_url
    assert store.counts().urls == 0


def test_failure_midway_leaves_no_trace_of_that_document(store_url: str) -> None:
    with open_store(store_url) as store:
        store.save(analysis_b())
        broken = analysis_a()
        # The document row is inserted before events; this event's JSON then fails to encode.
        broken.events[2].proximity = {"sites": [object()]}
        with pytest.raises(StoreError, match=r"cannot save a\.txt") as caught:
            store.save(broken)
        assert store.url in str(caught.value)
        assert "not JSON serializable" in str(caught.value)
        counts = store.counts()
        assert (counts.documents, counts.events, counts.urls) == (1, 2, 1)
        assert store.save(analysis_a()).new_document  # the store is still usable
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM place_mentions")).scalar_one() == 2


def test_a_bug_building_the_rows_surfaces_as_itself_not_as_a_failed_save(store: Store) -> None:
    """Only a value the driver cannot encode is the document's fault; a TypeError raised by our
    own code (here, an actor without a code reaching `records`) is a bug to see as one."""
    broken = analysis_a()
    broken.events[0].actors = [Actor(None, "MIL", "someone")]  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected str instance, NoneType found"):
        store.save(broken)
    assert store.counts() == Counts(documents=0, events=0, urls=0)


def test_an_unencodable_document_is_refused_on_the_second_attempt_too(store_url: str) -> None:
    """The attempt after a lost race can insert the whole document again (the winner's copy was
    removed meanwhile); a value the driver cannot encode is then the same StoreError."""
    with open_store(store_url) as first, open_store(store_url) as other:
        look_ups: list[str] = []

        def is_look_up(statement: str) -> bool:
            """`session.get` of a document: what `_save` asks first, on every attempt."""
            return re.match(r"SELECT documents\.id\b.*\bFROM documents\b", statement, re.S) is not None

        def other_removes(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if is_look_up(statement) and look_ups:  # before we look a second time
                with other.engine.begin() as conn:
                    conn.execute(delete(DocumentRow).where(DocumentRow.id == A_ID))

        def other_stores(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if is_look_up(statement):
                look_ups.append(statement)
                if len(look_ups) == 1:  # after our first look-up found nothing
                    other.save(analysis_a())

        sa_event.listen(first.engine, "before_cursor_execute", other_removes)
        sa_event.listen(first.engine, "after_cursor_execute", other_stores)
        broken = analysis_a()
        broken.events[2].proximity = {"sites": [object()]}
        with pytest.raises(StoreError, match=r"cannot save a\.txt.*not JSON serializable"):
            first.save(broken)
        sa_event.remove(first.engine, "before_cursor_execute", other_removes)
        sa_event.remove(first.engine, "after_cursor_execute", other_stores)
        assert len(look_ups) == 2
        assert first.counts() == Counts(documents=0, events=0, urls=0)


def test_killed_process_leaves_no_half_written_document(store_url: str) -> None:
    with open_store(store_url) as store:
        store.save(analysis_b())
    child = textwrap.dedent(f"""
        import os
        from sqlalchemy import event
        from borderwatch.models import Analysis, Document, Event
        from borderwatch.store import open_store
        from borderwatch.store.schema import EventRow

        store = open_store({store_url!r})
        # Die abruptly once the document row and one event are already inserted.
        event.listen(EventRow, "after_insert", lambda *args: os._exit(17))
        doc = Document(source="doomed", raw_text="doomed text", clean_text="doomed text",
                       url="https://example.org/doomed")
        store.save(Analysis(document=doc, events=[Event(type="ACCUSE"), Event(type="FIGHT")]))
    """)
    finished = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                              timeout=60)
    assert finished.returncode == 17, finished.stderr
    with open_store(store_url) as store:
        counts = store.counts()
        assert (counts.documents, counts.events, counts.urls) == (1, 2, 1)
        assert [doc.id for doc in store.documents()] == [B_ID]


# --- querying -----------------------------------------------------------------------------

def test_events_come_back_equal_to_what_was_saved(filled: Store) -> None:
    by_id = {s.id: s for s in filled.query_events(include_historical=True)}
    original = analysis_a().events[1]
    mobilize = by_id[MOBILIZE]
    assert mobilize.event == original
    assert (mobilize.doc_id, mobilize.title, mobilize.published) == (
        A_ID, "Kyiv accuses Minsk", "2024-08-25")
    assert mobilize.urls == ["https://example.org/a"]
    assert mobilize.evidence_texts == [
        "Kyiv accused Minsk of massing troops in the Gomel region.",
        "Equipment and troops were seen on the border.",
    ]
    first = mobilize.evidence[0]
    assert TEXT_A[first["start"]:first["end"]] == first["text"]
    assert first["doc"] == A_ID
    record = mobilize.to_dict()
    assert record["claim"] == {"claimant": UKR_MFA.to_contract(), "stance": "alleged",
                               "outlet_voice": False}
    assert record["place"]["radius_km"] == 120.0 and record["trigger"] == "massing"


def test_default_order_is_newest_first_with_undated_last(filled: Store) -> None:
    assert ids(filled.query_events()) == [PROTEST, ACCUSE, MOBILIZE, WAGNER]


def test_limit_and_offset_page_through_the_same_order(filled: Store) -> None:
    assert ids(filled.query_events(limit=2, offset=1)) == [ACCUSE, MOBILIZE]
    assert ids(filled.query_events(offset=3)) == [WAGNER]


def test_keyset_pages_follow_the_listing_order_through_undated_events(filled: Store) -> None:
    everything = filled.query_events(include_historical=True)
    pages, after = [], None
    while True:
        page = filled.query_events(include_historical=True, limit=2, after=after)
        pages.append(ids(page))
        if len(page) < 2:
            break
        after = page[-1].cursor
    assert [i for page in pages for i in page] == ids(everything)  # dated, then undated (WAGNER)
    assert len(pages) >= 3


def test_a_page_cursor_the_store_did_not_hand_out_is_a_store_error(filled: Store) -> None:
    with pytest.raises(StoreError, match="page cursor"):
        filled.query_events(after="not-a-cursor")


def test_historical_events_only_on_request(filled: Store) -> None:
    assert FIGHT not in ids(filled.query_events())
    assert ids(filled.query_events(types=["FIGHT"], include_historical=True)) == [FIGHT]


def test_type_filter(filled: Store) -> None:
    assert ids(filled.query_events(types=["MOBILIZE"])) == [MOBILIZE, WAGNER]
    assert ids(filled.query_events(types=["ACCUSE", "PROTEST"])) == [PROTEST, ACCUSE]
    assert filled.query_events(types=[]) == []


@pytest.mark.parametrize(
    ("country", "expected"),
    [
        ("POL", [PROTEST]),                             # an actor
        ("UKR", [ACCUSE]),                              # a claimant is not a party
        ("BLR", [PROTEST, ACCUSE, MOBILIZE, WAGNER]),   # recipient, actor, place only
        ("blr", [PROTEST, ACCUSE, MOBILIZE, WAGNER]),
        ("wagner-group", [WAGNER]),                     # a non-state slug
        ("UK", []),                                     # codes match whole, not by prefix
    ],
)
def test_country_filter(filled: Store, country: str, expected: list[str]) -> None:
    assert ids(filled.query_events(country=country)) == expected


def test_date_range_filters_on_start_day_and_drops_undated(filled: Store) -> None:
    assert ids(filled.query_events(since="2024-09-01")) == [PROTEST]
    # A datetime start still falls on its day when the range ends that day.
    assert ids(filled.query_events(until=date(2024, 9, 2))) == [PROTEST, ACCUSE, MOBILIZE]
    assert ids(filled.query_events(since=date(2024, 8, 25), until="2024-08-25")) == [
        ACCUSE, MOBILIZE]
    assert filled.query_events(until="2024-08-24") == []
    assert ids(filled.query_events(until="2022-12-31", include_historical=True)) == [FIGHT]


STARTS = [
    "2023-12-31T23:00:00-05:00", "2024-01-01",  # a year's first day: how "in 2024" is stored
    "2024-07-31", "2024-08-01", "2024-08-01T00:00:00Z", "2024-08-01T23:59:59.5+02:00",
    "2024-08-01 06:00", "2024-08-31T23:59:59", "2024-09-01", "2024-12-31", None,
]
"""Starts as the store holds them: ISO days (a month or year by its first day), some with a time."""


def add_starts(store: Store) -> None:
    """One more event per start in `STARTS`, copied from document A's ACCUSE."""
    with store.engine.begin() as conn:
        (template,) = [dict(row._mapping) for row in conn.execute(
            select(EventRow.__table__).where(EventRow.id == ACCUSE))]
        conn.execute(insert(EventRow.__table__), [
            {**template, "id": f"start-{i}", "seq": 100 + i, "date_start": start}
            for i, start in enumerate(STARTS)
        ])


@pytest.mark.parametrize(("since", "until"), [
    ("2024-08-01", "2024-08-01"),
    ("2024-08-01", "2024-08-31"),
    (None, "2024-07-31"),
    ("2024-09-01", None),
    ("2024-01-01", "2024-01-01"),
    (None, "2023-12-31"),
    ("2023-12-31", "2024-12-31"),
    ("2024-08-02", "2024-08-30"),
    (date(2024, 8, 31), datetime(2024, 8, 31, 12, 0)),
    ("2024-08-31T08:00:00", "2024-09-01T08:00:00"),
    (date.min, date.max),
])
def test_date_bounds_select_the_events_whose_start_day_lies_within_them(
    filled: Store, since: date | str | None, until: date | str | None,
) -> None:
    """The bounds compare whole stored strings, so an index serves them; a start's first ten
    characters decide, as when the query compared `substr(date_start, 1, 10)`."""
    add_starts(filled)
    low = str(since)[:10] if since is not None else "0000"
    high = str(until)[:10] if until is not None else "9999-99"
    every = filled.query_events()
    assert len(every) == len(STARTS) + 4
    expected = [stored.id for stored in every  # in the listing order
                if stored.event.date.start and low <= stored.event.date.start[:10] <= high]
    assert ids(filled.query_events(since=since, until=until)) == expected


def test_text_search_is_case_insensitive_on_evidence(filled: Store) -> None:
    assert ids(filled.query_events(text="EQUIPMENT")) == [MOBILIZE]
    assert ids(filled.query_events(text="minsk")) == [PROTEST, ACCUSE, MOBILIZE]
    assert ids(filled.query_events(text="50%")) == [PROTEST]
    assert ids(filled.query_events(text="%")) == [PROTEST]  # a literal, not a wildcard
    assert filled.query_events(text="_") == []


def test_filters_combine(filled: Store) -> None:
    assert ids(filled.query_events(types=["MOBILIZE"], country="BLR", since="2024-01-01",
                                   text="gomel")) == [MOBILIZE]


def analysis_c() -> Analysis:
    """An event on the Ukrainian side of the same border, denied by Belarus (Wagner's slug claims
    nothing)."""
    text = "Belarus denied shelling Chernihiv, near the border with Belarus, on Friday."
    doc = Document(source="c.txt", raw_text=text, clean_text=text, url="https://example.org/c")
    chernihiv = Place(name="Chernihiv", geonameid=710735, lat=51.5, lon=31.3, country="UKR",
                      admin1="UA-74", precision=4, radius_km=10.0)
    shelling = Event(type="ASSAULT", actors=[Actor("BLR", "MIL", "Belarus")], place=chernihiv,
                     date=EventDate("2024-08-30", None, "day"),
                     claim=Claim(claimant=BLR_GOV, stance="denied", outlet_voice=False),
                     evidence=[Span(0, len(text))], trigger="shelling",
                     proximity={"border_km": 60.0, "border_with": "BLR", "sites": []})
    return Analysis(document=doc, events=[shelling])


SHELLING = event_id(analysis_c().document.id, 0)


def test_border_filter_pairs_the_place_country_with_its_neighbour_in_either_order(
    filled: Store,
) -> None:
    filled.save(analysis_c())
    # Gomel (BLR, border with UKR) and Chernihiv (UKR, border with BLR); Brest has no proximity
    # and ACCUSE, between the same two countries, has no place.
    for pair in ("BLR-UKR", "UKR-BLR", "ukr-blr"):
        assert ids(filled.query_events(border=pair)) == [SHELLING, MOBILIZE], pair
    assert ids(filled.query_events(border="BLR-UKR", types=["ASSAULT"])) == [SHELLING]
    assert filled.query_events(border="BLR-POL") == []
    assert filled.query_events(border="RUS-UKR", include_historical=True) == []
    for bad in ("BLR", "BLR-BLR", "BLR-UKR-POL", "BY-UA", "B1R-UKR"):
        with pytest.raises(StoreError, match="border pair"):
            filled.query_events(border=bad)


def test_claimant_and_stance_filter_on_the_claim(filled: Store) -> None:
    filled.save(analysis_c())
    assert ids(filled.query_events(claimant="UKR")) == [MOBILIZE]
    assert ids(filled.query_events(claimant="ukr")) == [MOBILIZE]  # codes in any case
    assert ids(filled.query_events(claimant="BLR")) == [SHELLING]  # BLR as an actor is no claimant
    assert filled.query_events(claimant="wagner-group") == []
    assert ids(filled.query_events(stance="alleged")) == [MOBILIZE]
    assert ids(filled.query_events(stance="denied")) == [SHELLING]
    assert ids(filled.query_events(stance="asserted")) == [PROTEST, ACCUSE, WAGNER]
    assert ids(filled.query_events(stance="asserted", include_historical=True)) == [
        PROTEST, ACCUSE, FIGHT, WAGNER]
    assert ids(filled.query_events(border="UKR-BLR", claimant="UKR", stance="alleged",
                                   since="2024-08-25", types=["MOBILIZE"])) == [MOBILIZE]
    assert filled.query_events(claimant="UKR", stance="denied") == []
    with pytest.raises(StoreError, match="not a stance"):
        filled.query_events(stance="rumoured")  # type: ignore[arg-type]


# --- query plans --------------------------------------------------------------------------

def add_copies(store: Store, n: int, start: int = 0) -> None:
    """`n` more copies of document A's dated events, cycling through every event type."""
    with store.engine.begin() as conn:
        (template,) = [dict(row._mapping) for row in conn.execute(
            select(EventRow.__table__).where(EventRow.id == ACCUSE))]
        conn.execute(insert(EventRow.__table__), [
            {**template, "id": f"copy-{i}", "seq": 100 + i, "type": EVENT_TYPES[i % len(EVENT_TYPES)],
             "date_start": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}"}
            for i in range(start, start + n)
        ])


def plan(store: Store, **filters: Any) -> str:
    """SQLite's plan for the statement `query_events` runs with these filters."""
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    sa_event.listen(store.engine, "before_cursor_execute", record)
    store.query_events(limit=100, **filters)
    sa_event.remove(store.engine, "before_cursor_execute", record)
    statement, parameters = statements[0]
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    return "\n".join(row[-1] for row in rows)


def searches(plan: str, index: str, *columns: str) -> bool:
    """Whether the plan searches `index` with a condition on each of `columns`.

    Only the words SQLite has kept across versions are read ("SEARCH", the index name, the
    constrained columns in brackets after it), not its exact wording.
    """
    pattern = rf"\bSEARCH\b.*\bINDEX {re.escape(index)}\b(?P<terms>.*)"
    return any(all(re.search(rf"\b{column}\b", found["terms"]) for column in columns)
               for found in re.finditer(pattern, plan))


@sqlite_only
def test_a_type_page_walks_the_type_listing_index_without_sorting(filled: Store) -> None:
    add_copies(filled, 200)
    assert "ix_events_type_listing" in plan(filled, types=["MOBILIZE"])
    assert "USE TEMP B-TREE" not in plan(filled, types=["MOBILIZE"])
    assert "USE TEMP B-TREE" not in plan(filled, types=["FIGHT"], include_historical=True)


@sqlite_only
def test_a_date_range_page_reads_only_its_days_from_the_listing_index(filled: Store) -> None:
    add_copies(filled, 200)
    in_march = plan(filled, since="2024-03-01", until="2024-03-31")
    assert searches(in_march, "ix_events_listing", "date_start"), in_march
    assert "USE TEMP B-TREE" not in in_march
    of_a_type = plan(filled, since="2024-03-01", until="2024-03-31", types=["MOBILIZE"])
    assert searches(of_a_type, "ix_events_type_listing", "type", "date_start"), of_a_type
    assert "USE TEMP B-TREE" not in of_a_type


@sqlite_only
def test_a_border_page_since_a_day_looks_up_its_two_countries(filled: Store) -> None:
    """With statistics, SQLite took a lower date bound to keep a quarter of the rows and walked
    the listing index down to it, reading most of the store for a rare border pair."""
    codes = [f"X{a}{b}" for a in "ABCDEFGH" for b in "ABCDE"]
    with filled.engine.begin() as conn:
        (template,) = [dict(row._mapping) for row in conn.execute(
            select(EventRow.__table__).where(EventRow.id == MOBILIZE))]
        conn.execute(insert(EventRow.__table__), [
            {**template, "id": f"spread-{i}", "seq": 100 + i, "place_country": codes[i % 40],
             "proximity": {"border_km": 1.0, "border_with": codes[(i + 1) % 40], "sites": []},
             "date_start": f"{2023 + i % 2}-{1 + i % 12:02d}-{1 + i % 28:02d}"}
            for i in range(2000)
        ])
        conn.exec_driver_sql("ANALYZE")
    border_page = plan(filled, border="XAB-XAC", since="2023-03-01")
    assert searches(border_page, "ix_events_place_country", "place_country"), border_page
    # Where no narrower index exists, the bound still limits the walk.
    type_page = plan(filled, types=["MOBILIZE"], since="2023-03-01")
    assert searches(type_page, "ix_events_type_listing", "type", "date_start"), type_page
    assert "USE TEMP B-TREE" not in type_page


def analysed(path: Path) -> int | None:
    """The event count of the last ANALYZE, read without opening a store (which may analyse)."""
    conn = sqlite3.connect(path)
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
            return None
        (stat,) = conn.execute(
            "SELECT stat FROM sqlite_stat1 WHERE idx = 'ix_events_listing'").fetchone()
        return int(stat.split()[0])
    finally:
        conn.close()


def test_sqlite_statistics_are_gathered_as_the_store_grows(tmp_path: Path) -> None:
    """On 100,000 events they turn a two-type page from a sort of all its matches into a walk of
    the listing index (`bench/api_latency.py`); here, that opening a store gathers them when due."""
    path = tmp_path / "store.sqlite"
    with open_store(db_url(path)) as store:
        store.save(analysis_a())
        add_copies(store, database.ANALYZE_FROM_EVENTS - 100)  # raw rows: no statistics check
    open_store(db_url(path)).close()
    assert analysed(path) is None  # too small to matter
    with open_store(db_url(path)) as store:
        add_copies(store, 200, start=5000)
        size = store.counts().events
    assert analysed(path) is None
    open_store(db_url(path)).close()
    assert analysed(path) == size
    with open_store(db_url(path)) as store:
        add_copies(store, size - 1, start=10_000)
    open_store(db_url(path)).close()
    assert analysed(path) == size  # not yet doubled: analysed once is enough
    with open_store(db_url(path)) as store:
        add_copies(store, 1, start=20_000)
    open_store(db_url(path)).close()
    assert analysed(path) == 2 * size


def many_events(n: int, tag: str) -> Analysis:
    """A document of `n` dated events, so one save grows the store by that many."""
    text = f"Kyiv accused Minsk of massing troops ({tag})."
    doc = Document(source=f"{tag}.txt", raw_text=text, clean_text=text)
    return Analysis(document=doc, events=[
        Event(type="ACCUSE", date=EventDate("2024-08-25", None, "day"), evidence=[Span(0, len(text))])
        for _ in range(n)
    ])


def test_a_long_lived_store_gathers_statistics_as_its_own_saves_double_it(tmp_path: Path) -> None:
    """`watch` and `serve` hold one store open while it grows: the check at open is not enough."""
    path = tmp_path / "store.sqlite"
    with open_store(db_url(path)) as store:
        store.save(analysis_a())
        assert analysed(path) is None
        store.save(many_events(database.ANALYZE_FROM_EVENTS, "first"))
        size = store.counts().events
        assert analysed(path) == size
        store.save(analysis_b())
        store.save(many_events(size - 3, "second"))
        assert store.counts().events == 2 * size - 1
        assert analysed(path) == size  # not yet doubled
        store.save(analysis_c())
        assert analysed(path) == 2 * size


def test_a_store_locked_by_a_writer_opens_at_once_and_is_analysed_later(tmp_path: Path) -> None:
    """`events`, `export` and `serve` open the store while `watch` writes: statistics due then
    must not make them wait out the busy timeout (5 s), nor may the connection keep a zero one."""
    path = tmp_path / "store.sqlite"
    with open_store(db_url(path)) as store:
        store.save(analysis_a())
        add_copies(store, database.ANALYZE_FROM_EVENTS)
        size = store.counts().events
    writer = sqlite3.connect(path)
    writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a save
    try:
        began = time.monotonic()
        with open_store(db_url(path)) as store:
            opened_in = time.monotonic() - began
            assert store.counts().events == size
            with store.engine.connect() as conn:  # the pooled connection the attempt used
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 5000
        assert opened_in < 2.0  # the default timeout would have taken 5 s
        assert analysed(path) is None  # left for later
    finally:
        writer.rollback()
        writer.close()
    open_store(db_url(path)).close()
    assert analysed(path) == size
