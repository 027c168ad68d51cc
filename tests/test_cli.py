"""The `borderwatch` command line, driven for real: spaCy pipeline, SQLite files, console script.

Each test states one promise of the README or of the DESIGN §3 contract; inputs are sentences
written here, so nothing depends on the evaluation data.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from spacy.language import Language

from borderwatch.export import COLUMNS
from borderwatch.extract.lexicon import load_lexicon
from borderwatch.models import EVENT_TYPES
from borderwatch.store import Counts, open_store

if TYPE_CHECKING:
    from conftest import Cli, CliResult

ROOT = Path(__file__).resolve().parents[1]
BORDERWATCH = Path(sys.executable).parent / "borderwatch"
"""The console script, installed beside the interpreter running the tests."""


def write_jsonl(path: Path, records: Sequence[dict[str, Any] | str]) -> Path:
    """One JSON object per line; a `str` item is written verbatim (for malformed lines)."""
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- the extract contract (DESIGN §3) --------------------------------------------------------

LINE_KEYS = {"id", "clean_text", "removed", "places", "events", "error"}
EVENT_KEYS = {
    "type",
    "mode",
    "context",
    "actors",
    "recipients",
    "place",
    "date",
    "historical",
    "future",
    "hypothetical",
    "negated",
    "claim",
    "evidence",
    "proximity",
    "confidence",
}
ACTOR_KEYS = {"code", "sector", "text"}
PLACE_KEYS = {"name", "geonameid", "lat", "lon", "country", "admin1", "precision", "radius_km"}
DATE_KEYS = {"start", "end", "granularity"}
GRANULARITIES = {"day", "week", "month", "year", "ongoing", "unknown"}
STANCES = {"asserted", "alleged", "denied"}

NEWS: list[dict[str, Any]] = [
    {
        "id": "kyiv-minsk",
        "published": "2024-08-25",
        "url": "https://example.test/kyiv-minsk",
        "title": "Kyiv accuses Minsk",
        "text": "Kyiv accused Minsk on Sunday of massing troops near the border.",
    },
    {
        "id": "kharkiv",
        "published": "2024-09-03",
        "url": "https://example.test/kharkiv",
        "title": "Shelling near Kharkiv",
        "text": "Russian artillery shelled villages near Kharkiv late on Monday, the regional governor "
        "said. In 2014 Russian forces seized Crimea.",
    },
    {
        "id": "caucasus",
        "published": "2024-07-13T08:00:00+04:00",
        "text": "Armenia and Azerbaijan held talks in Vienna on Friday.\n\nSign up for our newsletter",
    },
    {"id": "weather", "published": "2024-08-25", "text": "The weather in Oslo was mild and sunny all week."},
]
"""Four short reports of our own: an accusation with an alleged build-up, shelling with a
historical background sentence, talks followed by a newsletter box, and a quiet article."""


def trigger_words(event_type: str) -> set[str]:
    """Every lemma the packaged lexicon lists as a trigger of `event_type`."""
    words: set[str] = set()
    for rule in load_lexicon().triggers:
        if rule.type == event_type:
            for entry in (*rule.verbs, *rule.nouns, *(" ".join(p) for p in rule.phrases)):
                words.update(entry.split())
    return words


def check_actor(actor: Any) -> None:
    assert set(actor) == ACTOR_KEYS
    assert isinstance(actor["code"], str) and actor["code"]
    assert actor["sector"] is None or isinstance(actor["sector"], str)
    assert isinstance(actor["text"], str)


def check_place(place: Any) -> None:
    assert set(place) == PLACE_KEYS
    for key in ("lat", "lon", "radius_km"):
        assert place[key] is None or isinstance(place[key], int | float)


def check_event(event: Any, clean_text: str) -> None:
    """One event has exactly the contract's fields, each of the contract's type."""
    assert set(event) == EVENT_KEYS
    assert event["type"] in EVENT_TYPES
    assert event["mode"] is None or isinstance(event["mode"], str)
    assert event["context"] is None or isinstance(event["context"], str)
    for actor in event["actors"] + event["recipients"]:
        check_actor(actor)
    if event["place"] is not None:
        check_place(event["place"])
    assert set(event["date"]) == DATE_KEYS
    assert event["date"]["granularity"] in GRANULARITIES
    for key in ("start", "end"):
        assert event["date"][key] is None or isinstance(event["date"][key], str)
    for flag in ("historical", "future", "hypothetical", "negated"):
        assert isinstance(event[flag], bool)
    assert set(event["claim"]) == {"claimant", "stance"}
    assert event["claim"]["stance"] in STANCES
    if event["claim"]["claimant"] is not None:
        check_actor(event["claim"]["claimant"])
    assert event["evidence"], "every event is traceable to at least one sentence"
    for span in event["evidence"]:
        assert set(span) == {"start", "end"}
        assert 0 <= span["start"] < span["end"] <= len(clean_text)
    if event["proximity"] is not None:
        assert {"border_km", "border_with", "sites"} <= set(event["proximity"])
    assert isinstance(event["confidence"], float) and 0 <= event["confidence"] <= 1


def check_line(line: Any, raw_text: str | None) -> None:
    """One output line has exactly the contract's fields; offsets stay inside their texts."""
    assert set(line) == LINE_KEYS
    assert isinstance(line["id"], str)
    assert isinstance(line["clean_text"], str)
    assert line["error"] is None or (isinstance(line["error"], str) and line["error"])
    for removed in line["removed"]:
        assert set(removed) == {"start", "end", "reason"}
        assert raw_text is not None and 0 <= removed["start"] < removed["end"] <= len(raw_text)
        assert isinstance(removed["reason"], str) and removed["reason"]
    for place in line["places"]:
        assert {"start", "end", "text"} | PLACE_KEYS == set(place)
        assert line["clean_text"][place["start"] : place["end"]] == place["text"]
    for event in line["events"]:
        check_event(event, line["clean_text"])


