"""Watch mode against a real HTTP server on 127.0.0.1: each new item once, restarts without
duplicates, malformed feeds, size and time limits, back-off, and refused addresses.

The server speaks plain HTTP/1.0 from a thread; every wait in it is bounded and released at
teardown, and every client call has a timeout, so no test can hang.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from xml.sax.saxutils import escape

import httpx
import pytest
from sqlalchemy import select

from borderwatch.config import Config, IngestConfig, NlpConfig
from borderwatch.errors import ConfigError, FetchError, StoreError
from borderwatch.models import Alert, AlertEvidence
from borderwatch.pipeline import Pipeline
from borderwatch.store import Store, open_store
from borderwatch.store.schema import DocumentRow
from borderwatch.watch import (
    PollReport,
    WatchConfig,
    Watcher,
    WatchSource,
    allowed_addresses,
    fetch,
    html_text,
    load_watch_config,
)

MAX_WAIT_S = 3.0
"""The longest any server-side delay lasts; teardown releases them at once."""

ITEMS = [
    ("bw-1", "Belarusian armour moves towards the Ukrainian border",
     "<p>Columns of Belarusian tanks and armoured personnel carriers were seen moving south "
     "towards the Ukrainian border near Mazyr on Monday, residents said.</p>",
     datetime(2022, 1, 10, 8, 0, tzinfo=UTC)),
    ("bw-2", "Russian battalions gather in Belgorod region",
     "<p>Russia has concentrated several battalions of troops in the Belgorod region, a few "
     "kilometres from the border with Ukraine, satellite images showed on Tuesday.</p>",
     datetime(2022, 1, 11, 9, 30, tzinfo=UTC)),
    ("bw-3", "Military trucks head west near Brest",
     "<p>Dozens of military trucks were moving west near Brest, Belarus, close to the Polish "
     "border, on Wednesday.</p><p>Local officials declined to comment.</p>",
     datetime(2022, 1, 12, 6, 15, tzinfo=UTC)),
]


def rss(items: list[tuple[str, str, str, datetime]], title: str = "Border Monitor") -> bytes:
    """An RSS 2.0 document of our own articles (descriptions are HTML, escaped as RSS wants)."""
    entries = "".join(
        f"<item><guid isPermaLink=\"false\">{guid}</guid><title>{escape(headline)}</title>"
        f"<link>https://news.example/{guid}</link><pubDate>{format_datetime(when)}</pubDate>"
        f"<description>{escape(html)}</description></item>"
        for guid, headline, html, when in items
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
            f"<link>https://news.example/</link><description>test</description>{entries}</channel></rss>"
            ).encode()


@dataclass
class Route:
    """What the server answers on one path."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    """Wait this long before answering (bounded by MAX_WAIT_S)."""
    drip_s: float = 0.0
    """Send the body one byte at a time, this long apart."""
    declare_length: bool = True


@dataclass
class Server:
    """A live HTTP server and what it saw."""

    base: str
    routes: dict[str, Route] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    hosts: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return self.base + path


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def do_GET(self) -> None:
        app: Server = self.server.app
        app.hits[self.path] = app.hits.get(self.path, 0) + 1
        app.hosts.append(self.headers.get("Host", ""))
        route = app.routes.get(self.path)
        if route is None:
            self.send_error(404)
            return
        if route.delay_s:
            app.release.wait(min(route.delay_s, MAX_WAIT_S))
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        for name, value in route.headers.items():
            self.send_header(name, value)
        if route.declare_length:
            self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        try:
            if route.drip_s:
                deadline = time.monotonic() + MAX_WAIT_S
                for byte in route.body:
                    if time.monotonic() > deadline or app.release.is_set():
                        break
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    app.release.wait(route.drip_s)
            else:
                self.wfile.write(route.body)
        except OSError:  # the client gave up first, as the limits under test make it do
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests assert on what the server saw instead."""


