"""The web application: a read-only JSON API over the store and the map page that draws it.

`create_app` builds a FastAPI app over one store. Everything is read-only except
`POST /api/ingest`, which runs the real pipeline and is refused (403) unless a bearer token was
configured. Every response, errors included, carries a strict Content-Security-Policy: the page
loads only its own scripts and styles (Leaflet is served from the installed npm package, never a
CDN) and images from itself, plus the one tile server `[web] tile_url` names, if any; the browser
code puts article-derived text into the page as text, never as markup.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
from concurrent.futures.process import BrokenProcessPool
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import shapely
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from borderwatch.config import Config
from borderwatch.errors import BorderwatchError, GeoError, IngestError
from borderwatch.models import EVENT_TYPES
from borderwatch.store import Store, StoredEvent, open_store
from borderwatch.store.records import decode_cursor, stored_event
from borderwatch.store.schema import DocumentRow, EventRow
from borderwatch.web.worker import IngestWorker

STATIC = Path(__file__).parent / "static"

def content_security_policy(tile_origin: str | None = None) -> str:
    """The page's policy: everything from this server only; images also from the tile server."""
    images = "'self' data:" + (f" {tile_origin}" if tile_origin else "")
    return (
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {images}; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )


CONTENT_SECURITY_POLICY = content_security_policy()
"""The policy without a tile server: nothing outside this server, ever."""


def security_headers(tile_origin: str | None = None) -> dict[str, str]:
    """Sent with every response: API, static files, 404s and the Host check's 400 alike."""
    return {
        "Content-Security-Policy": content_security_policy(tile_origin),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


INGEST_PATH = "/api/ingest"
MAX_PENDING_INGESTS = 8
"""Articles waiting for the ingest worker; past this, POST /api/ingest answers 503 (retry later)."""


def _plain_response(status: int, detail: str) -> Response:
    return JSONResponse({"detail": detail}, status_code=status)


class IngestGuard:
    """Plain ASGI middleware that refuses an ingest before a byte of its body is read.

    FastAPI reads and parses a request's body before its dependencies run, so a token check in
    a dependency comes after an unauthenticated 1 GB upload has been taken in. Here the bearer
    token and the declared Content-Length are checked from the headers alone: no token 403, no
    length 411, over `max_bytes` 413."""

    def __init__(self, app: ASGIApp, token: str | None, max_bytes: int) -> None:
        self.app = app
        self.token = token
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == INGEST_PATH and scope["method"] == "POST":
            refusal = self._refusal(Headers(scope=scope))
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refusal(self, headers: Headers) -> Response | None:
        if self.token is None:
            return _plain_response(403, "ingest is disabled: no token configured")
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), self.token.encode()):
            return _plain_response(403, "a valid bearer token is required")
        declared = headers.get("content-length", "")
        if not declared.isdigit():
            return _plain_response(411, "a Content-Length is required")
        if int(declared) > self.max_bytes:
            return _plain_response(413, f"the body exceeds the {self.max_bytes}-byte limit")
        return None


class SecurityHeadersMiddleware:
    """Plain ASGI middleware that stamps the headers on every response start.

    Added last, so it wraps the Host check and the error handlers too (a decorator-style HTTP
    middleware would sit inside them and miss their responses), and cheaper per request."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

BORDER_TOLERANCE = 0.02
"""Degrees: country outlines are simplified this much for display only (never for distances)."""
REGION_TOLERANCE = 0.01
"""Degrees: admin-1 polygons drawn for events are simplified this much for display only."""
TIMELINE_MAX_DAYS = 730
"""An indicator series is filled with zero days over at most its last two years."""
BASELINE_DAYS = 30


def find_leaflet(node_modules: Path | None = None) -> Path | None:
    """Leaflet's `dist` folder from an installed `node_modules` (`npm ci` puts it there)."""
    bases = (
        [node_modules]
        if node_modules is not None
        else [Path.cwd() / "node_modules", Path(__file__).resolve().parents[3] / "node_modules"]
    )
    for base in bases:
        dist = base / "leaflet" / "dist"
        if (dist / "leaflet.js").is_file():
            return dist
    return None


