"""Ingest: every input kind becomes Documents, and every bad input an IngestError by name."""

from __future__ import annotations

import io
import json
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

import pytest

from borderwatch.config import IngestConfig
from borderwatch.errors import IngestError
from borderwatch.ingest import Metadata, check_published, document_from_record, iter_inputs
from borderwatch.models import Document

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
CONFIG = IngestConfig()
ARTICLE = "Troops gathered near the border on Sunday.\nOfficials denied it.\n"


def ingest(*paths: Path | str, config: IngestConfig = CONFIG, overrides: Metadata | None = None,
           stdin: TextIO | None = None) -> list[Document | IngestError]:
    return list(iter_inputs([str(p) for p in paths], config, overrides=overrides, stdin=stdin))


def one_document(*paths: Path | str, overrides: Metadata | None = None,
                 stdin: TextIO | None = None) -> Document:
    [item] = ingest(*paths, overrides=overrides, stdin=stdin)
    assert isinstance(item, Document), item
    return item


def one_error(*paths: Path | str, config: IngestConfig = CONFIG,
              stdin: TextIO | None = None) -> IngestError:
    [item] = ingest(*paths, config=config, stdin=stdin)
    assert isinstance(item, IngestError), item
    return item


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def sources(items: list[Document | IngestError]) -> list[str | None]:
    return [item.source for item in items]


# --- plain text --------------------------------------------------------------------------


def test_text_file_is_read_exactly_with_provenance(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "  Kyiv — «Minsk»  \n\n\tindent\n")
    before = datetime.now(UTC)
    doc = one_document(path)
    assert doc.raw_text == "  Kyiv — «Minsk»  \n\n\tindent\n"
    assert doc.source == str(path)
    assert doc.is_html is False
    assert doc.input_id is None and doc.published is None
    fetched = datetime.fromisoformat(doc.fetched_at or "")
    assert fetched.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= fetched <= datetime.now(UTC)


def test_windows_line_endings_become_newlines_and_nothing_else_changes(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "one\r\ntwo\rthree\r\n")
    assert one_document(path).raw_text == "one\ntwo\rthree\n"


@pytest.mark.parametrize("name", ["a.text", "README", "UPPER.TXT"])
def test_other_text_names_are_plain_text(tmp_path: Path, name: str) -> None:
    doc = one_document(write(tmp_path / name, ARTICLE))
    assert doc.raw_text == ARTICLE and not doc.is_html


