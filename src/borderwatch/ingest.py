"""Ingest: turn files, folders, JSON records and stdin into `Document`s.

Every input is untrusted, so each one is bounded in size, checked for being text at all and decoded
carefully; a bad input becomes an `IngestError` that is *yielded*, not raised, so one broken file
never stops a batch. Raw text is kept as read, except that file line endings ``\\r\\n`` become
``\\n`` (JSON records are kept byte-for-byte, because the extract contract reports offsets into
them).
"""

from __future__ import annotations

import codecs
import email.utils
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import charset_normalizer
import dateparser
from trafilatura import extract_metadata, load_html

from borderwatch.config import IngestConfig
from borderwatch.errors import IngestError
from borderwatch.models import PUBLISHED_YEARS, Document

STDIN = "-"
"""The path that means standard input."""

_KINDS: dict[str, str] = {
    "": "text",
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
    ".jsonl": "jsonl",
}
"""File suffix → kind. Folders yield only these; a file named explicitly is sniffed otherwise."""

_MAX_CONTROL_SHARE = 0.10
"""Above this share of control bytes an input is binary, not text (logs with a few escapes pass)."""

_MAX_CHAOS = 0.10
"""charset-normalizer's mess ratio we accept for a guessed encoding: lower means more confident."""

_TEXT_CONTROLS = frozenset(b"\t\n\v\f\r")
_CONTROL_BYTES = bytes(b for b in [*range(32), 127] if b not in _TEXT_CONTROLS)
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL_BYTES)

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
"""UTF-16 (and UTF-32, whose BOMs start the same way) text is full of NUL bytes yet not binary."""


@dataclass(frozen=True)
class Metadata:
    """Facts about a document given from outside (the CLI's `--url/--title/--published` flags).

    Any field that is set overrides what the input itself says; `published` is checked on
    construction so a bad flag fails once, before any input is read.
    """

    url: str | None = None
    title: str | None = None
    published: str | None = None
    language: str | None = None
    outlet: str | None = None

    def __post_init__(self) -> None:
        if self.published is not None:  # frozen, so set the stripped value the low-level way
            object.__setattr__(self, "published", check_published(self.published, "published"))


_MONTH_NAME = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_TRAILING_ZONE = re.compile(r"\s+[A-Z]{2,4}$")


_NUMERIC_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})")
"""11/28/2016, 28.11.2016: day and month in an order only the values can tell."""
_YMD_DATE = re.compile(r"(\d{4})([/.])(\d{1,2})\2(\d{1,2})")
"""2016/11/28: year first is always year-month-day."""


def check_published(value: object, source: str) -> str:
    """Return `value` as an ISO 8601 date or datetime (stripped if it was one), else raise `IngestError`.

    The publication date anchors every relative date in the text ("yesterday", "last year"), so a
    value given on the command line that we cannot read is an error rather than a silent unknown
    (records and pages take the lenient path, `read_published`). Read besides ISO 8601: RFC 2822
    (RSS ``pubDate``), numeric dates whose order the values settle (11/28/2016, 28.11.2016,
    2016/11/28; 03/04/2016 is ambiguous) and complete scraped stamps with a month name. Dates
    outside `PUBLISHED_YEARS` are impossible for news and refused.
    """
    if not isinstance(value, str):
        raise IngestError(f"'published' must be a string, not {type(value).__name__}", source=source)
    text = value.strip()
    if len(text) > 100:  # no date is that long; dateparser's time grows with the text
        raise IngestError(f"published {value[:40]!r}... is not a date (over 100 characters)", source=source)
    found = _published_iso(text, source)
    if int(found[:4]) not in PUBLISHED_YEARS:
        raise IngestError(f"published {value!r} is out of range (years {PUBLISHED_YEARS.start}-"
                          f"{PUBLISHED_YEARS.stop - 1})", source=source)
    return found


