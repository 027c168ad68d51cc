"""Crash safety: `borderwatch run`, `watch --once` and `batch` killed with SIGKILL at a random
point, then run again, leave the store as one uninterrupted run would: nothing lost, nothing
duplicated (documents, their URLs, events, place mentions, cluster memberships, the watcher's
seen items), integrity check passing.

Each document is saved in one transaction and clustered after, so a kill can only cut between
documents or roll one back; the rerun stores what is missing, collapses what is there, and
clusters what a kill left unclustered. The processes are real (`batch` with its Dask worker, all
killed at once as a machine or an OOM killer would), the store is a real SQLite file, and the
watched feed is served by a local HTTP server in the test.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

BORDERWATCH = Path(sys.executable).parent / "borderwatch"
TRIALS = int(os.environ.get("BORDERWATCH_CRASH_TRIALS", "2"))
"""Kill points per test run (seeded); each costs two start-ups of the pipeline."""

PLACES = ["Brest", "Gomel", "Mazyr", "Sumy", "Kharkiv", "Belgorod", "Kursk", "Chernihiv", "Lviv",
          "Grodno", "Pinsk", "Vitebsk"]


def articles(folder: Path) -> Path:
    """A dozen short articles of our own, each with events, places and a date."""
    folder.mkdir()
    for day, place in enumerate(PLACES, start=1):
        (folder / f"{day:02d}-{place.lower()}.json").write_text(
            f'{{"id": "{place}", "published": "2024-08-{day:02d}", "text": "Troops and armour were seen '
            f'moving near {place} on Monday, residents said. Kyiv accused Minsk of massing forces near '
            f'{place}, the ministry said on {day} August."}}',
            encoding="utf-8",
        )
    return folder


def run(folder: Path, db: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(BORDERWATCH), "run", str(folder), "--db", str(db)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def snapshot(db: Path) -> dict[str, list[tuple[str, int]]]:
    """Each table's rows counted per document (URLs, events, place mentions, cluster memberships),
    the documents, and the watcher's seen items when it kept any."""
    with sqlite3.connect(db) as connection:
        found = {"documents": connection.execute("SELECT id, 1 FROM documents ORDER BY id").fetchall()}
        for table in ("document_urls", "events", "place_mentions", "cluster_members"):
            found[table] = connection.execute(
                f"SELECT doc_id, count(*) FROM {table} GROUP BY doc_id ORDER BY doc_id").fetchall()
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
        if "watch_seen" in tables:
            found["watch_seen"] = connection.execute(
                "SELECT source || ' ' || item, count(*) FROM watch_seen GROUP BY source, item "
                "ORDER BY source, item").fetchall()
    return found


def unclustered(db: Path) -> int:
    """Current events (not historical, negated or hypothetical) in no cluster: a kill between
    saving a document and clustering it must not leave them so for good."""
    with sqlite3.connect(db) as connection:
        return connection.execute(
            "SELECT count(*) FROM events WHERE NOT (historical OR negated OR hypothetical) "
            "AND id NOT IN (SELECT event_id FROM cluster_members)").fetchone()[0]


def wait_for_documents(db: Path, count: int, process: subprocess.Popen[bytes], deadline: float) -> int:
    """Poll the store (readers never block SQLite's writer) until it holds `count` documents."""
    end = time.monotonic() + deadline
    stored = 0
    while time.monotonic() < end and process.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.1) as connection:
                    stored = connection.execute("SELECT count(*) FROM documents").fetchone()[0]
            except sqlite3.OperationalError:  # not created yet, or locked for a moment
                stored = 0
            if stored >= count:
                break
        time.sleep(0.05)
    return stored


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


@pytest.mark.skipif(not BORDERWATCH.exists(), reason=f"console script not installed at {BORDERWATCH}")
def test_kill_9_during_run_loses_and_duplicates_nothing(tmp_path: Path, isolated_env: dict[str, str]) -> None:
    folder = articles(tmp_path / "articles")
    kill_and_rerun(lambda db: run(folder, db, isolated_env), tmp_path / "reference.sqlite", tmp_path,
                   documents=len(PLACES))


