"""The map page in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright):
the events are on the map, clicking one shows its evidence highlighted in the article, the filters
live in the URL, and the payloads planted in titles, bodies, URLs and a site name execute nothing.

A last test builds the store the way `make run` does (the samples, then the seed article from
../shared) and serves it with the real `borderwatch serve` command: the page shows the sample events
and the seed's alert on the map without a single request leaving the server.

Screenshots go to $BORDERWATCH_ARTIFACTS when set (CI keeps that folder), else out/screenshots/.
"""

from __future__ import annotations

import http.server
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from borderwatch.config import Config, WebConfig
from borderwatch.web import create_app
from conftest import SEED, Cli, needs_gazetteer, private_data_home
from test_api import IMG, JS_URL, SCRIPT, build_store

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("BORDERWATCH_ARTIFACTS") or ROOT / "out" / "screenshots")
"""Where CI collects artifacts when it says so; otherwise the repository's ignored out/ folder."""
SEED_PUBLISHED = "2024-08-25"
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]

pytestmark = [
    needs_gazetteer,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not at /usr/bin/chromium (apt-get install chromium; .ci/run does)",
    ),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) is not installed")

TRAP = """
window.__fired = [];
for (const name of ["alert", "confirm", "prompt"]) {
  window[name] = function (...args) { window.__fired.push(name + ":" + args.join(",")); };
}
"""
"""Installed before any page script: a payload that calls alert() is recorded instead."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Config]:
    return build_store(tmp_path_factory.mktemp("browser"))


def serve(url: str, config: Config) -> Iterator[str]:
    """The real app under uvicorn on a free loopback port, in a thread."""
    port = free_port()
    app = create_app(url, config, allowed_hosts=["127.0.0.1"])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def base_url(built: tuple[str, Config]) -> Iterator[str]:
    yield from serve(*built)


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    profile = tmp_path_factory.mktemp("chromium-profile")
    with playwright_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=FLAGS,
            viewport={"width": 1400, "height": 900},
        )
        yield context
        context.close()


class Watched:
    """A page with everything suspicious it did recorded: dialogs, page errors, CSP reports."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.console: list[str] = []
        self.requests: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: self.console.append(m.text) if m.type in ("error", "warning") else None)
        page.add_init_script(TRAP)

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_selector("body[data-ready='1']", timeout=20000)

    def assert_nothing_ran(self) -> None:
        assert self.dialogs == []
        assert self.page.evaluate("window.__fired") == []
        assert self.errors == []
        assert not [m for m in self.console if "Content Security Policy" in m], self.console
        # the planted markup never became elements
        assert self.page.locator("img[src='x']").count() == 0
        assert self.page.locator("script").count() == 2
        assert self.page.locator("a[href^='javascript']").count() == 0

    def assert_offline(self, origin: str) -> None:
        """Every request the page made went to its own server."""
        assert self.requests and all(u.startswith(origin + "/") or u.startswith("data:")
                                     for u in self.requests), self.requests


@pytest.fixture
def watched(browser_context: Any) -> Iterator[Watched]:
    page = browser_context.new_page()
    yield Watched(page)
    page.close()