def read_published(value: object, source: str) -> tuple[str | None, str | None]:
    """A record's or page's publication date as ISO 8601, or (None, why) when it cannot be read.

    An ambiguous or impossible date is recorded as unknown with a warning and the text is still
    analysed; only a value of the wrong type fails the record.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if not isinstance(value, str):
        raise IngestError(f"'published' must be a string, not {type(value).__name__}", source=source)
    try:
        return check_published(value, source), None
    except IngestError as exc:
        return None, f"{exc.message}; taken as unknown"


def _published_iso(text: str, source: str) -> str:
    """ISO 8601 for a publication date in any of the forms `check_published` reads."""
    for parse in (date.fromisoformat, datetime.fromisoformat):
        try:
            parsed = parse(text)
        except ValueError:
            continue
        # Kept as given in the usual extended form; "20161128" or "2016-W48-1" spelled out.
        return text if text[4:5] == "-" and text[7:8] == "-" else parsed.isoformat()
    numeric = _numeric_date(text, source)
    if numeric is not None:
        return numeric
    try:  # RFC 2822, as RSS pubDate and e-mail give it
        return email.utils.parsedate_to_datetime(text).isoformat()
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    # Scraped pages often carry a full but non-ISO stamp ("9:55 AM ET, Sun January 4, 2015").
    # Only a complete absolute date is accepted, normalised to ISO; relative words stay an error.
    try:  # "2016-12-18 07:52 ET": ISO apart from a zone abbreviation
        return datetime.fromisoformat(_TRAILING_ZONE.sub("", text)).isoformat()
    except ValueError:
        pass
    if _MONTH_NAME.search(text) and _YEAR.search(text):
        for candidate in (text[:100], _TRAILING_ZONE.sub("", text[:100])):
            parsed = dateparser.parse(
                candidate,
                languages=["en"],
                settings={"STRICT_PARSING": True, "REQUIRE_PARTS": ["day", "month", "year"]},
            )
            if parsed is not None:
                return parsed.isoformat()
    raise IngestError(f"published {text!r} is not an ISO 8601 date or datetime", source=source)


def _numeric_date(text: str, source: str) -> str | None:
    """The ISO date of an all-numeric date, None if `text` is not one; `IngestError` if it is
    ambiguous (both first numbers could be the month) or impossible (month 13, 30 February)."""
    ymd = _YMD_DATE.fullmatch(text)
    if ymd:
        year, month, day = int(ymd.group(1)), int(ymd.group(3)), int(ymd.group(4))
    else:
        found = _NUMERIC_DATE.fullmatch(text)
        if found is None:
            return None
        first, second, year = int(found.group(1)), int(found.group(3)), int(found.group(4))
        if first <= 12 and second <= 12 and first != second:
            raise IngestError(f"published {text!r} is ambiguous: day and month could be either way round",
                              source=source)
        month, day = (first, second) if second > 12 or first == second else (second, first)
    try:
        return date(year, month, day).isoformat()
    except ValueError as exc:
        raise IngestError(f"published {text!r} is not a possible date ({exc})", source=source) from exc


def iter_inputs(
    paths: Sequence[str],
    config: IngestConfig,
    *,
    overrides: Metadata | None = None,
    stdin: TextIO | None = None,
) -> Iterator[Document | IngestError]:
    """Yield one `Document` per article found in `paths`, or an `IngestError` per bad input.

    A path may be a file, a folder (walked recursively in sorted order, hidden entries skipped,
    only known suffixes taken) or ``-`` for `stdin`. Fields set in `overrides` replace what the
    inputs say.
    """
    for path in paths:
        if path == STDIN:
            items = _from_stdin(stdin if stdin is not None else sys.stdin, config)
        else:
            items = _from_path(Path(path), config)
        for item in items:
            yield _override(item, overrides) if isinstance(item, Document) else item


def document_from_record(record: dict[str, Any], source: str, config: IngestConfig) -> Document:
    """Build a `Document` from one JSON object of the extract contract (DESIGN §3).

    Fields: ``id``, exactly one of ``text``/``html``, optional ``url``, ``title``, ``published``
    (ISO 8601), ``language``; unknown fields are ignored. The text is kept exactly as given, since
    contract offsets point into it. Raises `IngestError` naming `source` when a field is wrong.
    """
    if "text" in record and "html" in record:
        raise IngestError("record has both 'text' and 'html'; give one", source=source)
    is_html = "html" in record
    key = "html" if is_html else "text"
    if key not in record:
        raise IngestError("record has neither 'text' nor 'html'", source=source)
    text = record[key]
    if not isinstance(text, str):
        raise IngestError(f"'{key}' must be a string, not {type(text).__name__}", source=source)
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > config.max_input_bytes:
        raise _too_large(config.max_input_bytes, source, size)
    if not text.strip():
        raise IngestError(f"'{key}' is empty", source=source)
    strings = {name: _optional_string(record, name, source) for name in ("id", "url", "title", "language")}
    published, warning = read_published(record.get("published"), source)
    return Document(
        source=source,
        raw_text=without_surrogates(text),
        input_id=strings["id"],
        url=strings["url"],
        title=strings["title"],
        language=strings["language"],
        published=published,
        fetched_at=_now(),
        is_html=is_html,
        warnings=[warning] if warning else [],
    )


def _optional_string(record: dict[str, Any], name: str, source: str) -> str | None:
    value = record.get(name)
    if value is not None and not isinstance(value, str):
        raise IngestError(f"'{name}' must be a string, not {type(value).__name__}", source=source)
    return without_surrogates(value) if value is not None else None


_SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """`text` with each lone surrogate ("\\ud800" in JSON) replaced by U+FFFD.

    Such a code point is no character: it cannot be encoded, so it would fail the tokenizer, the
    store and the output. One code point for one keeps every offset.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def parse_json(text: str, source: str) -> Any:
    """`json.loads`, with every way it can fail on hostile input turned into an `IngestError`."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestError(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                          source=source) from exc
    except RecursionError as exc:
        raise IngestError("invalid JSON: nested too deeply", source=source) from exc
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise IngestError(f"invalid JSON: {exc}", source=source) from exc


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _override(document: Document, overrides: Metadata | None) -> Document:
    if overrides is None:
        return document
    changes = {f.name: getattr(overrides, f.name) for f in fields(overrides)}
    return replace(document, **{k: v for k, v in changes.items() if v is not None})


# --- paths and folders ---------------------------------------------------------------------


def _from_path(path: Path, config: IngestConfig) -> Iterator[Document | IngestError]:
    """Everything one command-line path yields: a file's documents or a folder's, or an error."""
    if path.is_dir():
        for found in _walk(path):
            if isinstance(found, IngestError):
                yield found
            else:
                yield from _from_file(found, _KINDS[found.suffix.lower()], config)
    elif not path.exists():
        yield IngestError("no such file or folder", source=str(path))
    else:
        yield from _from_file(path, _KINDS.get(path.suffix.lower()), config)


def _walk(folder: Path) -> Iterator[Path | IngestError]:
    """Files of known kinds under `folder`, sorted by name at each level.

    Hidden entries are skipped, and symlinked folders are not followed (they can loop).
    """
    try:
        with os.scandir(folder) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as exc:
        yield IngestError(f"cannot list folder: {exc.strerror or exc}", source=str(folder))
        return
    for entry in entries:
        path = Path(entry.path)
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(path)
        elif entry.is_file() and path.suffix.lower() in _KINDS:
            yield path


def _from_file(
    path: Path,
    kind: str | None,
    config: IngestConfig,
) -> Iterator[Document | IngestError]:
    """The documents in one file; `kind` None means sniff the content."""
    source = str(path)
    if kind == "jsonl":
        yield from _from_jsonl_file(path, config)
        return
    try:
        text = _text_from_bytes(_read_file(path, config.max_input_bytes), source)
        if kind == "json":
            yield from _from_json(text, source, config)
        elif kind == "html" or (kind is None and text.lstrip().startswith("<")):
            yield _html_document(text, source)
        else:
            yield Document(source=source, raw_text=text, fetched_at=_now())
    except IngestError as error:
        yield error


def _read_file(path: Path, limit: int) -> bytes:
    """Read a whole file, refusing it by its size before reading it."""
    source = str(path)
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limit:
                raise _too_large(limit, source, size)
            data = handle.read(limit + 1)
    except PermissionError as exc:
        raise IngestError("permission denied, cannot read", source=source) from exc
    except OSError as exc:
        raise IngestError(f"cannot read: {exc.strerror or exc}", source=source) from exc
    if len(data) > limit:  # a pipe or special file whose size the file system does not know
        raise _too_large(limit, source)
    return data


def open_input(path: Path) -> BinaryIO | IngestError:
    """A file opened for streaming, or the error that names it (a stream of inputs goes on)."""
    try:
        return path.open("rb")
    except OSError as exc:
        return IngestError(f"cannot read: {exc.strerror or exc}", source=str(path))


def _from_jsonl_file(path: Path, config: IngestConfig) -> Iterator[Document | IngestError]:
    """One document per line, read line by line so a large batch file needs no size limit.

    Each *line* is bounded by the input limit instead; a bad line is reported with its number.
    """
    limit = config.max_input_bytes
    handle = open_input(path)
    if isinstance(handle, IngestError):
        yield handle
        return
    with handle:
        for lineno, line in enumerate(_bounded_lines(handle, limit), start=1):
            source = f"{path}:{lineno}"
            if isinstance(line, int):
                yield _too_large(limit, source, line)
            elif line.strip():
                try:
                    yield _from_json_line(line, source, config)
                except IngestError as error:
                    yield error


def _bounded_lines(handle: BinaryIO, limit: int) -> Iterator[bytes | int]:
    """Yield each line without its line ending, or its size (an int) if longer than `limit`.

    Never holds more than `limit` + 2 bytes: the rest of an overlong line is counted and skipped.
    """
    chunk = limit + 2  # room for the limit and a "\r\n"
    while line := handle.readline(chunk):
        if len(line) == chunk and not line.endswith(b"\n"):
            size = len(line)
            while more := handle.readline(chunk):
                size += len(more)
                if more.endswith(b"\n"):
                    break
            yield size
            continue
        content = line.rstrip(b"\r\n")
        yield content if len(content) <= limit else len(content)


def read_jsonl(
    handle: BinaryIO, name: str, config: IngestConfig
) -> Iterator[tuple[object, Document | IngestError]]:
    """The extract contract's input: per non-empty line, the record's ``id`` (None when the line
    has none or cannot be read) and its `Document` or an `IngestError` naming ``name:LINE``.

    Lines are decoded like any input (invalid UTF-8 is an error, or a confident guess of the
    encoding), and bounded by the input limit without being held whole.
    """
    limit = config.max_input_bytes
    for lineno, line in enumerate(_bounded_lines(handle, limit), start=1):
        source = f"{name}:{lineno}"
        if isinstance(line, int):
            yield None, _too_large(limit, source, line)
            continue
        if not line.strip():
            continue
        record_id = None
        try:
            record = parse_json(_text_from_bytes(line, source), source)
            if not isinstance(record, dict):
                raise IngestError(f"expected a JSON object, got {_json_kind(record)}", source=source)
            record_id = record.get("id")
            yield record_id, document_from_record(record, source, config)
        except IngestError as error:
            yield record_id, error


def _from_json_line(line: bytes, source: str, config: IngestConfig) -> Document:
    record = parse_json(_text_from_bytes(line, source), source)
    if not isinstance(record, dict):
        raise IngestError(f"expected a JSON object, got {_json_kind(record)}", source=source)
    return document_from_record(record, source, config)


def _from_json(text: str, source: str, config: IngestConfig) -> Iterator[Document | IngestError]:
    """A `.json` file holds one record or a list of records (item `i` is named `file.json[i]`)."""
    data = parse_json(text, source)
    if isinstance(data, dict):
        yield document_from_record(data, source, config)
    elif isinstance(data, list):
        for index, record in enumerate(data):
            item = f"{source}[{index}]"
            if not isinstance(record, dict):
                yield IngestError(f"expected a JSON object, got {_json_kind(record)}", source=item)
                continue
            try:
                yield document_from_record(record, item, config)
            except IngestError as error:
                yield error
    else:
        raise IngestError(
            f"expected a JSON object or a list of objects, got {_json_kind(data)}", source=source
        )


def _json_kind(value: object) -> str:
    names = {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }
    return names[type(value)]


# --- stdin -----------------------------------------------------------------------------------


def _from_stdin(stream: TextIO, config: IngestConfig) -> Iterator[Document | IngestError]:
    """Standard input is JSON Lines if every non-empty line is a JSON object, else one article."""
    source = "stdin"
    try:
        text = _text_from_bytes(_read_stdin(stream, config.max_input_bytes), source)
    except IngestError as error:
        yield error
        return
    records = _json_lines(text)
    if records is None:
        if text.lstrip().startswith("<"):
            yield _html_document(text, source)
        else:
            yield Document(source=source, raw_text=text, fetched_at=_now())
        return
    for lineno, record in records:
        try:
            yield document_from_record(record, f"{source}:{lineno}", config)
        except IngestError as error:
            yield error


def _read_stdin(stream: TextIO, limit: int) -> bytes:
    """At most `limit` + 1 bytes of standard input, refused if it holds more than `limit`."""
    buffer: BinaryIO | None = getattr(stream, "buffer", None)
    if buffer is not None:  # real stdin: take bytes, so the encoding is detected like a file's
        data = buffer.read(limit + 1)
    else:
        try:  # surrogateescape restores bytes Python could not decode when it opened the stream
            data = stream.read(limit + 1).encode("utf-8", "surrogateescape")
        except UnicodeEncodeError as exc:
            raise IngestError("cannot decode: text holds unpaired surrogates", source="stdin") from exc
    if len(data) > limit:
        raise _too_large(limit, "stdin")
    return data


def _json_lines(text: str) -> list[tuple[int, dict[str, Any]]] | None:
    """(line number, object) for each non-empty line, or None if any line is not a JSON object."""
    records = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError, ValueError):
            return None
        if not isinstance(record, dict):
            return None
        records.append((lineno, record))
    return records


# --- bytes to text ---------------------------------------------------------------------------


def _text_from_bytes(data: bytes, source: str) -> str:
    """Decode untrusted bytes into text, or raise `IngestError` saying why they are not text."""
    if not data.startswith(_UTF16_BOMS):
        _refuse_binary(data, source)
    text = _decode(data, source)
    if not text.strip():
        raise IngestError("empty input" if not text else "input is only whitespace", source=source)
    return text.replace("\r\n", "\n")


def _refuse_binary(data: bytes, source: str) -> None:
    if b"\0" in data:
        raise IngestError("binary file (NUL bytes), not text", source=source)
    controls = len(data.translate(None, _NOT_CONTROL))
    if data and controls / len(data) > _MAX_CONTROL_SHARE:
        raise IngestError(
            f"binary file ({controls / len(data):.0%} control characters), not text", source=source
        )


def _decode(data: bytes, source: str) -> str:
    """UTF-8 (BOM stripped) first; otherwise only an encoding charset-normalizer is sure of."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data, threshold=_MAX_CHAOS).best()
    if best is None:
        raise IngestError("cannot decode: not UTF-8 and no confident guess of the encoding", source=source)
    return str(best)


