"""The extract stage: events from parsed documents.

Detectors are registered by name (spaCy's factory idea): the rule-based detector ships; a
statistical detector can be registered beside it and named in the configuration, and both
outputs are merged per document.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from spacy.language import Language
from spacy.tokens import Doc, Span

from borderwatch.errors import ConfigError, LimitError
from borderwatch.extract.actors import ActorResolver
from borderwatch.extract.dates import parse_published
from borderwatch.extract.lexicon import Lexicon, load_lexicon
from borderwatch.extract.merge import merge_events
from borderwatch.extract.rules import DocContext, RuleDetector
from borderwatch.models import Event


class Detector(Protocol):
    """Finds events in one sentence, given what is known about the document so far."""

    name: str

    def detect(self, sent: Span, ctx: DocContext) -> list[Event]: ...


DetectorFactory = Callable[[Language, Lexicon, ActorResolver], Detector]

DETECTORS: dict[str, DetectorFactory] = {
    "rules": lambda nlp, lexicon, actors: RuleDetector(lexicon, actors),
}


class Extractor:
    """Runs the configured detectors over every sentence and merges repeated mentions."""

    def __init__(self, nlp: Language, detectors: tuple[str, ...] = ("rules",)) -> None:
        lexicon = load_lexicon()
        actors = ActorResolver(nlp, lexicon)
        unknown = [name for name in detectors if name not in DETECTORS]
        if unknown:
            raise ConfigError(f"unknown detectors {unknown}; known: {sorted(DETECTORS)}")
        self.detectors = [DETECTORS[name](nlp, lexicon, actors) for name in detectors]

    def extract(self, doc: Doc, published: str | None, deadline: float | None = None) -> list[Event]:
        """`deadline` (a `time.monotonic()` value): past it, `LimitError` ends the document."""
        ctx = DocContext(published=parse_published(published))
        events: list[Event] = []
        for sent in doc.sents:
            if deadline is not None and time.monotonic() > deadline:
                raise LimitError("extraction ran past the budget")
            if not sent.text.strip():
                continue
            for detector in self.detectors:
                events.extend(detector.detect(sent, ctx))
        return merge_events(events)


__all__ = ["DETECTORS", "Detector", "Extractor"]
