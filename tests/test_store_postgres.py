"""The store on a live PostgreSQL server: the SQLite store tests again, and what only a server shows.

The server is real. By default the session starts a throwaway cluster of its own (initdb and pg_ctl
into a temporary folder, listening on 127.0.0.1 at a free port, as the `postgres` user when run as
root, since PostgreSQL refuses to run as root) and removes it afterwards. Set
``BORDERWATCH_TEST_PG_URL`` to a server's URL instead (a user allowed to create databases, PostgreSQL
13 or later). Each test gets a database of its own. Without either, every test here skips, saying why.

Every test of test_store.py and test_cluster.py that takes one of the store fixtures
(`STORE_FIXTURES`, all opened through `store_url`, which this module points at PostgreSQL) is
collected here a second time, unless marked `sqlite_only`: both backends answer to the very same
assertions, and a new test joins without being listed.
"""

from __future__ import annotations

import inspect as pyinspect
import json
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import URL, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

import test_cluster
import test_store
from borderwatch.errors import StoreError
from borderwatch.models import Analysis, Document, Event
from borderwatch.store import Store, open_store, safe_url
from conftest import needs_gazetteer
from test_cluster import feed, meaning  # noqa: F401  (fixtures of the cluster tests collected below)
from test_store import add_copies, analysis_a, analysis_b

if TYPE_CHECKING:
    from conftest import Cli

PG_URL_ENV = "BORDERWATCH_TEST_PG_URL"
ROOT = Path(__file__).resolve().parents[1]


# --- the server ------------------------------------------------------------------------------


@dataclass
class Server:
    """A PostgreSQL server the tests may create and drop databases on."""

    url: URL
    """Its maintenance database, through psycopg."""
    admin: Engine
    """Autocommit connections to it (CREATE DATABASE cannot run in a transaction)."""
    version: str


