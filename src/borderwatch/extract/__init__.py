"""The extract stage: events from parsed documents.

Two kinds of named components, composed like spaCy pipes:
- detectors read one sentence at a time (the rule-based detector ships, `rules.py`; a statistical
  one can be registered beside it), sharing what the article established so far: its actors
  (`coref.py`: initials, short forms, its two parties) and each event's status (`status.py`);
- document components then work on all of a document's events in order: `claims` (a party's
  report of the other side's act is its accusation, `claims.py`), `merge` (one event per
  happening, `merge.py`), `denials` (a denied allegation marks the act it denies), after
  `governments` (a group governing a state de facto acts as that state, `coref.py`), and
  `counterparts` (an act of one of the article's two states aimed at no one named is aimed at
  the other).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from spacy.language import Language
from spacy.tokens import Doc, Span

from borderwatch.errors import ConfigError, LimitError
from borderwatch.extract.actors import ActorResolver
from borderwatch.extract.charges import ChargeDetector
from borderwatch.extract.claims import accusations, apply_denials
from borderwatch.extract.classify import TypedDetector
from borderwatch.extract.coref import DocumentActors, as_governments, counterparts
from borderwatch.extract.dates import parse_published
from borderwatch.extract.headlines import HeadlineDetector, mark_reduced_passives, verb_exceptions
from borderwatch.extract.lexicon import Lexicon, load_lexicon
from borderwatch.extract.merge import merge_events
from borderwatch.extract.notes import date_undated_events
from borderwatch.extract.rules import DocContext, RuleDetector
from borderwatch.extract.sightings import SightingDetector
from borderwatch.models import Event, Place


class Detector(Protocol):
    """Finds events in one sentence, given what is known about the document so far."""

    name: str

    def detect(self, sent: Span, ctx: DocContext) -> list[Event]: ...


DetectorFactory = Callable[[Language, Lexicon, ActorResolver], Detector]

DETECTORS: dict[str, DetectorFactory] = {
    "rules": lambda nlp, lexicon, actors: RuleDetector(lexicon, actors),
    # The rules with a learned second opinion on types (extract/classify.py).
    "typed": lambda nlp, lexicon, actors: TypedDetector(lexicon, actors),
    "sightings": lambda nlp, lexicon, actors: SightingDetector(lexicon, actors),
    "headlines": lambda nlp, lexicon, actors: HeadlineDetector(lexicon, actors, verb_exceptions(nlp)),
    "charges": lambda nlp, lexicon, actors: ChargeDetector(lexicon, actors),
}

DEFAULT_DETECTORS = ("typed", "charges", "sightings", "headlines")
"""The parse-based rules with the learned type classifier's second opinion, accusations made by
charging the other side's conduct (`charges.py`), and the readers of two genres the rules miss:
sighting lines and headlines."""


DocumentComponent = Callable[[list[Event], DocContext], list[Event]]
ComponentFactory = Callable[[Lexicon], DocumentComponent]


def _governments(lexicon: Lexicon) -> DocumentComponent:
    return lambda events, ctx: as_governments(lexicon.governments, events, ctx.published)


def _claims(lexicon: Lexicon) -> DocumentComponent:
    return lambda events, ctx: events + accusations(events, ctx.actors)


def _merge(lexicon: Lexicon) -> DocumentComponent:
    verbs: dict[str, frozenset[str]] = {}
    for rule in lexicon.triggers:
        verbs[rule.type] = verbs.get(rule.type, frozenset()) | rule.verbs

    def merge(events: list[Event], ctx: DocContext) -> list[Event]:
        if ctx.placer is not None:
            for event in events:
                event.place = ctx.placer(event)
        return merge_events(events, ctx.doc, verbs)

    return merge


def _counterparts(lexicon: Lexicon) -> DocumentComponent:
    return lambda events, ctx: counterparts(ctx.actors, events)


def _denials(lexicon: Lexicon) -> DocumentComponent:
    def deny(events: list[Event], ctx: DocContext) -> list[Event]:
        apply_denials(events, ctx.denials)
        return events

    return deny


COMPONENTS: dict[str, ComponentFactory] = {
    "governments": _governments, "claims": _claims, "merge": _merge, "denials": _denials,
    "counterparts": _counterparts,
}
DEFAULT_COMPONENTS = ("governments", "claims", "merge", "counterparts", "denials")


class Extractor:
    """Runs the configured detectors over every sentence, then the document components in order."""

    def __init__(
        self,
        nlp: Language,
        detectors: tuple[str, ...] = DEFAULT_DETECTORS,
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
        self.components = [COMPONENTS[name](lexicon) for name in components]
        self.reduced_passive_verbs = lexicon.cues.reduced_passive_verbs

    def extract(
        self,
        doc: Doc,
        published: str | None,
        placer: Callable[[Event], Place | None] | None = None,
        deadline: float | None = None,
    ) -> list[Event]:
        """Events of one document (headlinese passives relabelled first). `placer` places a
        mention (the geo stage), so that merging can keep acts in two places apart; `deadline`
        (a `time.monotonic()` value): past it, `LimitError` ends the document."""
        mark_reduced_passives(doc, self.reduced_passive_verbs)
        ctx = DocContext(published=parse_published(published), actors=DocumentActors.read(doc, self.actors),
                         placer=placer, doc=doc)
        events: list[Event] = []
        for sent in doc.sents:
            if deadline is not None and time.monotonic() > deadline:
                raise LimitError("extraction ran past the budget")
            if not sent.text.strip():
                continue
            for detector in self.detectors:
                events.extend(detector.detect(sent, ctx))
        date_undated_events(doc, events, published)
        for component in self.components:
            events = component(events, ctx)
        return events


__all__ = ["COMPONENTS", "DETECTORS", "Detector", "Extractor"]
