"""Alert rules: data (data/rules.toml plus the user's [[assess.rule]] tables), evaluated over the store.

A rule looks at a *subject* — one cluster of reports of the same happening, or a single event
when it has no cluster — or, for surges, at a border's daily indicator series. Every alert cites
the evidence sentences behind it, and its `as_of` is the date of the latest event it rests on (event
time, not processing time), so alerting can be back-tested on dated reports processed in any order.
"""

from __future__ import annotations

import hashlib
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from borderwatch.assess.indicators import anomalies, border_pair, daily_indicators, event_day
from borderwatch.errors import ConfigError
from borderwatch.models import Alert, AlertEvidence, Event
from borderwatch.store import StoredEvent

SEVERITIES = ("low", "medium", "high")
EXERCISE = re.compile(
    r"\b(exercises?|drills?|manoeuvres?|maneuvers?|war ?games?|readiness checks?)\b", re.IGNORECASE
)
_KINDS = {"proximity", "surge"}
_LABELS = {"MOBILIZE": "troop concentration or movement", "FIGHT": "fighting", "ASSAULT": "attacks",
           "THREATEN": "threats", "COERCE": "coercion"}
_KEYS = {
    "site_kinds",
    "max_radius_km",
    "id",
    "kind",
    "types",
    "border",
    "site_km",
    "severity",
    "escalate_site_km",
    "exercise_precedent",
    "explain",
    "baseline_days",
    "min_count",
    "min_score",
}


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    types: frozenset[str]
    severity: str
    explain: str
    border: str | float | None = None
    site_km: float | None = None
    escalate_site_km: float | None = None
    exercise_precedent: frozenset[str] = frozenset()
    site_kinds: frozenset[str] = frozenset()
    max_radius_km: float | None = None
    """Events placed more vaguely than this (a whole country) cannot be said to be near anything."""
    baseline_days: int = 30
    min_count: int = 3
    min_score: float = 3.0


def _rule(raw: Mapping[str, Any], source: str) -> Rule:
    where = f"rule {raw.get('id', '?')!r}"
    unknown = set(raw) - _KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}", source=source)
    if raw.get("kind") not in _KINDS or raw.get("severity") not in SEVERITIES or not raw.get("types"):
        raise ConfigError(
            f"{where}: needs kind {sorted(_KINDS)}, severity {SEVERITIES} and types", source=source
        )
    if raw["kind"] == "proximity" and raw.get("border") is None and raw.get("site_km") is None:
        raise ConfigError(f"{where}: a proximity rule needs border or site_km", source=source)
    return Rule(
        id=str(raw["id"]),
        kind=raw["kind"],
        types=frozenset(raw["types"]),
        severity=raw["severity"],
        explain=str(raw.get("explain", raw["id"])),
        border=raw.get("border"),
        site_km=raw.get("site_km"),
        escalate_site_km=raw.get("escalate_site_km"),
        exercise_precedent=frozenset(raw.get("exercise_precedent", ())),
        site_kinds=frozenset(raw.get("site_kinds", ())),
        max_radius_km=float(raw["max_radius_km"]) if raw.get("max_radius_km") is not None else None,
        baseline_days=int(raw.get("baseline_days", 30)),
        min_count=int(raw.get("min_count", 3)),
        min_score=float(raw.get("min_score", 3.0)),
    )


def _radius(event: Event) -> float:
    radius = event.place.radius_km if event.place else None
    return math.inf if radius is None else radius


def _border_low(event: Event) -> float:
    """The nearest an event can be to a border: its distance less its place's radius."""
    proximity = event.proximity or {}
    low = (proximity.get("border_km_range") or [proximity.get("border_km")])[0]
    return math.inf if low is None else float(low)


def load_rules(extra: Sequence[Mapping[str, Any]] = ()) -> list[Rule]:
    """The shipped rules, with the user's rules added (a user rule with a shipped id replaces it)."""
    path = resources.files("borderwatch") / "data" / "rules.toml"
    try:
        shipped = tomllib.loads(path.read_text(encoding="utf-8")).get("rule", [])
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot load rules: {exc}", source="data/rules.toml") from exc
    rules = {r.id: r for r in (_rule(raw, "data/rules.toml") for raw in shipped)}
    for raw in extra:
        rule = _rule(raw, "configuration [[assess.rule]]")
        rules[rule.id] = rule
    return list(rules.values())


@dataclass
class Subject:
    """What one alert is about: a cluster of reports, or a lone event."""

    key: str
    events: list[StoredEvent]
    outlets: int = 1


def _alert_id(rule: Rule, key: str) -> str:
    return hashlib.sha256(f"{rule.id}:{key}".encode()).hexdigest()[:20]


def _evidence(events: Iterable[StoredEvent]) -> list[AlertEvidence]:
    seen: set[tuple[str, int]] = set()
    out = []
    for stored in events:
        for item in stored.evidence:
            if (item["doc"], item["start"]) not in seen:
                seen.add((item["doc"], item["start"]))
                out.append(AlertEvidence(item["doc"], item["start"], item["end"], item["text"]))
    return out


def _as_of(events: Iterable[Event]) -> str:
    days = [d for d in (event_day(e) for e in events) if d]
    return max(days).isoformat() if days else ""


def _raise(severity: str, steps: int) -> str:
    return SEVERITIES[min(len(SEVERITIES) - 1, SEVERITIES.index(severity) + steps)]