@pytest.fixture
def server() -> Iterator[Server]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    app = Server(base=f"http://127.0.0.1:{httpd.server_address[1]}")
    httpd.app = app  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield app
    app.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


class FakeClock:
    """Monotonic time that moves only when a test (or the watcher's sleep) says so."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class CountingPipeline:
    """The real pipeline, noting the title (or source) of every document it analyses."""

    def __init__(self, inner: Pipeline) -> None:
        self.inner = inner
        self.config = inner.config
        self.analysed: list[str] = []

    def analyse(self, items: Any, **options: Any) -> Iterator[Any]:
        for analysis in self.inner.analyse(items, **options):
            self.analysed.append(analysis.document.title or analysis.document.source)
            yield analysis


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'watch.sqlite'}"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with open_store(db_url) as opened:
        yield opened


def watch_config(
    *sources: WatchSource, allow_private: bool = True, backoff_max_s: float = 3600.0
) -> WatchConfig:
    return WatchConfig(sources=sources, allow_private=allow_private, backoff_max_s=backoff_max_s)


def feed(url: str, **limits: Any) -> WatchSource:
    return WatchSource("feed", url, **{"interval_s": 60.0, "timeout_s": 5.0, **limits})


def make_watcher(config: WatchConfig, store: Store, pipeline: Any, clock: FakeClock, **hooks: Any) -> Watcher:
    return Watcher(config, store, cast(Pipeline, pipeline), clock=clock, sleep=clock.sleep, **hooks)


# --- feeds: new items once, restarts -----------------------------------------------------------


def test_each_new_feed_item_is_processed_once(server: Server, store: Store, pipeline: Pipeline) -> None:
    server.routes["/feed.xml"] = Route(rss(ITEMS[:2]))
    counting = CountingPipeline(pipeline)
    clock = FakeClock()
    with make_watcher(watch_config(feed(server.url("/feed.xml"))), store, counting, clock) as watcher:
        first = watcher.poll_once()
        assert first.failures == []
        assert (first.new_items, first.new_documents) == (2, 2)
        assert first.new_events > 0

        server.routes["/feed.xml"] = Route(rss(list(reversed(ITEMS))))  # one more, order changed
        clock.now += 60
        second = watcher.poll_once()
        assert (second.new_items, second.new_documents) == (1, 1)

        clock.now += 60
        assert watcher.poll_once().new_items == 0
    assert counting.analysed == [title for _, title, _, _ in ITEMS]
    assert server.hits["/feed.xml"] == 3
    assert store.counts().documents == 3


def test_feed_items_keep_their_link_title_date_and_outlet(
    server: Server, store: Store, pipeline: Pipeline
) -> None:
    server.routes["/feed.xml"] = Route(rss(ITEMS[2:]))
    with make_watcher(watch_config(feed(server.url("/feed.xml"))), store, pipeline, FakeClock()) as watcher:
        watcher.poll_once()
    (document,) = store.documents()
    assert document.urls == ["https://news.example/bw-3"]
    assert document.title == "Military trucks head west near Brest"
    assert document.published == "2022-01-12T06:15:00+00:00"
    assert document.outlet == "Border Monitor"
    assert document.clean_text.splitlines() == [
        "Dozens of military trucks were moving west near Brest, Belarus, close to the Polish border, "
        "on Wednesday.",
        "Local officials declined to comment.",
    ]


def test_an_item_that_cannot_be_analysed_is_reported_once(
    server: Server, store: Store, pipeline: Pipeline
) -> None:
    server.routes["/feed.xml"] = Route(rss([("bw-empty", "", "", ITEMS[0][3]), ITEMS[0]]))
    clock = FakeClock()
    with make_watcher(watch_config(feed(server.url("/feed.xml"))), store, pipeline, clock) as watcher:
        first = watcher.poll_once()
        clock.now += 60
        second = watcher.poll_once()
    (failure,) = first.failures
    assert (failure.source, failure.stage, failure.item) == (server.url("/feed.xml"), "analyse", "bw-empty")
    assert "'text' is empty" in failure.message
    assert first.new_documents == 1
    assert (second.new_items, second.failures) == (0, [])  # a bad item is not retried forever


def test_a_restarted_watcher_adds_nothing(server: Server, db_url: str, pipeline: Pipeline) -> None:
    server.routes["/feed.xml"] = Route(rss(ITEMS))
    config = watch_config(feed(server.url("/feed.xml")))
    with open_store(db_url) as store, make_watcher(config, store, pipeline, FakeClock()) as watcher:
        assert watcher.poll_once().new_documents == 3
        before = store.counts()
    counting = CountingPipeline(pipeline)
    with open_store(db_url) as store, make_watcher(config, store, counting, FakeClock()) as watcher:
        report = watcher.poll_once()
        assert (report.polled, report.new_items, report.failures) == ([server.url("/feed.xml")], 0, [])
        assert store.counts() == before
    assert counting.analysed == []


# --- failures: malformed, back-off, limits -----------------------------------------------------


def test_a_malformed_feed_is_named_and_the_other_sources_go_on(
    server: Server, store: Store, pipeline: Pipeline
) -> None:
    server.routes["/broken.xml"] = Route(b"<html><body>this is <not a feed</body>", content_type="text/html")
    server.routes["/feed.xml"] = Route(rss(ITEMS[:2]))
    config = watch_config(feed(server.url("/broken.xml")), feed(server.url("/feed.xml")))
    with make_watcher(config, store, pipeline, FakeClock()) as watcher:
        report = watcher.poll_once()
    (failure,) = report.failures
    assert failure.source == server.url("/broken.xml")
    assert failure.stage == "fetch"
    assert "malformed feed" in failure.message
    assert server.url("/broken.xml") in str(failure)
    assert report.new_documents == 2


def test_a_failing_source_backs_off_exponentially(server: Server, store: Store, pipeline: Pipeline) -> None:
    server.routes["/feed.xml"] = Route(b"busy", status=503)
    url = server.url("/feed.xml")
    clock = FakeClock()
    config = watch_config(feed(url, interval_s=10.0), backoff_max_s=35.0)
    start = clock.now

    def poll_at(offset: float) -> PollReport:
        clock.now = start + offset
        return watcher.poll_once()

    with make_watcher(config, store, pipeline, clock) as watcher:
        assert "HTTP 503" in poll_at(0).failures[0].message
        assert poll_at(10).backing_off == [url]  # first failure: 2 intervals
        assert poll_at(20).polled == [url]
        assert poll_at(54).backing_off == [url]  # second failure: 4 intervals, capped at 35 s
        server.routes["/feed.xml"] = Route(rss(ITEMS[:1]))
        recovered = poll_at(55)
        assert (recovered.failures, recovered.new_documents) == ([], 1)
        assert poll_at(64).polled == [] and poll_at(65).polled == [url]  # back to the plain interval
    assert server.hits["/feed.xml"] == 4


def test_oversize_responses_are_refused(server: Server, store: Store, pipeline: Pipeline) -> None:
    big = rss(ITEMS) + b"<!--" + b"x" * 70_000 + b"-->"
    server.routes["/declared.xml"] = Route(big)
    server.routes["/streamed.xml"] = Route(big, declare_length=False)
    paths = ("/declared.xml", "/streamed.xml")
    config = watch_config(*(feed(server.url(p), max_bytes=64 * 1024) for p in paths))
    with make_watcher(config, store, pipeline, FakeClock()) as watcher:
        report = watcher.poll_once()
    messages = {f.source.rsplit("/", 1)[1]: f.message for f in report.failures}
    assert "exceed the 65536-byte limit" in messages["declared.xml"]
    assert "body exceeds the 65536-byte limit" in messages["streamed.xml"]
    assert store.counts().documents == 0


def test_a_server_that_does_not_answer_times_out(server: Server) -> None:
    server.routes["/slow.xml"] = Route(rss(ITEMS), delay_s=MAX_WAIT_S)
    started = time.monotonic()
    with httpx.Client() as client, pytest.raises(FetchError, match="timed out"):
        fetch(client, server.url("/slow.xml"), timeout_s=0.5, max_bytes=1 << 20, allow_private=True)
    assert time.monotonic() - started < 2.0


def test_a_body_that_trickles_in_is_cut_at_the_time_limit(server: Server) -> None:
    server.routes["/drip.xml"] = Route(rss(ITEMS), drip_s=0.05)  # ~100 s in total if let run
    started = time.monotonic()
    with httpx.Client() as client, pytest.raises(FetchError, match="timed out"):
        fetch(client, server.url("/drip.xml"), timeout_s=0.5, max_bytes=1 << 20, allow_private=True)
    assert time.monotonic() - started < 2.0


def test_redirects_are_followed_and_each_hop_is_checked(server: Server) -> None:
    server.routes["/moved"] = Route(status=301, headers={"Location": "/feed.xml"})
    server.routes["/feed.xml"] = Route(rss(ITEMS[:1]))
    server.routes["/escape"] = Route(status=302, headers={"Location": "file:///etc/passwd"})
    server.routes["/garbled"] = Route(status=302, headers={"Location": "http://[zz::1]/"})
    server.routes["/loop"] = Route(status=302, headers={"Location": "/loop"})
    with httpx.Client() as client:
        fetched = fetch(client, server.url("/moved"), timeout_s=5, max_bytes=1 << 20, allow_private=True)
        assert fetched.url == server.url("/feed.xml")
        assert b"bw-1" in fetched.body
        for path, problem in [
            ("/escape", "only http and https"),
            ("/garbled", "Invalid URL in location header"),
            ("/loop", "more than 5 redirects"),
        ]:
            with pytest.raises(FetchError, match=problem):
                fetch(client, server.url(path), timeout_s=5, max_bytes=1 << 20, allow_private=True)
    assert server.hits["/loop"] == 6


# --- refused addresses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://localhost/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://10.1.2.3/", "private"),
        ("http://192.168.0.10:8080/feed", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://240.0.0.1/", "reserved"),
        ("http://100.64.0.1/", "non-global"),
        ("ftp://127.0.0.1/feed.xml", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
    ],
)
def test_non_public_addresses_and_schemes_are_refused_before_connecting(url: str, reason: str) -> None:
    with pytest.raises(FetchError, match=reason) as refused:
        allowed_addresses(url, allow_private=False)
    assert refused.value.stage == "fetch"


def test_allow_private_lets_a_lab_reach_loopback() -> None:
    assert allowed_addresses("http://127.0.0.1:8080/", allow_private=True) == ["127.0.0.1"]


def test_the_watcher_refuses_its_own_loopback_server_unless_allowed(
    server: Server, store: Store, pipeline: Pipeline
) -> None:
    server.routes["/feed.xml"] = Route(rss(ITEMS[:1]))
    port = server.base.rsplit(":", 1)[1]
    source = feed(f"http://localhost:{port}/feed.xml")
    with make_watcher(watch_config(source, allow_private=False), store, pipeline, FakeClock()) as watcher:
        refused = watcher.poll_once()
    assert "loopback" in refused.failures[0].message
    assert server.hits == {}  # refused before any connection
    with make_watcher(watch_config(source, allow_private=True), store, pipeline, FakeClock()) as watcher:
        allowed = watcher.poll_once()
    assert (allowed.failures, allowed.new_documents) == ([], 1)
    assert server.hosts == [f"localhost:{port}"]  # sent to the checked address, under its own name


# --- folders and single pages ------------------------------------------------------------------


def test_a_folder_yields_new_and_changed_files_only(tmp_path: Path, store: Store, pipeline: Pipeline) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    first = inbox / "mazyr.txt"
    first.write_text("Military trucks were moving west near Mazyr, Belarus, on Monday.\n", encoding="utf-8")
    clock = FakeClock()
    config = watch_config(WatchSource("folder", str(inbox), interval_s=30.0))
    with make_watcher(config, store, pipeline, clock) as watcher:
        assert watcher.poll_once().new_items == 1
        clock.now += 30
        assert watcher.poll_once().new_items == 0

        first.write_text("Military trucks and tanks were moving west near Mazyr, Belarus, on Monday.\n",
                         encoding="utf-8")
        stat = first.stat()
        os.utime(first, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        (inbox / "brest.txt").write_text("Soldiers dug trenches near Brest, Belarus.\n", encoding="utf-8")
        (inbox / ".draft.txt").write_text("Hidden drafts are not read.\n", encoding="utf-8")
        (inbox / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
        clock.now += 30
        changed = watcher.poll_once()
        assert (changed.new_items, changed.new_documents, changed.failures) == (2, 2, [])
    assert store.counts().documents == 3


def test_a_missing_folder_is_a_named_failure(tmp_path: Path, store: Store, pipeline: Pipeline) -> None:
    missing = str(tmp_path / "nowhere")
    with make_watcher(watch_config(WatchSource("folder", missing)), store, pipeline, FakeClock()) as watcher:
        (failure,) = watcher.poll_once().failures
    assert (failure.source, failure.message) == (missing, "no such folder")


def test_a_page_is_read_again_only_when_it_changes(server: Server, store: Store, pipeline: Pipeline) -> None:
    page = ("<html><head><title>Border report</title></head><body><article><h1>Border report</h1>"
            "<p>Belarusian troops were deployed near the border with Ukraine in the Gomel region on "
            "Thursday, the ministry said in a statement. {extra}</p>"
            "<p>The deployment follows weeks of exercises close to the frontier, officials added.</p>"
            "</article></body></html>")
    server.routes["/report"] = Route(page.format(extra="").encode(), content_type="text/html; charset=utf-8")
    clock = FakeClock()
    config = watch_config(WatchSource("url", server.url("/report"), interval_s=60.0, timeout_s=5.0))
    with make_watcher(config, store, pipeline, clock) as watcher:
        assert watcher.poll_once().new_documents == 1
        clock.now += 60
        assert watcher.poll_once().new_items == 0
        server.routes["/report"] = Route(page.format(extra="More units arrived overnight.").encode(),
                                         content_type="text/html")
        clock.now += 60
        assert watcher.poll_once().new_documents == 1
    documents = list(store.documents())
    assert {d.urls[0] for d in documents} == {server.url("/report")}
    assert all("Gomel region" in d.clean_text for d in documents)


def test_a_binary_page_is_refused(server: Server, store: Store, pipeline: Pipeline) -> None:
    server.routes["/photo"] = Route(b"\x89PNG\r\n\x1a\n", content_type="image/png")
    config = watch_config(WatchSource("url", server.url("/photo"), timeout_s=5.0))
    with make_watcher(config, store, pipeline, FakeClock()) as watcher:
        (failure,) = watcher.poll_once().failures
    assert "not a web page or text: image/png" in failure.message


# --- alerts hook and the loop ------------------------------------------------------------------


def test_alerts_are_assessed_after_a_poll_that_stored_something(
    server: Server, store: Store, pipeline: Pipeline
) -> None:
    alert = Alert(id="a1", rule="troops-near-border", severity="high", as_of="2022-01-10", border="BLR-UKR",
                  sites=[], explanation="Armour near the border.", events=["e1"],
                  evidence=[AlertEvidence(doc="d1", start=0, end=10, text="Columns of")])
    assessed: list[Store] = []
    delivered: list[list[Alert]] = []

    def assess(current: Store) -> list[Alert]:
        assessed.append(current)
        return [alert]

    server.routes["/feed.xml"] = Route(rss(ITEMS[:1]))
    clock = FakeClock()
    config = watch_config(feed(server.url("/feed.xml")))
    with make_watcher(config, store, pipeline, clock, assess=assess, on_alerts=delivered.append) as watcher:
        assert watcher.poll_once().alerts == [alert]
        clock.now += 60
        assert watcher.poll_once().alerts == []  # nothing new stored: nothing to assess
    assert assessed == [store]
    assert delivered == [[alert]]


def test_a_failing_assessment_is_reported(server: Server, store: Store, pipeline: Pipeline) -> None:
    def assess(_store: Store) -> list[Alert]:
        raise StoreError("no such table: clusters", source="sqlite:///x")

    server.routes["/feed.xml"] = Route(rss(ITEMS[:1]))
    config = watch_config(feed(server.url("/feed.xml")))
    with make_watcher(config, store, pipeline, FakeClock(), assess=assess) as watcher:
        report = watcher.poll_once()
    assert report.new_documents == 1
    assert [str(f) for f in report.failures] == ["assess: no such table: clusters (store)"]


def test_run_sleeps_until_the_next_source_is_due(server: Server, store: Store, pipeline: Pipeline) -> None:
    server.routes["/feed.xml"] = Route(rss(ITEMS[:1]))
    clock = FakeClock()
    reports: list[PollReport] = []
    config = watch_config(feed(server.url("/feed.xml"), interval_s=45.0))
    with make_watcher(config, store, pipeline, clock) as watcher:
        watcher.run(stop_after=3, on_report=reports.append)
    assert clock.slept == [45.0, 45.0]
    assert [r.new_items for r in reports] == [1, 0, 0]
    assert server.hits["/feed.xml"] == 3


# --- configuration and text --------------------------------------------------------------------


def test_the_watch_table_is_read_with_defaults_and_relative_paths(tmp_path: Path) -> None:
    path = tmp_path / "borderwatch.toml"
    path.write_text(
        """
