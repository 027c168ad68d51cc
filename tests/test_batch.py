"""`borderwatch batch` on a real local Dask cluster: the same events as `extract`, Parquet with
one row per event, a resumable store, and failures listed per input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest

from borderwatch.models import document_id
from borderwatch.store import open_store
from test_store_postgres import pg_server, store_url  # noqa: F401  (the PostgreSQL fixtures)
from test_warc import write_archive

if TYPE_CHECKING:
    from conftest import Cli

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "sample.input.jsonl"


def _key(doc: str, etype: str, actors: str, recipients: str, start: str | None, evidence: str,
         place: str | None) -> tuple:
    return (doc, etype, actors, recipients, start, evidence, place)


def extract_keys(lines: list[dict]) -> list[tuple]:
    keys = []
    for line in lines:
        text = line["clean_text"]
        for e in line["events"]:
            keys.append(_key(
                document_id(text), e["type"], ";".join(a["code"] for a in e["actors"]),
                ";".join(a["code"] for a in e["recipients"]), e["date"]["start"],
                " | ".join(text[s["start"] : s["end"]] for s in e["evidence"]),
                (e["place"] or {}).get("name"),
            ))
    return sorted(keys, key=repr)


@pytest.fixture(scope="module")
def batch_run(make_cli: Callable[[], Cli], tmp_path_factory: pytest.TempPathFactory) -> tuple[Cli, Path]:
    cli = make_cli()
    out = tmp_path_factory.mktemp("batch")
    result = cli("batch", SAMPLES, "--workers", "1", "--partition-size", "5",
                 "--out", out / "events.parquet", "--db", out / "store.sqlite")
    assert result.exit_code == 0, result.output
    return cli, out


def test_batch_finds_the_same_events_as_extract(batch_run: tuple[Cli, Path]) -> None:
    cli, out = batch_run
    extracted = cli("extract", SAMPLES)
    assert extracted.exit_code == 0
    expected = extract_keys(extracted.jsonl())
    rows = pq.read_table(out / "events.parquet").to_pylist()
    fields = ("doc", "type", "actors", "recipients", "date_start", "evidence", "place_name")
    got = sorted((_key(*(r[f] for f in fields)) for r in rows), key=repr)
    assert len(expected) > 20
    assert got == expected


def test_parquet_rows_carry_document_and_proximity(batch_run: tuple[Cli, Path]) -> None:
    _, out = batch_run
    table = pq.read_table(out / "events.parquet")
    rows = table.to_pylist()
    assert len({r["id"] for r in rows}) == len(rows)  # one row per event
    assert any(r["border_km"] is not None and r["place_lat"] is not None for r in rows)
    assert all(r["published"] for r in rows) and any(r["urls"].startswith("https://") for r in rows)


def test_a_second_run_adds_nothing(batch_run: tuple[Cli, Path]) -> None:
    cli, out = batch_run
    db = out / "store.sqlite"
    with open_store(f"sqlite:///{db}") as store:
        before = store.counts()
    events = pq.read_table(out / "events.parquet").num_rows
    assert (before.documents, before.events) == (27, events)
    again = cli("batch", SAMPLES, "--workers", "2", "--db", db)
    assert again.exit_code == 0, again.output
    assert "0 new document(s), 0 new event(s)" in again.stdout
    with open_store(f"sqlite:///{db}") as store:
        assert store.counts() == before


def test_folders_of_archives_and_bad_lines(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "inputs"
    (folder / "crawl").mkdir(parents=True)
    write_archive(folder / "crawl" / "day1.warc.gz")
    good = {"id": "g1", "text": "Armenia accused Azerbaijan of shelling border villages on Monday.",
            "published": "2024-05-06"}
    (folder / "feed.jsonl").write_text(json.dumps(good) + "\n{not json\n", encoding="utf-8")
    db = tmp_path / "store.sqlite"
    result = cli("batch", folder, "--workers", "1", "--db", db, "--prefilter")
    assert result.exit_code == 1
    assert "1 input(s) failed" in result.stderr and "feed.jsonl:2" in result.stderr
    assert "3 document(s) analysed" in result.stdout
    with open_store(f"sqlite:///{db}") as store:
        urls = {u for d in store.documents() for u in d.urls}
        assert {"https://news.example/a", "https://news.example/b"} <= urls
        assert any(e.event.type == "MOBILIZE" for e in store.query_events())


def test_workers_write_a_postgresql_store_once(cli: Cli, store_url: str, tmp_path: Path) -> None:  # noqa: F811
    lines = SAMPLES.read_text(encoding="utf-8").splitlines()[:6]
    subset = tmp_path / "subset.jsonl"
    subset.write_text("\n".join(lines) + "\n", encoding="utf-8")
    first = cli("batch", subset, "--workers", "1", "--db", store_url)
    assert first.exit_code == 0, first.output
    assert "6 new document(s)" in first.stdout
    with open_store(store_url) as store:
        before = store.counts()
        assert before.documents == 6 and before.events > 0
        assert store.clusters()  # the client assigned clusters to what the workers stored
    again = cli("batch", subset, "--workers", "1", "--db", store_url)
    assert "0 new document(s), 0 new event(s)" in again.stdout
    with open_store(store_url) as store:
        assert store.counts() == before


def test_export_parquet_has_the_same_rows_as_batch(batch_run: tuple[Cli, Path]) -> None:
    cli, out = batch_run
    exported = out / "export.parquet"
    result = cli("export", "--format", "parquet", "--out", exported, "--db", out / "store.sqlite",
                 "--historical")
    assert result.exit_code == 0, result.output
    from_batch = pq.read_table(out / "events.parquet")
    from_store = pq.read_table(exported)
    assert from_store.schema.equals(from_batch.schema)
    assert sorted(from_store.column("id").to_pylist()) == sorted(from_batch.column("id").to_pylist())
    assert cli("export", "--format", "parquet", "--db", out / "store.sqlite").exit_code == 2
