"""Indicators per border pair and per admin-1 region per day, against a rolling baseline.

An analyst's question is not "was there a MOBILIZE report?" but "are there more of them along
this border than usual?". Each day's count is compared with the mean of the preceding window
(30 and 90 days by default); the anomaly score (count - mean) / sqrt(mean + 1) is a Poisson-style
z-score that stays meaningful when the baseline is near zero.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from borderwatch.models import Event


def border_pair(event: Event) -> str | None:
    """"BLR-UKR": the event's country and its nearest neighbour across a border, alphabetical."""
    proximity = event.proximity or {}
    home = event.place.country if event.place else None
    other = proximity.get("border_with")
    if not home or not other or home == other:
        return None
    return "-".join(sorted((home, other)))


def event_day(event: Event) -> date | None:
    when = event.date.end or event.date.start
    return date.fromisoformat(when[:10]) if when else None


@dataclass
class DayIndicator:
    """What happened along one border (or in one region) on one day."""

    key: str
    day: date
    counts: Counter[str] = field(default_factory=Counter)
    weights: Counter[str] = field(default_factory=Counter)
    """Counts weighted by confidence, so a rumour weighs less than a confirmed report."""
    within: Counter[str] = field(default_factory=Counter)
    """How many events fell within each named weapon-range threshold of the border."""
    sites: dict[str, float] = field(default_factory=dict)
    """Nearest distance (km) to each critical site mentioned that day."""

    def to_dict(self) -> dict[str, object]:
        return {"key": self.key, "day": self.day.isoformat(), "counts": dict(self.counts),
                "weights": {k: round(v, 3) for k, v in self.weights.items()},
                "within": dict(self.within), "sites": self.sites}


def daily_indicators(events: Iterable[Event], by: str = "border") -> dict[str, dict[date, DayIndicator]]:
    """Series keyed by border pair (`by="border"`) or admin-1 code (`by="admin1"`), then by day.

    Background, negated and hypothetical events never count."""
    series: dict[str, dict[date, DayIndicator]] = defaultdict(dict)
    for event in events:
        if not event.is_current:
            continue
        key = border_pair(event) if by == "border" else (event.place.admin1 if event.place else None)
        day = event_day(event)
        if key is None or day is None:
            continue
        indicator = series[key].setdefault(day, DayIndicator(key, day))
        indicator.counts[event.type] += 1
        indicator.weights[event.type] += event.confidence
        for name in (event.proximity or {}).get("within", []):
            indicator.within[name] += 1
        for site in (event.proximity or {}).get("sites", []):
            indicator.sites[site["id"]] = min(site["km"], indicator.sites.get(site["id"], math.inf))
    return dict(series)


@dataclass(frozen=True)
class Anomaly:
    key: str
    day: date
    kind: str
    count: int
    mean: float
    score: float


def anomalies(series: dict[date, DayIndicator], kind: str, baseline_days: int) -> list[Anomaly]:
    """Each day's count of `kind` against the mean of the `baseline_days` before it."""
    if not series:
        return []
    out = []
    for day, indicator in sorted(series.items()):
        count = indicator.counts[kind]
        if not count:
            continue
        past = [series[d].counts[kind] for d in (day - timedelta(days=i) for i in range(1, baseline_days + 1))
                if d in series]
        mean = sum(past) / baseline_days
        out.append(Anomaly(indicator.key, day, kind, count, round(mean, 3),
                           round((count - mean) / math.sqrt(mean + 1), 3)))
    return out
