"""Conflict headlines the parser misreads: the trigger lexicon read as a bag of words.

Headlinese drops articles and auxiliaries, so the small English pipeline tags its verbs as nouns
and strings them into compounds ("Ukrainian sniper eliminates separatist commander", "Heavy
clashes rock El Obeid"): the rule detector, which reads triggers through the parse, finds
nothing. For a line shaped like a headline (short, no closing full stop) in which that reading
keeps no violent event (none found, or one set aside as the circumstance of another: "Leader
warns of 'terror' as two killed in clashes"), this detector looks for the FIGHT and ASSAULT
triggers of the same lexicon (data/triggers.toml) by lemma and surface form, whatever their tag;
a trigger constrained to an object or subject class counts when a word of that class is in the
line. Losses are also read from a count or a person with a casualty word ("Dozens dead as ...",
"Two shot dead", "hundreds feared dead"). What a negation, a scene-setting phrase ("after 11 days
of fighting", "ahead of peace talks") or another event of the line ("warns of civil war") governs
is not the headline's violence; disasters without an armed hand and modal or future wording are
left alone, as the rule detector does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from borderwatch.extract.actors import ActorResolver
from borderwatch.extract.lexicon import Lexicon, TriggerRule
from borderwatch.extract.rules import Candidate, DocContext, RuleDetector, sentence_span
from borderwatch.models import Claim, Event, EventDate

MAX_WORDS = 20
"""A headline is short; a longer line is prose, which the parse reads well enough."""
_VIOLENT = ("FIGHT", "ASSAULT")
_MODALS = {"will", "would", "could", "might", "may", "should", "can", "must", "to"}
_NEGATIONS = {"not", "no", "never", "n't", "without", "deny"}
_ACTIVE_MARKS = frozenset({"aux", "auxpass", "nsubjpass", "dobj", "ccomp", "xcomp", "attr", "dative"})
"""What shows a verb is written out in full (an auxiliary) or active (an object)."""
_CASUALTY_GAP = {"shot", "feared", "reported", "reportedly", "confirmed", "believed", "left", "were", "are",
                 "was", "is", "now", "so", "far", "at", "least"}
"""Words between a count and its casualty word: "two shot dead", "hundreds feared dead"."""


def mark_reduced_passives(doc: Doc, verbs: frozenset[str]) -> None:
    """Relabel the subjects of headlinese passives in place: "Kosovo police officer killed in
    ambush" drops the auxiliary, and the parser reads the officer as the killer. A verb that always
    takes an object (`reduced_passive_verbs`), in its past form with a subject but no auxiliary and
    no object, is a passive: its subject becomes `nsubjpass`, as in "an officer was killed"."""
    for token in doc:
        if token.tag_ not in ("VBD", "VBN") or token.lemma_.lower() not in verbs:
            continue
        children = list(token.children)
        if any(c.dep_ in _ACTIVE_MARKS for c in children):
            continue
        for child in children:
            if child.dep_ == "nsubj":
                child.dep_ = "nsubjpass"


class HeadlineDetector:
    """Finds the violent event of a misparsed headline; silent wherever the parse already did."""

    name = "headlines"

    def __init__(self, lexicon: Lexicon, actors: ActorResolver,
                 verb_lemmas: Mapping[str, Sequence[str]] | None = None) -> None:
        self.lex = lexicon
        self.parsed = RuleDetector(lexicon, actors)
        self.rules = [r for r in lexicon.triggers if r.type in _VIOLENT]
        self.verb_lemmas = verb_lemmas or {}
        """Irregular verb forms → lemmas ("shot" → "shoot"), from the pipeline's lemmatizer."""
        classes = lexicon.classes
        self.people = classes["manpower"] | classes["combatants"] | classes["victims"] | classes["civilians"]
        self.casualty_words = classes["casualty_words"]
        self.counts = classes["counts"]
        # A loss read from a count and a casualty word: combat, or violence when victims are named.
        self.losses = {kind: TriggerRule(kind, None, frozenset(), frozenset(), (), frozenset(), frozenset(),
                                         frozenset(), weight=0.6, order=-1) for kind in _VIOLENT}

    @staticmethod
    def is_headline(sent: Span) -> bool:
        """Short, and no closing full stop: how headlines and their wire variants are written."""
        words = [t for t in sent if not (t.is_punct or t.is_space)]
        return 3 <= len(words) <= MAX_WORDS and not sent.text.rstrip().endswith((".", "?", "!"))

    def _forms(self, token: Token) -> set[str]:
        """The word's lemma and surface, and its surface without a verb's inflection."""
        lower = token.lower_
        forms = {token.lemma_.lower(), lower, *self.verb_lemmas.get(lower, ())}
        # A verb tagged as a noun keeps its inflection in its lemma ("eliminates", "stormed").
        for suffix, stem in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""),
                             ("ing", "e")):
            if lower.endswith(suffix) and len(lower) > len(suffix) + 2:
                forms.add(lower[: -len(suffix)] + stem)
        return forms

    def _matches(self, rule: TriggerRule, sent: Span, forms: list[set[str]],
                 free: list[bool]) -> Token | None:
        """The first free word of the line that triggers `rule`, its class constraints met anywhere
        in the line; a phrase may have adjectives inside it ("come under heavy fire")."""
        words = set().union(*forms)
        if rule.unless and any(words & self.lex.classes[c] for c in rule.unless):
            return None
        if rule.objects and not any(words & self.lex.classes[c] for c in rule.objects):
            return None
        if rule.subjects and not any(words & self.lex.classes[c] for c in rule.subjects):
            return None
        for token, token_forms, ok in zip(sent, forms, free, strict=True):
            if ok and (token_forms & rule.nouns or (token_forms & rule.verbs and not _plain_noun(token))):
                return token
        # Adjectives and adverbs inside a phrase are skipped.
        steps = [i for i, t in enumerate(sent) if t.tag_ not in ("JJ", "JJR", "JJS", "RB")]
        for phrase in rule.phrases:
            for n in range(len(steps) - len(phrase) + 1):
                at = steps[n : n + len(phrase)]
                if free[at[0]] and all(w in forms[i] for i, w in zip(at, phrase, strict=True)):
                    return sent[at[0]]
        return None

    def _casualties(self, sent: Span, forms: list[set[str]], free: list[bool]) -> Token | None:
        """A casualty word after a count or a person ("Dozens dead", "two shot dead", "soldier
        killed"), or describing people ("bodies of dead civilians"): a loss reported without an
        attack verb."""
        tokens = list(sent)
        for n, token in enumerate(tokens):
            if not free[n] or token.lower_ not in self.casualty_words:
                continue
            if token.dep_ == "amod" and token.head.lemma_.lower() in self.people:
                return token
            k = n - 1
            while k >= 0 and tokens[k].lower_ in _CASUALTY_GAP:
                k -= 1
            if k < 0 or not forms[k]:
                continue
            before = tokens[k]
            if before.like_num or forms[k] & (self.counts | self.people):
                return token
        return None

    def _kinds(self, sent: Span) -> set[int]:
        """Words that only name a kind of thing or a state: "attack helicopters", "strike
        drones", "occupation authorities", "occupied regions". A noun before the line's root, or
        before another such noun, is kept: headlinese makes its verb a noun, and the subject its
        modifier ("Deadly clashes rock Ukraine")."""
        weapons = self.lex.classes["troops"] | self.lex.classes["areas"]
        return {
            t.i
            for t in sent
            if t.dep_ in ("compound", "amod") and t.head.i > t.i
            and (t.head.lemma_.lower() in weapons
                 or (t.dep_ == "compound" and t.head.pos_ == "NOUN"
                     and t.head.dep_ not in ("ROOT", "compound")))
        }

    def _quiet(self, sent: Span, forms: list[set[str]]) -> bool:
        """A disaster with no armed hand in it."""
        words = set().union(*forms)
        cues = self.lex.cues
        acts = set().union(*(f for t, f in zip(sent, forms, strict=True) if not _plain_noun(t)))
        # A ceasefire that collapses is no accident; a storm that hits the coast is no storming.
        armed = words & (cues.armed_words | self.lex.classes["truce"]) | acts & cues.armed_verbs
        return bool(not armed and words & (cues.disaster_words | cues.accident_verbs))

    def detect(self, sent: Span, ctx: DocContext) -> list[Event]:
        if not self.is_headline(sent):
            return []
        found = self.parsed.triggers(sent)
        kept = self.parsed.select(found)
        foreground = any(c.background is None for c in kept)
        if any(c.rule.type in _VIOLENT and (c.background is None or not foreground) for c in kept):
            return []  # the parse found it: the rule detector reports it, with its arguments
        background = _background(sent) | self._kinds(sent) | self._unasserted(sent)
        forms = [self._forms(t) if t.i not in background else set() for t in sent]
        if self._quiet(sent, forms):
            return []
        # Violence the parse set aside: the circumstance of the line's event ("warns of terror as
        # two killed in clashes"), or what a clause dates it by when that is a happening, not a
        # span of time ("retreated after attempts to attack", "after the commander's slaying").
        aside = [
            c
            for c in found
            if c.rule.type in _VIOLENT and c.token.i not in background
            and ((c not in kept and _circumstance(c)) or (c in kept and c.background is not None))
        ]
        if aside:
            return [_event(aside[0].rule, aside[0].token, sent, ctx)]
        # What another event of the line governs is its argument ("warns of civil war"), not news
        # of violence; its circumstances and the line's other clauses may be.
        taken: set[int] = set()
        for cand in kept:
            if cand.token.i not in background:
                taken |= _arguments(cand.token)
        free = [t.i not in taken and bool(f) for t, f in zip(sent, forms, strict=True)]
        for rule in self.rules:
            token = self._matches(rule, sent, forms, free)
            if token is not None:
                return [_event(rule, token, sent, ctx)]
        token = self._casualties(sent, forms, free)
        if token is not None:
            victims = set().union(*forms) & (self.lex.classes["victims"] | self.lex.classes["civilians"])
            return [_event(self.losses["ASSAULT" if victims else "FIGHT"], token, sent, ctx)]
        return []

    def _unasserted(self, sent: Span) -> set[int]:
        """Tokens a negation or a modal governs: "without heating", "no casualties", "denies
        shelling", "Zelensky to discuss aggression", "may strike". Violence attempted happened, as
        the rule detector reads it ("attempts to attack")."""
        out: set[int] = set()
        for token in sent:
            word = token.lower_
            if word in _MODALS and token.tag_ in ("MD", "TO"):
                if not (word == "to" and token.head.head.lemma_.lower() in self.lex.cues.attempt_verbs):
                    out |= _arguments(token.head)
            elif word not in _NEGATIONS and token.lemma_.lower() not in _NEGATIONS:
                continue
            elif token.dep_ in ("prep", "ROOT") or token.pos_ == "VERB":
                out |= _arguments(token)
            else:
                out |= _arguments(token.head)
        return out


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


