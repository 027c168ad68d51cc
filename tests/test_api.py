"""The JSON API (borderwatch.web): filters, pagination, 404s, security headers, the token-guarded
ingest endpoint and the OpenAPI description, over a real SQLite store filled by the real pipeline.

One article is hostile: its title, body, URL and a critical site's name (a user site layer) carry
script payloads. The API hands them back as data; the browser test checks that nothing runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from borderwatch.assess.cluster import assign_clusters
from borderwatch.config import Config, WebConfig, load_config
from borderwatch.errors import ConfigError
from borderwatch.ingest import document_from_record
from borderwatch.pipeline import Pipeline
from borderwatch.store import open_store
from borderwatch.web import create_app
from borderwatch.web.app import CONTENT_SECURITY_POLICY
from conftest import needs_gazetteer

pytestmark = needs_gazetteer

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
JS_URL = "javascript:alert(1)"
TOKEN = "test-token-0123456789"

ARTICLES: list[dict[str, Any]] = [
    {
        "id": "gomel",
        "title": "Belarus masses troops in Gomel region",
        "url": "https://news.example.test/2024/09/02/gomel",
        "published": "2024-09-02",
        "text": "Ukraine's foreign ministry on Sunday accused Belarus of concentrating troops and tanks in "
        "the Gomel region, close to the border with Ukraine. Kyiv called on Minsk to withdraw the "
        "units from the frontier.",
    },
    {
        "id": "hostile",
        "title": f"Shelling of Kupiansk {SCRIPT} {IMG}",
        "url": JS_URL,
        "published": "2024-09-03",
        "text": f"Russian forces shelled the Ukrainian town of Kupiansk in the Kharkiv region on Tuesday, "
        f"{SCRIPT} local officials said. {IMG} Ukraine accused Russia of targeting civilians in "
        f"Kupiansk. Read more at {JS_URL} today.",
    },
    {
        "id": "brest",
        "title": "Poland reinforces its border with Belarus",
        "url": "https://other.example.test/brest",
        "published": "2024-09-04",
        "text": "In February 2022 Russian forces crossed from Belarus into northern Ukraine and advanced "
        "towards Kyiv. On Wednesday Poland deployed additional troops to its border with Belarus near "
        "Brest.",
    },
    {
        "id": "grodno",
        "title": "Minsk denies troop moves near Grodno",
        "url": "https://third.example.test/grodno",
        "published": "2024-09-05",
        "text": "Belarus denied on Thursday that its troops had moved to the border with Lithuania near "
        "Grodno, the defence ministry in Minsk said.",
    },
]

HOSTILE_SITE = f"hostile-dam,{IMG} {SCRIPT},dam,UKR,49.75,37.55,operating,test layer\n"


def site_layer(folder: Path) -> Path:
    path = folder / "hostile_sites.csv"
    path.write_text("id,name,kind,country,lat,lon,status,source\n" + HOSTILE_SITE, encoding="utf-8")
    return path


def build_store(folder: Path) -> tuple[str, Config]:
    """A SQLite store holding ARTICLES as `borderwatch run` would store them, and its config."""
    config = Config()
    config = replace(config, geo=replace(config.geo, site_files=(str(site_layer(folder)),)))
    url = f"sqlite:///{folder / 'web.sqlite'}"
    store = open_store(url)
    documents = [document_from_record(a, a["id"], config.ingest) for a in ARTICLES]
    for analysis in Pipeline(config).analyse(documents):
        assert analysis.error is None, analysis.error
        assign_clusters(store, store.save(analysis).doc_id)
    store.close()
    return url, config


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Config]:
    return build_store(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def client(store_url: tuple[str, Config]) -> Iterator[TestClient]:
    url, config = store_url
    with TestClient(create_app(url, config)) as test_client:
        yield test_client


@pytest.fixture
def ingest_client(tmp_path: Path, store_url: tuple[str, Config]) -> Iterator[TestClient]:
    """An app over a fresh store with ingest enabled by a token."""
    _url, config = store_url
    with TestClient(create_app(f"sqlite:///{tmp_path / 'ingest.sqlite'}", config, ingest_token=TOKEN)) as c:
        yield c


def events(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/events", params=params)
    assert response.status_code == 200, response.text
    return response.json()


# --- events ----------------------------------------------------------------------------------


def test_events_lists_current_events_newest_first(client: TestClient) -> None:
    found = events(client)["events"]
    assert {e["type"] for e in found} >= {"MOBILIZE", "ACCUSE", "FIGHT"}
    assert not any(e["historical"] for e in found)
    starts = [e["date"]["start"] for e in found if e["date"]["start"]]
    assert starts == sorted(starts, reverse=True)
    first = found[0]
    assert {"id", "doc", "title", "urls", "evidence", "place", "claim"} <= set(first)
    assert all(item["text"] for e in found for item in e["evidence"])


def test_events_page_by_cursor_as_by_offset(client: TestClient) -> None:
    everything = [e["id"] for e in events(client, limit="1000")["events"]]
    first = events(client, limit="2")
    second = events(client, limit="2", after=first["next"])
    assert first["next"] and [e["id"] for e in first["events"] + second["events"]] == everything[:4]
    assert client.get("/api/events", params={"after": "bogus"}).status_code == 422


def test_historical_events_only_on_request(client: TestClient) -> None:
    current = events(client)["events"]
    everything = events(client, historical="true")["events"]
    historical = [e for e in everything if e["historical"]]
    assert historical and len(everything) == len(current) + len(historical)
    assert historical[0]["date"]["start"].startswith("2022")


def test_type_filter_is_repeatable(client: TestClient) -> None:
    mobilize = events(client, type="MOBILIZE")["events"]
    assert mobilize and {e["type"] for e in mobilize} == {"MOBILIZE"}
    both = events(client, type=["mobilize", "FIGHT"])["events"]
    assert {e["type"] for e in both} == {"MOBILIZE", "FIGHT"}
    assert client.get("/api/events", params={"type": "NOPE"}).status_code == 422


def test_country_date_and_text_filters(client: TestClient) -> None:
    polish = events(client, country="pol")["events"]
    assert polish and all(
        "POL" in [a["code"] for a in e["actors"] + e["recipients"]] or e["place"]["country"] == "POL"
        for e in polish
    )
    dated = events(client, since="2024-09-03", until="2024-09-03")["events"]
    assert dated and {e["date"]["start"][:10] for e in dated} == {"2024-09-03"}
    kupiansk = events(client, text="kupiansk")["events"]
    assert kupiansk
    assert all("kupiansk" in " ".join(x["text"] for x in e["evidence"]).lower() for e in kupiansk)
    assert client.get("/api/events", params={"since": "yesterday"}).status_code == 422


def border_of(event: dict[str, Any]) -> set[str | None]:
    return {(event["place"] or {}).get("country"), (event["proximity"] or {}).get("border_with")}


def test_border_pair_filter_uses_the_place_country_and_its_neighbour(client: TestClient) -> None:
    pair = events(client, border="BLR-UKR")["events"]
    assert pair and all(border_of(e) == {"BLR", "UKR"} for e in pair)
    assert {e["type"] for e in pair} >= {"MOBILIZE"}
    assert [e["id"] for e in events(client, border="ukr-blr")["events"]] == [e["id"] for e in pair]
    everything = events(client, historical="true", limit=1000)["events"]
    expected = {e["id"] for e in everything if border_of(e) == {"BLR", "UKR"}}
    with_history = events(client, border="BLR-UKR", historical="true")["events"]
    assert {e["id"] for e in with_history} == expected
    assert any(e["historical"] for e in with_history) and not any(e["historical"] for e in pair)
    polish = events(client, border="BLR-POL")["events"]
    assert polish and not {e["id"] for e in polish} & expected
    assert events(client, border="FIN-NOR")["events"] == []
    places = client.get("/api/places", params={"border": "BLR-UKR"}).json()["features"]
    assert places and {f["properties"]["event"] for f in places} <= {e["id"] for e in pair}
    for bad in ("BLR", "BLR-UKR-POL", "BLR-BLR", "B1R-UKR"):
        assert client.get("/api/events", params={"border": bad}).status_code == 422, bad


def test_claimant_and_stance_filters(client: TestClient) -> None:
    everything = events(client, limit=1000)["events"]
    by_ukraine = events(client, claimant="ukr")["events"]
    assert by_ukraine and all(e["claim"]["claimant"]["code"] == "UKR" for e in by_ukraine)
    assert {e["id"] for e in by_ukraine} == {
        e["id"] for e in everything if (e["claim"]["claimant"] or {}).get("code") == "UKR"
    }
    for stance in ("asserted", "alleged", "denied"):
        found = events(client, stance=stance)["events"]
        assert found, stance
        assert {e["id"] for e in found} == {e["id"] for e in everything if e["claim"]["stance"] == stance}
    (denial,) = events(client, stance="denied", claimant="BLR")["events"]
    assert denial["type"] == "MOBILIZE" and "denied" in denial["evidence"][0]["text"]
    (gomel,) = events(client, border="UKR-BLR", claimant="UKR", stance="alleged")["events"]
    assert gomel["type"] == "MOBILIZE" and gomel["place"]["admin1"] == "BY-HO"
    assert client.get("/api/events", params={"stance": "rumoured"}).status_code == 422
    assert client.get("/api/events", params={"claimant": "<script>"}).status_code == 422


def test_places_hide_historical_events_by_default(client: TestClient) -> None:
    default = client.get("/api/places").json()["features"]
    everything = client.get("/api/places", params={"historical": "true"}).json()["features"]
    assert default and not any(f["properties"]["historical"] for f in default)
    assert any(f["properties"]["historical"] for f in everything)


def test_pagination_walks_every_event_once(client: TestClient) -> None:
    everything = events(client, limit=1000)
    assert everything["next_offset"] is None
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = events(client, limit=2, offset=offset)
        assert len(page["events"]) <= 2
        seen += [e["id"] for e in page["events"]]
        offset = page["next_offset"]
    assert seen == [e["id"] for e in everything["events"]]
    assert client.get("/api/events", params={"limit": 1001}).status_code == 422
    assert client.get("/api/events", params={"offset": -1}).status_code == 422


def test_one_event_and_its_document(client: TestClient) -> None:
    mobilize = events(client, type="MOBILIZE", text="Gomel")["events"][0]
    record = client.get(f"/api/events/{mobilize['id']}").json()
    assert record["id"] == mobilize["id"] and record["type"] == "MOBILIZE"
    assert record["place"]["admin1"] == "BY-HO"
    assert "cluster" in record
    doc = client.get(f"/api/documents/{record['doc']}").json()
    assert doc["urls"] == [ARTICLES[0]["url"]]
    assert record["id"] in doc["events"]
    for item in record["evidence"]:
        assert doc["clean_text"][item["start"]:item["end"]] == item["text"]
    assert isinstance(doc["removed"], list)


def test_unknown_ids_are_404(client: TestClient) -> None:
    assert client.get("/api/events/0000").status_code == 404
    assert client.get("/api/documents/0000").status_code == 404
    assert client.get("/api/nothing").status_code == 404


def test_hostile_text_comes_back_verbatim_as_data(client: TestClient) -> None:
    hostile = events(client, text="Kupiansk")["events"][0]
    assert SCRIPT in hostile["title"] and IMG in hostile["title"]
    assert hostile["urls"] == [JS_URL]
    doc = client.get(f"/api/documents/{hostile['doc']}").json()
    assert SCRIPT in doc["clean_text"] and IMG in doc["clean_text"]
    sites = client.get("/api/sites").json()["features"]
    assert any(f["properties"]["name"] == f"{IMG} {SCRIPT}" for f in sites)


# --- assessment ------------------------------------------------------------------------------


def test_clusters_and_alerts(client: TestClient) -> None:
    clusters = client.get("/api/clusters").json()
    assert clusters["total"] == len(clusters["clusters"]) > 0
    assert all(c["events"] and c["documents"] for c in clusters["clusters"])
    alerts = client.get("/api/alerts").json()
    assert alerts["total"] >= 1
    alert = alerts["alerts"][0]
    assert {"id", "rule", "severity", "as_of", "border", "explanation", "evidence", "event_ids"} <= set(alert)
    assert any(a["border"] == "BLR-UKR" for a in alerts["alerts"])
    current = {e["id"] for e in events(client, limit=1000)["events"]}
    assert all(set(a["event_ids"]) <= current for a in alerts["alerts"])


def test_indicators_per_border_with_baseline(client: TestClient) -> None:
    borders = client.get("/api/indicators").json()["borders"]
    assert "BLR-UKR" in {b["border"] for b in borders}
    series = client.get("/api/indicators", params={"border": "UKR-BLR"}).json()
    assert series["border"] == "BLR-UKR" and series["baseline_days"] == 30
    days = series["days"]
    total = next(b["events"] for b in borders if b["border"] == "BLR-UKR")
    assert days and sum(d["total"] for d in days) == total
    assert days[0]["mean30"] == 0
    assert all(d["total"] == sum(d["counts"].values()) for d in days)
    assert client.get("/api/indicators", params={"border": "nope"}).status_code == 422
    assert client.get("/api/indicators", params={"border": "AAA-BBB"}).json()["days"] == []


# --- geography -------------------------------------------------------------------------------


def test_places_are_geojson_with_regions_as_polygons(client: TestClient) -> None:
    places = client.get("/api/places").json()
    assert places["type"] == "FeatureCollection" and places["features"]
    by_admin1 = {f["properties"]["admin1"]: f for f in places["features"]}
    gomel = next(f for f in places["features"] if f["properties"]["admin1"] == "BY-HO"
                 and f["properties"]["precision"] == 2)
    assert gomel["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert gomel["properties"]["area"] and gomel["properties"]["radius_km"] > 50
    kupiansk = by_admin1["UA-63"]
    assert kupiansk["geometry"]["type"] == "Point"
    assert {"event", "type", "radius_km", "name"} <= set(kupiansk["properties"])
    mobilize_only = client.get("/api/places", params={"type": "MOBILIZE"}).json()["features"]
    assert mobilize_only and {f["properties"]["type"] for f in mobilize_only} == {"MOBILIZE"}


def test_sites_and_borders(client: TestClient) -> None:
    sites = client.get("/api/sites").json()["features"]
    assert any(f["properties"]["id"] == "hostile-dam" for f in sites)
    assert sum(f["properties"]["kind"] == "nuclear-power-plant" for f in sites) > 10
    response = client.get("/api/borders")
    assert response.headers["content-type"].startswith("application/geo+json")
    countries = {f["properties"]["iso3"]: f for f in response.json()["features"]}
    assert {"BLR", "UKR", "POL", "RUS"} <= set(countries)
    assert countries["UKR"]["geometry"]["type"] in ("Polygon", "MultiPolygon")


# --- security, page, OpenAPI -----------------------------------------------------------------


def assert_security_headers(response: Any, policy: str = CONTENT_SECURITY_POLICY) -> None:
    assert response.headers["content-security-policy"] == policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("path", ["/", "/api/events", "/api/events/0000", "/static/app.js", "/openapi.json",
                                  "/vendor/leaflet/leaflet.js", "/api/nothing", "/static/nothing.js",
                                  "/api/events?limit=0", "/api/borders", "/api/places?border=BLR-UKR"])
def test_every_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert_security_headers(response)


def test_host_check_refusals_and_server_errors_carry_the_security_headers(
    store_url: tuple[str, Config],
) -> None:
    url, config = store_url
    app = create_app(url, config, allowed_hosts=["127.0.0.1"])

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("planted failure")

    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as local:
        assert local.get("/api/meta").status_code == 200
        refused = local.get("/api/meta", headers={"Host": "attacker.example"})
        assert refused.status_code == 400
        assert_security_headers(refused)
        assert_security_headers(local.get("/", headers={"Host": "attacker.example"}))
        failed = local.get("/boom")
        assert failed.status_code == 500 and "planted" not in failed.text
        assert_security_headers(failed)


# --- configuration: the optional tile server -------------------------------------------------

OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def test_web_table_is_read_from_the_configuration(tmp_path: Path) -> None:
    path = tmp_path / "bw.toml"
    path.write_text(f'[web]\ntile_url = "{OSM}"\ntile_attribution = "© OpenStreetMap contributors"\n'
                    '[watch]\nfeeds = []\n', encoding="utf-8")
    web = load_config(path).web
    assert web.tile_url == OSM and web.tile_attribution == "© OpenStreetMap contributors"
    assert web.tile_origin == "https://tile.openstreetmap.org"
    assert load_config(None).web.tile_url is None
    for bad in ('tile_url = "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"',
                'tile_url = "javascript:alert(1)//{z}/{x}/{y}"', 'tile_url = "https://a.test/{z}/{x}.png"',
                "tile_url = \"https://a.test';img-src *;/{z}/{x}/{y}\"", 'tile_zoom = 3'):
        path.write_text(f"[web]\n{bad}\n", encoding="utf-8")
        with pytest.raises(ConfigError):
            load_config(path)


def test_without_a_tile_url_the_policy_allows_nothing_external(client: TestClient) -> None:
    assert client.get("/api/meta").json()["tiles"] is None
    for path in ("/", "/api/events", "/static/app.js"):
        policy = client.get(path).headers["content-security-policy"]
        assert policy == CONTENT_SECURITY_POLICY, path
        assert "img-src 'self' data:;" in policy
        assert "http" not in policy and "*" not in policy


def test_a_tile_url_allows_exactly_its_origin(store_url: tuple[str, Config]) -> None:
    url, config = store_url
    config = replace(config, web=WebConfig(tile_url=OSM, tile_attribution="© OpenStreetMap"))
    with TestClient(create_app(url, config)) as online:
        policy = online.get("/").headers["content-security-policy"]
        assert "img-src 'self' data: https://tile.openstreetmap.org;" in policy
        assert policy.replace(" https://tile.openstreetmap.org", "") == CONTENT_SECURITY_POLICY
        assert online.get("/api/nothing").headers["content-security-policy"] == policy
        assert online.get("/api/meta").json()["tiles"] == {"url": OSM, "attribution": "© OpenStreetMap"}


def test_page_has_no_inline_script_or_style(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<style" not in html and "style=" not in html and " on" not in html.replace("\n", " ").lower()
    scripts = html.count("<script")
    assert scripts == html.count('<script src="/') == 2
    assert "http://" not in html and "https://" not in html
    for asset in ("/static/app.js", "/static/app.css", "/vendor/leaflet/leaflet.js",
                  "/vendor/leaflet/leaflet.css"):
        assert client.get(asset).status_code == 200, asset


def test_page_script_writes_text_only() -> None:
    script = (Path(__file__).resolve().parents[1] / "src/borderwatch/web/static/app.js").read_text()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script, sink


def test_openapi_lists_the_paths(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {
        "/api/events", "/api/events/{event_id}", "/api/documents/{doc_id}", "/api/clusters", "/api/alerts",
        "/api/indicators", "/api/places", "/api/sites", "/api/borders", "/api/ingest",
    } <= set(spec["paths"])
    names = {p["name"] for p in spec["paths"]["/api/events"]["get"]["parameters"]}
    assert {"type", "country", "since", "until", "text", "historical", "border", "claimant", "stance",
            "limit", "offset"} <= names
    assert client.get("/docs").status_code == 404  # its CDN scripts would break the CSP


# --- ingest ----------------------------------------------------------------------------------

ARTICLE = {
    "text": "Belarus moved troops and artillery to the Brest region near the border with Poland on Monday, "
    "the Polish defence ministry said.",
    "url": "https://feed.example.test/brest-artillery",
    "title": "Artillery near Brest",
    "published": "2024-09-09",
}


def test_ingest_is_disabled_without_a_configured_token(client: TestClient) -> None:
    response = client.post("/api/ingest", json=ARTICLE, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 403 and "disabled" in response.json()["detail"]


def test_ingest_refuses_a_missing_or_wrong_token(ingest_client: TestClient) -> None:
    assert ingest_client.post("/api/ingest", json=ARTICLE).status_code == 403
    for header in (f"Bearer {TOKEN}x", "Bearer ", TOKEN, f"Basic {TOKEN}"):
        response = ingest_client.post("/api/ingest", json=ARTICLE, headers={"Authorization": header})
        assert response.status_code == 403, header
    assert events(ingest_client)["events"] == []


def test_ingest_with_the_token_stores_the_article(ingest_client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    response = ingest_client.post("/api/ingest", json=ARTICLE, headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["new_document"] and body["events_added"] == len(body["events"]) > 0
    stored = events(ingest_client)["events"]
    assert {e["id"] for e in stored} == set(body["events"])
    assert stored[0]["urls"] == [ARTICLE["url"]]
    again = ingest_client.post("/api/ingest", json=ARTICLE, headers=auth).json()
    assert not again["new_document"] and again["events_added"] == 0
    bad = ingest_client.post("/api/ingest", json={"text": "   "}, headers=auth)
    assert bad.status_code == 422
    assert ingest_client.post("/api/ingest", json={"text": "x", "html": "y"}, headers=auth).status_code == 422
    assert ingest_client.post("/api/ingest", json={"body": "x"}, headers=auth).status_code == 422


# --- hostile requests: 4xx with the headers, never 500; ingest refused before it is read -------


@pytest.mark.parametrize("query", [
    "/api/events?offset=9223372036854775808", "/api/places?offset=9223372036854775808",
    "/api/clusters?offset=-1", "/api/alerts?offset=99999999999999999999", "/api/events?limit=0",
    "/api/events?limit=1001", "/api/places?limit=10000000", "/api/events?since=2024-13-45",
    "/api/events?until=not-a-date", "/api/events?type=NOTATYPE", "/api/events?border=XXX-XXX",
    "/api/events?stance=maybe", "/api/events?claimant=%00%ff", "/api/events?text=" + "x" * 500,
    "/api/indicators?border=" + "A" * 5000, "/api/events?historical=perhaps",
])
def test_hostile_parameters_are_4xx_with_the_security_headers(client: TestClient, query: str) -> None:
    response = client.get(query)
    assert 400 <= response.status_code < 500, (query, response.status_code)
    assert_security_headers(response)


@pytest.mark.parametrize("query", ["/api/events?until=9999-12-31&since=0001-01-01", "/api/events?foo=bar",
                                   "/api/places?since=0001-01-01", f"/api/events?offset={1_000_000_000}"])
def test_extreme_but_valid_parameters_answer(client: TestClient, query: str) -> None:
    response = client.get(query)
    assert response.status_code == 200, response.text
    assert_security_headers(response)


class CountingStream:
    """A request body that counts how much of it the server pulled."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.read = 0

    def __iter__(self) -> Iterator[bytes]:
        while self.read < self.size:
            self.read += 65536
            yield b" " * 65536