@dataclass
class Assessor:
    """Evaluates the rules over the events (and clusters) in a store."""

    rules: list[Rule]
    thresholds: Mapping[str, float]
    site_kinds: Mapping[str, str] = field(default_factory=dict)
    """Critical-site id → kind ("nuclear-power-plant", "dam"), for rules about one kind of site."""
    _limits: dict[str, float] = field(default_factory=dict)

    def border_limit(self, rule: Rule) -> float | None:
        if rule.border is None:
            return None
        if isinstance(rule.border, int | float):
            return float(rule.border)
        if rule.border not in self.thresholds:
            raise ConfigError(
                f"rule {rule.id!r}: unknown threshold {rule.border!r}; known: {sorted(self.thresholds)}"
            )
        return float(self.thresholds[rule.border])

    def assess(self, subjects: Sequence[Subject]) -> list[Alert]:
        alerts: list[Alert] = []
        for rule in self.rules:
            if rule.kind == "proximity":
                alerts.extend(a for s in subjects if (a := self._proximity(rule, s)) is not None)
            else:
                alerts.extend(self._surge(rule, subjects))
        return sorted(alerts, key=lambda a: (a.as_of, a.id))

    def _proximity(self, rule: Rule, subject: Subject) -> Alert | None:
        events = [
            s
            for s in subject.events
            if s.event.type in rule.types
            and s.event.is_current
            and s.event.claim.stance != "denied"
            and s.event.proximity
            and (rule.max_radius_km is None or _radius(s.event) <= rule.max_radius_km)
        ]
        if not events:
            return None
        limit = self.border_limit(rule)

        def nearest_site(e: Event) -> tuple[float, dict[str, Any] | None]:
            sites = [s for s in (e.proximity or {}).get("sites") or []
                     if not rule.site_kinds or self.site_kinds.get(s["id"]) in rule.site_kinds]
            best = min(sites, key=lambda s: s["km"], default=None)
            return (best["km"], best) if best else (math.inf, None)

        near_border = [s for s in events if limit is not None and _border_low(s.event) <= limit]
        near_site = [
            s for s in events if rule.site_km is not None and nearest_site(s.event)[0] <= rule.site_km
        ]
        triggering = (near_border if limit is not None else []) + [
            s for s in near_site if s not in near_border
        ]
        if (limit is not None and not near_border) or (rule.site_km is not None and not near_site):
            return None
        lead = min(triggering, key=lambda s: (_border_low(s.event), nearest_site(s.event)[0]))
        km, site = nearest_site(lead.event)
        pair = border_pair(lead.event)
        steps = 0
        if rule.escalate_site_km is not None and km <= rule.escalate_site_km:
            steps += 1
        text = " ".join(t for s in subject.events for t in s.evidence_texts)
        if pair in rule.exercise_precedent and EXERCISE.search(text):
            steps += 1
        if subject.outlets > 1:
            steps += 1
        what = ", ".join(sorted({_LABELS.get(s.event.type, s.event.type.lower()) for s in triggering}))
        explanation = rule.explain.format(
            what=what,
            border_km=round(_border_low(lead.event), 1),
            border=pair or "?",
            site=site["name"] if site else "no critical site",
            site_km=round(km, 1),
        )
        if site is not None and rule.escalate_site_km is not None and km <= rule.escalate_site_km:
            explanation += f"; {site['name']} is {km:.1f} km away"
        if steps and pair in rule.exercise_precedent and EXERCISE.search(text):
            explanation += f"; under the cover of exercises, which preceded an invasion across {pair} before"
        if subject.outlets > 1:
            explanation += f"; reported by {subject.outlets} independent outlets"
        sites = sorted(
            {
                s["id"]
                for e in triggering
                for s in (e.event.proximity or {}).get("sites", [])
                if s["km"] <= (rule.escalate_site_km or rule.site_km or 0)
            }
        )
        return Alert(
            id=_alert_id(rule, subject.key),
            rule=rule.id,
            severity=_raise(rule.severity, steps),  # type: ignore[arg-type]
            as_of=_as_of(s.event for s in subject.events),
            border=pair,
            sites=sites,
            explanation=explanation + ".",
            events=[subject.key],
            evidence=_evidence(subject.events),
        )

    def _surge(self, rule: Rule, subjects: Sequence[Subject]) -> list[Alert]:
        limit = self.border_limit(rule)
        # A surge "along a border" counts only what is within the rule's range of it: the same
        # sightings deep inside a country are no build-up on any border.
        by_event = {
            s.id: s
            for subject in subjects
            for s in subject.events
            if limit is None or _border_low(s.event) <= limit
        }
        series = daily_indicators(s.event for s in by_event.values())
        alerts = []
        for pair, days in series.items():
            for kind in sorted(rule.types):
                for anomaly in anomalies(days, kind, rule.baseline_days):
                    if anomaly.count < rule.min_count or anomaly.score < rule.min_score:
                        continue
                    cited = [
                        s
                        for s in by_event.values()
                        if s.event.type == kind
                        and s.event.is_current
                        and border_pair(s.event) == pair
                        and event_day(s.event) == anomaly.day
                    ]
                    alerts.append(
                        Alert(
                            id=_alert_id(rule, f"{pair}:{anomaly.day}"),
                            rule=rule.id,
                            severity=rule.severity,  # type: ignore[arg-type]
                            as_of=anomaly.day.isoformat(),
                            border=pair,
                            sites=[],
                            explanation=rule.explain.format(
                                count=anomaly.count,
                                what=kind.lower(),
                                border=pair,
                                baseline_days=rule.baseline_days,
                                mean=anomaly.mean,
                            )
                            + ".",
                            events=sorted(s.id for s in cited),
                            evidence=_evidence(cited),
                        )
                    )
        return alerts