_BACKGROUND = {"before", "since", "ahead", "until", "despite"}
_AFTER = {"after", "following"}
_SPANS = {"hour", "day", "night", "week", "month", "year", "decade"}
"""A phrase after "after" that names a span of time sets the scene ("after 11 days of fighting");
one that names a happening ("after the commander's slaying") is news of its own."""
_CIRCUMSTANCES = {"advcl", "conj", "cc", "punct", "npadvmod", "parataxis", "mark", "appos"}
_SCENE_PREPS = {"after", "following", "amid", "during", "as", "in", "near", "at", "since", "despite", "ahead",
                "before", "until", "outside", "inside", "across", "along", "around"}


def _background(sent: Span) -> set[int]:
    """Tokens inside a phrase that sets the scene before or after the news ("agree on a
    ceasefire after 11 days of fighting", "clashes ahead of peace talks"): what it names is not
    the headline's event."""
    out: set[int] = set()
    for token in sent:
        word = token.lower_
        if word not in _BACKGROUND | _AFTER or token.dep_ not in ("prep", "mark", "advmod"):
            continue
        scope = {t.i for t in token.subtree if t.i != token.i}
        if token.dep_ == "mark":
            scope |= {t.i for t in token.head.subtree}
        if word in _AFTER and not any(sent.doc[i].lemma_.lower() in _SPANS for i in scope):
            continue
        out |= scope
    return out