def event_filters(
    type_: Annotated[
        list[str] | None, Query(alias="type", description="Event type (repeatable).")
    ] = None,
    country: Annotated[
        str | None, Query(max_length=3, description="ISO3 of an actor, recipient or the place.")
    ] = None,
    since: Annotated[date | None, Query(description="Events starting on or after this day.")] = None,
    until: Annotated[date | None, Query(description="Events starting on or before this day.")] = None,
    text: Annotated[
        str | None, Query(max_length=200, description="Substring of the evidence sentences.")
    ] = None,
    historical: Annotated[bool, Query(description="Include background (historical) events.")] = False,
    border: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z]{3}-[A-Za-z]{3}$",
              description="Border pair, e.g. BLR-UKR: the event's country and the neighbour across "
                          "its nearest border, in either order."),
    ] = None,
    claimant: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{1,63}$",
              description="Who claims the event: an ISO3 code or a group's slug (wagner-group)."),
    ] = None,
    stance: Annotated[
        Literal["asserted", "alleged", "denied"] | None, Query(description="How the claimant puts it.")
    ] = None,
) -> dict[str, Any]:
    types = [t.strip().upper() for t in type_ or [] if t.strip()]
    unknown = sorted(set(types) - set(EVENT_TYPES))
    if unknown:
        raise HTTPException(422, f"unknown event type(s): {', '.join(unknown)}")
    if border and border[:3].upper() == border[4:].upper():
        raise HTTPException(422, "a border pair names two different countries")
    return {
        "types": types or None,
        "country": country.upper() if country else None,
        "since": since,
        "until": until,
        "text": text or None,
        "include_historical": historical,
        "border": border,
        "claimant": claimant,
        "stance": stance,
    }


Filters = Annotated[dict[str, Any], Depends(event_filters)]
"""The event filters shared by /api/events and /api/places, as `Store.query_events` arguments."""

MAX_OFFSET = 1_000_000_000
"""Larger offsets overflow the database's integers (a 500 before this bound): 422 instead."""
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