def wait_until(page: Any, expression: str, timeout: float = 20) -> None:
    """Poll a page expression from outside: Playwright's own wait_for_function evaluates strings
    inside the page, which the page's CSP (no 'unsafe-eval') rightly refuses."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        time.sleep(0.05)


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_map_shows_events_and_the_panel_highlights_the_evidence(watched: Watched, base_url: str) -> None:
    page = watched.page
    watched.open(base_url + "/")
    assert page.locator("path.bw-event").count() >= 3
    assert page.locator("path.bw-type-MOBILIZE").count() >= 1
    assert page.locator("path.bw-alerted").count() >= 1, "the alert's events are marked on the map"
    assert page.locator("path.bw-border").count() > 50, "country borders are drawn"
    assert page.locator(".site-icon").count() > 10
    assert page.locator("#alerts li.alert").count() >= 1
    assert page.locator("#timeline svg rect.bar").count() >= 1
    shot(page, "01-overview")

    page.locator("#events li.event", has_text="Gomel").filter(has_text="MOBILIZE").first.click()
    panel = page.locator("#panel")
    panel.wait_for(state="visible")
    marks = page.locator("#panel-text mark")
    marks.first.wait_for()
    highlighted = " ".join(marks.all_text_contents())
    assert "concentrating troops and tanks in the Gomel region" in highlighted
    assert page.locator("#panel-sources a").first.get_attribute("href").startswith("https://")
    assert "event=" in page.url
    shot(page, "02-event-panel")
    watched.assert_nothing_ran()


def test_planted_payloads_are_shown_as_text_and_never_run(watched: Watched, base_url: str) -> None:
    page = watched.page
    watched.open(base_url + "/")
    # open the hostile article's event from the map itself
    page.locator("path.bw-type-FIGHT").first.dispatch_event("click")
    page.locator("#panel").wait_for(state="visible")
    page.locator("#panel-text mark").first.wait_for()
    assert SCRIPT in page.locator("#panel-title").text_content()
    assert IMG in page.locator("#panel-title").text_content()
    assert SCRIPT in page.locator("#panel-text").text_content()
    assert IMG in page.locator("#panel-facts").text_content(), "the hostile site's name, as text"
    sources = page.locator("#panel-sources")
    assert JS_URL in sources.text_content() and sources.locator("a").count() == 0
    assert page.locator("#events li.event .title", has_text=SCRIPT).count() >= 1
    shot(page, "03-payloads-as-text")
    watched.assert_nothing_ran()


def test_filters_live_in_the_url(watched: Watched, base_url: str) -> None:
    page = watched.page
    watched.open(base_url + "/?type=FIGHT")
    assert page.locator("#f-type").input_value() == "FIGHT"
    types = page.locator("#events li.event .badge").all_text_contents()
    assert types and set(types) == {"FIGHT"}
    assert page.locator("path.bw-event").count() == page.locator("path.bw-type-FIGHT").count()

    page.select_option("#f-type", "MOBILIZE")
    page.check("#f-historical")
    page.click("#filters button[type=submit]")
    wait_until(page, "location.search.includes('type=MOBILIZE')")  # replaceState: no navigation
    assert "historical=1" in page.url
    wait_until(page,
        "[...document.querySelectorAll('#events .badge')].every(b => b.textContent === 'MOBILIZE')"
    )

    page.check("#f-rings")
    assert page.locator("path.bw-ring").count() >= 3
    assert "rings=1" in page.url
    shot(page, "04-filters-and-rings")
    watched.assert_nothing_ran()


def listed(page: Any) -> list[tuple[str, str]]:
    """(id, type) of the events in the side list."""
    items = page.locator("#events li.event")
    return [(items.nth(i).get_attribute("data-id"), items.nth(i).locator(".badge").text_content())
            for i in range(items.count())]


def test_border_claimant_and_stance_filters_from_a_shared_url(watched: Watched, base_url: str) -> None:
    page = watched.page
    found = httpx.get(base_url + "/api/events", params={"type": "MOBILIZE", "text": "Gomel"}).json()
    gomel = found["events"][0]
    watched.open(base_url + "/?border=UKR-BLR&claimant=UKR&stance=alleged")
    assert page.locator("#f-border").input_value() == "UKR-BLR"
    assert page.locator("#f-claimant").input_value() == "UKR"
    assert page.locator("#f-stance").input_value() == "alleged"
    assert listed(page) == [(gomel["id"], "MOBILIZE")]
    assert page.locator("path.bw-event").count() == page.locator(f"path.bw-ev-{gomel['id']}").count() >= 1
    assert page.locator("#t-border").input_value() == "BLR-UKR", "the timeline follows the border filter"
    shot(page, "05-border-claimant-stance")

    page.fill("#f-border", "")
    page.fill("#f-claimant", "blr")
    page.select_option("#f-stance", "denied")
    page.click("#filters button[type=submit]")
    wait_until(page, "location.search.includes('stance=denied')")
    assert "claimant=BLR" in page.url and "border=" not in page.url
    wait_until(page, "document.querySelectorAll('#events li.event').length === 1"
                           " && document.querySelector('#events .title').textContent.includes('Grodno')")
    assert [t for _, t in listed(page)] == ["MOBILIZE"]
    watched.assert_nothing_ran()
    watched.assert_offline(base_url)


def test_historical_events_are_hidden_unless_asked_for(watched: Watched, base_url: str) -> None:
    page = watched.page
    watched.open(base_url + "/")
    assert not page.locator("#f-historical").is_checked()
    assert listed(page) and page.locator("#events .flag-historical").count() == 0
    everything = httpx.get(base_url + "/api/events", params={"historical": "true"}).json()["events"]
    historical = [e["id"] for e in everything if e["historical"]]
    assert historical, "the store has background events to hide"
    assert not {i for i, _ in listed(page)} & set(historical)
    watched.open(base_url + "/?historical=1")
    assert page.locator("#f-historical").is_checked()
    assert {i for i, _ in listed(page)} >= set(historical)
    assert page.locator("#events .flag-historical").count() == len(historical)


# --- an online basemap, when configured -------------------------------------------------------


def png(width: int = 256, height: int = 256) -> bytes:
    """A plain light-grey PNG tile."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xdd\xdd\xdd" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


