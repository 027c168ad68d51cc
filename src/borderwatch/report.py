"""A static briefing for one border pair: `index.html`, `map.png` and `timeline.png` in a folder.

For readers who will not run a server: the folder can be mailed or copied as it is. The page holds
no script at all; every piece of article-derived text goes through `html.escape`, and a strict
Content-Security-Policy meta tag (no scripts, images only from the folder, inline styles only) is a
second wall should an escape ever be missed. The style sheet is inline, so the page is one file
beside its two images rather than three files that must travel together.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from borderwatch.assess import assessor, subjects
from borderwatch.assess.indicators import daily_indicators, event_day
from borderwatch.config import Config
from borderwatch.errors import BorderwatchError, ConfigError
from borderwatch.geo.sites import Site, load_sites
from borderwatch.models import Alert
from borderwatch.store import Store, StoredEvent

CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
BASELINE_DAYS = 30
TYPE_COLOURS = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#7f7f7f",
]
_BORDER = re.compile(r"^([A-Z]{3})-([A-Z]{3})$")
_KM_PER_DEGREE = 111.32


def parse_border(text: str) -> str:
    """"blr-ukr" → "BLR-UKR" (alphabetical, as `border_pair` names it); anything else is an error."""
    match = _BORDER.match(text.strip().upper())
    if not match or match.group(1) == match.group(2):
        raise ConfigError(f"--border must be two different ISO3 codes like BLR-UKR, not {text!r}")
    return "-".join(sorted(match.groups()))


def _day(text: str | date | None, name: str) -> date | None:
    if text is None or isinstance(text, date):
        return text
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a date like 2024-08-01, not {text!r}") from exc


@dataclass(frozen=True)
class Briefing:
    border: str
    since: date
    until: date
    events: list[StoredEvent]
    """On the border within the period, newest first."""
    alerts: list[Alert]
    series: dict[date, Counter[str]]
    """Daily counts per type from BASELINE_DAYS before `since` to `until`."""


def gather(store: Store, config: Config, border: str, since: date, until: date | None) -> Briefing:
    """Events, alerts and daily counts for the border; `until` defaults to the latest event's day."""
    start = since - timedelta(days=BASELINE_DAYS)
    found = store.query_events(since=start, until=until, border=border, include_historical=False)
    days = [d for e in found if (d := event_day(e.event)) is not None]
    end = until or max([since, *days])
    in_period = [e for e in found if (d := event_day(e.event)) is not None and since <= d <= end]
    series = {day: Counter(ind.counts)
              for day, ind in daily_indicators([e.event for e in found]).get(border, {}).items()}
    alerts = [a for a in assessor(config).assess(subjects(store))
              if a.border == border and since.isoformat() <= a.as_of[:10] <= end.isoformat()]
    alerts.sort(key=lambda a: (a.as_of, a.id), reverse=True)
    return Briefing(border, since, end, in_period, alerts, series)


def write_report(
    store: Store, config: Config, border: str, since: str | date, until: str | date | None, out: Path
) -> Path:
    """Write the briefing into `out` (created as needed); returns the path of `index.html`."""
    border = parse_border(border)
    since_day = _day(since, "--since")
    until_day = _day(until, "--until")
    assert since_day is not None
    if until_day is not None and until_day < since_day:
        raise ConfigError("--until is before --since")
    briefing = gather(store, config, border, since_day, until_day)
    out.mkdir(parents=True, exist_ok=True)
    colours = _colours(briefing)
    map_note = draw_map(briefing, config, colours, out / "map.png")
    draw_timeline(briefing, colours, out / "timeline.png")
    index = out / "index.html"
    index.write_text(render_html(briefing, map_note), encoding="utf-8")
    return index


def _colours(briefing: Briefing) -> dict[str, str]:
    types = sorted({e.event.type for e in briefing.events}
                   | {t for counts in briefing.series.values() for t in counts})
    return {t: TYPE_COLOURS[i % len(TYPE_COLOURS)] for i, t in enumerate(types)}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _rings(geometry: Any) -> Iterable[Any]:
    for polygon in getattr(geometry, "geoms", [geometry]):
        if polygon.geom_type == "Polygon":
            yield polygon
        else:
            yield from _rings(polygon)