class IngestRequest(BaseModel):
    """One article to analyse and store: exactly one of `text` or `html`."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    html: str | None = None
    url: str | None = None
    title: str | None = None
    published: str | None = None
    """ISO 8601 date or datetime."""
    language: str | None = None


def _round(geometry: Any, digits: int = 3) -> Any:
    """Coordinates rounded for display (about 100 m), which keeps the GeoJSON small."""
    return shapely.transform(geometry, lambda xy: np.round(xy, digits))


def _geojson(geometry: Any) -> dict[str, Any]:
    return json.loads(shapely.to_geojson(geometry))


def _feature(geometry: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


class _Context:
    """What the endpoints share: the store, the configuration, and lazily built resources."""

    def __init__(self, store: Store, config: Config, token: str | None, db_url: str) -> None:
        self.store = store
        self.config = config
        self.token = token
        self._lock = threading.Lock()
        self.ingest_worker = IngestWorker(db_url, config)
        """Analysis in a process of its own: read requests never wait on it."""
        self.pending = 0
        self._gazetteer: Any = None
        self._gazetteer_tried = False
        self._regions: dict[str, dict[str, Any] | None] = {}
        self._borders: bytes | None = None

    @property
    def gazetteer(self) -> Any:
        """The installed gazetteer, or None (then places are drawn as points and no borders)."""
        with self._lock:
            if not self._gazetteer_tried:
                self._gazetteer_tried = True
                from borderwatch.geo.gazetteer import Gazetteer

                try:
                    self._gazetteer = Gazetteer.open(
                        Path(self.config.geo.gazetteer) if self.config.geo.gazetteer else None
                    )
                except GeoError:
                    self._gazetteer = None
            return self._gazetteer

    def region(self, admin1: str) -> dict[str, Any] | None:
        if admin1 not in self._regions:
            gazetteer = self.gazetteer
            shape = gazetteer.shape(f"a1:{admin1}") if gazetteer is not None else None
            self._regions[admin1] = (
                _geojson(_round(shape.simplify(REGION_TOLERANCE))) if shape is not None else None
            )
        return self._regions[admin1]

    def borders(self) -> bytes:
        """Every country outline in the gazetteer as a FeatureCollection, built once."""
        if self._borders is None:
            import pycountry

            features = []
            gazetteer = self.gazetteer
            if gazetteer is not None:
                for country in pycountry.countries:
                    shape = gazetteer.country_shape(country.alpha_3)
                    if shape is None:
                        continue
                    simple = _round(shape.simplify(BORDER_TOLERANCE))
                    if simple.is_empty:
                        continue
                    properties = {"iso3": country.alpha_3, "name": country.name}
                    features.append(_feature(_geojson(simple), properties))
            self._borders = json.dumps({"type": "FeatureCollection", "features": features}).encode()
        return self._borders



def create_app(
    db_url: str,
    config: Config | None = None,
    *,
    ingest_token: str | None = None,
    node_modules: Path | None = None,
    allowed_hosts: list[str] | None = None,
) -> FastAPI:
    """The API and the map page over the store at `db_url`.

    `ingest_token`: the bearer token `POST /api/ingest` requires; None disables ingest (403).
    `node_modules`: where Leaflet is installed (default: the working directory's, then the
    checkout's). `allowed_hosts`: Host headers accepted (guards a loopback server against DNS
    rebinding); None accepts any.
    """
    config = config or Config()
    tile_origin = config.web.tile_origin
    store = open_store(db_url)
    ctx = _Context(store, config, ingest_token or None, db_url)
    app = FastAPI(
        title="Borderwatch",
        summary="Events, documents, clusters, alerts and indicators from the Borderwatch store.",
        version="1",
        docs_url=None,  # the interactive docs load scripts from a CDN, which the CSP forbids
        redoc_url=None,
    )
    app.state.context = ctx
    app.router.on_shutdown.append(ctx.ingest_worker.shutdown)
    app.router.on_shutdown.append(store.close)

    headers = security_headers(tile_origin)
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    # A JSON string may escape every character of the text (\u0000: six bytes for one).
    app.add_middleware(IngestGuard, token=ctx.token, max_bytes=6 * config.ingest.max_input_bytes + 65536)
    if allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)
    app.add_middleware(SecurityHeadersMiddleware, headers=headers)  # last added = outermost

    @app.exception_handler(BorderwatchError)
    async def borderwatch_error(_request: Request, exc: BorderwatchError) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "stage": exc.stage}, status_code=500)

    @app.exception_handler(Exception)
    async def unexpected_error(_request: Request, _exc: Exception) -> JSONResponse:
        # Starlette answers an unhandled error outside every middleware; stamp the headers here.
        return JSONResponse({"detail": "internal error"}, status_code=500, headers=headers)

    # --- the page ---------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    leaflet = find_leaflet(node_modules)
    if leaflet is not None:
        app.mount("/vendor/leaflet", StaticFiles(directory=leaflet), name="leaflet")

    # --- events -----------------------------------------------------------------------------


    @app.get("/api/events", tags=["events"])
    def events(
        filters: Filters,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Offset = 0,
        after: Annotated[str | None, Query(max_length=512, description=(
            "Page cursor: start after the event whose `next` this was (deep pages stay fast)"))] = None,
    ) -> dict[str, Any]:
        """Events matching every filter, newest first; page with `limit` and `after` (the
        previous page's `next` cursor), or with `offset` for shallow pages."""
        if after is not None:
            try:
                decode_cursor(after)
            except ValueError as exc:
                raise HTTPException(422, "after: not a page cursor of this API") from exc
        found = store.query_events(**filters, limit=limit + 1, offset=offset, after=after)
        more = len(found) > limit
        return {
            "events": [e.to_dict() for e in found[:limit]],
            "limit": limit,
            "offset": offset,
            "next_offset": offset + limit if more else None,
            "next": found[limit - 1].cursor if more else None,
        }

    def _event(event_id_: str) -> StoredEvent:
        with store.transaction(f"cannot read event {event_id_}") as session:
            row = session.get(EventRow, event_id_)
            if row is None:
                raise HTTPException(404, "no such event")
            return stored_event(row)

    @app.get("/api/events/{event_id}", tags=["events"])
    def event(event_id: str) -> dict[str, Any]:
        """One event with its evidence, sources and the cluster it belongs to (if any)."""
        record = _event(event_id).to_dict()
        cluster = store.cluster_of(event_id)
        record["cluster"] = (
            {
                "id": cluster.id,
                "status": cluster.status,
                "first_reported": cluster.first_reported,
                "independent_outlets": cluster.independent_outlets,
                "outlets": cluster.outlets,
                "events": cluster.event_ids,
            }
            if cluster is not None
            else None
        )
        return record

    @app.get("/api/documents/{doc_id}", tags=["documents"])
    def document(doc_id: str) -> dict[str, Any]:
        """A document's clean text, the boilerplate removed from it (offsets into the input), its URLs
        and the ids of its events."""
        with store.transaction(f"cannot read document {doc_id}") as session:
            row = session.get(DocumentRow, doc_id)
            if row is None:
                raise HTTPException(404, "no such document")
            return {
                "id": row.id,
                "title": row.title,
                "outlet": row.outlet,
                "language": row.language,
                "published": row.published,
                "fetched_at": row.fetched_at,
                "urls": [u.url for u in row.urls],
                "clean_text": row.clean_text,
                "removed": [
                    {**span, "text": row.raw_text[span["start"]:span["end"]]} for span in row.removed
                ],
                "events": [e.id for e in sorted(row.events, key=lambda e: e.seq)],
            }

    # --- assessment -------------------------------------------------------------------------

    @app.get("/api/clusters", tags=["assessment"])
    def clusters(limit: Annotated[int, Query(ge=1, le=1000)] = 100, offset: Offset = 0) -> dict[str, Any]:
        """Clusters (one happening, many reports), latest first report first."""
        found = sorted(store.clusters(), key=lambda c: (c.first_reported or "", c.id), reverse=True)
        page = found[offset:offset + limit]
        return {
            "clusters": [c.to_json() for c in page],
            "total": len(found),
            "limit": limit,
            "offset": offset,
        }

    @app.get("/api/alerts", tags=["assessment"])
    def alerts(limit: Annotated[int, Query(ge=1, le=1000)] = 100, offset: Offset = 0) -> dict[str, Any]:
        """The alert rules evaluated over the store now (nothing is recorded), latest first.

        Each alert is the `alerts --json` contract plus `event_ids`: its cluster ids expanded."""
        from borderwatch.assess import assessor, subjects

        found = sorted(assessor(config).assess(subjects(store)), key=lambda a: (a.as_of, a.id), reverse=True)
        members = {c.id: c.event_ids for c in store.clusters()}
        records = []
        for alert in found[offset:offset + limit]:
            record = alert.to_contract()
            record["event_ids"] = [e for key in alert.events for e in members.get(key, [key])]
            records.append(record)
        return {"alerts": records, "total": len(found), "limit": limit, "offset": offset}

    @app.get("/api/indicators", tags=["assessment"])
    def indicators(
        border: Annotated[
            str | None, Query(pattern=r"^[A-Za-z]{3}-[A-Za-z]{3}$", description="e.g. BLR-UKR")
        ] = None,
    ) -> dict[str, Any]:
        """Daily counts per event type along one border pair, with the mean of the 30 days before
        each day; without `border`, the border pairs that have any current events."""
        from borderwatch.assess.indicators import daily_indicators

        series = daily_indicators(e.event for e in store.query_events(include_historical=False))
        if border is None:
            return {
                "borders": [
                    {"border": key, "events": sum(sum(d.counts.values()) for d in days.values()),
                     "first": min(days).isoformat(), "last": max(days).isoformat()}
                    for key, days in sorted(series.items())
                ]
            }
        key = "-".join(sorted(border.upper().split("-")))
        days = series.get(key, {})
        if not days:
            return {"border": key, "types": [], "baseline_days": BASELINE_DAYS, "days": []}
        last = max(days)
        first = max(min(days), last - timedelta(days=TIMELINE_MAX_DAYS - 1))
        totals = {d: sum(ind.counts.values()) for d, ind in days.items()}
        rows = []
        day = first
        while day <= last:
            past = sum(totals.get(day - timedelta(days=i), 0) for i in range(1, BASELINE_DAYS + 1))
            counts = dict(days[day].counts) if day in days else {}
            rows.append({"day": day.isoformat(), "counts": counts, "total": totals.get(day, 0),
                         "mean30": round(past / BASELINE_DAYS, 3)})
            day += timedelta(days=1)
        types = sorted({t for ind in days.values() for t in ind.counts})
        return {"border": key, "types": types, "baseline_days": BASELINE_DAYS, "days": rows}

    # --- geography --------------------------------------------------------------------------

    @app.get("/api/places", tags=["geography"])
    def places(
        filters: Filters, limit: Annotated[int, Query(ge=1, le=5000)] = 2000, offset: Offset = 0
    ) -> dict[str, Any]:
        """Located events as a GeoJSON FeatureCollection: admin-1 places as their (simplified)
        polygons when the gazetteer is installed, other places as points with `radius_km`."""
        features = []
        for stored in store.query_events(**filters, limit=limit, offset=offset):
            place = stored.event.place
            if place is None or place.lat is None or place.lon is None:
                continue
            geometry = region = None
            if place.precision == 2 and place.admin1:
                region = ctx.region(place.admin1)
            geometry = region or {"type": "Point", "coordinates": [place.lon, place.lat]}
            proximity = stored.event.proximity or {}
            features.append(_feature(geometry, {
                "event": stored.id,
                "doc": stored.doc_id,
                "type": stored.event.type,
                "name": place.name,
                "country": place.country,
                "admin1": place.admin1,
                "precision": place.precision,
                "radius_km": place.radius_km,
                "lat": place.lat,
                "lon": place.lon,
                "area": region is not None,
                "date": stored.event.date.start,
                "historical": stored.event.historical,
                "stance": stored.event.claim.stance,
                "border_km": proximity.get("border_km"),
                "border_with": proximity.get("border_with"),
            }))
        return {"type": "FeatureCollection", "features": features}

    @app.get("/api/sites", tags=["geography"])
    def sites() -> dict[str, Any]:
        """Critical sites (the packaged nuclear plants and configured layers) as GeoJSON points."""
        from borderwatch.geo.sites import load_sites

        return {
            "type": "FeatureCollection",
            "features": [
                _feature({"type": "Point", "coordinates": [s.lon, s.lat]},
                         {"id": s.id, "name": s.name, "kind": s.kind, "country": s.country,
                          "status": s.status})
                for s in load_sites([Path(p) for p in config.geo.site_files])
            ],
        }

    @app.get("/api/borders", tags=["geography"])
    def borders() -> Response:
        """Country outlines as GeoJSON, simplified for display (empty without a gazetteer)."""
        return Response(ctx.borders(), media_type="application/geo+json")

    @app.get("/api/meta", tags=["meta"])
    def meta() -> dict[str, Any]:
        """What the page needs to draw filters and range rings."""
        return {
            "event_types": list(EVENT_TYPES),
            "thresholds": dict(config.geo.thresholds),
            "gazetteer": ctx.gazetteer is not None,
            "ingest": ctx.token is not None,
            "tiles": (
                {"url": config.web.tile_url, "attribution": config.web.tile_attribution}
                if config.web.tile_url else None
            ),
        }

    # --- ingest -----------------------------------------------------------------------------

    def require_token(authorization: Annotated[str | None, Header()] = None) -> None:
        if ctx.token is None:
            raise HTTPException(403, "ingest is disabled: no token configured")
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), ctx.token.encode()):
            raise HTTPException(403, "a valid bearer token is required")

    @app.post(INGEST_PATH, tags=["ingest"], dependencies=[Depends(require_token)])
    async def ingest(body: IngestRequest) -> dict[str, Any]:
        """Analyse one article with the pipeline and store it (needs the configured bearer token).

        The work runs in a worker process (`borderwatch.web.worker`), one article at a time;
        503 while `MAX_PENDING_INGESTS` wait for it."""
        from borderwatch.ingest import document_from_record

        try:
            document = document_from_record(body.model_dump(exclude_none=True), "api:ingest", config.ingest)
        except IngestError as exc:
            raise HTTPException(422, exc.message) from exc
        if ctx.pending >= MAX_PENDING_INGESTS:
            raise HTTPException(503, "ingest is busy; retry later", headers={"Retry-After": "5"})
        ctx.pending += 1
        try:
            result = await asyncio.wrap_future(ctx.ingest_worker.submit(document))
        except BrokenProcessPool as exc:
            ctx.ingest_worker.lost()
            raise HTTPException(500, "the ingest worker stopped while analysing this article") from exc
        finally:
            ctx.pending -= 1
        if "error" in result:
            raise HTTPException(result["status"], result["error"])
        return result

    return app