REFERERS: list[str | None] = []


@pytest.fixture(scope="module")
def tile_server() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP tile server on another loopback port (another origin); records the paths asked
    and the Referer each request carried."""
    asked: list[str] = []
    tile = png()

    class Tiles(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            REFERERS.append(self.headers.get("Referer"))
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(tile)))
            self.end_headers()
            self.wfile.write(tile)

        def log_message(self, *_args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()
    thread.join(timeout=10)


def test_a_configured_tile_server_is_drawn_and_allowed_by_the_policy(
    watched: Watched, built: tuple[str, Config], tile_server: tuple[str, list[str]],
) -> None:
    tiles, asked = tile_server
    url, config = built
    online = replace(config, web=WebConfig(tile_url=tiles + "/{z}/{x}/{y}.png",
                                           tile_attribution=f"Test tiles {IMG}"))
    for base in serve(url, online):
        page = watched.page
        watched.open(base + "/")
        wait_until(page, "[...document.querySelectorAll('img.leaflet-tile')]"
                         ".some(i => i.complete && i.naturalWidth === 256)")
        assert asked and all(p.endswith(".png") and p.count("/") == 3 for p in asked)
        loaded = page.locator("img.leaflet-tile").evaluate_all(
            "imgs => imgs.filter(i => i.naturalWidth === 256).map(i => i.src)")
        assert loaded and all(src.startswith(tiles + "/") for src in loaded)
        attribution = page.locator(".leaflet-control-attribution").text_content()
        assert f"Test tiles {IMG}" in attribution, "the credit is shown as text"
        shot(page, "06-tile-layer")
        watched.assert_nothing_ran()
        assert {u.split("/")[2] for u in watched.requests} == {base.split("/")[2], tiles.split("/")[2]}
        # Tile servers want a Referer (OpenStreetMap's refuses tiles without one): the origin only.
        assert REFERERS and set(REFERERS) == {base + "/"}


def test_without_a_tile_url_the_page_requests_nothing_elsewhere(watched: Watched, base_url: str) -> None:
    watched.open(base_url + "/?rings=1")
    assert watched.page.locator("img.leaflet-tile").count() == 0
    watched.assert_offline(base_url)


# --- the newcomer's path: make run, then borderwatch serve -----------------------------------


def test_make_run_reads_the_seed_at_its_publication_date_and_says_how_to_serve() -> None:
    """The store below is built as the Makefile's run recipe builds it; keep the two in step."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "$(wildcard ../shared/seed)" in makefile
    assert f"SEED_PUBLISHED := {SEED_PUBLISHED}" in makefile
    assert "borderwatch run samples/sample.input.jsonl samples/files --db $(OUT)/sample.sqlite" in recipe
    assert "borderwatch run $(SEED) --published $(SEED_PUBLISHED) --db $(OUT)/sample.sqlite" in recipe
    assert "borderwatch serve --db $(OUT)/sample.sqlite" in recipe