def _plain_noun(token: Token) -> bool:
    """A noun the parse reads well: the subject or object of a real verb, or the object of a
    preposition ("as storm hits the coast"); no verb of headlinese mistagged."""
    head = token.head
    return token.pos_ == "NOUN" and (
        (token.dep_ in ("nsubj", "nsubjpass", "dobj") and head.tag_.startswith("VB"))
        or (token.dep_ == "pobj" and head.pos_ == "ADP")
    )


def _circumstantial(token: Token) -> bool:
    """Another clause, or a phrase that sets the scene, hanging from a word."""
    return token.dep_ in _CIRCUMSTANCES or (token.dep_ == "prep" and token.lower_ in _SCENE_PREPS)


def _arguments(token: Token) -> set[int]:
    """The word and what it takes as arguments, down the tree: its subtree without circumstantial
    dependents (other clauses, scene-setting phrases) at any depth, so "warns of civil war"
    covers "civil war" and "urged citizens not to fight after the death of a mercenary" leaves
    "the death of a mercenary" out."""
    out: set[int] = set()
    frontier = [token]
    while frontier:
        current = frontier.pop()
        out.add(current.i)
        frontier.extend(child for child in current.children if not _circumstantial(child))
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


def verb_exceptions(nlp: Language) -> Mapping[str, Sequence[str]]:
    """The pipeline's table of irregular verb forms ("shot" → "shoot", "sank" → "sink"), for
    headline verbs the tagger reads as nouns; empty when its lemmatizer keeps none."""
    if "lemmatizer" not in nlp.pipe_names:
        return {}
    lookups = getattr(nlp.get_pipe("lemmatizer"), "lookups", None)
    if lookups is None or not lookups.has_table("lemma_exc"):
        return {}
    table = lookups.get_table("lemma_exc")
    return dict(table["verb"]) if "verb" in table else {}