def draw_map(briefing: Briefing, config: Config, colours: dict[str, str], path: Path) -> str | None:
    """The two countries, their neighbours lightly, the events and the critical sites in view.

    Returns None when drawn, or the reason the map is missing (no gazetteer installed)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Ellipse
    from shapely.geometry import box

    from borderwatch.geo.gazetteer import Gazetteer

    path.unlink(missing_ok=True)
    try:
        gazetteer = Gazetteer.open()
    except BorderwatchError as exc:
        return str(exc)
    with gazetteer:
        codes = briefing.border.split("-")
        main = {c: s for c in codes if (s := gazetteer.country_shape(c)) is not None}
        if not main:
            return f"the gazetteer has no shapes for {briefing.border}"
        others = sorted({n for c in codes for n in gazetteer.neighbours(c)} - set(codes))
        neighbours = {c: s for c in others if (s := gazetteer.country_shape(c)) is not None}
    x0, y0, x1, y1 = map_extent(list(main.values()), briefing.events)
    mid = (y0 + y1) / 2
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 8), dpi=110)
    ax.set_facecolor("#eaf2f8")
    for code, shape in neighbours.items():
        for polygon in _rings(shape):
            ax.fill(*polygon.exterior.xy, facecolor="#f4f4f4", edgecolor="#bbbbbb", linewidth=0.5)
        centre = shape.representative_point()
        if x0 < centre.x < x1 and y0 < centre.y < y1:
            ax.text(centre.x, centre.y, code, color="#999999", fontsize=8, ha="center")
    for code, shape in main.items():
        for polygon in _rings(shape):
            ax.fill(*polygon.exterior.xy, facecolor="#fdf6e3", edgecolor="#333333", linewidth=1.0)
        shown = shape.intersection(box(x0, y0, x1, y1))  # label the part in view, not Siberia
        if not shown.is_empty:
            centre = max(getattr(shown, "geoms", [shown]), key=lambda part: part.area).representative_point()
            ax.text(centre.x, centre.y, code, color="#555555", fontsize=12, ha="center", weight="bold")
    for stored in reversed(briefing.events):
        place = stored.event.place
        if place is None or place.lat is None or place.lon is None:
            continue
        km = max(place.radius_km or 0.0, 4.0)
        colour = colours[stored.event.type]
        height = 2 * km / _KM_PER_DEGREE
        width = height / max(0.1, _cos(place.lat))
        ax.add_patch(Ellipse((place.lon, place.lat), width, height, facecolor=colour, alpha=0.25,
                             edgecolor=colour, linewidth=1.2, zorder=3))
        ax.plot(place.lon, place.lat, "o", color=colour, markersize=3, zorder=4)
    sites = _sites_in_view(config, (x0, y0, x1, y1))
    for site in sites:
        ax.plot(site.lon, site.lat, "^", color="#000000", markerfacecolor="#ffd700", markersize=9, zorder=5)
        ax.annotate(site.name, (site.lon, site.lat), xytext=(5, 4), textcoords="offset points", fontsize=7)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1 / max(0.1, _cos(mid)))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(f"{briefing.border}: {len(briefing.events)} event(s), "
                 f"{briefing.since.isoformat()} to {briefing.until.isoformat()}")
    handles = [Line2D([], [], marker="o", linestyle="", color=c, label=t) for t, c in colours.items()]
    if sites:
        handles.append(Line2D([], [], marker="^", linestyle="", color="#000000", markerfacecolor="#ffd700",
                              label="critical site"))
    if handles:
        ax.legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return None


VIEW_MARGIN_DEG = 1.5
"""Degrees of land shown around the border and the events: enough to read where they are."""


def map_extent(shapes: list[Any], events: list[StoredEvent]) -> tuple[float, float, float, float]:
    """The map's extent: the land border the two countries share and the circles of the events
    located more closely than a country, with a margin, rather than both countries whole (Russia
    would shrink Ukraine's border to a line). Without either, the two countries."""
    from shapely.geometry import box
    from shapely.ops import unary_union

    parts = []
    if len(shapes) == 2:
        shared = shapes[0].boundary.intersection(shapes[1].buffer(0.01))
        if not shared.is_empty:
            parts.append(shared)
    for stored in events:
        place = stored.event.place
        # A country-wide event ("fighting in Ukraine") is drawn, but does not set the view.
        if place is not None and place.lat is not None and place.lon is not None and place.precision != 1:
            dy = max(place.radius_km or 0.0, 4.0) / _KM_PER_DEGREE
            dx = dy / max(0.1, _cos(place.lat))
            parts.append(box(place.lon - dx, place.lat - dy, place.lon + dx, place.lat + dy))
    margin = VIEW_MARGIN_DEG if parts else 0.0
    x0, y0, x1, y1 = unary_union(parts or shapes).bounds
    whole = box(*unary_union(shapes).bounds).buffer(VIEW_MARGIN_DEG, join_style="mitre")
    x0, y0, x1, y1 = x0 - margin, y0 - margin, x1 + margin, y1 + margin
    return tuple(box(x0, y0, x1, y1).intersection(whole).bounds)  # type: ignore[return-value]


def _cos(lat: float) -> float:
    import math

    return math.cos(math.radians(lat))


def _sites_in_view(config: Config, box: tuple[float, float, float, float]) -> list[Site]:
    x0, y0, x1, y1 = box
    return [s for s in load_sites([Path(p) for p in config.geo.site_files])
            if x0 <= s.lon <= x1 and y0 <= s.lat <= y1]


def draw_timeline(briefing: Briefing, colours: dict[str, str], path: Path) -> None:
    """Daily counts per type (stacked bars) over the period, and the 30-day rolling mean of all types."""
    plt = _pyplot()
    days = [briefing.since + timedelta(days=i) for i in range((briefing.until - briefing.since).days + 1)]
    fig, ax = plt.subplots(figsize=(10, 4), dpi=110)
    bottom = [0] * len(days)
    for kind, colour in colours.items():
        heights = [briefing.series.get(d, Counter())[kind] for d in days]
        if any(heights):
            ax.bar(days, heights, bottom=bottom, color=colour, label=kind, width=0.9)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.plot(days, rolling_mean(briefing.series, days), color="#000000", linewidth=1.5,
            label=f"{BASELINE_DAYS}-day rolling mean")
    ax.set_ylabel("events per day")
    ax.set_title(f"{briefing.border}: events per day by type")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_ylim(bottom=0)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def rolling_mean(series: dict[date, Counter[str]], days: Sequence[date]) -> list[float]:
    """Mean daily count (all types) over the BASELINE_DAYS days ending on each day."""
    totals = {day: sum(counts.values()) for day, counts in series.items()}
    return [sum(totals.get(day - timedelta(days=i), 0) for i in range(BASELINE_DAYS)) / BASELINE_DAYS
            for day in days]


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; }
h1 { font-size: 1.5rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
img { max-width: 100%; border: 1px solid #ddd; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border-bottom: 1px solid #e4e4e4; padding: .35rem .5rem; text-align: left; vertical-align: top; }
.sev-high { color: #b00020; font-weight: bold; } .sev-medium { color: #c56000; font-weight: bold; }
.sev-low { color: #555; } blockquote { margin: .2rem 0; padding-left: .6rem; border-left: 3px solid #ccc; }
.note { background: #fff4e0; padding: .5rem .8rem; }
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _evidence(texts: Iterable[str]) -> str:
    return "".join(f"<blockquote>{_e(t)}</blockquote>" for t in texts)


def _link(url: str, label: str) -> str:
    """Only http(s) URLs become links; anything else (javascript:, data:) is shown as text."""
    if url.lower().startswith(("http://", "https://")):
        return f'<a href="{_e(url)}" rel="noopener noreferrer">{_e(label)}</a>'
    return _e(label)


def render_html(briefing: Briefing, map_note: str | None) -> str:
    title = f"Briefing {briefing.border}, {briefing.since.isoformat()} to {briefing.until.isoformat()}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',  # our constant, no double quote
        '<meta name="referrer" content="no-referrer">',
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p>{len(briefing.alerts)} alert(s) and {len(briefing.events)} event(s) along the border; "
        "background, negated and hypothetical reports are left out. Newest first.</p>",
        "<h2>Map</h2>",
    ]
    if map_note is None:
        parts.append('<img src="map.png" alt="Map of the border with the events and critical sites">')
    else:
        parts.append(f'<p class="note">No map: {_e(map_note)}.</p>')
    parts += [
        "<h2>Timeline</h2>",
        f'<img src="timeline.png" alt="Events per day by type with the {BASELINE_DAYS}-day rolling mean">',
        "<h2>Alerts</h2>",
    ]
    if briefing.alerts:
        parts.append("<table><tr><th>as of</th><th>severity</th><th>rule</th><th>explanation</th>"
                     "<th>evidence</th></tr>")
        for alert in briefing.alerts:
            parts.append(
                f"<tr><td>{_e(alert.as_of)}</td><td class=\"sev-{_e(alert.severity)}\">{_e(alert.severity)}"
                f"</td><td>{_e(alert.rule)}</td><td>{_e(alert.explanation)}</td>"
                f"<td>{_evidence(e.text for e in alert.evidence)}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>No alerts in this period.</p>")
    parts.append("<h2>Events</h2>")
    if briefing.events:
        parts.append("<table><tr><th>date</th><th>type</th><th>actors → recipients</th><th>place</th>"
                     "<th>claim</th><th>evidence</th></tr>")
        for stored in briefing.events:
            parts.append(_event_row(stored))
        parts.append("</table>")
    else:
        parts.append("<p>No events in this period.</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _event_row(stored: StoredEvent) -> str:
    event = stored.event
    actors = ", ".join(a.code for a in event.actors) or "?"
    recipients = ", ".join(a.code for a in event.recipients) or "-"
    place = event.place
    where = "?"
    if place is not None and place.name:
        where = f"{place.name} ({place.country or '?'}, ±{place.radius_km or 0:.0f} km)"
    claim = event.claim.stance + (f" by {event.claim.claimant.code}" if event.claim.claimant else "")
    source = stored.title or stored.doc_id[:12]
    links = " ".join(_link(url, source) for url in stored.urls) if stored.urls else _e(source)
    return (
        f"<tr><td>{_e(event.date.start or '?')}</td><td>{_e(event.type)}</td>"
        f"<td>{_e(actors)} → {_e(recipients)}</td><td>{_e(where)}</td><td>{_e(claim)}</td>"
        f"<td>{_evidence(stored.evidence_texts)}<small>source: {links}</small></td></tr>"
    )