[watch]
interval_s = 600
timeout_s = 15
atom_out = "out/alerts.atom"

[[watch.sources]]
kind = "feed"
location = "https://news.example/rss.xml"
interval_s = 120

[[watch.sources]]
kind = "folder"
location = "inbox"

[[watch.webhooks]]
url = "https://hooks.example/borderwatch"
secret = "s3cret"

[watch.smtp]
host = "mail.example"
port = 587
from = "borderwatch@example.org"
to = ["analyst@example.org"]
starttls = true
username = "borderwatch"
password_env = "BORDERWATCH_SMTP_PASSWORD"
""",
        encoding="utf-8",
    )
    config = load_watch_config(path)
    assert config.sources == (
        WatchSource("feed", "https://news.example/rss.xml", 120.0, 15.0, 5 * 1024 * 1024),
        WatchSource("folder", str(tmp_path / "inbox"), 600.0, 15.0, 5 * 1024 * 1024),
    )
    assert config.allow_private is False
    assert config.delivery.atom_out == tmp_path / "out" / "alerts.atom"
    assert config.delivery.webhooks[0].url == "https://hooks.example/borderwatch"
    assert "s3cret" not in repr(config)
    smtp = config.delivery.smtp
    assert smtp is not None
    assert (smtp.host, smtp.port, smtp.sender, smtp.to, smtp.starttls) == (
        "mail.example", 587, "borderwatch@example.org", ("analyst@example.org",), True)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[watch]\nintervall_s = 5", "unknown keys in \\[watch\\]: intervall_s"),
        ('[[watch.sources]]\nkind = "torrent"\nlocation = "x"', "kind must be one of feed, folder, url"),
        ('[[watch.sources]]\nkind = "feed"\nlocation = "file:///etc/passwd"', "must be an http\\(s\\) URL"),
        ("[watch]\ntimeout_s = -1", "timeout_s must be a positive number"),
        ('[watch.smtp]\nhost = "h"\nfrom = "f"\nto = []', "to must be a non-empty list"),
        ('[watch.smtp]\nhost = "h"\nfrom = "f"\nto = ["a@b"]\nusername = "u"', "username needs password_env"),
        ("[other]\nx = 1", "no \\[watch\\] table"),
    ],
)
def test_a_bad_watch_table_is_a_config_error(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_watch_config(path)


def test_feed_html_becomes_plain_text_one_block_per_line() -> None:
    assert html_text("<p>Tanks &amp; trucks</p><p>near <b>Mazyr</b>,<br>Belarus.</p>") == (
        "Tanks & trucks\nnear Mazyr,\nBelarus."
    )


# --- hostile feeds: the watcher never dies of its inputs ---------------------------------------


def atom(entries: list[tuple[str, str, str]]) -> bytes:
    """An Atom feed of (id, updated, text) entries: Atom carries full ISO dates, year 1 included."""
    body = "".join(f"<entry><id>{key}</id><title>{key}</title><updated>{updated}</updated>"
                   f"<link href='https://news.example/{key}'/><content type='text'>{text}</content></entry>"
                   for key, updated, text in entries)
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Hostile</title><id>urn:hostile</id><updated>2024-01-01T00:00:00Z</updated>{body}</feed>"
            ).encode()


def test_hostile_feeds_and_items_are_reported_and_a_good_feed_after_them_is_stored(
    server: Server, store: Store
) -> None:
    config = replace(Config(), ingest=IngestConfig(max_input_bytes=20_000),
                     nlp=replace(NlpConfig(), max_chars=5_000))
    pipeline = Pipeline(config)
    story = "Belarusian troops moved towards the border near Mazyr on Monday, residents said. "
    server.routes["/not-modified"] = Route(b"", status=304)
    server.routes["/bad-location"] = Route(b"", status=302, headers={"Location": "http://[::1"})
    server.routes["/surrogates.xml"] = Route(  # raw references to no character, which feedparser raises on
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T&#xD800;</title>'
        b"<item><guid>bw-s&#xD800;</guid><title>Troops &#xD800; move</title><link>https://news.example/s</link>"
        + f"<description>{story} &#xD800; &#55296;</description></item></channel></rss>".encode())
    server.routes["/year-one.xml"] = Route(atom([("urn:year-one", "0001-01-01T00:00:00Z", story)]),
                                           content_type="application/atom+xml")
    server.routes["/limits.xml"] = Route(atom([("urn:too-big", "2024-01-02T00:00:00Z", story * 300),
                                               ("urn:long", "2024-01-02T00:00:00Z", story * 100)]),
                                         content_type="application/atom+xml")
    server.routes["/feed.xml"] = Route(rss(ITEMS))
    hostile = ["/not-modified", "/bad-location", "/surrogates.xml", "/year-one.xml", "/limits.xml"]
    sources = [feed(server.url(path)) for path in [*hostile, "/feed.xml"]]
    clock = FakeClock()
    with make_watcher(watch_config(*sources), store, pipeline, clock) as watcher:
        first = watcher.poll_once()
        clock.now += 60
        second = watcher.poll_once()

    failed = {(f.source.removeprefix(server.base), f.stage, f.item) for f in first.failures}
    assert failed == {("/not-modified", "fetch", None), ("/bad-location", "fetch", None),
                      ("/limits.xml", "analyse", "urn:too-big")}
    messages = " ".join(str(f) for f in first.failures)
    assert "304 without a Location" in messages and "exceeds the 19.5 KiB input limit" in messages
    assert first.new_documents == 3 + 3  # the good feed, and the odd but readable items
    with store.transaction("read") as session:
        titles = {row.title: row for row in session.scalars(select(DocumentRow))}
    assert {title for _, title, _, _ in ITEMS} <= set(titles)
    assert titles["urn:year-one"].published is None  # year 1 is no publication date
    assert "\ufffd" in titles["Troops \ufffd move"].clean_text
    assert len(titles["urn:long"].clean_text) > 5_000  # stored whole, analysed up to the limit
    # Nothing hostile is read again; the failing sources wait out their back-off.
    assert second.new_items == 0 and second.failures == []
    assert set(second.backing_off) == {server.url("/not-modified"), server.url("/bad-location")}