@pytest.fixture(scope="module")
def make_run_store(make_cli: Callable[[], Cli], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """out/sample.sqlite as `make run` builds it: the samples, then ../shared/seed at its date."""
    if not SEED.exists():
        pytest.skip(f"the seed article is not at {SEED} (../shared is absent): make run skips it too")
    db = tmp_path_factory.mktemp("make-run") / "sample.sqlite"
    cli = make_cli()
    samples = cli("run", ROOT / "samples" / "sample.input.jsonl", ROOT / "samples" / "files", "--db", db)
    assert samples.exit_code == 0, samples.output
    seed = cli("run", SEED.parent, "--published", SEED_PUBLISHED, "--db", db)
    assert seed.exit_code == 0, seed.output
    return db


@pytest.fixture(scope="module")
def served(make_run_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`borderwatch serve --db ... --port ...` as a newcomer starts it, in its own process."""
    port = free_port()
    env = dict(os.environ, XDG_DATA_HOME=str(private_data_home(tmp_path_factory.mktemp("data-home"))))
    command = [str(Path(sys.executable).with_name("borderwatch")), "serve", "--db", str(make_run_store),
               "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "borderwatch serve did not answer within 60 s"
            try:
                if httpx.get(base + "/api/meta", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_make_run_then_serve_shows_the_samples_and_the_seed_alert(watched: Watched, served: str) -> None:
    api = httpx.Client(base_url=served)
    # the samples retell the seed's story: its document is the one whose text is the seed's own
    seed_text = SEED.read_text(encoding="utf-8")
    candidates = api.get("/api/events", params={"text": "guise of exercises", "type": "MOBILIZE"}).json()
    docs = [api.get(f"/api/documents/{e['doc']}").json() for e in candidates["events"]]
    (seed_doc,) = [d for d in docs if seed_text.startswith(d["clean_text"])]
    assert seed_doc["published"].startswith(SEED_PUBLISHED)
    seed_event = next(e for e in candidates["events"] if e["doc"] == seed_doc["id"])
    alerts = api.get("/api/alerts").json()["alerts"]
    seed_alerts = [a for a in alerts if any(ev["doc"] == seed_doc["id"] for ev in a["evidence"])]
    troops = next(a for a in seed_alerts if a["border"] == "BLR-UKR" and a["severity"] == "high"
                  and any("guise of exercises" in ev["text"] for ev in a["evidence"]))
    places = api.get("/api/places").json()["features"]
    located = {f["properties"]["event"] for f in places}
    assert len({f["properties"]["doc"] for f in places}) > 5, "the samples are on the map, not only the seed"

    page = watched.page
    watched.open(served + "/")
    alert_items = page.locator("#alerts li.alert", has_text=troops["explanation"])
    assert alert_items.count() == 1 and "BLR-UKR" in alert_items.text_content()
    for event_id in located:
        assert page.locator(f"path.bw-ev-{event_id}").count() >= 1, event_id
    seed_on_map = [e for e in seed_doc["events"] if e in located]
    assert seed_event["id"] in seed_on_map
    for event_id in set(troops["event_ids"]) & located:
        assert page.locator(f"path.bw-ev-{event_id}.bw-alerted").count() >= 1, event_id
    assert page.locator(f"path.bw-ev-{seed_event['id']}.bw-alerted").count() >= 1
    shot(page, "07-make-run-seed-alert")

    page.locator(f"path.bw-ev-{seed_event['id']}").first.dispatch_event("click")
    page.locator("#panel-text mark").first.wait_for()
    assert "guise of exercises" in " ".join(page.locator("#panel-text mark").all_text_contents())
    shot(page, "08-seed-evidence")
    watched.assert_nothing_ran()
    watched.assert_offline(served)

