"""Web archives (WARC, ISO 28500) as a source of documents, read as a stream.

Each HTTP response record holding HTML becomes one `Document`: the page's markup goes through
the same HTML path as a saved page (main text, title and date by trafilatura), the record's
``WARC-Target-URI`` is its URL, and its ``WARC-Date`` (the capture time) stands in for the
publication date when the page's markup gives none. Requests, metadata, images and other
records are skipped; gzip-compressed archives (one gzip member per record) are read the same
way. A record too large or undecodable is an `IngestError` naming the archive and the record's
offset, and the rest of the archive is still read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders

from borderwatch.config import IngestConfig
from borderwatch.errors import IngestError
from borderwatch.ingest import _html_document, _text_from_bytes, check_published, open_input
from borderwatch.models import Document

SUFFIXES = (".warc", ".warc.gz")
_HTML_TYPES = ("text/html", "application/xhtml+xml")


def is_warc(path: Path) -> bool:
    return path.name.lower().endswith(SUFFIXES)


def iter_warc(path: Path, config: IngestConfig) -> Iterator[Document | IngestError]:
    """One Document per HTML response in the archive, or an IngestError per bad record."""
    handle = open_input(path)
    if isinstance(handle, IngestError):
        yield handle
        return
    with handle:
        records = ArchiveIterator(handle)
        try:
            for record in records:
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                content_type = (record.http_headers.get_header("Content-Type") or "").lower()
                if not content_type.startswith(_HTML_TYPES):
                    continue
                if not record.http_headers.get_statuscode().startswith("2"):
                    continue
                # The body first: asking for the offset reads past the record.
                data = record.content_stream().read(config.max_input_bytes + 1)
                source = f"{path}@{records.get_record_offset()}"
                try:
                    yield _document(record.rec_headers, data, source, config)
                except IngestError as error:
                    yield error
        except ArchiveLoadFailed as exc:
            yield IngestError(f"not a readable WARC archive: {exc}", source=str(path))


def _document(headers: StatusAndHeaders, data: bytes, source: str, config: IngestConfig) -> Document:
    if len(data) > config.max_input_bytes:
        raise IngestError(f"record larger than the limit of {config.max_input_bytes} bytes", source=source)
    if not data.strip():
        raise IngestError("empty response body", source=source)
    html = _text_from_bytes(data, source)
    document = _html_document(html, source)
    captured = headers.get_header("WARC-Date")
    published = document.published
    if published is None and captured:
        published = check_published(captured, source)
    return replace(document, url=headers.get_header("WARC-Target-URI") or document.url, published=published)