@pytest.fixture
def news_file(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "news.jsonl", NEWS)


def test_extract_writes_one_contract_line_per_input_line_in_order(cli: Cli, news_file: Path) -> None:
    result = cli("extract", news_file)

    assert result.exit_code == 0, result.stderr
    lines = result.jsonl()
    assert [line["id"] for line in lines] == [record["id"] for record in NEWS]
    for line, record in zip(lines, NEWS, strict=True):
        check_line(line, record["text"])
        assert line["error"] is None
    assert sum(len(line["events"]) for line in lines) > 0


def test_extract_reads_stdin_when_input_is_absent_or_dash(cli: Cli, news_file: Path) -> None:
    from_file = cli("extract", news_file).jsonl()
    for args in (("extract",), ("extract", "-")):
        result = cli(*args, input=news_file.read_text(encoding="utf-8"))
        assert result.exit_code == 0, result.stderr
        assert result.jsonl() == from_file


def test_extract_out_writes_the_file_and_nothing_to_stdout(cli: Cli, news_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "pred.jsonl"
    result = cli("extract", news_file, "--out", target)

    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == [record["id"] for record in NEWS]


def test_evidence_is_a_whole_sentence_holding_a_trigger_of_the_event_type(
    cli: Cli, news_file: Path, nlp: Language
) -> None:
    lines = cli("extract", news_file).jsonl()

    checked = 0
    for line in lines:
        text = line["clean_text"]
        for event in line["events"]:
            for span in event["evidence"]:
                sentence = text[span["start"] : span["end"]]
                assert sentence.strip() == sentence != ""
                assert span["start"] == 0 or text[span["start"] - 1].isspace()
                assert sentence[-1] in ".!?\"'”’", f"evidence is not a whole sentence: {sentence!r}"
                lemmas = {t.lemma_.lower() for t in nlp(sentence)} | {w.lower() for w in sentence.split()}
                assert lemmas & trigger_words(event["type"]), (
                    f"no {event['type']} trigger in its evidence {sentence!r}"
                )
                checked += 1
    assert checked >= 3


def test_removed_spans_point_into_the_input_text(cli: Cli, news_file: Path) -> None:
    lines = {line["id"]: line for line in cli("extract", news_file).jsonl()}
    talks = next(r for r in NEWS if r["id"] == "caucasus")

    (removed,) = lines["caucasus"]["removed"]
    assert talks["text"][removed["start"] : removed["end"]].strip() == "Sign up for our newsletter"
    assert "newsletter" not in lines["caucasus"]["clean_text"]
    assert lines["caucasus"]["clean_text"].startswith("Armenia and Azerbaijan held talks")


def test_background_sentence_is_flagged_historical(cli: Cli, news_file: Path) -> None:
    lines = {line["id"]: line for line in cli("extract", news_file).jsonl()}
    text = lines["kharkiv"]["clean_text"]
    background = text.index("In 2014")

    events = lines["kharkiv"]["events"]
    assert any(e["historical"] for e in events if e["evidence"][0]["start"] >= background)
    assert any(not e["historical"] for e in events if e["evidence"][0]["start"] < background)


@pytest.mark.parametrize(
    ("bad_line", "problem"),
    [
        ('{"id": "broken", "text": "Kyiv accused Minsk', "invalid JSON"),
        ('{"id": "no-text", "title": "A headline alone"}', "neither 'text' nor 'html'"),
        (
            '{"id": "bad-date", "text": "Kyiv accused Minsk of massing troops.", "published": 20240825}',
            "'published' must be a string",
        ),
        ('{"id": "both", "text": "Troops.", "html": "<p>Troops.</p>"}', "both 'text' and 'html'"),
        ('["not", "an", "object"]', "JSON object"),
        ('{"id": "empty", "text": "   "}', "empty"),
    ],
    ids=["invalid-json", "no-text", "bad-published", "text-and-html", "not-an-object", "blank-text"],
)
def test_bad_line_gets_an_error_and_the_run_goes_on(
    cli: Cli, tmp_path: Path, bad_line: str, problem: str
) -> None:
    good = NEWS[0]
    source = write_jsonl(tmp_path / "mixed.jsonl", [good, bad_line, {**good, "id": "after"}])

    result = cli("extract", source)

    assert result.exit_code == 1
    first, failed, after = result.jsonl()
    for line in (first, failed, after):
        check_line(line, good["text"])
    assert first["error"] is None and after["error"] is None
    assert after["id"] == "after" and after["events"], "the line after a bad one is still analysed"
    assert problem in failed["error"]
    assert f"{source}:2" in failed["error"], "the error names the file and line"
    assert failed["events"] == [] and failed["clean_text"] == ""
    assert "1 line(s) failed" in result.stderr


def test_failed_record_keeps_the_id_it_gave(cli: Cli, tmp_path: Path) -> None:
    source = write_jsonl(
        tmp_path / "in.jsonl", [{"id": "dated", "text": "Troops moved.", "published": ["Sunday"]}]
    )
    (line,) = cli("extract", source).jsonl()
    assert line["id"] == "dated" and "published" in line["error"]


def test_output_id_is_always_a_string(cli: Cli, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": 7, "text": "Kyiv accused Minsk."}])
    (line,) = cli("extract", source).jsonl()
    check_line(line, None)


def test_extract_of_a_missing_file_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("extract", tmp_path / "nowhere.jsonl")
    assert result.exit_code == 2
    assert "nowhere.jsonl" in result.stderr
    assert result.stdout == ""


def test_console_script_extracts_from_a_pipe(news_file: Path, isolated_env: dict[str, str]) -> None:
    """End to end as a user runs it: `... | .venv/bin/borderwatch extract`."""
    done = subprocess.run(
        [str(BORDERWATCH), "extract"],
        input=news_file.read_text(encoding="utf-8"),
        capture_output=True,
        text=True,
        env=isolated_env,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["id"] for line in lines] == [record["id"] for record in NEWS]
    for line, record in zip(lines, NEWS, strict=True):
        check_line(line, record["text"])


# --- run: ingest into the store ----------------------------------------------------------------


def counts(db: Path) -> Counts:
    with open_store(f"sqlite:///{db}") as store:
        return store.counts()


def test_run_on_the_sample_files_stores_them_once(cli: Cli, tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite"
    files = ROOT / "samples" / "files"

    first = cli("run", files, "--db", db)

    assert first.exit_code == 0, first.stderr
    assert "Events found" in first.stdout
    assert re.search(r"┃\s*type\s*┃", first.stdout), "a table with a type column"
    assert any(f"│ {t} " in first.stdout for t in EVENT_TYPES), "at least one event row"
    stored = counts(db)
    assert stored.documents >= len(list(files.iterdir())) and stored.events > 0
    listed = cli("events", "--db", db, "--json", "--historical", "--limit", "100000").json()
    assert len(listed) == stored.events

    again = cli("run", files, "--db", db)

    assert again.exit_code == 0, again.stderr
    assert counts(db) == stored
    assert re.search(r"\b0 new, 0 new event\(s\)", again.stdout)
    assert cli("events", "--db", db, "--json", "--historical", "--limit", "100000").json() == listed


def test_same_article_at_a_second_url_adds_only_the_url(cli: Cli, tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite"
    article = tmp_path / "article.txt"
    article.write_text(NEWS[0]["text"] + "\n", encoding="utf-8")

    assert (
        cli("run", article, "--db", db, "--url", "https://a.example/1", "--published", "2024-08-25").exit_code
        == 0
    )
    before = counts(db)
    assert (
        cli("run", article, "--db", db, "--url", "https://b.example/1", "--published", "2024-08-25").exit_code
        == 0
    )

    after = counts(db)
    assert (after.documents, after.events, after.urls) == (before.documents, before.events, before.urls + 1)
    (event, *_) = cli("events", "--db", db, "--json").json()
    assert set(event["urls"]) == {"https://a.example/1", "https://b.example/1"}


def test_run_lists_each_bad_file_with_its_reason_and_stores_the_good_one(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "good.txt").write_text(NEWS[0]["text"] + "\n", encoding="utf-8")
    (folder / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00" * 8)
    (folder / "blank.txt").write_bytes(b"")
    db = tmp_path / "store.sqlite"

    result = cli("run", folder, "--db", db, "--published", "2024-08-25")

    assert result.exit_code == 1
    assert "2 input(s) failed" in result.stderr
    assert re.search(r"image\.txt: binary", result.stderr)
    assert re.search(r"blank\.txt: empty", result.stderr)
    assert "good.txt" not in result.stderr
    stored = counts(db)
    assert stored.documents == 1 and stored.events > 0
    assert "1 document(s) analysed, 1 new" in result.stdout


def test_run_reports_a_bad_jsonl_line_by_number_and_stores_the_rest(cli: Cli, tmp_path: Path) -> None:
    source = write_jsonl(
        tmp_path / "feed.jsonl", [NEWS[0], '{"id": "x", "text": "Troops.", "published": "soon"', NEWS[1]]
    )
    db = tmp_path / "store.sqlite"

    result = cli("run", source, "--db", db)

    assert result.exit_code == 1
    assert f"{source}:2:" in result.stderr and "invalid JSON" in result.stderr
    assert counts(db).documents == 2


def test_run_reads_plain_text_from_stdin(cli: Cli, tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite"
    result = cli("run", "-", "--db", db, "--published", "2024-08-25", input=NEWS[0]["text"])

    assert result.exit_code == 0, result.stderr
    assert counts(db).documents == 1
    dates = {e["date"]["start"] for e in cli("events", "--db", db, "--json").json()}
    assert "2024-08-25" in dates, "'on Sunday' resolves against --published"


# --- events and export: querying the store -------------------------------------------------------


@pytest.fixture(scope="module")
def news_db(make_cli: Callable[[], Cli], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the four NEWS reports, filled once through `borderwatch run`."""
    folder = tmp_path_factory.mktemp("news-db")
    cli = make_cli()
    db = folder / "store.sqlite"
    result = cli("run", write_jsonl(folder / "news.jsonl", NEWS), "--db", db)
    assert result.exit_code == 0, result.stderr
    return db


@pytest.fixture(scope="module")
def every_event(news_db: Path, make_cli: Callable[[], Cli]) -> list[dict[str, Any]]:
    """All stored events, background included: the base every filter is checked against."""
    found = make_cli()("events", "--db", news_db, "--json", "--historical").json()
    assert len(found) >= 4
    return found


def ids(events: list[dict[str, Any]]) -> list[str]:
    return sorted(e["id"] for e in events)


def current(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if not e["historical"]]


def codes(event: dict[str, Any]) -> set[str]:
    place = event.get("place") or {}
    return {a["code"] for a in event["actors"] + event["recipients"]} | {place.get("country")}


def selects(
    cli: Cli, db: Path, *args: str, expected: list[dict[str, Any]], base: list[dict[str, Any]]
) -> CliResult:
    """`events ARGS --json` returns exactly `expected`, a non-empty strict subset of `base`."""
    assert expected and len(expected) < len(base), "the filter must be tested on a real choice"
    result = cli("events", "--db", db, "--json", *args)
    assert result.exit_code == 0, result.stderr
    assert ids(result.json()) == ids(expected)
    return result


def test_events_hides_background_unless_asked(
    cli: Cli, news_db: Path, every_event: list[dict[str, Any]]
) -> None:
    shown = cli("events", "--db", news_db, "--json").json()
    assert ids(shown) == ids(current(every_event))
    assert len(shown) < len(every_event), "the fixture has a historical event"
    assert any(e["historical"] for e in every_event)


@pytest.mark.parametrize("spelling", ["FIGHT", "fight"])
def test_events_type_filter(
    cli: Cli, news_db: Path, every_event: list[dict[str, Any]], spelling: str
) -> None:
    base = current(every_event)
    selects(cli, news_db, "--type", spelling, base=base, expected=[e for e in base if e["type"] == "FIGHT"])


def test_events_type_filter_is_repeatable(cli: Cli, news_db: Path, every_event: list[dict[str, Any]]) -> None:
    base = current(every_event)
    selects(
        cli,
        news_db,
        "--type",
        "FIGHT",
        "--type",
        "ACCUSE",
        base=base,
        expected=[e for e in base if e["type"] in {"FIGHT", "ACCUSE"}],
    )


@pytest.mark.parametrize("spelling", ["BLR", "blr"])
def test_events_country_filter(
    cli: Cli, news_db: Path, every_event: list[dict[str, Any]], spelling: str
) -> None:
    base = current(every_event)
    selects(cli, news_db, "--country", spelling, base=base, expected=[e for e in base if "BLR" in codes(e)])


def test_events_date_window_is_inclusive_and_drops_undated(
    cli: Cli, news_db: Path, every_event: list[dict[str, Any]]
) -> None:
    base = current(every_event)
    dated = sorted({e["date"]["start"][:10] for e in base if e["date"]["start"]})
    since, until = dated[0], dated[-2]  # both ends are event days: inclusive bounds keep them
    selects(
        cli,
        news_db,
        "--since",
        since,
        "--until",
        until,
        base=base,
        expected=[e for e in base if e["date"]["start"] and since <= e["date"]["start"][:10] <= until],
    )


def test_events_text_filter_is_a_case_insensitive_evidence_substring(
    cli: Cli, news_db: Path, every_event: list[dict[str, Any]]
) -> None:
    base = current(every_event)
    selects(
        cli,
        news_db,
        "--text",
        "ARTILLERY",
        base=base,
        expected=[e for e in base if any("artillery" in x["text"].lower() for x in e["evidence"])],
    )


def test_events_historical_with_other_filters(
    cli: Cli, news_db: Path, every_event: list[dict[str, Any]]
) -> None:
    selects(
        cli,
        news_db,
        "--historical",
        "--since",
        "2010-01-01",
        "--until",
        "2019-12-31",
        base=every_event,
        expected=[e for e in every_event if e["date"]["start"] and e["date"]["start"][:4] < "2020"],
    )


def test_events_limit(cli: Cli, news_db: Path, every_event: list[dict[str, Any]]) -> None:
    shown = cli("events", "--db", news_db, "--json", "--historical", "--limit", "2").json()
    assert len(shown) == 2 and {e["id"] for e in shown} <= {e["id"] for e in every_event}


def test_events_json_records_carry_their_evidence_text(every_event: list[dict[str, Any]]) -> None:
    for event in every_event:
        assert event["type"] in EVENT_TYPES
        assert event["evidence"] and all(x["text"] for x in event["evidence"])
        assert {"id", "doc", "urls", "title", "published", "trigger"} <= set(event)


def test_events_table_lists_the_events(cli: Cli, news_db: Path, every_event: list[dict[str, Any]]) -> None:
    result = cli("events", "--db", news_db, "--type", "ACCUSE")
    accusations = [e for e in current(every_event) if e["type"] == "ACCUSE"]

    assert result.exit_code == 0
    assert f"{len(accusations)} event(s)" in result.stdout
    assert "ACCUSE" in result.stdout and "FIGHT" not in result.stdout


def test_events_table_shows_each_event_date(
    cli: Cli, news_db: Path, every_event: list[dict[str, Any]]
) -> None:
    result = cli("events", "--db", news_db)
    for event in current(every_event):
        if event["date"]["start"]:
            assert event["date"]["start"] in result.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG_DATA_HOME is the Linux convention")
def test_store_commands_default_to_a_file_in_the_users_data_directory(cli: Cli) -> None:
    default = Path(cli.env["XDG_DATA_HOME"]) / "borderwatch" / "borderwatch.sqlite"
    assert not default.exists()

    result = cli("events", "--json")

    assert result.exit_code == 0, result.stderr
    assert result.json() == []
    assert default.is_file()


def test_config_file_names_the_store(
    cli: Cli, news_db: Path, tmp_path: Path, every_event: list[dict[str, Any]]
) -> None:
    config = tmp_path / "bw.toml"
    config.write_text(f'db_url = "sqlite:///{news_db}"\n', encoding="utf-8")

    result = cli("events", "--config", config, "--json", "--historical")

    assert result.exit_code == 0, result.stderr
    assert ids(result.json()) == ids(every_event)


def border_pair(event: dict[str, Any]) -> str | None:
    home = (event["place"] or {}).get("country")
    other = (event["proximity"] or {}).get("border_with")
    return "-".join(sorted((home, other))) if home and other else None


def test_events_border_claimant_and_stance_filters(
    cli: Cli, news_db: Path, every_event: list[dict[str, Any]]
) -> None:
    base = current(every_event)
    kharkiv = [e for e in base if border_pair(e) == "RUS-UKR"]
    selects(cli, news_db, "--border", "ukr-rus", base=base, expected=kharkiv)
    alleged = [e for e in base if e["claim"]["stance"] == "alleged"]
    selects(cli, news_db, "--stance", "alleged", base=base, expected=alleged)
    by_ukraine = [e for e in base if (e["claim"]["claimant"] or {}).get("code") == "UKR"]
    selects(cli, news_db, "--claimant", "ukr", base=base, expected=by_ukraine)
    both = cli("events", "--db", news_db, "--json", "--claimant", "UKR", "--stance", "denied")
    assert both.exit_code == 0 and both.json() == []
    for option, bad, reason in (("--border", "UKR", "border pair"), ("--stance", "rumoured", "stance")):
        refused = cli("events", "--db", news_db, option, bad)
        assert refused.exit_code == 2, (option, refused.stdout)
        assert reason in refused.stderr and bad in refused.stderr


def test_events_bad_date_is_a_usage_error(cli: Cli, news_db: Path) -> None:
    result = cli("events", "--db", news_db, "--since", "last week")
    assert result.exit_code == 2
    assert "last week" in result.stderr


@pytest.mark.parametrize("command", ["events", "export"])
@pytest.mark.parametrize(("option", "bad", "reason"), [
    ("--border", "BLR-BLR", "border pair"),
    ("--stance", "rumoured", "stance"),
    ("--since", "last week", "ISO date"),
    ("--until", "2024-13-01", "ISO date"),
])
def test_a_bad_filter_is_a_usage_error_before_the_store_is_opened(
    cli: Cli, tmp_path: Path, command: str, option: str, bad: str, reason: str
) -> None:
    db = tmp_path / "store.sqlite"
    result = cli(command, "--db", db, option, bad)
    assert result.exit_code == 2, result.output
    assert reason in result.stderr and bad in result.stderr
    assert not db.exists()


@pytest.mark.parametrize("command", ["events", "export"])
def test_a_store_failing_to_answer_the_query_is_a_failure_not_a_usage_error(
    cli: Cli, tmp_path: Path, command: str
) -> None:
    db = tmp_path / "store.sqlite"
    assert cli("events", "--db", db).exit_code == 0  # creates and migrates it
    # Damaged behind the store's back: it still opens, but no event can be read.
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE events RENAME COLUMN claimant_code TO claimant_lost")
    result = cli(command, "--db", db, "--stance", "alleged")
    assert result.exit_code == 1, result.output
    assert "cannot query events" in result.stderr and "claimant_code" in result.stderr


def test_export_csv_parses_back_with_the_documented_columns(
    cli: Cli, news_db: Path, tmp_path: Path, every_event: list[dict[str, Any]]
) -> None:
    target = tmp_path / "events.csv"
    result = cli("export", "--db", news_db, "--format", "csv", "--out", target)

    assert result.exit_code == 0, result.stderr
    with target.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert tuple(reader.fieldnames or ()) == COLUMNS
    assert sorted(r["id"] for r in rows) == ids(current(every_event))
    assert f"exported {len(rows)} event(s)" in result.stderr


def test_export_jsonl_has_the_full_records(
    cli: Cli, news_db: Path, tmp_path: Path, every_event: list[dict[str, Any]]
) -> None:
    target = tmp_path / "events.jsonl"
    assert cli("export", "--db", news_db, "--format", "jsonl", "--out", target, "--historical").exit_code == 0

    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert sorted(records, key=lambda r: r["id"]) == sorted(every_event, key=lambda r: r["id"])


def test_export_geojson_is_a_feature_collection_of_the_located_events(
    cli: Cli, news_db: Path, tmp_path: Path, every_event: list[dict[str, Any]]
) -> None:
    target = tmp_path / "events.geojson"
    result = cli("export", "--db", news_db, "--format", "geojson", "--out", target)

    assert result.exit_code == 0, result.stderr
    collection = json.loads(target.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    located = [e for e in current(every_event) if (e["place"] or {}).get("lat") is not None]
    assert sorted(f["id"] for f in collection["features"]) == ids(located)
    for feature in collection["features"]:
        assert feature["geometry"]["type"] == "Point" and len(feature["geometry"]["coordinates"]) == 2
    skipped = len(current(every_event)) - len(located)
    if skipped:
        assert f"{skipped} without coordinates left out" in result.stderr


def test_export_applies_the_query_filters_and_defaults_to_stdout(
    cli: Cli, news_db: Path, every_event: list[dict[str, Any]]
) -> None:
    result = cli("export", "--db", news_db, "--type", "FIGHT", "--historical")

    assert result.exit_code == 0, result.stderr
    assert ids(result.jsonl()) == ids([e for e in every_event if e["type"] == "FIGHT"])


def test_export_takes_the_border_claimant_and_stance_filters(
    cli: Cli, news_db: Path, every_event: list[dict[str, Any]]
) -> None:
    result = cli("export", "--db", news_db, "--border", "RUS-UKR", "--stance", "asserted")

    assert result.exit_code == 0, result.stderr
    expected = [e for e in current(every_event)
                if border_pair(e) == "RUS-UKR" and e["claim"]["stance"] == "asserted"]
    assert expected and ids(result.jsonl()) == ids(expected)
    claimed = cli("export", "--db", news_db, "--claimant", "UKR", "--format", "csv")
    assert claimed.exit_code == 0, claimed.stderr
    by_ukraine = [e for e in current(every_event) if (e["claim"]["claimant"] or {}).get("code") == "UKR"]
    assert by_ukraine and f"exported {len(by_ukraine)} event(s)" in claimed.stderr


def test_export_unknown_format_is_a_usage_error(cli: Cli, news_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "events.xml"
    result = cli("export", "--db", news_db, "--format", "xml", "--out", target)

    assert result.exit_code == 2
    assert "xml" in result.stderr
    assert not target.exists()


# --- usage errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--bogus", "x.txt"],
        ["extract", "--bogus"],
        ["eval", "--bogus", "x.gold.jsonl"],
        ["events", "--bogus"],
        ["export", "--bogus"],
        ["frobnicate"],
        ["run"],
        ["eval"],
        ["events", "--limit", "many"],
    ],
    ids=lambda args: " ".join(args),
)
def test_usage_errors_exit_2(cli: Cli, args: list[str]) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Usage:" in result.stderr or "error" in result.stderr.lower()


def test_bad_published_flag_is_a_usage_error_before_anything_is_touched(cli: Cli, tmp_path: Path) -> None:
    article = tmp_path / "article.txt"
    article.write_text(NEWS[0]["text"], encoding="utf-8")
    db = tmp_path / "store.sqlite"

    result = cli("run", article, "--db", db, "--published", "05/08/2024")

    assert result.exit_code == 2
    assert "05/08/2024" in result.stderr and "ambiguous" in result.stderr
    assert not db.exists()


def test_bad_config_file_is_a_usage_error(cli: Cli, tmp_path: Path, news_file: Path) -> None:
    config = tmp_path / "bw.toml"
    config.write_text("[nlp]\nspeed = 'ludicrous'\n", encoding="utf-8")

    result = cli("extract", news_file, "--config", config)

    assert result.exit_code == 2
    assert "speed" in result.stderr


# --- eval ----------------------------------------------------------------------------------------


def test_eval_with_predictions_prints_micro_f1(cli: Cli, tmp_path: Path) -> None:
    gold = write_jsonl(
        tmp_path / "mini.gold.jsonl",
        [
            {"id": "1", "events": [{"type": "ACCUSE"}, {"type": "MOBILIZE"}]},
            {"id": "2", "events": [{"type": "FIGHT"}]},
        ],
    )
    pred = write_jsonl(
        tmp_path / "mini.pred.jsonl",
        [
            {"id": "1", "events": [{"type": "ACCUSE"}]},
            {"id": "2", "events": [{"type": "FIGHT"}, {"type": "THREATEN"}, {"type": "SANCTION"}]},
        ],
    )
    # tp = ACCUSE, FIGHT; fp = THREATEN, SANCTION; fn = MOBILIZE: P 2/4, R 2/3, F1 4/7

    result = cli("eval", gold, pred)

    assert result.exit_code == 0, result.stderr
    assert "2 documents, 2 predicted, 0 errors" in result.stdout
    micro = next(line for line in result.stdout.splitlines() if "micro" in line)
    assert [cell.strip() for cell in micro.split("│")[1:-1]] == [
        "micro",
        "0.500",
        "0.667",
        "0.571",
        "2",
        "2",
        "1",
    ]
    assert "macro F1 0.667" in result.stdout  # ACCUSE 1, FIGHT 1, MOBILIZE 0; no gold THREATEN

    report = cli("eval", gold, pred, "--json").json()
    assert report["event_types"]["micro"] == {
        "precision": 0.5,
        "recall": 0.6667,
        "f1": 0.5714,
        "tp": 2,
        "fp": 2,
        "fn": 1,
    }


def test_eval_without_predictions_extracts_the_input_beside_the_gold(cli: Cli, tmp_path: Path) -> None:
    write_jsonl(tmp_path / "mini.input.jsonl", NEWS)
    gold = write_jsonl(
        tmp_path / "mini.gold.jsonl",
        [
            {"id": "kyiv-minsk", "events": [{"type": "ACCUSE"}]},
            {"id": "kharkiv", "events": [{"type": "FIGHT"}]},
            {"id": "weather", "events": []},
        ],
    )
    pred = tmp_path / "pred.jsonl"
    assert cli("extract", tmp_path / "mini.input.jsonl", "--out", pred).exit_code == 0

    result = cli("eval", gold, "--json")

    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert report["documents"] == 3 and report["predicted"] == 3
    assert 0 <= report["event_types"]["micro"]["f1"] <= 1
    assert report == cli("eval", gold, pred, "--json").json(), (
        "eval without PRED scores exactly what `extract NAME.input.jsonl` writes"
    )
    text = cli("eval", gold)
    assert text.exit_code == 0 and "micro" in text.stdout


def test_eval_without_predictions_or_input_beside_fails_naming_it(cli: Cli, tmp_path: Path) -> None:
    gold = write_jsonl(tmp_path / "lonely.gold.jsonl", [{"id": "1", "events": [{"type": "FIGHT"}]}])
    result = cli("eval", gold)
    assert result.exit_code == 1
    assert "lonely.input.jsonl" in result.stderr


def test_eval_input_line_that_is_not_an_object_is_an_error_not_a_crash(cli: Cli, tmp_path: Path) -> None:
    write_jsonl(tmp_path / "mini.input.jsonl", [NEWS[0], '"an html page"'])
    gold = write_jsonl(tmp_path / "mini.gold.jsonl", [{"id": "kyiv-minsk", "events": [{"type": "ACCUSE"}]}])
    result = cli("eval", gold, "--json")
    assert result.exit_code == 0
    assert result.json()["predicted"] == 1


def test_eval_malformed_gold_names_file_and_line(cli: Cli, tmp_path: Path) -> None:
    gold = write_jsonl(tmp_path / "bad.gold.jsonl", [{"id": "1", "events": []}, "{oops"])
    pred = write_jsonl(tmp_path / "pred.jsonl", [{"id": "1", "events": []}])
    result = cli("eval", gold, pred)
    assert result.exit_code == 1
    assert f"{gold}:2" in result.stderr and "invalid JSON" in result.stderr


# --- the shared development sets (read at run time, never copied) ------------------------------


def test_readme_eval_example_runs_on_the_shared_plover_set(cli: Cli, shared: Path) -> None:
    gold = shared / "eval-dev" / "plover" / "plover.gold.jsonl"
    if not gold.exists():
        pytest.skip(f"{gold} not found")
    lines = sum(1 for line in gold.read_text(encoding="utf-8").splitlines() if line.strip())

    result = cli("eval", gold, "--json")

    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert report["documents"] == report["predicted"] == lines
    assert 0 <= report["event_types"]["micro"]["f1"] <= 1
    assert report["event_types"]["documents"] == lines


@pytest.mark.parametrize("name", ["plover", "trnews"])
def test_every_shared_input_line_gets_one_contract_line(cli: Cli, shared: Path, name: str) -> None:
    source = shared / "eval-dev" / name / f"{name}.input.jsonl"
    if not source.exists():
        pytest.skip(f"{source} not found")
    records = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]

    result = cli("extract", source)

    lines = result.jsonl()
    assert [line["id"] for line in lines] == [record["id"] for record in records]
    for line, record in zip(lines, records, strict=True):
        check_line(line, record.get("text"))
    assert result.exit_code == (1 if any(line["error"] for line in lines) else 0)


def test_console_script_run_then_events(tmp_path: Path, isolated_env: dict[str, str]) -> None:
    """End to end: the installed script stores an article, and a second process reads it back."""
    article = tmp_path / "article.txt"
    article.write_text(NEWS[0]["text"] + "\n", encoding="utf-8")
    db = tmp_path / "store.sqlite"

    def borderwatch(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BORDERWATCH), *map(str, args)],
            capture_output=True,
            text=True,
            env=isolated_env,
            timeout=300,
            check=False,
        )

    stored = borderwatch("run", article, "--db", db, "--published", "2024-08-25")
    assert stored.returncode == 0, stored.stderr
    listed = borderwatch("events", "--db", db, "--json", "--type", "ACCUSE")
    assert listed.returncode == 0, listed.stderr
    (accusation,) = json.loads(listed.stdout)
    assert accusation["type"] == "ACCUSE" and accusation["date"]["start"] == "2024-08-25"


def test_watch_once_over_a_folder_then_clusters_and_alerts(cli: Cli, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "sighting.txt").write_text(
        "Belarusian troops deployed near Mazyr, Belarus, on Tuesday, close to the border with Ukraine.\n",
        encoding="utf-8",
    )
    config = tmp_path / "watch.toml"
    config.write_text(
        '[watch]\natom_out = "alerts.atom"\n\n[[watch.sources]]\nkind = "folder"\nlocation = "inbox"\n',
        encoding="utf-8",
    )
    db = tmp_path / "w.sqlite"
    first = cli("watch", "--config", config, "--db", db, "--once")
    assert first.exit_code == 0, first.stderr
    assert "BLR-UKR" in first.stdout and "1 new document" in first.stderr
    again = cli("watch", "--config", config, "--db", db, "--once")
    assert "0 new item" in again.stderr and "BLR-UKR" not in again.stdout, "told once, not twice"
    assert "<feed" in (tmp_path / "alerts.atom").read_text(encoding="utf-8")
    clusters = json.loads(cli("clusters", "--db", db, "--json").stdout)
    assert any(c["type"] == "MOBILIZE" and c["independent_outlets"] == 1 for c in clusters)
    alerts = json.loads(cli("alerts", "--db", db, "--json").stdout)
    assert [a["border"] for a in alerts] == ["BLR-UKR"]


def test_watch_without_a_watch_table_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "plain.toml"
    config.write_text("[geo]\nsite_range_km = 100\n", encoding="utf-8")
    result = cli("watch", "--config", config, "--db", tmp_path / "x.sqlite", "--once")
    assert result.exit_code == 2 and "[watch]" in result.stderr