def test_utf8_bom_is_stripped(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", b"\xef\xbb\xbf" + ARTICLE.encode())
    assert one_document(path).raw_text == ARTICLE


def test_cp1251_file_decodes_correctly(tmp_path: Path) -> None:
    russian = ("Минск обвинил Киев в провокациях на границе. Войска Беларуси сосредоточены "
               "в Гомельской области под видом учений.\n")
    path = write(tmp_path / "ru.txt", russian.encode("cp1251"))
    assert one_document(path).raw_text == russian


def test_utf16_with_bom_is_text_not_binary(tmp_path: Path) -> None:
    path = write(tmp_path / "ps.txt", ARTICLE.encode("utf-16"))  # as PowerShell's `>` writes
    assert one_document(path).raw_text == ARTICLE


# --- HTML ----------------------------------------------------------------------------------


def test_html_page_keeps_markup_and_yields_its_metadata(tmp_path: Path) -> None:
    path = Path(shutil.copy(FIXTURES / "article.html", tmp_path / "page.html"))
    doc = one_document(path)
    assert doc.is_html is True
    assert doc.raw_text == (FIXTURES / "article.html").read_text(encoding="utf-8")
    assert doc.title == "Drills reported near the northern border"
    assert doc.published == "2024-08-25"
    assert doc.url == "https://courier.example.org/news/2024/08/25/drills-northern-border"
    assert doc.outlet == "Lakeside Courier"
    assert doc.language == "en"


def test_html_without_metadata_is_still_a_document(tmp_path: Path) -> None:
    doc = one_document(write(tmp_path / "bare.htm", "<p>Shelling was reported overnight.</p>"))
    assert doc.is_html and doc.raw_text == "<p>Shelling was reported overnight.</p>"
    assert (doc.title, doc.published, doc.url, doc.language) == (None, None, None, None)


def test_html_date_is_not_guessed_from_body_text(tmp_path: Path) -> None:
    page = "<html><body><p>Published 3 March 2021. Troops moved.</p></body></html>"
    assert one_document(write(tmp_path / "p.html", page)).published is None


@pytest.mark.parametrize(("content", "is_html"), [("  <html><p>x</p></html>", True),
                                                  ("# Notes\nplain", False)])
def test_explicit_unknown_suffix_is_sniffed(tmp_path: Path, content: str, is_html: bool) -> None:
    doc = one_document(write(tmp_path / "page.unknown", content))
    assert doc.is_html is is_html and doc.raw_text == content


# --- JSON and JSON Lines -------------------------------------------------------------------


def test_json_object_becomes_one_document(tmp_path: Path) -> None:
    record = {"id": "r1", "text": ARTICLE, "url": "https://x.example/1", "title": "T",
              "published": "2024-08-25", "language": "en", "extra": [1, 2]}
    path = write(tmp_path / "one.json", json.dumps(record))
    doc = one_document(path)
    assert (doc.input_id, doc.raw_text, doc.url, doc.title, doc.published, doc.language) == (
        "r1", ARTICLE, "https://x.example/1", "T", "2024-08-25", "en")
    assert doc.source == str(path) and not doc.is_html


def test_json_list_names_each_item_and_reports_bad_items(tmp_path: Path) -> None:
    records = [{"id": "a", "text": "first"}, 7, {"id": "c", "html": "<p>third</p>"}]
    path = write(tmp_path / "many.json", json.dumps(records))
    first, bad, third = ingest(path)
    assert isinstance(first, Document) and first.input_id == "a"
    assert isinstance(bad, IngestError) and bad.source == f"{path}[1]"
    assert "expected a JSON object, got a number" in bad.message
    assert isinstance(third, Document) and third.is_html and third.source == f"{path}[2]"


@pytest.mark.parametrize(("content", "message"), [
    ('{"id": "a", "text": ', "invalid JSON"),
    ('"just a string"', "expected a JSON object or a list of objects, got a string"),
])
def test_malformed_json_file_is_an_error(tmp_path: Path, content: str, message: str) -> None:
    path = write(tmp_path / "bad.json", content)
    error = one_error(path)
    assert error.source == str(path) and message in error.message


def test_jsonl_lines_are_numbered_and_bad_lines_do_not_stop_the_rest(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "text": "Alpha"}),
        "{not json",
        "",
        json.dumps(["a list"]),
        json.dumps({"id": "e", "title": "no text"}),
        json.dumps({"id": "f", "html": "<p>Foxtrot</p>", "published": "2024-08-25T10:00:00Z"}),
    ]
    path = write(tmp_path / "batch.jsonl", "\r\n".join(lines) + "\n")
    items = ingest(path)
    assert sources(items) == [f"{path}:{n}" for n in (1, 2, 4, 5, 6)]
    a, bad_json, not_object, no_text, f = items
    assert isinstance(a, Document) and (a.input_id, a.raw_text) == ("a", "Alpha")
    assert isinstance(bad_json, IngestError) and "invalid JSON" in bad_json.message
    assert isinstance(not_object, IngestError) and "got a list" in not_object.message
    assert isinstance(no_text, IngestError) and "neither 'text' nor 'html'" in no_text.message
    assert isinstance(f, Document) and f.is_html and f.published == "2024-08-25T10:00:00Z"


def test_jsonl_is_limited_per_line_not_per_file(tmp_path: Path) -> None:
    config = IngestConfig(max_input_bytes=200)
    short = [json.dumps({"id": str(n), "text": "x" * 50}) for n in range(5)]  # file > 200 bytes
    long = json.dumps({"id": "long", "text": "y" * 5000})
    path = write(tmp_path / "batch.jsonl", "\n".join([short[0], long, *short[1:]]) + "\n")
    items = ingest(path, config=config)
    assert sources(items) == [f"{path}:{n}" for n in range(1, 7)]
    error = items[1]
    assert isinstance(error, IngestError)
    assert "exceeds the 200 bytes input limit" in error.message
    assert [d.input_id for d in items if isinstance(d, Document)] == ["0", "1", "2", "3", "4"]


