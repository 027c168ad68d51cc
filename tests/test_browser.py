"""The map page in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright):
the events are on the map, clicking one shows its evidence highlighted in the article, the filters
live in the URL, and the payloads planted in titles, bodies, URLs and a site name execute nothing.

Screenshots go to out/screenshots/ (CI keeps out/).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from borderwatch.web import create_app
from conftest import needs_gazetteer
from test_api import IMG, JS_URL, SCRIPT, build_store

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "out" / "screenshots"
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
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app under uvicorn on a free loopback port, in a thread."""
    url, config = build_store(tmp_path_factory.mktemp("browser"))
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


@pytest.fixture
def watched(browser_context: Any) -> Iterator[Watched]:
    page = browser_context.new_page()
    yield Watched(page)
    page.close()


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
    page.wait_for_function("location.search.includes('type=MOBILIZE')")  # replaceState: no navigation
    assert "historical=1" in page.url
    page.wait_for_function(
        "[...document.querySelectorAll('#events .badge')].every(b => b.textContent === 'MOBILIZE')"
    )

    page.check("#f-rings")
    assert page.locator("path.bw-ring").count() >= 3
    assert "rings=1" in page.url
    shot(page, "04-filters-and-rings")
    watched.assert_nothing_ran()