def kill_and_rerun(start: Callable[[Path], subprocess.Popen[bytes]], reference: Path, tmp_path: Path,
                   documents: int, *, group: bool = False) -> None:
    """One uninterrupted run into `reference`, then `TRIALS` runs killed once some (seeded random)
    number of documents is stored and a random moment more has passed, each run again to the end:
    the store must then equal the reference and pass its integrity check."""
    begin = time.monotonic()
    assert start(reference).wait(timeout=600) == 0
    duration = time.monotonic() - begin
    expected = snapshot(reference)
    assert len(expected["documents"]) == documents and expected["events"] and expected["cluster_members"]
    assert unclustered(reference) == 0

    rng = random.Random(12)
    for trial in range(TRIALS):
        db = tmp_path / f"killed-{trial}.sqlite"
        process = start(db)
        stored = wait_for_documents(db, rng.randint(1, documents - 2), process, deadline=duration * 3)
        time.sleep(rng.uniform(0.0, 0.5))  # anywhere inside the next document's save or clustering
        if group:
            os.killpg(process.pid, signal.SIGKILL)  # the command and every worker it started
        else:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        assert 0 < stored < documents, "killed in the middle of the run"
        assert start(db).wait(timeout=600) == 0
        assert integrity(db) == "ok"
        assert snapshot(db) == expected, f"trial {trial}: the rerun differs from one clean run"
        assert unclustered(db) == 0


# --- watch --once: a feed served here and a folder ------------------------------------------------


def rss() -> bytes:
    """An RSS 2.0 feed of our own articles, one item per place, dated a day apart."""
    story = ("<p>Armoured columns were seen near {0} on Tuesday, residents said. Kyiv accused Minsk "
             "of moving artillery toward {0}.</p>")
    entries = "".join(
        f"<item><guid isPermaLink=\"false\">feed-{place}</guid><title>Troops near {place}</title>"
        f"<link>https://news.example/{place.lower()}</link>"
        f"<pubDate>{format_datetime(datetime(2024, 9, day, 8, tzinfo=UTC))}</pubDate>"
        f"<description>{escape(story.format(place))}</description></item>"
        for day, place in enumerate(PLACES, start=1)
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Border Watch'
            f"</title><link>https://news.example/</link><description>test</description>{entries}"
            f"</channel></rss>").encode()


@pytest.fixture
def feed_url(tmp_path: Path) -> Iterator[str]:
    """A local HTTP server answering /feed.xml with `rss`; stopped after the test."""
    body = rss()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path == "/feed.xml"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body) if found else 0))
            self.end_headers()
            if found:
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/feed.xml"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.skipif(not BORDERWATCH.exists(), reason=f"console script not installed at {BORDERWATCH}")
def test_kill_9_during_watch_once_loses_and_duplicates_nothing(
    tmp_path: Path, isolated_env: dict[str, str], feed_url: str
) -> None:
    articles(tmp_path / "inbox")
    config = tmp_path / "watch.toml"
    config.write_text(f'[watch]\nallow_private = true\n\n[[watch.sources]]\nkind = "feed"\n'
                      f'location = "{feed_url}"\n\n[[watch.sources]]\nkind = "folder"\nlocation = "inbox"\n',
                      encoding="utf-8")

    def watch(db: Path) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [str(BORDERWATCH), "watch", "--config", str(config), "--db", str(db), "--once"],
            env=isolated_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    kill_and_rerun(watch, tmp_path / "reference.sqlite", tmp_path, documents=2 * len(PLACES))


# --- batch: the client and its Dask worker ------------------------------------------------------


@pytest.mark.skipif(not BORDERWATCH.exists(), reason=f"console script not installed at {BORDERWATCH}")
def test_kill_9_during_batch_loses_and_duplicates_nothing(
    tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    folder = articles(tmp_path / "articles")
    started: list[subprocess.Popen[bytes]] = []

    def batch(db: Path) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [str(BORDERWATCH), "batch", str(folder), "--db", str(db), "--workers", "1",
             "--partition-size", "1"],
            env=isolated_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        started.append(process)
        return process

    try:
        kill_and_rerun(batch, tmp_path / "reference.sqlite", tmp_path, documents=len(PLACES), group=True)
    finally:
        for process in started:  # a worker of a failed trial must not outlive the test
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
