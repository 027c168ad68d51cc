"""WARC archives: HTML responses become documents with the record's URL and capture date."""

from __future__ import annotations

import io
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from borderwatch.config import IngestConfig
from borderwatch.errors import IngestError
from borderwatch.models import Document
from borderwatch.warc import is_warc, iter_warc

PAGE = """<html lang="en"><head><title>Troops gather near the border</title></head><body>
<nav>Home | World | Sport</nav>
<article><h1>Troops gather near the border</h1>
<p>Belarus moved two battalions of troops to the Gomel region on Sunday, the Ukrainian border
guard service said, adding that the units arrived with tanks and artillery.</p>
<p>Minsk said the troops were taking part in scheduled exercises and posed no threat.</p>
</article></body></html>"""

DATED_PAGE = PAGE.replace(
    "<head>", '<head><meta property="article:published_time" content="2024-08-20T08:00:00Z">'
)


def _response(
    writer: WARCWriter, uri: str, body: bytes, content_type: str, date: str, status: str = "200 OK"
) -> None:
    headers = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
    record = writer.create_warc_record(
        uri, "response", payload=io.BytesIO(body), http_headers=headers,
        warc_headers_dict={"WARC-Date": date},
    )
    writer.write_record(record)


def write_archive(path: Path, *, gzip: bool = True, oversized: bool = False) -> Path:
    """A small archive of our own pages, as a crawler would write it."""
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=gzip)
        request = writer.create_warc_record(
            "https://news.example/a", "request", payload=io.BytesIO(b"GET /a HTTP/1.1\r\n\r\n"),
            warc_headers_dict={"WARC-Date": "2024-08-25T10:00:00Z"},
        )
        writer.write_record(request)
        _response(writer, "https://news.example/a", PAGE.encode(), "text/html; charset=utf-8",
                  "2024-08-25T10:00:01Z")
        _response(writer, "https://news.example/logo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png",
                  "2024-08-25T10:00:02Z")
        _response(writer, "https://news.example/missing", b"<html>gone</html>", "text/html",
                  "2024-08-25T10:00:03Z", status="404 Not Found")
        _response(writer, "https://news.example/b", DATED_PAGE.encode("utf-8"), "text/html",
                  "2024-08-25T10:00:04Z")
        if oversized:
            _response(writer, "https://news.example/huge", PAGE.encode() * 50, "text/html",
                      "2024-08-25T10:00:05Z")
    return path


def test_html_responses_become_documents(tmp_path: Path) -> None:
    archive = write_archive(tmp_path / "crawl.warc.gz")
    items = list(iter_warc(archive, IngestConfig()))
    assert all(isinstance(item, Document) for item in items)
    first, second = items
    assert len(items) == 2
    assert (first.url, first.is_html) == ("https://news.example/a", True)
    assert first.title == "Troops gather near the border"
    assert first.published == "2024-08-25T10:00:01Z"  # the capture date: the page gives none
    assert second.published is not None and second.published.startswith("2024-08-20")  # the page's own
    assert first.source.startswith(str(archive) + "@")


def test_uncompressed_archives_read_the_same(tmp_path: Path) -> None:
    plain = list(iter_warc(write_archive(tmp_path / "crawl.warc", gzip=False), IngestConfig()))
    packed = list(iter_warc(write_archive(tmp_path / "crawl.warc.gz"), IngestConfig()))
    assert [d.url for d in plain] == [d.url for d in packed]  # type: ignore[union-attr]


def test_an_oversized_record_is_named_and_the_rest_is_read(tmp_path: Path) -> None:
    archive = write_archive(tmp_path / "crawl.warc.gz", oversized=True)
    items = list(iter_warc(archive, IngestConfig(max_input_bytes=4000)))
    errors = [i for i in items if isinstance(i, IngestError)]
    assert len(errors) == 1 and "larger than the limit" in str(errors[0])
    assert sum(isinstance(i, Document) for i in items) == 2


def test_a_file_that_is_not_an_archive_is_an_error(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.warc"
    bogus.write_text("just some notes\n", encoding="utf-8")
    [item] = list(iter_warc(bogus, IngestConfig()))
    assert isinstance(item, IngestError) and str(bogus) in str(item)
    assert is_warc(bogus) and is_warc(Path("x.WARC.GZ")) and not is_warc(Path("x.gz"))
