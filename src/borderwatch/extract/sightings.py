"""Sighting lines: terse, often verbless reports of military materiel or forces seen somewhere.

OSINT mapping channels post one line per sighting ("Train transporting military equipment near
Yelsk, Gomel region, Belarus.", "Convoy of tanks parked in a field near Klintsy"). The trigger
lexicon reads events from clauses and finds nothing in them, or an arms transfer with no actor.
Where the lexicon finds no MOBILIZE in such a line, this detector reads it as MOBILIZE: mode
"troops" when it names forces, "weapons" when it names equipment; the actor is the demonym that
qualifies what was seen ("Russian military equipment" → RUS), or none; the date is the one the
line states, else its publication date. The place is chosen by the geo stage from the line's
locatives, finest first.

Vocabulary lives in data/sightings.toml.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources

from spacy.tokens import Span, Token

from borderwatch.errors import ConfigError
from borderwatch.extract import dates
from borderwatch.extract.actors import ActorResolver
from borderwatch.extract.lexicon import Lexicon
from borderwatch.extract.rules import DocContext, RuleDetector
from borderwatch.models import Actor, Claim, Event, EventDate
from borderwatch.models import Span as TextSpan

_SOURCE = "data/sightings.toml"
_LISTS = ("personnel", "materiel", "military", "vehicles", "sighting_verbs", "not_sighting")
_MODALS = {"will", "shall", "would", "could", "might", "may", "should", "can", "must"}
_FINITE = {"VBD", "VBZ", "VBP", "MD"}
ARCHIVE_AFTER = timedelta(days=30)
"""A sighting dated this long before it was posted is an archive picture: background, not news."""
MAX_WORDS = 24
"""Sighting lines are terse; a longer sentence is a story with a sighting in it, the trigger
lexicon's to read."""


@dataclass(frozen=True)
class SightingVocabulary:
    personnel: frozenset[str]
    materiel: frozenset[str]
    military: frozenset[str]
    vehicles: frozenset[str]
    sighting_verbs: frozenset[str]
    not_sighting: frozenset[str]
    models: re.Pattern[str]


@lru_cache(maxsize=1)
def load_vocabulary() -> SightingVocabulary:
    """The packaged sighting vocabulary, validated once per process."""
    path = resources.files("borderwatch") / "data" / "sightings.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot load sighting vocabulary: {exc}", source=_SOURCE) from exc
    lists: dict[str, frozenset[str]] = {}
    for name in _LISTS:
        words = raw.get(name)
        if not isinstance(words, list) or not words or not all(isinstance(w, str) and w for w in words):
            raise ConfigError(f"{name} must be a non-empty list of non-empty strings", source=_SOURCE)
        lists[name] = frozenset(w.lower() for w in words)
    patterns = raw.get("models")
    if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
        raise ConfigError("models must be a list of regular expressions", source=_SOURCE)
    try:
        models = re.compile("|".join(f"(?:{p})" for p in patterns))
    except re.error as exc:
        raise ConfigError(f"models: {exc}", source=_SOURCE) from exc
    return SightingVocabulary(models=models, **lists)


_READ_BY_RULES = frozenset({"MOBILIZE", "FIGHT", "ASSAULT"})
"""A line the trigger lexicon reads as a move or a fight is no bare sighting."""