def _too_large(limit: int, source: str, size: int | None = None) -> IngestError:
    """`size` None means reading stopped past the limit, so the true size is unknown."""
    if size is None:
        return IngestError(f"larger than the {_human_size(limit)} input limit", source=source)
    shown, allowed = _human_size(size), _human_size(limit)
    if shown == allowed:  # just over the limit: rounding would hide the difference
        shown, allowed = f"{size} bytes", f"{limit} bytes"
    return IngestError(f"{shown} exceeds the {allowed} input limit", source=source)


def _human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


# --- HTML ------------------------------------------------------------------------------------


def _html_document(html: str, source: str) -> Document:
    """An HTML page keeps its markup as raw text; its metadata comes from trafilatura/htmldate.

    Dates are taken only from the page's markup and URL (`extensive=False`): a date guessed from
    the body text would mis-anchor every relative date in the article.
    """
    document = Document(source=source, raw_text=without_surrogates(html), fetched_at=_now(), is_html=True)
    tree = load_html(document.raw_text)
    if tree is None:  # nothing parseable: no metadata, and the clean stage will say so
        return document
    lang = tree.get("lang")
    found = extract_metadata(tree, extensive=False)
    published, warning = read_published(found.date, source)
    return replace(
        document,
        url=found.url,
        title=found.title,
        outlet=found.sitename,
        published=published,
        language=lang.split("-")[0].lower() if lang else None,
        warnings=[warning] if warning else [],
    )
