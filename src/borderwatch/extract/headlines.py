"""Conflict headlines the parser misreads: the trigger lexicon read as a bag of words.

Headlinese drops articles and auxiliaries, so the small English pipeline tags its verbs as nouns
and strings them into compounds ("Ukrainian sniper eliminates separatist commander", "Heavy
clashes rock El Obeid"): the rule detector, which reads triggers through the parse, finds
nothing. For a line shaped like a headline (short, no closing full stop) in which that reading
keeps no violent event (none found, or one set aside as the circumstance of another: "Leader
warns of 'terror' as two killed in clashes"), this detector looks for the FIGHT and ASSAULT
triggers of the same lexicon (data/triggers.toml) by lemma and surface form, whatever their tag;
a trigger constrained to an object or subject class counts when a word of that class is in the
line. Disasters without an armed hand, negations and modal or future wording are left alone, as
the rule detector does.
"""

from __future__ import annotations

from spacy.tokens import Span, Token

from borderwatch.extract.actors import ActorResolver
from borderwatch.extract.lexicon import Lexicon, TriggerRule
from borderwatch.extract.rules import Candidate, DocContext, RuleDetector, sentence_span
from borderwatch.models import Claim, Event, EventDate

MAX_WORDS = 20
"""A headline is short; a longer line is prose, which the parse reads well enough."""
_VIOLENT = ("FIGHT", "ASSAULT")
_MODALS = {"will", "would", "could", "might", "may", "should", "can", "must", "to"}
_NEGATIONS = {"not", "no", "never", "n't", "without", "deny", "denies", "denied"}


class HeadlineDetector:
    """Finds the violent event of a misparsed headline; silent wherever the parse already did."""

    name = "headlines"

    def __init__(self, lexicon: Lexicon, actors: ActorResolver) -> None:
        self.lex = lexicon
        self.parsed = RuleDetector(lexicon, actors)
        self.rules = [r for r in lexicon.triggers if r.type in _VIOLENT]

    @staticmethod
    def is_headline(sent: Span) -> bool:
        """Short, and no closing full stop: how headlines and their wire variants are written."""
        words = [t for t in sent if not (t.is_punct or t.is_space)]
        return 3 <= len(words) <= MAX_WORDS and not sent.text.rstrip().endswith((".", "?", "!"))

    @staticmethod
    def _forms(token: Token) -> set[str]:
        """The word's lemma and surface, and its surface without a verb's inflection."""
        lower = token.lower_
        forms = {token.lemma_.lower(), lower}
        # A verb tagged as a noun keeps its inflection in its lemma ("eliminates", "stormed").
        for suffix, stem in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""),
                             ("ing", "e")):
            if lower.endswith(suffix) and len(lower) > len(suffix) + 2:
                forms.add(lower[: -len(suffix)] + stem)
        return forms

    def _matches(self, rule: TriggerRule, sent: Span, forms: list[set[str]]) -> Token | None:
        """The first word of the line that triggers `rule`, its class constraints met anywhere."""
        vocabulary = rule.verbs | rule.nouns
        words = set().union(*forms)
        if rule.unless and any(words & self.lex.classes[c] for c in rule.unless):
            return None
        if rule.objects and not any(words & self.lex.classes[c] for c in rule.objects):
            return None
        if rule.subjects and not any(words & self.lex.classes[c] for c in rule.subjects):
            return None
        for token, token_forms in zip(sent, forms, strict=True):
            if token_forms & vocabulary:
                return token
        for phrase in rule.phrases:
            for i in range(len(sent) - len(phrase) + 1):
                if all(w in forms[i + k] for k, w in enumerate(phrase)):
                    return sent[i]
        return None

    def _kinds_of_weapon(self, sent: Span) -> set[int]:
        """Trigger words that only name a kind of weapon: "attack helicopters", "strike drones"."""
        weapons = self.lex.classes.get("troops", frozenset())
        return {
            t.i
            for t in sent
            if t.dep_ in ("compound", "amod") and t.head.i > t.i and t.head.lemma_.lower() in weapons
        }

    def _quiet(self, sent: Span, forms: list[set[str]]) -> bool:
        """Negated, modal or future wording, or a disaster with no armed hand in it."""
        words = set().union(*forms)
        if words & _NEGATIONS or any(t.lower_ in _MODALS and t.tag_ in ("MD", "TO") for t in sent):
            return True
        cues = self.lex.cues
        # A ceasefire that collapses is no accident.
        armed = words & (cues.armed_words | cues.armed_verbs | self.lex.classes.get("truce", frozenset()))
        return bool(not armed and words & (cues.disaster_words | cues.accident_verbs))

    def detect(self, sent: Span, ctx: DocContext) -> list[Event]:
        if not self.is_headline(sent):
            return []
        found = self.parsed.triggers(sent)
        kept = self.parsed.select(found)
        if any(c.rule.type in _VIOLENT for c in kept):
            return []  # the parse found it: the rule detector reports it, with its arguments
        background = _background(sent) | self._kinds_of_weapon(sent)
        forms = [self._forms(t) if t.i not in background else set() for t in sent]
        if self._quiet(sent, forms):
            return []
        aside = [
            c
            for c in found
            if c.rule.type in _VIOLENT and c not in kept and c.token.i not in background and _circumstance(c)
        ]
        if kept and not aside:
            return []  # the parse read the line as another kind of event
        if aside:
            return [_event(aside[0].rule, aside[0].token, sent, ctx)]
        for rule in self.rules:
            token = self._matches(rule, sent, forms)
            if token is not None:
                return [_event(rule, token, sent, ctx)]
        return []


def _event(rule: TriggerRule, token: Token, sent: Span, ctx: DocContext) -> Event:
    """The headline's violent event, with no actor: a bag of words does not say who acted."""
    day = ctx.published.isoformat() if ctx.published else None
    return Event(
        type=rule.type,
        mode=rule.mode,
        date=EventDate(day, day, "unknown") if day else EventDate(),
        claim=Claim(claimant=None, stance="asserted", outlet_voice=True),
        evidence=[sentence_span(sent)],
        trigger=token.text,
        anchors=[token.idx],
        confidence=rule.weight * 0.7,
    )


_BACKGROUND = {"after", "before", "since", "following", "ahead", "until", "despite"}


def _background(sent: Span) -> set[int]:
    """Tokens inside a phrase that sets the scene before or after the news ("agree on a
    ceasefire after 11 days of fighting"): what it names is not the headline's event."""
    out: set[int] = set()
    for token in sent:
        if token.lower_ in _BACKGROUND and token.dep_ in ("prep", "mark", "advmod"):
            out.update(t.i for t in token.subtree if t.i != token.i)
            if token.dep_ == "mark":
                out.update(t.i for t in token.head.subtree)
    return out


def _circumstance(cand: Candidate) -> bool:
    """Whether a trigger the parse set aside is the circumstance of the line's event ("warns of
    terror as two killed in clashes"), not an argument of it ("threatened to strike")."""
    if cand.dominator is None:
        return True
    current = cand.token
    while current.i != cand.dominator.token.i and current.head.i != current.i:
        if current.dep_ == "advcl" or (current.dep_ == "prep" and current.lower_ in ("amid", "during", "in")):
            return True
        current = current.head
    return False
