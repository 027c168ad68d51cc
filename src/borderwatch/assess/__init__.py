"""The assess stage: indicators, clusters and the alert rules evaluated over the store."""

from __future__ import annotations

from pathlib import Path

from borderwatch.assess.rules import Assessor, Subject, load_rules
from borderwatch.config import Config
from borderwatch.geo.sites import load_sites
from borderwatch.models import Alert
from borderwatch.store import Store


def subjects(store: Store) -> list[Subject]:
    """One subject per cluster of reports of the same happening; a lone event is its own subject."""
    events = {e.id: e for e in store.query_events(include_historical=False)}
    found: list[Subject] = []
    for cluster in store.clusters():
        members = [events.pop(i) for i in cluster.event_ids if i in events]
        if members:
            found.append(Subject(key=cluster.id, events=members, outlets=cluster.independent_outlets))
    return found + [Subject(key=e.id, events=[e]) for e in events.values()]


def assess_store(store: Store, config: Config) -> list[Alert]:
    """Every alert the rules raise over what the store holds now (each is also recorded)."""
    return [alert for alert, _ in _assess(store, config)]


def fresh_alerts(store: Store, config: Config) -> list[Alert]:
    """Only the alerts raised for the first time or escalated since they were last recorded:
    what a watcher delivers, so an analyst is told once per cluster and again when it worsens."""
    return [alert for alert, fresh in _assess(store, config) if fresh]


def _assess(store: Store, config: Config) -> list[tuple[Alert, bool]]:
    return [(alert, store.save_alert(alert)) for alert in assessor(config).assess(subjects(store))]


def assessor(config: Config) -> Assessor:
    """The configured rules, thresholds and critical-site kinds."""
    kinds = {site.id: site.kind for site in load_sites([Path(p) for p in config.geo.site_files])}
    return Assessor(load_rules(config.assess.rule), config.geo.thresholds, kinds)
