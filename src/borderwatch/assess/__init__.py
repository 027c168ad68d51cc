"""The assess stage: indicators, clusters and the alert rules evaluated over the store."""

from __future__ import annotations

from borderwatch.assess.rules import Assessor, Subject, load_rules
from borderwatch.config import Config
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
    """Every alert the rules raise over what the store holds now; each is recorded in the store,
    where it counts as new only the first time and again when its severity rises."""
    assessor = Assessor(load_rules(config.assess.rule), config.geo.thresholds)
    alerts = assessor.assess(subjects(store))
    for alert in alerts:
        store.save_alert(alert)
    return alerts