# --- folders -------------------------------------------------------------------------------


def test_folder_is_walked_recursively_in_order_skipping_hidden_and_unknown(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    write(root / "b.txt", "bee")
    write(root / "a.html", "<p>ay</p>")
    write(root / "sub" / "c.jsonl", json.dumps({"id": "c", "text": "sea"}) + "\n")
    write(root / "sub" / "deeper" / "d.json", json.dumps({"id": "d", "text": "dee"}))
    write(root / "notes", "no suffix is text")
    write(root / "scan.pdf", b"%PDF-1.4 binary")
    write(root / "table.csv", "a,b\n")
    write(root / ".hidden.txt", "secret")
    write(root / ".git" / "x.txt", "object")
    items = ingest(root)
    assert sources(items) == [
        str(root / "a.html"),
        str(root / "b.txt"),
        str(root / "notes"),
        f"{root / 'sub' / 'c.jsonl'}:1",
        str(root / "sub" / "deeper" / "d.json"),
    ]
    assert all(isinstance(item, Document) for item in items)


def test_missing_path_is_an_error_and_later_paths_still_come(tmp_path: Path) -> None:
    good = write(tmp_path / "good.txt", ARTICLE)
    missing, doc = ingest(tmp_path / "nope.txt", good)
    assert isinstance(missing, IngestError)
    assert str(missing) == f"{tmp_path / 'nope.txt'}: no such file or folder"
    assert isinstance(doc, Document) and doc.source == str(good)


# --- stdin ---------------------------------------------------------------------------------


def test_stdin_plain_text_is_one_document() -> None:
    text = "{\"looks\": \"like json\"}\nbut this line is prose\n"
    doc = one_document("-", stdin=io.StringIO(text))
    assert doc.source == "stdin" and doc.raw_text == text and not doc.is_html


def test_stdin_json_lines_become_records_named_by_line() -> None:
    lines = [json.dumps({"id": "a", "text": "Alpha"}), "", json.dumps({"id": "b", "text": ""})]
    a, b = ingest("-", stdin=io.StringIO("\n".join(lines) + "\n"))
    assert isinstance(a, Document) and a.source == "stdin:1" and a.input_id == "a"
    assert isinstance(b, IngestError) and b.source == "stdin:3" and "empty" in b.message


def test_stdin_html_is_sniffed() -> None:
    doc = one_document("-", stdin=io.StringIO("<html><title>Raid</title><p>x</p></html>"))
    assert doc.is_html and doc.title == "Raid"


def test_stdin_bytes_are_decoded_like_a_file() -> None:
    russian = "Войска Беларуси сосредоточены в Гомельской области под видом учений.\n"
    stream = io.TextIOWrapper(io.BytesIO(russian.encode("cp1251")), encoding="utf-8")
    assert one_document("-", stdin=stream).raw_text == russian


def test_stdin_is_read_only_up_to_the_limit() -> None:
    stream = io.StringIO("z" * 1000)
    error = one_error("-", stdin=stream, config=IngestConfig(max_input_bytes=100))
    assert error.source == "stdin" and "larger than the 100 bytes input limit" in error.message
    assert stream.tell() == 101


def test_stdin_mixed_with_files_keeps_order(tmp_path: Path) -> None:
    first = write(tmp_path / "1.txt", "one")
    last = write(tmp_path / "2.txt", "two")
    items = ingest(first, "-", last, stdin=io.StringIO("middle"))
    assert sources(items) == [str(first), "stdin", str(last)]


# --- overrides -----------------------------------------------------------------------------


def test_flags_override_what_the_file_says_and_leave_the_rest(tmp_path: Path) -> None:
    path = Path(shutil.copy(FIXTURES / "article.html", tmp_path / "page.html"))
    flags = Metadata(published="2024-08-26", title="Given title")
    doc = one_document(path, overrides=flags)
    assert (doc.published, doc.title) == ("2024-08-26", "Given title")
    assert doc.url == "https://courier.example.org/news/2024/08/25/drills-northern-border"
    assert doc.outlet == "Lakeside Courier"


def test_flags_apply_to_every_document_including_records(tmp_path: Path) -> None:
    path = write(tmp_path / "b.jsonl", "\n".join(
        json.dumps({"id": i, "text": "t", "url": "https://old.example"}) for i in "ab"))
    flags = Metadata(url="https://new.example/x", language="uk")
    docs = ingest(path, overrides=flags)
    assert [(d.url, d.language) for d in docs] == [("https://new.example/x", "uk")] * 2


def test_published_flag_is_stripped() -> None:
    assert Metadata(published=" 2024-08-25 ").published == "2024-08-25"


def test_bad_published_flag_fails_at_once() -> None:
    with pytest.raises(IngestError, match="not an ISO 8601 date or datetime"):
        Metadata(published="the 25th")
    with pytest.raises(IngestError, match="ambiguous"):
        Metadata(published="03/04/2024")


@pytest.mark.parametrize(("value", "iso"), [
    ("August 25, 2024", "2024-08-25T00:00:00"),
    ("10:40 AM ET, Tue March 3, 2020", "2020-03-03T10:40:00-05:00"),
    ("Dec 17, 2016 10:00 AM CT", "2016-12-17T10:00:00"),
])
def test_complete_scraped_stamps_are_normalised_to_iso(value: str, iso: str) -> None:
    assert check_published(value, source="x") == iso


@pytest.mark.parametrize("value", ["2024-08-25", "2024-08-25T10:00:00", "2024-08-25T10:00:00Z",
                                   "2024-08-25T10:00:00+03:00", " 2024-08-25 "])
def test_iso_dates_and_datetimes_are_accepted(value: str) -> None:
    assert check_published(value, source="x") == value.strip()


@pytest.mark.parametrize("value", ["2024-13-01", "", "yesterday", "last Sunday", "August 2024"])
def test_non_iso_dates_are_refused(value: str) -> None:
    with pytest.raises(IngestError, match="not an ISO 8601"):
        check_published(value, source="x")


# --- bad inputs ----------------------------------------------------------------------------


def test_each_bad_file_is_named_while_good_files_still_come_through(tmp_path: Path) -> None:
    config = IngestConfig(max_input_bytes=4096)
    noise = random.Random(0)
    bad = {
        "empty.txt": (b"", "empty input"),
        "blank.txt": (b" \n\t\r\n ", "input is only whitespace"),
        "nul.txt": (b"MZ\x00\x00\x90binary", "binary file (NUL bytes), not text"),
        "controls.txt": (bytes([1, 2, 3, 4, 27, 65]) * 20, "control characters), not text"),
        "big.txt": (b"a" * 5000, "4.9 KiB exceeds the 4.0 KiB input limit"),
        "garbled.txt": (bytes(noise.randrange(0x80, 0x100) for _ in range(400)),
                        "cannot decode"),
    }
    for name, (content, _) in bad.items():
        write(tmp_path / name, content)
    good = write(tmp_path / "good.txt", ARTICLE)
    names = [*bad, "missing.txt", "good.txt"]
    items = ingest(*(tmp_path / name for name in names), config=config)
    assert sources(items) == [str(tmp_path / name) for name in names]
    for item, (name, (_, message)) in zip(items, bad.items(), strict=False):
        assert isinstance(item, IngestError), name
        assert message in item.message, (name, item.message)
        assert str(item).startswith(str(tmp_path / name))
    assert isinstance(items[-2], IngestError) and "no such file" in items[-2].message
    assert isinstance(items[-1], Document) and items[-1].source == str(good)


def test_size_is_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(8 * 1024**3)  # sparse: reading it whole would take minutes
    error = one_error(path)
    assert error.message == "8192.0 MiB exceeds the 5.0 MiB input limit"


def test_file_at_the_limit_is_accepted_and_one_byte_more_is_not(tmp_path: Path) -> None:
    config = IngestConfig(max_input_bytes=1024)
    at = write(tmp_path / "at.txt", b"a" * 1024)
    over = write(tmp_path / "over.txt", b"a" * 1025)
    doc, error = ingest(at, over, config=config)
    assert isinstance(doc, Document) and len(doc.raw_text) == 1024
    assert isinstance(error, IngestError)
    assert error.message == "1025 bytes exceeds the 1024 bytes input limit"


def test_unreadable_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "locked.txt", ARTICLE)
    real_open = Path.open

    def refuse(self: Path, *args: object, **kwargs: object) -> object:
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    error = one_error(path)
    assert error.source == str(path) and "permission denied" in error.message