class SightingDetector:
    """Reads terse sighting lines as MOBILIZE; leaves every other sentence to the other detectors."""

    name = "sightings"

    def __init__(
        self, lexicon: Lexicon, actors: ActorResolver, vocabulary: SightingVocabulary | None = None
    ) -> None:
        self.actors = actors
        self.vocab = vocabulary or load_vocabulary()
        self.parsed = RuleDetector(lexicon, actors)

    # ---- what was seen -----------------------------------------------------------------

    def _seen(self, sent: Span) -> tuple[list[Token], str] | None:
        """The tokens naming materiel or forces, and the mode they imply; None when there are none."""
        personnel: list[Token] = []
        materiel: list[Token] = []
        models = [m.start() for m in self.vocab.models.finditer(sent.text)]
        for token in sent:
            if token.pos_ not in ("NOUN", "PROPN", "ADJ", "VERB"):
                continue
            lemma, lower = token.lemma_.lower(), token.lower_
            words = {lemma, lower, lower.removesuffix("s")}
            if token.pos_ == "VERB" and not (words & self.vocab.materiel):
                continue  # a verb names no materiel, unless it is a mis-tagged noun of materiel
            if words & self.vocab.personnel and token.pos_ in ("NOUN", "PROPN"):
                personnel.append(token)
            elif (
                words & self.vocab.materiel
                or (words & self.vocab.vehicles and self._military(token))
                or token.idx - sent.start_char in models
            ):
                materiel.append(token)
        if personnel and not materiel:
            return personnel, "troops"
        if materiel:
            return materiel + personnel, "weapons"
        return None

    def _military(self, token: Token) -> bool:
        """An ordinary vehicle noun is materiel when qualified as military, by a demonym, or by
        what it carries ("train with tanks", "low loaders carrying tanks")."""
        near = [c for c in token.children if c.dep_ in ("amod", "compound", "nmod", "poss")]
        if token.i > token.sent.start:
            near.append(token.doc[token.i - 1])
        for word in near:
            if {word.lemma_.lower(), word.lower_} & self.vocab.military:
                return True
            entry = self.actors.lexicon.aliases.get(word.lower_)
            if entry is not None and entry.kind in ("demonym", "group"):
                return True
        for child in token.subtree:
            if child is token:
                continue
            words = {child.lemma_.lower(), child.lower_}
            if words & (self.vocab.materiel | self.vocab.personnel | self.vocab.military) or (
                self.vocab.models.match(child.text)
            ):
                return True
        return False

    # ---- is the line a sighting ------------------------------------------------------------

    def reads_as_sighting(self, sent: Span) -> bool:
        """A short line that only says where materiel or forces were: no clause of its own beyond
        a verb of seeing, standing or moving, nothing destroyed or lost, nothing negated, planned
        or hypothetical."""
        words = [t for t in sent if not t.is_punct and not t.is_space]
        if not words or len(words) > MAX_WORDS:
            return False
        # "attack helicopters" names a kind of helicopter; "destroyed tank" says what befell it.
        told = [t for t in sent if t.dep_ != "compound"]
        lemmas = {t.lemma_.lower() for t in told} | {t.lower_ for t in told}
        if lemmas & self.vocab.not_sighting or sent.text.rstrip().endswith("?"):
            return False
        if any(t.dep_ == "neg" or (t.dep_ in ("aux", "auxpass") and t.lower_ in _MODALS) for t in sent):
            return False
        if any(t.pos_ == "PRON" and t.dep_ in ("nsubj", "nsubjpass") for t in sent):
            return False  # "she reported", "they were intercepted": narrative, not a sighting line
        root = sent.root
        finite = [t for t in sent if t.tag_ in _FINITE and t.dep_ not in ("aux", "auxpass")]
        if root.tag_ == "VB" and root.i == sent.start and root.lower_ in self.vocab.vehicles:
            return not finite  # "Train transporting ...": a vehicle noun read as an imperative
        verbs = [t for t in sent if t.pos_ == "VERB" and t.lemma_.lower() not in self.vocab.sighting_verbs]
        if any(v.dep_ in ("ROOT", "conj", "ccomp", "advcl", "relcl") for v in verbs):
            return False  # another clause says something else happened
        if root.pos_ in ("NOUN", "PROPN", "NUM", "ADJ", "X", "SYM"):
            return not finite
        if root.lemma_.lower() in self.vocab.sighting_verbs and (
            root.tag_ in ("VBN", "VBG") or len(finite) == 1
        ):
            return self._subject_is_seen(root)
        return False

    def _subject_is_seen(self, verb: Token) -> bool:
        """The verb's subject is what was seen, or an onlooker ("locals filmed"), never a state or
        group acting ("Russia moved tanks" is the trigger lexicon's to read)."""
        subjects = [c for c in verb.children if c.dep_ == "nsubj"]
        for subject in subjects:
            if any(self.actors.lexicon.aliases.get(t.lower_) for t in subject.subtree if t.dep_ != "amod"):
                return False
        return True

    # ---- the event ---------------------------------------------------------------------

    def _actor(self, sent: Span, seen: list[Token]) -> Actor | None:
        """The demonym or group that qualifies what was seen, nearest first; a country named as a
        place ("near Yelsk, Belarus") or a demonym on a place ("the Ukrainian border") is not it."""
        mentions = self.actors.mentions(sent)
        best: tuple[int, Actor] | None = None
        for mention in mentions:
            if mention.entry.kind not in ("demonym", "group"):
                continue
            token = sent.doc[mention.end - 1]
            head = token.head if token.dep_ in ("amod", "compound", "nmod", "poss") else token
            owners = [head, *head.ancestors]
            owner = next((t for t in owners[:4] if t in seen), None)
            if owner is None and mention.entry.kind != "group":
                continue
            distance = abs(token.i - (owner.i if owner is not None else token.i))
            text = sent.doc[mention.start : mention.end].text
            actor = Actor(code=mention.entry.code, sector="MIL", text=text)
            if best is None or distance < best[0]:
                best = (distance, actor)
        return best[1] if best else None

    @staticmethod
    def _date(sent: Span, ctx: DocContext) -> EventDate | None:
        for ent in sent.ents:
            if ent.label_ not in ("DATE", "TIME"):
                continue
            resolved = dates.resolve(ent.text, ctx.published)
            if resolved is not None and resolved.granularity in ("day", "week"):
                return resolved
        numeric = dates.numeric_dates(sent.text)
        if numeric:
            return numeric[0][1]
        if ctx.published is None:
            return None
        day = ctx.published.isoformat()
        return EventDate(day, day, "day")

    def detect(self, sent: Span, ctx: DocContext) -> list[Event]:
        if not sent.text.strip() or not self.reads_as_sighting(sent):
            return []
        if any(c.rule.type in _READ_BY_RULES for c in self.parsed.select(self.parsed.triggers(sent))):
            return []  # "Serbian troops massed in ...", "Forces engage in firefight": read once, by the rules
        found = self._seen(sent)
        if found is None:
            return []
        seen, mode = found
        actor = self._actor(sent, seen)
        when = self._date(sent, ctx) or EventDate()
        historical = bool(
            when.end
            and ctx.published is not None
            and date.fromisoformat(when.end) < ctx.published - ARCHIVE_AFTER
        )
        text = sent.text
        start = sent.start_char + (len(text) - len(text.lstrip()))
        end = sent.start_char + len(text.rstrip())
        return [
            Event(
                type="MOBILIZE",
                mode=mode,
                actors=[actor] if actor else [],
                date=when,
                historical=historical,
                claim=Claim(claimant=None, stance="asserted", outlet_voice=True),
                evidence=[TextSpan(start, end)],
                trigger=seen[0].text,
                # The line's root: every place the line names lies inside its phrase.
                anchors=[sent.root.idx],
                confidence=0.6 if actor else 0.5,
            )
        ]
