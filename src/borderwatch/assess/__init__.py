"""The assess stage: indicators, clusters and the alert rules evaluated over the store."""

from __future__ import annotations

from borderwatch.assess.rules import Assessor, Subject, load_rules
from borderwatch.config import Config
from borderwatch.models import Alert
from borderwatch.store import Store


def subjects(store: Store) -> list[Subject]:
    """One subject per current event (clusters group them when the store has them)."""
    return [Subject(key=e.id, events=[e]) for e in store.query_events(include_historical=False)]


def assess_store(store: Store, config: Config) -> list[Alert]:
    """Every alert the rules raise over what the store holds now."""
    assessor = Assessor(load_rules(config.assess.rule), config.geo.thresholds)
    return assessor.assess(subjects(store))