def test_ingest_is_refused_before_its_body_is_read(ingest_client: TestClient) -> None:
    for headers, status in (({}, 403), ({"Authorization": "Bearer wrong"}, 403)):
        body = CountingStream(50 * 2**20)
        response = ingest_client.post("/api/ingest", content=body,
                                      headers={**headers, "Content-Length": str(body.size)})
        assert response.status_code == status
        assert body.read <= 65536, "the server read the body of a request it refused"
        assert_security_headers(response)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    big = CountingStream(1 << 30)
    response = ingest_client.post("/api/ingest", content=big,
                                  headers={**auth, "Content-Length": str(big.size)})
    assert response.status_code == 413 and big.read <= 65536
    assert_security_headers(response)
    chunked = ingest_client.post("/api/ingest", content=CountingStream(100), headers=auth)
    assert chunked.status_code == 411


def test_hostile_ingest_bodies_are_4xx(ingest_client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    for body in ("[" * 100_000, '{"text": ' + "9" * 5000 + "}", '{"text": "x", "published": 1}', "\xff"):
        response = ingest_client.post("/api/ingest", content=body.encode("utf-8", "surrogateescape"),
                                      headers=auth)
        assert 400 <= response.status_code < 500, (body[:20], response.status_code)
    odd = {"text": "Troops \ud800 moved near Brest on Monday, officials said.", "published": "0001-01-01"}
    response = ingest_client.post("/api/ingest", content=json.dumps(odd), headers=auth)  # "\\ud800" escaped
    assert response.status_code == 200, response.text
