"""Crash safety: `borderwatch run` killed with SIGKILL at a random point, then run again, leaves the
store as one uninterrupted run would: nothing lost, nothing duplicated, integrity check passing.

Each document is saved in one transaction and clustered after, so a kill can only cut between
documents or roll one back; the rerun stores what is missing and collapses what is there.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

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
    """Each table's rows counted per document (URLs, events, place mentions) and the documents."""
    with sqlite3.connect(db) as connection:
        found = {"documents": connection.execute("SELECT id, 1 FROM documents ORDER BY id").fetchall()}
        for table in ("document_urls", "events", "place_mentions"):
            found[table] = connection.execute(
                f"SELECT doc_id, count(*) FROM {table} GROUP BY doc_id ORDER BY doc_id").fetchall()
    return found


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
    reference = tmp_path / "reference.sqlite"
    start = time.monotonic()
    assert run(folder, reference, isolated_env).wait(timeout=600) == 0
    duration = time.monotonic() - start
    expected = snapshot(reference)
    assert len(expected["documents"]) == len(PLACES) and expected["events"]

    rng = random.Random(12)
    for trial in range(TRIALS):
        db = tmp_path / f"killed-{trial}.sqlite"
        process = run(folder, db, isolated_env)
        stored = wait_for_documents(db, rng.randint(1, len(PLACES) - 2), process, deadline=duration * 3)
        time.sleep(rng.uniform(0.0, 0.5))  # anywhere inside the next document's save or clustering
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        assert 0 < stored < len(PLACES), "killed in the middle of the run"
        assert run(folder, db, isolated_env).wait(timeout=600) == 0
        assert integrity(db) == "ok"
        assert snapshot(db) == expected, f"trial {trial}: the rerun differs from one clean run"