def _bindir() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres: on PATH, or Debian's versioned folders."""
    folders = []
    on_path = shutil.which("pg_ctl")
    if on_path:
        folders.append(Path(on_path).resolve().parent)
    debian = Path("/usr/lib/postgresql").glob("*/bin")
    folders += sorted(debian, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
                      reverse=True)
    for folder in folders:
        if all((folder / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Cluster:
    """A throwaway PostgreSQL cluster in a temporary folder, run by a user PostgreSQL accepts."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.user: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root; the package's own `postgres` account will do.
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root and there is no `postgres` user to run PostgreSQL as")
        self.home = Path(tempfile.mkdtemp(prefix="borderwatch-pg-"))
        if self.user is not None:
            os.chown(self.home, self.user.pw_uid, self.user.pw_gid)
        self.data = self.home / "data"
        self.log = self.home / "server.log"
        self.port = 0

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        as_user: dict[str, Any] = {}
        if self.user is not None:
            as_user = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        return subprocess.run(args, cwd=self.home, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "LC_ALL": "C", "LANG": "C"}, **as_user)

    def version(self) -> str:
        return self._run(str(self.bindir / "pg_ctl"), "--version").stdout.strip()

    def start(self) -> None:
        initdb = [str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--no-sync", "--no-locale"]
        major = int(re.findall(r"\d+", self.version())[0])
        if major >= 15:
            # A team's server sorts text linguistically, not bytewise as SQLite does: test under
            # such a collation, so an order that holds only bytewise shows up here.
            initdb += ["--locale-provider=icu", "--icu-locale=en-US"]
        made = self._run(*initdb)
        if made.returncode != 0:
            pytest.fail(f"initdb failed:\n{made.stdout}\n{made.stderr}")
        for _attempt in range(3):  # another process may take the free port first
            self.port = _free_port()
            options = (f"-p {self.port} -c listen_addresses=127.0.0.1 "
                       f"-c unix_socket_directories={shlex.quote(str(self.home))} "
                       "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            started = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l",
                                str(self.log), "-w", "-t", "60", "-o", options, "start")
            if started.returncode == 0:
                return
        log = self.log.read_text(errors="replace") if self.log.exists() else ""
        pytest.fail(f"PostgreSQL did not start:\n{started.stdout}\n{started.stderr}\n{log[-3000:]}")

    def stop(self) -> None:
        if self.port:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w",
                      "stop")
        shutil.rmtree(self.home, ignore_errors=True)


def _server(url: URL) -> Server:
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        version = conn.execute(text("SHOW server_version")).scalar_one()
    return Server(url, admin, f"PostgreSQL {version}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    """The given server (BORDERWATCH_TEST_PG_URL), or a throwaway cluster started for the session."""
    given = os.environ.get(PG_URL_ENV)
    if given:
        server = _server(make_url(given))
        yield server
        server.admin.dispose()
        return
    bindir = _bindir()
    if bindir is None:
        pytest.skip(f"PostgreSQL not installed (no initdb/pg_ctl on PATH or in "
                    f"/usr/lib/postgresql/*/bin) and {PG_URL_ENV} not set")
    cluster = Cluster(bindir)
    try:
        cluster.start()
        server = _server(URL.create("postgresql+psycopg", username="postgres", host="127.0.0.1",
                                    port=cluster.port, database="postgres"))
        yield server
        server.admin.dispose()
    finally:
        cluster.stop()


@pytest.fixture
def store_url(pg_server: Server) -> Iterator[str]:
    """A fresh, empty database on the server for one test; dropped afterwards."""
    name = f"bw_test_{uuid.uuid4().hex[:16]}"
    with pg_server.admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield pg_server.url.set(database=name).render_as_string(hide_password=False)
    with pg_server.admin.connect() as conn:
        # FORCE: a test's engine left open (or a killed child's session) must not keep it alive.
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """The store on the test's own PostgreSQL database, migrated to head."""
    with open_store(store_url) as opened:
        yield opened


@pytest.fixture
def filled(store: Store) -> Store:
    """The two articles of test_store.py, saved."""
    store.save(analysis_a())
    store.save(analysis_b())
    return store


# --- what only PostgreSQL shows ----------------------------------------------------------------


def test_the_server_is_postgresql(store: Store, store_url: str, pg_server: Server) -> None:
    assert store.engine.dialect.name == "postgresql"
    assert store.engine.dialect.driver == "psycopg"
    assert pg_server.version.startswith("PostgreSQL ")
    # SQLAlchemy 2.1 picks psycopg for a plain postgresql:// URL too.
    plain = make_url(store_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with open_store(plain) as again:
        assert again.engine.dialect.driver == "psycopg"


def test_migrations_create_native_types_on_postgresql(store: Store) -> None:
    with store.engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        types = dict(conn.execute(text(
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = current_schema()"
        )).all())
    assert version == "0006"
    assert types["events.actors"] == "json"
    assert types["events.historical"] == "boolean"
    assert types["documents.created_at"] == "timestamp with time zone"
    assert types["minhashes.signature"] == "bytea"
    assert types["events.confidence"] == "double precision"
    assert {"documents", "events", "clusters", "alerts", "cluster_members", "claims"} <= set(
        inspect(store.engine).get_table_names())


@pytest.mark.parametrize(
    ("index", "columns", "where"),
    [
        ("ix_events_listing", "date_start DESC NULLS LAST", "historical IS false"),
        (
            "ix_events_type_listing",
            "(type, date_start DESC NULLS LAST, doc_id, seq, historical)",
            "type = 'MOBILIZE' AND historical IS false",
        ),
    ],
    ids=["all-events", "one-type"],
)
def test_event_pages_walk_their_listing_index_without_sorting(
    filled: Store, index: str, columns: str, where: str
) -> None:
    """Undated events come last (NULLS LAST); an index must be built in that order to be used."""
    with filled.engine.connect() as conn:
        definition = conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"), {"name": index}
        ).scalar_one()
        assert columns in definition
        # The table is tiny, so steer the planner off what it would rightly prefer here (scan all,
        # then sort): a Sort left in the plan means the index cannot give the query's order.
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            conn.execute(text(f"SET {setting} = off"))
        plan = "\n".join(conn.execute(text(
            f"EXPLAIN SELECT id FROM events WHERE {where}"
            " ORDER BY date_start DESC NULLS LAST, doc_id, seq LIMIT 50"
        )).scalars())
    assert index in plan
    assert "Sort" not in plan


def test_a_date_range_page_reads_only_its_days_from_the_listing_index(filled: Store) -> None:
    """The bounds of `query_events` are index conditions, not a filter on every row walked."""
    add_copies(filled, 200)
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(filled.engine, "before_cursor_execute", record)
    filled.query_events(since="2024-03-01", until="2024-03-31", limit=100)
    event.remove(filled.engine, "before_cursor_execute", record)
    statement, parameters = statements[0]
    with filled.engine.connect() as conn:
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            conn.execute(text(f"SET {setting} = off"))
        plan = "\n".join(conn.exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars())
    assert "Index Scan using ix_events_listing" in plan
    assert re.search(r"Index Cond: .*date_start.* >= .*date_start.* < ", plan), plan
    assert "Sort" not in plan


def test_document_times_come_back_aware(filled: Store) -> None:
    created = [doc.created_at for doc in filled.documents()]
    assert len(created) == 2
    assert all(moment.utcoffset() is not None for moment in created)
    assert created == sorted(created)


def test_a_nul_character_is_refused_with_the_reason_and_the_store_goes_on(store: Store) -> None:
    """PostgreSQL text cannot hold NUL (SQLite can): that document fails, by name, and nothing else."""
    doc = Document(source="feed.jsonl:7", raw_text="Kyiv accused Minsk\x00 of massing troops.",
                   clean_text="Kyiv accused Minsk\x00 of massing troops.")
    with pytest.raises(StoreError, match=r"cannot save feed\.jsonl:7.*NUL") as caught:
        store.save(Analysis(document=doc, events=[Event(type="ACCUSE")]))
    assert caught.value.stage == "store"
    assert store.counts().documents == 0
    assert store.save(analysis_b()).new_document


def test_two_stores_saving_the_same_documents_at_once_store_them_once(store_url: str) -> None:
    """Two processes ingest the same articles concurrently: each is stored once, every URL kept."""
    child = (
        "import sys\n"
        "from borderwatch.store import open_store\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "from test_store import analysis_a, analysis_b\n"
        "with open_store(sys.argv[1]) as store:\n"
        "    for _ in range(20):\n"
        "        store.save(analysis_a(url='https://example.org/a?' + sys.argv[3]))\n"
        "        store.save(analysis_b())\n"
    )
    open_store(store_url).close()  # migrate once, before the race
    tests = str(Path(__file__).parent)
    racers = [subprocess.Popen([sys.executable, "-c", child, store_url, tests, tag],
                               stderr=subprocess.PIPE, text=True) for tag in ("x", "y")]
    for racer in racers:
        _, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err
    with open_store(store_url) as opened:
        counts = opened.counts()
        assert (counts.documents, counts.events) == (2, 5)
        urls = {doc.id: sorted(doc.urls) for doc in opened.documents()}
    assert urls[analysis_a().document.id] == ["https://example.org/a?x", "https://example.org/a?y"]
    assert urls[analysis_b().document.id] == ["https://example.org/b"]


# --- the command line, end to end, against both backends ---------------------------------------


def _without_clock(value: Any, since: datetime) -> Any:
    """`value` with every timestamp at or after `since` (a fetch time: the run's own clock) masked."""
    if isinstance(value, dict):
        return {key: _without_clock(item, since) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_clock(item, since) for item in value]
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)", value):
        moment = datetime.fromisoformat(value)
        return "<clock>" if moment.tzinfo is not None and moment >= since else value
    return value


def _outputs(cli: Cli, db: str, inbox: Path, config: Path) -> dict[str, Any]:
    """What a user sees from every store command after ingesting the samples and watching a folder."""
    files = ROOT / "samples" / "files"
    ran = cli("run", ROOT / "samples" / "sample.input.jsonl", files, "--db", db)
    assert ran.exit_code == 0, ran.stderr
    again = cli("run", files, "--db", db)
    assert again.exit_code == 0 and re.search(r"\b0 new, 0 new event\(s\)", again.stdout), again.stdout
    watched = cli("watch", "--config", config, "--db", db, "--once")
    assert watched.exit_code == 0, watched.stderr

    def json_of(*args: str) -> Any:
        result = cli(*args, "--db", db)
        assert result.exit_code == 0, result.stderr
        return result.json() if "--json" in args else result.stdout

    return {
        "events": json_of("events", "--json", "--historical", "--limit", "100000"),
        "filtered": json_of("events", "--json", "--type", "MOBILIZE", "--country", "blr",
                            "--since", "2024-01-01", "--text", "troops"),
        "jsonl": [json.loads(line) for line in json_of("export", "--format", "jsonl").splitlines()],
        "csv": json_of("export", "--format", "csv", "--type", "FIGHT"),
        "geojson": json.loads(json_of("export", "--format", "geojson")),
        "clusters": json_of("clusters", "--json"),
        "alerts": json_of("alerts", "--json"),
    }


@needs_gazetteer
def test_every_store_command_answers_the_same_on_postgresql_as_on_sqlite(
    make_cli: Callable[[], Cli], store_url: str, tmp_path: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "sighting.txt").write_text(
        "Belarusian troops deployed near Mazyr, Belarus, on Tuesday, close to the border with "
        "Ukraine.\n", encoding="utf-8")
    config = tmp_path / "watch.toml"
    config.write_text('[watch]\n\n[[watch.sources]]\nkind = "folder"\nlocation = "inbox"\n',
                      encoding="utf-8")

    since = datetime.now(UTC).replace(microsecond=0)
    on_postgresql = _without_clock(_outputs(make_cli(), store_url, inbox, config), since)
    on_sqlite = _without_clock(_outputs(make_cli(), str(tmp_path / "store.sqlite"), inbox, config),
                               since)

    assert len(on_postgresql["events"]) >= 20
    assert on_postgresql["filtered"] and all(e["type"] == "MOBILIZE" for e in on_postgresql["filtered"])
    assert on_postgresql["clusters"] and on_postgresql["alerts"]
    assert any("Mazyr" in e["text"] for a in on_postgresql["alerts"] for e in a["evidence"])
    for name, expected in on_sqlite.items():
        assert on_postgresql[name] == expected, name


@needs_gazetteer
def test_run_never_prints_the_database_password(cli: Cli, store_url: str) -> None:
    url = make_url(store_url)
    if url.password is None:
        # The throwaway server trusts local connections: a password is carried, never checked.
        url = url.set(password="s3cret-pw")
    password = str(url.password)
    with_password = url.render_as_string(hide_password=False)
    ran = cli("run", "-", "--db", with_password, "--published", "2024-08-25",
              input="Kyiv accused Minsk on Sunday of massing troops near the border.\n")
    assert ran.exit_code == 0, ran.stderr
    assert f"stored in {safe_url(with_password)}" in ran.stdout.replace("\n", "")
    assert ":***@" in safe_url(with_password) and password not in ran.output
    listed = cli("events", "--db", with_password, "--json", "--type", "ACCUSE").json()
    assert [(event["actors"][0]["code"], event["recipients"][0]["code"]) for event in listed] == [
        ("UKR", "BLR")]


# --- the backend-neutral tests of test_store.py and test_cluster.py, on PostgreSQL ---------------

STORE_FIXTURES = frozenset({"store_url", "store", "filled", "feed"})
"""The fixtures that open the database `store_url` names (this module's own, on PostgreSQL)."""


def backend_neutral(module: ModuleType) -> dict[str, Callable[..., None]]:
    """The module's tests that take a store fixture and are not marked `sqlite_only`."""
    found = {}
    for name, test in vars(module).items():
        if not name.startswith("test_") or getattr(test, "__module__", None) != module.__name__:
            continue
        marks = {mark.name for mark in getattr(test, "pytestmark", [])}
        if "sqlite_only" not in marks and STORE_FIXTURES & set(pyinspect.signature(test).parameters):
            found[name] = test
    return found


for _name, _test in {**backend_neutral(test_store), **backend_neutral(test_cluster)}.items():
    if _name in globals():
        raise RuntimeError(f"{_name} is both a PostgreSQL test and one of {_test.__module__}: rename "
                           "one, or mark that one sqlite_only")
    globals()[_name] = _test
