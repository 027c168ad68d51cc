"""The extract stage: events from parsed documents.

Detectors are registered by name (spaCy's factory idea): the rule-based detector ships; a
statistical detector can be registered beside it and named in the configuration, and both
outputs are merged per document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from spacy.language import Language
from spacy.tokens import Doc, Span

from borderwatch.errors import ConfigError
from borderwatch.extract.actors import ActorResolver
from borderwatch.extract.dates import parse_published
from borderwatch.extract.headlines import HeadlineDetector
from borderwatch.extract.lexicon import Lexicon, load_lexicon
from borderwatch.extract.merge import merge_events
from borderwatch.extract.notes import date_undated_events
from borderwatch.extract.rules import DocContext, RuleDetector
from borderwatch.extract.sightings import SightingDetector
from borderwatch.models import Event


class Detector(Protocol):
    """Finds events in one sentence, given what is known about the document so far."""

    name: str

    def detect(self, sent: Span, ctx: DocContext) -> list[Event]: ...


DetectorFactory = Callable[[Language, Lexicon, ActorResolver], Detector]

DETECTORS: dict[str, DetectorFactory] = {
    "rules": lambda nlp, lexicon, actors: RuleDetector(lexicon, actors),
    "sightings": lambda nlp, lexicon, actors: SightingDetector(lexicon, actors),
    "headlines": lambda nlp, lexicon, actors: HeadlineDetector(lexicon, actors),
}

DEFAULT_DETECTORS = ("rules", "sightings", "headlines")
"""The parse-based rules, and the readers of two genres they miss: sighting lines, headlines."""


class Extractor:
    """Runs the configured detectors over every sentence and merges repeated mentions."""

    def __init__(self, nlp: Language, detectors: tuple[str, ...] = DEFAULT_DETECTORS) -> None:
        lexicon = load_lexicon()
        actors = ActorResolver(nlp, lexicon)
        unknown = [name for name in detectors if name not in DETECTORS]
        if unknown:
            raise ConfigError(f"unknown detectors {unknown}; known: {sorted(DETECTORS)}")
        self.detectors = [DETECTORS[name](nlp, lexicon, actors) for name in detectors]

    def extract(self, doc: Doc, published: str | None) -> list[Event]:
        ctx = DocContext(published=parse_published(published))
        events: list[Event] = []
        for sent in doc.sents:
            if not sent.text.strip():
                continue
            for detector in self.detectors:
                events.extend(detector.detect(sent, ctx))
        date_undated_events(doc, events, published)
        return merge_events(events)


__all__ = ["DETECTORS", "Detector", "Extractor"]
