"""The extract stage: events from parsed documents.

Two kinds of named components, composed like spaCy pipes:
- detectors read one sentence at a time (the rule-based detector ships, `rules.py`; a statistical
  one can be registered beside it), sharing what the article established so far: its actors
  (`coref.py`: initials, short forms, its two parties) and each event's status (`status.py`);
- document components then work on all of a document's events in order: `claims` (a party's
  report of the other side's act is its accusation, `claims.py`), `merge` (one event per
  happening, `merge.py`) and `denials` (a denied allegation marks the act it denies).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from spacy.language import Language
from spacy.tokens import Doc, Span

from borderwatch.errors import ConfigError
from borderwatch.extract.actors import ActorResolver
from borderwatch.extract.claims import accusations, apply_denials
from borderwatch.extract.coref import DocumentActors
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


DocumentComponent = Callable[[list[Event], DocContext], list[Event]]


def _claims(events: list[Event], ctx: DocContext) -> list[Event]:
    return events + accusations(events, ctx.actors)


def _merge(events: list[Event], ctx: DocContext) -> list[Event]:
    return merge_events(events)


def _denials(events: list[Event], ctx: DocContext) -> list[Event]:
    apply_denials(events, ctx.denials)
    return events


COMPONENTS: dict[str, DocumentComponent] = {"claims": _claims, "merge": _merge, "denials": _denials}
DEFAULT_COMPONENTS = ("claims", "merge", "denials")


class Extractor:
    """Runs the configured detectors over every sentence, then the document components in order."""

    def __init__(
        self,
        nlp: Language,
        detectors: tuple[str, ...] = ("rules",),
        components: tuple[str, ...] = DEFAULT_COMPONENTS,
    ) -> None:
        lexicon = load_lexicon()
        actors = ActorResolver(nlp, lexicon)
        self.actors = actors
        registries = (("detectors", detectors, DETECTORS), ("components", components, COMPONENTS))
        for kind, names, known in registries:
            unknown = [name for name in names if name not in known]
            if unknown:
                raise ConfigError(f"unknown {kind} {unknown}; known: {sorted(known)}")
        self.detectors = [DETECTORS[name](nlp, lexicon, actors) for name in detectors]
        self.components = [COMPONENTS[name] for name in components]

    def extract(self, doc: Doc, published: str | None) -> list[Event]:
        ctx = DocContext(published=parse_published(published), actors=DocumentActors.read(doc, self.actors))
        events: list[Event] = []
        for sent in doc.sents:
            if not sent.text.strip():
                continue
            for detector in self.detectors:
                events.extend(detector.detect(sent, ctx))
        for component in self.components:
            events = component(events, ctx)
        return events


__all__ = ["COMPONENTS", "DETECTORS", "Detector", "Extractor"]