# --- document_from_record ------------------------------------------------------------------


def test_record_keeps_text_exactly_and_sets_contract_fields() -> None:
    record = {"id": "x1", "text": "line\r\nnext\r\n", "published": "2024-08-25"}
    doc = document_from_record(record, "in.jsonl:3", CONFIG)
    assert doc.raw_text == "line\r\nnext\r\n"  # contract offsets point into the input as given
    assert (doc.input_id, doc.source, doc.published, doc.is_html) == (
        "x1", "in.jsonl:3", "2024-08-25", False)
    assert doc.fetched_at is not None


def test_record_with_html_is_html() -> None:
    doc = document_from_record({"id": "h", "html": "<p>x</p>"}, "s", CONFIG)
    assert doc.is_html and doc.raw_text == "<p>x</p>"


@pytest.mark.parametrize(("record", "message"), [
    ({"id": "a"}, "neither 'text' nor 'html'"),
    ({"id": "a", "text": "t", "html": "<p>t</p>"}, "both 'text' and 'html'"),
    ({"id": "a", "text": 5}, "'text' must be a string, not int"),
    ({"id": "a", "text": "   "}, "'text' is empty"),
    ({"id": 1, "text": "t"}, "'id' must be a string, not int"),
    ({"id": "a", "text": "t", "url": ["u"]}, "'url' must be a string, not list"),
    ({"id": "a", "text": "t", "published": 20240825}, "'published' must be a string"),
    ({"id": "a", "text": "ж" * 600}, "1.2 KiB exceeds the 1.0 KiB input limit"),
])
def test_bad_records_are_errors_naming_the_source(record: dict[str, object], message: str) -> None:
    with pytest.raises(IngestError) as caught:
        document_from_record(record, "in.jsonl:7", IngestConfig(max_input_bytes=1024))
    assert message in caught.value.message
    assert caught.value.source == "in.jsonl:7"
    assert str(caught.value).startswith("in.jsonl:7: ")


def test_jsonl_line_exactly_at_the_limit_with_crlf_is_accepted(tmp_path: Path) -> None:
    at_limit = json.dumps({"id": "a", "text": "x" * 100})
    config = IngestConfig(max_input_bytes=len(at_limit))
    path = write(tmp_path / "edge.jsonl", f"{at_limit}\r\n{json.dumps({'id': 'b', 'text': 'y'})}")
    items = ingest(path, config=config)
    assert [(item.source, type(item)) for item in items] == [
        (f"{path}:1", Document), (f"{path}:2", Document)]


def test_titles_and_urls_lose_terminal_escapes_and_control_characters() -> None:
    record = {"id": "x", "text": "Troops massed near Gomel.", "title": "Alert\x1b[2J\x1b[31m now\x00",
              "url": "https://example.org/a\x07b"}
    doc = document_from_record(record, "feed.jsonl:1", IngestConfig())
    assert (doc.title, doc.url) == ("Alert now", "https://example.org/a%07b"), "the address is kept"


def test_every_line_of_metadata_loses_bidi_overrides_and_c1_controls() -> None:
    record = {"id": "x\u202e1", "text": "Troops massed near Gomel.", "title": "Kyiv\u202eliar\x9b2J\nsays"}
    doc = document_from_record(record, "feed.jsonl:1", IngestConfig())
    assert (doc.title, doc.input_id) == ("Kyiv liar 2J says", "x 1")
