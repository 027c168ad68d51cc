"""The rule-based event detector: lexicon triggers read through the dependency parse.

For each sentence it
1. finds trigger words (data/triggers.toml) — phrases first, then object-constrained words;
2. keeps the triggers that head their own clause: a trigger inside the argument of another
   trigger ("threatened to cut off", "allowed troops to use") is part of that event, except the
   complement of an accusation or a denial, which is an event of its own, alleged or denied;
3. attaches actors, recipients, claimant, date and the historical / future / hypothetical /
   negated flags from the words around each kept trigger (data/cues.toml).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from spacy.tokens import Doc, Span, Token

from borderwatch.extract import dates
from borderwatch.extract.actors import PRONOUNS, ActorResolver, Mention
from borderwatch.extract.coref import DocumentActors
from borderwatch.extract.lexicon import Lexicon, TriggerRule
from borderwatch.extract.status import StatusReader
from borderwatch.models import Actor, Claim, Event, EventDate, Place
from borderwatch.models import Span as TextSpan

_SUBJECTS = ("nsubj", "nsubjpass", "csubj", "expl")
_OBJECT_DEPS = ("dobj", "nsubjpass", "attr", "oprd", "pobj", "appos")
_RECIPIENT_PREPS = {
    "against",
    "on",
    "upon",
    "at",
    "with",
    "to",
    "into",
    "toward",
    "towards",
    "over",
    "inside",
    "onto",
}
_NOUN_ACTOR_PREPS = {"by", "from"}
_INDEPENDENT = {
    "conj",
    "nsubj",
    "nsubjpass",
    "csubj",
    "parataxis",
    "dep",
    "appos",
    "npadvmod",
    "punct",
    "meta",
    "intj",
}
"""Links that do not make a trigger part of the event above it (coordination, subjects, loose
attachments such as headline parataxis)."""
_CIRCUMSTANCE_PREPS = {
    "after",
    "during",
    "despite",
    "amid",
    "following",
    "before",
    "since",
    "over",
    "because",
    "in",
}
_SETTING_MARKS = frozenset({"as", "while", "when", "during"})
"""Marks of a clause that sets a casualty in a fight ("killed as troops clashed")."""
_CIRCUMSTANCE_MARKS = {
    "after",
    "before",
    "since",
    "when",
    "until",
    "because",
    "although",
    "though",
    "once",
    "despite",
}
_STATEMENT_NOUNS = {
    "statement",
    "report",
    "communique",
    "communiqué",
    "announcement",
    "release",
    "briefing",
    "note",
    "letter",
    "message",
    "post",
}
_NO_OBJECT_RECIPIENT = {"MOBILIZE", "AID", "SANCTION", "INVESTIGATE", "CONCEDE", "PROTEST"}


@dataclass
class Candidate:
    """A trigger word in a sentence and the rule it matched."""

    rule: TriggerRule
    token: Token
    end: int
    """Token index just past the trigger (phrases span several tokens)."""
    dominator: Candidate | None = None
    embedded_stance: str | None = None
    """'alleged' or 'denied' when the trigger is the complement of an accusation or denial."""
    dated_by: Span | None = None
    """A date written right beside a nominal trigger the parse hangs elsewhere ("their failed
    rebellion last year"): it dates that trigger alone."""
    background: str | None = None
    """The word that makes the trigger's clause background to the sentence ("after", "before")."""
    enabled_by: Token | None = None
    """The permission whose complement the trigger is ("allowed troops to station"): its date
    dates the event too."""


@dataclass
class DocContext:
    """What the detector remembers across the sentences of one document."""

    published: date | None
    last_subject: Actor | None = None
    last_speaker: Actor | None = None
    subjects: list[tuple[Actor, bool]] = field(default_factory=list)
    """Actors named as subjects so far, each with whether its noun is plural ("Russian troops"),
    so "they" and "it" in a later sentence take the last subject that agrees with them."""
    quote_speaker: Actor | None = None
    """Who speaks in a quotation still open from an earlier sentence ("X said: "... . ...")."""
    """Who spoke last ("X said", "according to X"): the referent of a quoted \"we\"."""
    recent: list[Actor] = field(default_factory=list)
    actors: DocumentActors | None = None
    """What the article established about its actors (initials, short forms, its two parties)."""
    placer: Callable[[Event], Place | None] | None = None
    """Places one mention (the geo stage's reading), so merging keeps two places' acts apart."""
    denials: list[Actor] = field(default_factory=list)
    """Who denied an allegation ("Rwanda denied the allegation"), in the order the text says so."""
    doc: Doc | None = None
    """The parsed document, for document components that read the mentions' words (merging)."""

    def memory(self) -> tuple[Any, ...]:
        """What reading one sentence may change, so a second reading of it can start afresh."""
        return (self.last_subject, self.last_speaker, list(self.recent), list(self.subjects),
                self.quote_speaker, len(self.denials))

    def rewind(self, memory: tuple[Any, ...]) -> None:
        """Undo what was noted since `memory()`."""
        self.last_subject, self.last_speaker, recent, subjects, self.quote_speaker, denials = memory
        self.recent[:] = recent
        self.subjects[:] = subjects
        del self.denials[denials:]


def _doers(token: Token) -> set[str]:
    """Lemmas of who performs a verb: its subject (and what is conjoined to it), the agent of its
    passive, or the noun it describes ("protesters throwing stones"); a conjoined verb shares the
    subject of the first ("gathered and chanted")."""
    verb = token
    while verb.dep_ == "conj" and not any(c.dep_ in ("nsubj", "nsubjpass") for c in verb.children):
        verb = verb.head
    doers = [c for c in verb.children if c.dep_ == "nsubj"]
    doers += [g for c in verb.children if c.dep_ == "agent" for g in c.children if g.dep_ == "pobj"]
    if verb.dep_ == "acl":
        doers.append(verb.head)
    doers += [c for d in doers for c in d.children if c.dep_ == "conj"]
    # "Groups of youths", "thousands of protesters": who they are follows "of".
    doers += [g for d in doers for c in d.children if c.lower_ == "of" for g in c.children
              if g.dep_ == "pobj"]
    return {d.lemma_.lower() for d in doers}


_VIOLENT = frozenset({"FIGHT", "ASSAULT"})
_USES = frozenset({"use", "employment", "firing", "launch", "launching", "deployment"})
"""Nouns whose holder is the actor of what they take "of" ("Beijing's use of water cannon")."""
_SUBJECT_MATTER = frozenset({"over", "about", "regarding", "concerning"})
_ADDRESSED = frozenset({"ACCUSE", "PROTEST"})
"""Statements told "to" an audience ("complained to the UN about ..."), aimed at someone else."""
_MUTUAL = frozenset({"FIGHT"})
"""Types whose participants may be named as a pair ("clashes between X and Y")."""
_MEANS = frozenset({"by", "after", "before", "while", "without"})
"""Prepositions whose gerund shares the subject of the verb it hangs from ("responded by firing")."""
_TOPIC_PREPS = frozenset({"over", "about", "amid", "after", "despite", "following", "regarding",
                          "concerning"})
"""Prepositions that name a cause or topic: beside a direct object they name nothing the verb acts
on ("suspended ties over the port deal"). Not "into": "crossed three miles into Pakistani
territory" is where the act went."""
_NEEDS_PARTNER = frozenset({"CONSULT"})
"""Types that take two parties: a meeting with no counterpart named is no consultation."""
_THREAT_MODALS = frozenset({"would", "might", "could", "may", "'d"})
"""Modals with which a party announces what it is prepared to do (see _reframe)."""
_OWN_FORCES = frozenset({"MOBILIZE", "RETREAT"})
"""Types whose passive subject is the actor's own forces ("Belarusian units were withdrawn")."""
_DISTRIBUTIVE = frozenset({"MOBILIZE", "RETREAT", "ACCUSE", "THREATEN"})
"""Types where acts of several named actors are each one's own ("both sides deployed troops")."""


class RuleDetector:
    """Finds events in sentences with the trigger lexicon and the dependency parse."""

    name = "rules"

    def __init__(self, lexicon: Lexicon, actors: ActorResolver) -> None:
        self.lex = lexicon
        self.cues = lexicon.cues
        self.status = StatusReader(lexicon.cues)
        self.actors = actors
        self._by_verb: dict[str, list[TriggerRule]] = {}
        self._by_noun: dict[str, list[TriggerRule]] = {}
        self._phrases: dict[str, list[tuple[tuple[str, ...], TriggerRule]]] = {}
        for rule in lexicon.triggers:
            for word in rule.verbs:
                self._by_verb.setdefault(word, []).append(rule)
            for word in rule.nouns:
                self._by_noun.setdefault(word, []).append(rule)
            for phrase in rule.phrases:
                self._phrases.setdefault(phrase[0], []).append((phrase, rule))
        for table in (self._by_verb, self._by_noun):
            for rules in table.values():
                # Rules constrained by object or subject are more specific: try them first.
                rules.sort(key=lambda r: (not (r.objects or r.subjects), r.order))
        for entries in self._phrases.values():
            entries.sort(key=lambda pr: (-len(pr[0]), pr[1].order))
        # The rules a forces-moving verb the lexicon lacks stands for (see _placement).
        self._deploy = next(r for r in lexicon.triggers
                            if r.type == "MOBILIZE" and r.objects == frozenset({"troops"}) and not r.subjects)
        self._withdraw = next(r for r in lexicon.triggers
                              if r.type == "RETREAT" and not (r.objects or r.subjects or r.unless))
        self._cooperate = next(r for r in lexicon.triggers
                               if r.type == "COOPERATE" and not (r.objects or r.subjects or r.unless))
        # Phrases whose first word is a negation ("not accept"): the word they negate, by type.
        self._refusals = {
            (rule.type, phrase[1])
            for rule in lexicon.triggers
            for phrase in rule.phrases
            if phrase[0] in self.cues.negation_words
        }

    # ---- 1. triggers --------------------------------------------------------------------

    def _objects(self, token: Token) -> set[str]:
        """Lemmas of what a trigger acts on: its objects and the objects of its prepositions."""
        out: set[str] = set()
        transitive = any(c.dep_ == "dobj" for c in token.children)
        frontier = [
            c for c in token.children if c.dep_ in _OBJECT_DEPS or (
                c.dep_ in ("prep", "agent", "dative") and not (transitive and c.lower_ in _TOPIC_PREPS))
        ]
        while frontier:
            child = frontier.pop()
            if child.dep_ in ("prep", "agent", "dative"):
                frontier.extend(c for c in child.children if c.dep_ in ("pobj", "pcomp"))
                continue
            out.update(_word_forms(child))
            out.update(c.lemma_.lower() for c in child.children if c.dep_ in ("compound", "conj", "amod"))
            frontier.extend(c for c in child.children if (c.dep_ == "conj" or (
                c.dep_ == "prep" and c.lower_ not in _TOPIC_PREPS)) and child.dep_ != "pobj")
        if token.dep_ in ("amod", "compound") and token.head.pos_ in ("NOUN", "PROPN"):
            out.add(token.head.lemma_.lower())
        if token.pos_ == "NOUN":  # "ceasefire violations", "troop losses"
            out.update(c.lemma_.lower() for c in token.children if c.dep_ == "compound")
        if token.pos_ == "VERB" and not any(c.dep_ == "dobj" for c in token.children):
            # Intransitive use: what moves is the subject ("battalions arrived", "troops deployed"),
            # the noun a participle describes ("trucks moving south"), or the subject of the verb
            # of perception it complements ("tanks were seen moving").
            movers = [c for c in token.children if c.dep_ == "nsubj"]
            if token.dep_ == "acl":
                movers.append(token.head)
            elif token.dep_ in ("xcomp", "ccomp", "oprd"):
                movers += [c for c in token.head.children if c.dep_ in ("nsubjpass", "dobj")]
            for mover in movers:
                out.update(_word_forms(mover))
                out.update(c.lemma_.lower() for c in mover.children if c.dep_ in ("conj", "prep"))
                out.update(g.lemma_.lower() for c in mover.children if c.dep_ == "prep" for g in c.children)
        return out

    def _fits(self, rule: TriggerRule, token: Token) -> bool:
        if rule.unless and any(
            t.lemma_.lower() in self.lex.classes[c] for c in rule.unless for t in token.sent
        ):
            return False
        if rule.subjects and not any(_doers(token) & self.lex.classes[c] for c in rule.subjects):
            return False
        if to_blame(token):
            return False  # "Taipei was to blame": a charge laid on the subject (extract/charges.py)
        if token.lemma_.lower() in self.cues.sighting_verbs and rule.type in _OWN_FORCES:
            # A sighting needs who saw it (a bare "equipment spotted at ..." is a sighting line's)
            # and forces as what was seen ("recorded the presence of ..." reports the presence).
            seen = [c for c in token.children if c.dep_ == "dobj"]
            if not any(c.dep_ == "nsubj" for c in token.children) or not any(
                _word_forms(c) & self.lex.classes["troops"] for c in seen
            ):
                return False
        if not rule.objects:
            return True
        objects = self._objects(token)
        return any(objects & self.lex.classes[c] for c in rule.objects)

    def _phrase_at(self, sent: Span, token: Token) -> Candidate | None:
        lemma = token.lemma_.lower()
        for phrase, rule in self._phrases.get(lemma, []):
            end = token.i + len(phrase)
            if (
                end <= sent.end
                and all(
                    t.lemma_.lower() == w or t.lower_ == w
                    for t, w in zip(sent.doc[token.i : end], phrase, strict=True)
                )
                and self._fits(rule, token)
            ):
                return Candidate(rule, token, end)
            head = token.head
            if (len(phrase) == 2 and token.dep_ == "amod" and head.lemma_.lower() == phrase[1]
                    and self._fits(rule, head)):
                return Candidate(rule, head, head.i + 1)  # "a joint landing exercise"
            if len(phrase) == 2 and token.pos_ == "VERB" and self._fits(rule, token):
                for child in token.children:
                    if child.lemma_.lower() == phrase[1] and child.dep_ in ("prt", "prep", "dobj", "advmod"):
                        return Candidate(rule, token, token.i + 1)
        return None

    def triggers(self, sent: Span) -> list[Candidate]:
        found: list[Candidate] = []
        covered: set[int] = set()
        for token in sent:
            if token.i in covered:
                continue
            cand = self._phrase_at(sent, token)
            if cand is None:
                lemma = token.lemma_.lower()
                if token.dep_ in ("amod", "compound", "npadvmod"):
                    rules = []
                elif token.pos_ == "VERB" or (token.pos_ == "AUX" and lemma not in ("be", "have", "do")):
                    rules = self._by_verb.get(lemma, [])
                elif token.pos_ in ("NOUN", "PROPN") and token.dep_ != "compound":
                    rules = self._by_noun.get(lemma, []) or self._by_noun.get(token.lower_, [])
                    if not rules and token.pos_ == "PROPN" and not token.ent_type_:
                        # A capitalised plural read as a name ("Skirmishes erupted between ...").
                        lower = token.lower_
                        singular = lower[:-2] if lower.endswith(("ches", "shes", "sses")) else lower[:-1]
                        rules = self._by_noun.get(singular, []) if lower.endswith("s") else []
                else:
                    rules = []
                rule = next((r for r in rules if self._fits(r, token)), None)
                if rule is None and not rules and token.pos_ == "VERB":
                    rule = self._placement(token)
                elif rule is not None and rule.type == "MOBILIZE" and self._sent_away(token):
                    rule = self._withdraw  # "moved its units away from the line", "sent reservists home"
                if rule is None:
                    continue
                cand = Candidate(rule, token, token.i + 1)
            # A phrase's head may be its last word ("air strike"): anchor at the syntactic head.
            span = sent.doc[cand.token.i : cand.end]
            cand.token = span.root
            covered.update(range(span.start, span.end))
            found.append(cand)
        if self._accidental(sent):
            found = [c for c in found if c.rule.type not in _VIOLENT]
        return found

    def _placement(self, verb: Token) -> TriggerRule | None:
        """For a verb the lexicon lacks: what parties do "jointly" is cooperation; forces as its
        object moved somewhere ("repositioned divisions towards the frontier") are deployed, or
        withdrawn when moved "away" or sent "home" (cues.toml joint_adverbs, placement_preps,
        withdrawal_adverbs)."""
        if verb.lemma_.lower() in self.cues.reporting_verbs:
            return None
        if any(c.dep_ == "advmod" and c.lower_ in self.cues.joint_adverbs for c in verb.children) and any(
                c.dep_ == "nsubj" for c in verb.children):
            return self._cooperate  # "are jointly building a power line"
        forces = self.lex.classes["troops"]
        if not any(c.dep_ == "dobj" and _word_forms(c) & forces for c in verb.children):
            return None
        if self._sent_away(verb):
            return self._withdraw
        if any(c.dep_ == "prep" and c.lower_ in self.cues.placement_preps for c in verb.children):
            return self._deploy
        return None

    def _sent_away(self, verb: Token) -> bool:
        return any(c.dep_ in ("advmod", "prt", "npadvmod") and c.lower_ in self.cues.withdrawal_adverbs
                   for c in verb.children)

    def _accidental(self, sent: Span) -> bool:
        """Whether the sentence reports a disaster or an accident and names no armed hand: "a
        tsunami killed 222", "a boiler at the plant exploded, killing two" (cues.toml)."""
        if any(self._armed(t) for t in sent):
            return False
        lemmas = {t.lemma_.lower() for t in sent}
        disaster = any(
            (t.pos_ in ("NOUN", "PROPN") and t.lemma_.lower() in self.cues.disaster_words)
            or (t.pos_ == "VERB" and t.lemma_.lower() in self.cues.accident_verbs)
            for t in sent
        )
        return disaster or bool(lemmas & self.cues.facility_words and lemmas & self.cues.blast_words)

    def _armed(self, token: Token) -> bool:
        lemma = token.lemma_.lower()
        if token.pos_ == "VERB" and lemma in self.cues.armed_verbs:
            return True
        if lemma not in self.cues.armed_words:
            return False
        # "Police said ...": the teller of the story, not a hand in it.
        return not (token.dep_ == "nsubj" and token.head.lemma_.lower() in self.cues.reporting_verbs)

    # ---- 2. which triggers head their own event -------------------------------------------

    def select(self, candidates: list[Candidate]) -> list[Candidate]:
        by_token = {c.token.i: c for c in candidates}
        kept = []
        subordinate: set[int] = set()
        dated: set[int] = set()
        for cand in candidates:
            path: list[Token] = []
            current = cand.token
            while current.head.i != current.i:
                path.append(current)
                mark = self.status.temporal(current)
                if mark is not None:
                    # "before they launched their invasion": a happening of its own.
                    dated.add(cand.token.i)
                    cand.background = mark
                    break
                if self._is_circumstance(current):
                    subordinate.add(cand.token.i)
                parent = current.head
                owner = by_token.get(parent.i)
                if owner is not None and current.dep_ not in _INDEPENDENT:
                    cand.dominator = owner
                    break
                if parent.lemma_.lower() in self.cues.reporting_verbs and parent.pos_ in ("VERB", "AUX"):
                    # Reported content is a claim of its own, not an argument of an event above.
                    break
                current = parent
            if cand.dominator is None:
                kept.append(cand)
                continue
            stance = self._embedding(cand.dominator, path)
            if stance:
                cand.embedded_stance = stance
                kept.append(cand)
            elif self.status.enabled(cand.dominator.token, path[-1]) or self._commanded(cand.dominator, path):
                cand.enabled_by = cand.dominator.token
                kept.append(cand)
        # Events in other circumstantial clauses ("amid fresh clashes", "as he embarked on a
        # trip", "refugees fleeing the war") are background to the sentence's main event; they
        # stand only when the sentence has nothing else to say.
        plain = [c for c in kept if c.token.i not in dated]
        main = [c for c in plain if c.token.i not in subordinate]
        return (main or plain) + [c for c in kept if c.token.i in dated]

    def _dated_nominals(
        self, candidates: list[Candidate], kept: list[Candidate], sent: Span
    ) -> list[Candidate]:
        """Nominal triggers the selection set aside as parts of another event that carry a date of
        their own right beside them ("hosted after their leader's failed rebellion last year", "the
        2008 war"): background in their own right, kept when that date places them in the past."""
        chosen = {c.token.i for c in kept}
        dates_ = [e for e in _entities(sent) if e.label_ == "DATE"]
        found = []
        for cand in candidates:
            if cand.token.i in chosen or cand.token.pos_ != "NOUN":
                continue
            beside = next(
                (e for e in dates_ if 0 <= e.start - cand.end <= 1 or 0 <= cand.token.i - e.end <= 1), None
            )
            if beside is not None:
                cand.dated_by = beside
                cand.background = "date"
                found.append(cand)
        return found

    def _orders_forces(self, verb: Token) -> bool:
        """"ordered troops to ...", "the army had been ordered to ...": a command to one's own
        forces."""
        if verb.lemma_.lower() not in self.cues.command_verbs:
            return False
        forces = self.lex.classes["troops"] | self.lex.classes["combatants"]
        return any(c.dep_ in ("dobj", "nsubjpass") and _word_forms(c) & forces for c in verb.children)

    def _commanded(self, dominator: Candidate, path: list[Token]) -> bool:
        """Whether the trigger is what forces were ordered to do: the order's complement."""
        # "ordered troops to advance", "ordered the army to combat readiness".
        link = path[-1]
        return self._orders_forces(dominator.token) and (
            link.dep_ in ("xcomp", "ccomp") or (link.dep_ == "prep" and link.lower_ in ("to", "into", "on"))
        )

    @staticmethod
    def _foreground(kept: list[Candidate]) -> bool:
        """Whether the sentence reports something besides clauses that date it."""
        return any(c.background is None for c in kept)

    def _denies_a_claim(self, cand: Candidate) -> bool:
        """"denied the allegation", "a charge Ethiopia denies", "dismissed the reports"."""
        token = cand.token
        if cand.rule.type != "REJECT" or token.lemma_.lower() not in self.cues.denying_verbs:
            return False
        objects = [c for c in token.children if c.dep_ in ("dobj", "nsubjpass")]
        if token.dep_ == "relcl":
            objects.append(token.head)
        return any(o.lemma_.lower() in self.cues.claim_nouns for o in objects)

    @staticmethod
    def _is_circumstance(token: Token) -> bool:
        if token.dep_ in ("relcl", "acl"):
            return True
        if token.dep_ == "prep" and token.lower_ in _CIRCUMSTANCE_PREPS:
            return True
        return token.dep_ == "advcl" and any(
            c.dep_ == "mark" and c.lower_ in _CIRCUMSTANCE_MARKS for c in token.children
        )

    def _embedding(self, dominator: Candidate, path: list[Token]) -> str | None:
        """'alleged'/'denied' when the path from an accusation or denial is its complement."""
        lemma = dominator.token.lemma_.lower()
        link = path[-1]
        # Only the head of the complement is the alleged event: "accused X of massing troops",
        # not every noun inside it ("of restoring the blackmail in the negotiations").
        # "condemned the violation of its airspace by Iran": the act condemned is its object.
        complement = (link.dep_ in ("ccomp", "xcomp") and len(path) == 1) or (
            link.dep_ == "prep" and link.lower_ in ("of", "for") and len(path) == 2
        ) or (link.dep_ == "dobj" and lemma in self.cues.alleging_verbs and (
            len(path) == 1 or (len(path) == 3 and link.lemma_.lower() in _USES and path[1].lower_ == "of")
        ))  # "protest Beijing's use of water cannon"
        if not complement:
            return None
        if lemma in self.cues.alleging_verbs and (
            dominator.token.pos_ != "NOUN" or lemma in self.cues.claim_nouns | {"condemnation"}
        ):
            return "alleged"  # not "a hunger strike in protest of ...": a protest's cause is no claim
        if lemma in self.cues.denying_verbs:
            return "denied"
        return None

    # ---- 3. arguments, claims, dates, flags ---------------------------------------------

    def _clause_head(self, token: Token) -> Token:
        """The verb that carries a trigger: itself, or the light verb of a nominal trigger."""
        current = token
        if current.dep_ in ("amod", "compound") and current.head.pos_ in ("NOUN", "PROPN"):
            current = current.head  # a phrase anchored at its modifier: "high alert"
        for _ in range(3):
            if current.pos_ in ("VERB", "AUX"):
                return current
            if (
                current.dep_ in ("dobj", "nsubjpass", "attr", "pobj", "prep", "nsubj")
                and current.head.i != current.i
            ):
                parent = current.head
                if parent.pos_ == "ADP":
                    current = parent
                    continue
                if parent.pos_ in ("VERB", "AUX") and (
                    parent.lemma_.lower() in self.cues.light_verbs or current.dep_ == "nsubj"
                ):
                    return parent
            break
        return token

    def _subject(self, verb: Token) -> Token | None:
        for child in verb.children:
            if child.dep_ in ("nsubj", "csubj"):
                return child
        if verb.dep_ == "conj" and verb.head.pos_ in ("VERB", "AUX"):
            return self._subject(verb.head)
        if verb.dep_ in ("xcomp", "advcl", "relcl") and verb.head.i != verb.i:
            head = verb.head
            if verb.dep_ == "relcl" and head.pos_ in ("NOUN", "PROPN"):
                return head
            passive = next((c for c in head.children if c.dep_ == "nsubjpass"), None)
            if verb.dep_ == "xcomp" and passive is not None:
                return passive  # "troops were seen building bunkers", "were ordered to withdraw"
            return self._subject(head) if head.pos_ in ("VERB", "AUX") else None
        if verb.dep_ in ("ccomp", "pcomp") or (verb.dep_ == "pobj"):
            # "recorded Belarus concentrating", "accused Belarus of massing": the governing verb's
            # object is the subject of the embedded event.
            head = verb.head
            if head.pos_ == "ADP":
                head = head.head
            for child in head.children:
                if child.dep_ == "dobj" and child.i < verb.i:
                    return child
            if verb.dep_ == "pcomp" and verb.head.lower_ in _MEANS and head.pos_ in ("VERB", "AUX"):
                # "responded by firing warning shots": who responds fires.
                return self._subject(head)
        return None

    def _resolve(
        self, token: Token, mentions: list[Mention], ctx: DocContext, avoid: str | None = None
    ) -> Actor | None:
        if token.lower_ in PRONOUNS:
            if token.lower_ in ("we", "us", "our") and ctx.last_speaker is not None:
                return Actor(ctx.last_speaker.code, None, token.text)
            if token.dep_ in ("nsubj", "nsubjpass") and avoid is None:
                # "Kyiv accused Belarus ..., saying it had recorded": the pronoun takes the
                # subject of the clause it hangs from.
                verb = token.head
                while verb.dep_ in ("advcl", "conj", "ccomp", "xcomp") and verb.head.i != verb.i:
                    verb = verb.head
                    subject = next(
                        (c for c in verb.children if c.dep_ == "nsubj" and c.lower_ not in PRONOUNS), None
                    )
                    if subject is not None:
                        return self._resolve(subject, mentions, ctx)
            earlier = _earlier_subject(token, mentions)
            if earlier is not None and earlier.entry.code != avoid:
                return Actor(earlier.entry.code, None, token.text)
            # A subject the article's context names ("The IDF said its jets struck ...").
            plural = token.lower_ in _PLURAL_PRONOUNS
            for subject in reversed([t for t in token.sent if t.i < token.i and t.dep_ == "nsubj"
                                     and t.lower_ not in PRONOUNS
                                     and (t.tag_ in ("NNS", "NNPS")) == plural]):
                named = [a for a in self._from_article(subject, ctx) if a.code != avoid]
                if named:
                    return Actor(named[0].code, None, token.text)
            if token.dep_ == "poss" or avoid is not None:
                for actor in reversed(ctx.recent):
                    if actor.code != avoid and actor.code:
                        return Actor(actor.code, None, token.text)
                return None
            plural = token.lower_ in _PLURAL_PRONOUNS
            agreeing = next((a for a, many in reversed(ctx.subjects) if many == plural), None)
            if agreeing is not None:
                return Actor(agreeing.code, None, token.text)
            if ctx.last_subject is not None:
                return Actor(ctx.last_subject.code, None, token.text)
            return None
        actor = self.actors.resolve(token, mentions)
        if actor is None:
            for child in token.children:
                if child.dep_ == "poss" and child.lower_ in PRONOUNS:
                    return self._resolve(child, mentions, ctx, avoid)
        if actor is None:
            found = [a for a in self._from_article(token, ctx) if a.code != avoid]
            return found[0] if found else None
        return actor

    def _from_article(self, token: Token, ctx: DocContext) -> list[Actor]:
        if ctx.actors is None:
            return []
        found = ctx.actors.resolve(token, ctx.recent)
        sector = self.actors.sector(token)
        return [Actor(a.code, a.sector or sector, a.text) for a in found]

    def _resolve_all(self, token: Token, mentions: list[Mention], ctx: DocContext) -> list[Actor]:
        """Like `_resolve`, but a pair ("both sides", "the two countries") gives both actors."""
        if self.actors.resolve(token, mentions) is None and token.lower_ not in PRONOUNS:
            pair = self._from_article(token, ctx)
            if len(pair) > 1:
                return pair
        actor = self._resolve(token, mentions, ctx)
        return [actor] if actor else []

    def _between(self, head: Token, mentions: list[Mention], ctx: DocContext) -> list[Actor]:
        """The two sides of a clash "between X and Y" in the trigger's clause."""
        for token in head.subtree:
            if token.lower_ != "between":
                continue
            for obj in (c for c in token.children if c.dep_ == "pobj"):
                # "between X and Y", and "between Armenian and Azerbaijani forces".
                modifiers = [c for c in obj.children if c.dep_ in ("amod", "compound", "nmod")]
                parts = [obj, *(c for t in (obj, *modifiers) for c in t.children if c.dep_ == "conj")]
                found: list[Actor] = []
                for part in parts:
                    for actor in self._resolve_all(part, mentions, ctx):
                        if actor.code not in {a.code for a in found}:
                            found.append(actor)
                if len(found) >= 2:
                    return found
        return []

    def _holder_of_setting(self, verb: Token, mentions: list[Mention], ctx: DocContext) -> Token | None:
        """Who holds the fighting a passive casualty verb happened in ("killed in the Georgian
        offensive", "wounded during Russian shelling")."""
        verbs = [verb, *(c for c in verb.children if c.dep_ == "conj")]
        preps = [c for v in verbs for c in v.children if c.dep_ == "prep" and c.lower_ in ("in", "during")]
        for prep in preps:
            for setting in (c for c in prep.children if c.dep_ == "pobj"):
                if setting.lemma_.lower() not in self.lex.classes["combat"]:
                    continue
                holder = self._noun_actor(setting, mentions, ctx)
                if holder is not None and holder.lower_ not in PRONOUNS:
                    return holder
                # "killed in the fighting with Chinese troops": the other side of the fight.
                rivals = [g for c in setting.children if c.dep_ == "prep" and c.lower_ == "with"
                          for g in c.children if g.dep_ == "pobj" and self._resolve(g, mentions, ctx)]
                if rivals:
                    return rivals[0]
        # "killed as Thai and Cambodian forces clashed": those who fought.
        settings = [c for v in verbs for c in v.children if c.dep_ == "advcl"
                    and c.lemma_.lower() in self.lex.classes["combat"]
                    and any(m.dep_ == "mark" and m.lower_ in _SETTING_MARKS for m in c.children)]
        for setting in settings:
            holder = self._subject(setting)
            if holder is not None and holder.lower_ not in PRONOUNS and self._resolve(holder, mentions, ctx):
                return holder
        return None

    @staticmethod
    def _noun_holders(noun: Token, movers: bool = False) -> list[Token]:
        """Who may hold a nominal event, closest first: "Iran's strike", "the Iranian strike",
        "the unprovoked violation ... by Iran"; with `movers` (deployments, withdrawals), "of"
        names them too ("the withdrawal of Russian troops"), where for other acts it names what
        was hit ("the blockade of Taiwan", "the violation of its airspace")."""
        near = [c for c in noun.children
                if c.dep_ in ("poss", "amod", "compound") and c.pos_ in ("PROPN", "ADJ", "NOUN", "PRON")]
        preps = _NOUN_ACTOR_PREPS | {"of"} if movers else _NOUN_ACTOR_PREPS
        far = [obj for c in noun.children if c.dep_ == "prep" and c.lower_ in preps
               for obj in c.children if obj.dep_ == "pobj"]
        return near + far

    def _noun_actor(self, noun: Token, mentions: list[Mention], ctx: DocContext) -> Token | None:
        """The nearest holder of a nominal event that names an actor."""
        return next((h for h in self._noun_holders(noun) if self._resolve(h, mentions, ctx)), None)

    def _recipients(
        self, cand: Candidate, head: Token, mentions: list[Mention], ctx: DocContext, actor: Actor | None
    ) -> list[Actor]:
        heads = [cand.token] if cand.token == head else [cand.token, head]
        found: list[Actor] = []
        avoid = actor.code if actor else None
        if _comes_under(head):
            # "An Indian army post came under fire": the subject is what was hit.
            for subject in (c for c in head.children if c.dep_ == "nsubj"):
                hit = self._resolve(subject, mentions, ctx, avoid=avoid)
                if hit is not None:
                    found.append(hit)
        if head.lemma_.lower() in self.cues.participation_verbs:
            # "engaged in fighting with the army": whom the fighting is with.
            heads += [g for c in head.children if c.dep_ == "prep" and c.lower_ == "in"
                      for g in c.children if g.dep_ == "pobj" and g not in heads]
        for h in heads:
            for child in h.children:
                targets: list[Token] = []
                if child.i == cand.token.i or (
                    cand.rule.type in _ADDRESSED and child.lemma_.lower() in _trigger_words(cand.rule)
                ):
                    continue  # "lodged a (strong) protest with ...": the statement is nobody's target
                if (
                    child.dep_ in ("dobj", "dative", "iobj")
                    and cand.rule.type not in _NO_OBJECT_RECIPIENT
                    and h.pos_ in ("VERB", "AUX")
                ) or child.dep_ == "nsubjpass" or (
                    child.dep_ == "nsubj" and h.lemma_.lower() in self.cues.unaccusative_verbs
                ):
                    targets.append(child)
                elif child.dep_ == "prep" and cand.rule.type in _ADDRESSED and child.lower_ in ("to", "with"):
                    # "complained to the UN Security Council", "lodged a complaint with the UN": an
                    # organisation hears it, and what it hears about is the target ("with the UN
                    # over Thai airstrikes"); "lodged a protest with China" is aimed at China.
                    for obj in (c for c in child.children if c.dep_ == "pobj"):
                        heard = self._resolve(obj, mentions, ctx, avoid=avoid)
                        if child.lower_ == "with" and (heard is None or is_party(heard.code)):
                            targets.append(obj)
                        else:
                            targets += [o for p in obj.children if p.dep_ == "prep"
                                        and p.lower_ in _SUBJECT_MATTER
                                        for o in p.children if o.dep_ == "pobj"]
                elif child.dep_ == "prep" and (
                    child.lower_ in _RECIPIENT_PREPS
                    # What a nominal act is done to: "the violation of its airspace", "the
                    # invasion of Ukraine" (the doer, if "of" names it, is avoided).
                    or (child.lower_ == "of" and h is cand.token and h.pos_ == "NOUN")
                ):
                    targets.extend(c for c in child.children if c.dep_ == "pobj")
                for target in targets:
                    self._add_targets(target, found, mentions, ctx, avoid)
        if head.dep_ == "acl" and head.tag_ == "VBN" and head.head.pos_ in ("NOUN", "PROPN"):
            # "Georgian police officer killed in ambush", "the soldiers wounded in the raid": the
            # noun a participle describes is who it was done to.
            self._add_targets(head.head, found, mentions, ctx, avoid)
        return found

    def _add_targets(self, target: Token, found: list[Actor], mentions: list[Mention], ctx: DocContext,
                     avoid: str | None) -> None:
        """Add the actors a target and its conjuncts name, once each, never the one to avoid."""
        for t in [target, *(c for c in target.children if c.dep_ == "conj")]:
            resolved = self._resolve(t, mentions, ctx, avoid=avoid)
            if resolved and resolved.code != avoid and resolved.code not in {a.code for a in found}:
                found.append(resolved)

    def speech_verbs_above(self, token: Token) -> Iterator[Token]:
        """The speech verbs a word hangs from, nearest first ("X said Y had reported that ...")."""
        current = token
        while current.head.i != current.i:
            current = current.head
            if current.pos_ in ("VERB", "AUX") and current.lemma_.lower() in self.cues.reporting_verbs:
                yield current

    def _claimant(
        self, cand: Candidate, sent: Span, mentions: list[Mention], ctx: DocContext
    ) -> tuple[Actor | None, str | None]:
        """Who reports the event: the subject of a speech verb above it, or 'according to X'."""
        for verb in self.speech_verbs_above(cand.token):
            lemma = verb.lemma_.lower()
            speaker = verb
            while speaker.dep_ == "conj" and not any(
                c.dep_ in ("nsubj", "nsubjpass") for c in speaker.children
            ):
                speaker = speaker.head  # "Kurti accused Belgrade ... and said ...": Kurti said
            subject = next((c for c in speaker.children if c.dep_ in ("nsubj", "nsubjpass")), None)
            if subject is not None and subject.lemma_.lower() in self.cues.unofficial_sources:
                return None, lemma  # "a source in northern Syria said": no party speaks
            if subject is not None:
                via = subject
                if subject.lemma_.lower() in ("statement", "report", "ministry", "communique"):
                    via = next(
                        (t for t in subject.subtree if t.dep_ in ("poss", "pobj", "compound")), subject
                    )
                actor = self._resolve(via, mentions, ctx)
                if actor:
                    if via.lower_ not in PRONOUNS:
                        ctx.last_speaker = actor
                    return actor, lemma
        for token in sent:
            source = according_to(token)
            if source is None and token.lower_ == "by" and token.head.lemma_.lower() in _STATEMENT_NOUNS:
                source = next((t for t in token.children if t.dep_ == "pobj"), None)
            if source is not None:
                actor = self._resolve(source, mentions, ctx)
                if actor:
                    ctx.last_speaker = actor
                    return actor, "according"
        return None, None

    def _aim_of_protest(self, token: Token, kept: list[Candidate]) -> bool:
        """A demand made in the purpose or manner clause of a protest ("rallied to demand",
        "staged rallies, saying he must resign") is what the protest is for; PLOVER codes the
        protest."""
        protests = {i for other in kept if other.rule.type == "PROTEST"
                    for i in (other.token.i, self._clause_head(other.token).i)}
        current = token
        for _ in range(4):
            if current.head.i == current.i:
                return False
            if current.dep_ in ("advcl", "xcomp", "acl") and current.pos_ == "VERB" and (
                    current.head.i in protests):
                return True
            current = current.head
        return False

    def _reframe(
        self,
        kind: str,
        head: Token,
        actor: Actor | None,
        recipients: list[Actor],
        claimant: Actor | None,
        future: bool,
        hypothetical: bool,
    ) -> tuple[str, Actor | None, list[Actor], bool, bool]:
        """Code an announced, promised or required act as the announcement (see cues.toml)."""
        if head.pos_ not in ("VERB", "AUX"):
            # A nominal trigger's clause is the verb that governs it ("would tighten the blockade").
            head = next((v for v in head.ancestors if v.pos_ in ("VERB", "AUX")), head)
        auxes = {c.lower_ for c in head.children if c.dep_ in ("aux", "auxpass")}
        reported = head.dep_ == "ccomp" and head.head.pos_ in ("VERB", "AUX")
        # What a required act is for is required too: "must ensure security to allow supplies".
        obliged = head
        while not _aux_words(obliged) & self.cues.obligation_markers and obliged.dep_ in ("advcl", "xcomp"):
            obliged = obliged.head
        if _aux_words(obliged) & self.cues.obligation_markers and (
            claimant is not None or (obliged.dep_ == "ccomp" and obliged.head.pos_ in ("VERB", "AUX"))
        ):
            # "The forum concluded that rich nations must allocate more": the requester is the
            # speaker, even one the actor table does not know.
            return "REQUEST", claimant, [actor] if actor else recipients, False, False
        conditional = any(c.dep_ == "mark" and c.lower_ in ("if", "unless")
                          for c in head.subtree if c.head.head.i == head.i or c.head.i == head.i)
        if (
            hypothetical
            and kind.lower() in self.cues.conditional_threat_types
            and claimant is not None
            and (actor is None or actor.code == claimant.code)
            and reported
            and any(c.dep_ == "nsubj" for c in head.head.children)  # not "it was reported that"
            and (conditional or (auxes & _THREAT_MODALS and kind != "MOBILIZE"))
        ):
            # A party saying it would strike, or will unless its terms are met, threatens now.
            return "THREATEN", claimant, recipients, False, False
        # "is willing to resume talks", "expressed its readiness to mediate"
        governor = head.head if head.dep_ in ("xcomp", "acl") else None
        preparing = governor is not None and governor.lemma_.lower() in self.cues.preparation_verbs
        if preparing and kind in _VIOLENT:
            return "MOBILIZE", actor, recipients, False, False  # "prepared to resume shelling"
        ready = governor is not None and governor.lemma_.lower() in self.cues.commitment_markers
        committed = future or ready
        if (committed and kind.lower() in self.cues.commitment_types) or (
                ready and kind.lower() in self.cues.readiness_types):
            return "AGREE", actor, recipients, future, False
        if committed and not hypothetical and kind.lower() in self.cues.intent_types:
            return "THREATEN", actor, recipients, future, False
        return kind, actor, recipients, future, hypothetical

    @staticmethod
    def _clauses_of(token: Token) -> list[Token]:
        """The verbs whose clause a word belongs to, climbing through complement clauses
        ("allowed troops to use ... for the 2022 invasion" belongs to "use" and "allowed") but
        not out of relative or adverbial clauses ("hosted after the rebellion last year")."""
        current = token
        while current.pos_ not in ("VERB", "AUX") and current.head.i != current.i:
            current = current.head
        chain = [current]
        while current.dep_ in ("xcomp", "ccomp", "conj") and current.head.pos_ in ("VERB", "AUX"):
            current = current.head
            chain.append(current)
        return chain

    def _date(
        self, head: Token, cand: Candidate, sent: Span, ctx: DocContext
    ) -> tuple[EventDate | None, str]:
        """The date of the trigger's clause, and the words that state it."""
        ents = [
            e
            for e in _entities(sent)
            if e.label_ in ("DATE", "TIME")
            or (e.label_ == "CARDINAL" and e.text.isdigit() and len(e.text) == 4)
        ]
        if not ents:
            return None, ""
        own = {head.i, cand.token.i}
        if cand.enabled_by is not None:
            own.add(self._clause_head(cand.enabled_by).i)
        current = head
        while current.dep_ == "conj" and current.head.i != current.i:
            # "crossed from Belarus ... and advanced towards Kyiv": the date covers both verbs.
            current = current.head
            own.add(current.i)
        inside = _own_phrase(cand.token) if cand.token.pos_ in ("NOUN", "PROPN") else set()
        if cand.dated_by is not None:
            ents, own, inside = [cand.dated_by], set(), {cand.dated_by.root.i}
        # Dates of the trigger's clause, or dates inside a nominal trigger ("a war in the 1990s").
        ents = [e for e in ents if not self._names_an_accord(e, cand)]
        mine = [e for e in ents if e.root.i in inside or own & {v.i for v in self._clauses_of(e.root)}]
        for ent in mine:
            text = ent.text
            prev = sent.doc[ent.start - 1] if ent.start > sent.start else None
            if prev is not None and prev.lower_ == "since":
                text = "since " + text
            elif prev is not None and prev.lower_ in ("for", "within", "about", "nearly"):
                continue  # a duration ("for a week"), not a point in time
            resolved = dates.resolve(text, _year_anchor(ent, ents) or ctx.published)
            if resolved is not None:
                return resolved, text
        return None, ""

    def _names_an_accord(self, ent: Span, cand: Candidate) -> bool:
        """A year that names a document ("under a 1997 treaty", "violating a 2018 military
        agreement") dates the document, not the act that invokes it."""
        noun = ent.root.head
        return (
            ent.root.dep_ in ("compound", "nummod", "amod", "npadvmod")
            and noun.i != cand.token.i
            and noun.lemma_.lower() in self.lex.classes["accords"]
        )

    def detect(self, sent: Span, ctx: DocContext) -> list[Event]:
        known = ctx.actors.mentions(sent) if ctx.actors is not None else None
        mentions = known if known is not None else self.actors.mentions(sent)
        candidates = self.triggers(sent)
        kept = self.select(candidates)
        kept += self._dated_nominals(candidates, kept, sent)
        events = []
        # The main subject of this sentence is what "it"/"they" in the next one most likely means;
        # a main subject that names no actor ("The statement said") leaves the pronoun unresolved.
        main_subjects = [
            t
            for t in sent
            if t.dep_ in _SUBJECTS
            and t.lower_ not in PRONOUNS
            and (t.head == sent.root or (t.head.dep_ == "conj" and t.head.head == sent.root))
        ]
        sentence_subject = next(
            (a for a in (self.actors.resolve(t, mentions) for t in main_subjects) if a), None
        )
        evidence = sentence_span(sent)
        for cand in kept:
            head = self._clause_head(cand.token)
            co_actors = self._actors(cand, head, mentions, ctx)
            actor = co_actors[0] if co_actors else None
            if cand.rule.type == "REQUEST" and self._orders_forces(cand.token):
                continue  # the order is read as the act it orders (see _commanded)
            if self._denies_a_claim(cand):
                # Not a rejection of a proposal: the denied stance of what was alleged.
                if actor is not None and not self.status.read(cand.token, head).negated:
                    ctx.denials.append(actor)
                continue
            recipients = self._recipients(cand, head, mentions, ctx, actor)
            recipients = [r for r in recipients if r.code not in {a.code for a in co_actors}]
            claimant, via = self._claimant(cand, sent, mentions, ctx)
            if claimant is None and ctx.quote_speaker is not None:
                claimant, via = ctx.quote_speaker, "say"  # inside a quotation opened before
            stance = cand.embedded_stance or "asserted"
            if cand.embedded_stance and cand.dominator is not None:
                dom_head = self._clause_head(cand.dominator.token)
                claimant = self._actor(cand.dominator, dom_head, mentions, ctx) or claimant
            elif (
                claimant is not None
                and actor is not None
                and claimant.code != actor.code
                and via not in (None, "according", "confirm", "announce")
            ):
                stance = "alleged"
            if claimant and actor and claimant.code == actor.code and actor.sector is None:
                actor = Actor(actor.code, claimant.sector, actor.text)
            status = self.status.read(cand.token, head, attempt_happens=cand.rule.type in _VIOLENT)
            if status.negated and (cand.rule.type, cand.token.lemma_.lower()) in self._refusals:
                # "will not accept": the negation is the trigger's own word, a refusal.
                own = {f"negated: {c.text}" for c in cand.token.children if c.dep_ == "neg"}
                status.cues = [c for c in status.cues if c not in own]
                status.negated = any(c.startswith("negated:") for c in status.cues)
            kind = cand.rule.type
            if not status.negated:
                kind, actor, recipients, status.future, status.hypothetical = self._reframe(
                    kind, head, actor, recipients, claimant, status.future, status.hypothetical
                )
            if kind == "REQUEST" and self._aim_of_protest(cand.token, kept):
                continue  # "began a hunger strike to demand ...": the demand is what the protest is for
            when, when_text = self._date(head, cand, sent, ctx)
            self.status.date(status, when, ctx.published, when_text)
            phrase = self.status.background(head)
            if phrase is not None:
                status.mark("historical", phrase)
            if cand.background and not status.historical and self._foreground(kept):
                # "after 12 days of battles" only dates the sentence's news; background its own
                # date places in the past ("before they launched their invasion in February [2022]")
                # is an event of its own.
                continue
            if when is None and ctx.published is not None:
                day = ctx.published.isoformat()
                when = EventDate(day, day, "ongoing" if status.ongoing else "unknown")
            confidence = cand.rule.weight * (1.0 if actor else 0.8) * (0.9 if cand.embedded_stance else 1.0)
            actors = [actor, *co_actors[1:]] if actor else []
            if kind in _NEEDS_PARTNER and not recipients and len(actors) < 2:
                continue  # "a government meeting", "the council discussed": no one consulted
            # "Both sides are deploying troops": each side's own act, aimed at the other.
            # Only the article's two sides are each other's target; "the US and the EU condemned
            # the violence" is one act of two bystanders.
            sides = (
                [([a], [b for b in actors if b is not a]) for a in actors]
                if len(actors) > 1 and not recipients and kind in _DISTRIBUTIVE
                and (kind in _OWN_FORCES or (ctx.actors is not None
                                             and {a.code for a in actors} <= set(ctx.actors.parties(2))))
                else [(actors, recipients)]
            )
            for side_actors, side_recipients in sides:
                events.append(
                    Event(
                        type=kind,
                        mode=cand.rule.mode if kind == cand.rule.type else None,
                        actors=side_actors,
                        recipients=side_recipients,
                        date=when or EventDate(),
                        historical=status.historical,
                        future=status.future,
                        hypothetical=status.hypothetical,
                        negated=status.negated,
                        status_cues=list(status.cues),
                        claim=Claim(
                            claimant=claimant,
                            stance=stance,  # type: ignore[arg-type]
                            outlet_voice=claimant is None,
                        ),
                        evidence=[evidence],
                        trigger=sent.doc[cand.token.i].text,
                        anchors=[cand.token.idx],
                        confidence=confidence,
                    )
                )
        if main_subjects:
            ctx.last_subject = sentence_subject
        for token in sent:
            if token.dep_ in ("nsubj", "nsubjpass") and token.lower_ not in PRONOUNS:
                actor = self.actors.resolve(token, mentions)
                if actor is not None:
                    ctx.subjects.append((actor, token.tag_ in ("NNS", "NNPS")))
        del ctx.subjects[:-12]
        ctx.quote_speaker = self._open_quote(sent, mentions, ctx)
        for m in mentions:
            ctx.recent.append(Actor(m.entry.code, m.entry.sector, sent.doc[m.start : m.end].text))
        del ctx.recent[:-12]
        return events

    def _open_quote(self, sent: Span, mentions: list[Mention], ctx: DocContext) -> Actor | None:
        """Who speaks in a quotation the sentence leaves open, if any: the one already open, or the
        subject of the speech verb that opens it ("The ministry said: "Russian troops ...")."""
        text = sent.text
        opened = text.count("“") - text.count("”") + (text.count('"') % 2)
        if opened <= 0:
            return None if opened < 0 or ctx.quote_speaker is None or '"' in text or "”" in text else (
                ctx.quote_speaker)
        for token in sent:
            if token.pos_ in ("VERB", "AUX") and token.lemma_.lower() in self.cues.reporting_verbs:
                subject = next((c for c in token.children if c.dep_ in ("nsubj", "nsubjpass")), None)
                if subject is not None:
                    speaker = self._resolve(subject, mentions, ctx)
                    if speaker is not None:
                        return speaker
        return ctx.quote_speaker

    def _actor(self, cand: Candidate, head: Token, mentions: list[Mention], ctx: DocContext) -> Actor | None:
        actors = self._actors(cand, head, mentions, ctx)
        return actors[0] if actors else None

    def _actors(self, cand: Candidate, head: Token, mentions: list[Mention], ctx: DocContext) -> list[Actor]:
        """Who acts: the holder of a nominal trigger, the agent of a passive, or the subject,
        with coordinated co-actors ("Armenia and Azerbaijan held talks")."""
        token = cand.token
        argument: Token | None = None
        if token.pos_ in ("NOUN", "PROPN"):
            # A pronoun holder of a noun carried by a verb ("launched its attack") is the verb's
            # subject, read below; "Beijing's use of water cannon" is Beijing's.
            nominals = [token]
            if token.dep_ == "pobj" and token.head.lower_ == "of" and token.head.head.lemma_.lower() in _USES:
                nominals.append(token.head.head)
            argument = next((h for n in nominals for h in self._noun_holders(n, cand.rule.type in _OWN_FORCES)
                             if not (h.lower_ in PRONOUNS and head is not token)
                             and self._resolve(h, mentions, ctx)), None)
        avoid: str | None = None
        if argument is None and head.pos_ in ("VERB", "AUX"):
            agent = next((c for c in head.children if c.dep_ == "agent"), None)
            patient = next((c for c in head.children if c.dep_ == "nsubjpass"), None)
            lemma = head.lemma_.lower()
            if lemma in self.cues.unaccusative_verbs and patient is None:
                patient = self._subject(head)  # "three servicemen died in the shelling": who died
            if agent is not None:
                argument = next((c for c in agent.children if c.dep_ == "pobj"), None)
            elif lemma in self.cues.host_verbs and patient is not None:
                # "the Iranian chargé was called to the Ministry": the ministry is the host's,
                # never the summoned envoy's state.
                argument = next((g for c in head.children if c.dep_ == "prep" and c.lower_ == "to"
                                 for g in c.children if g.dep_ == "pobj"), None)
                summoned = self._resolve(patient, mentions, ctx)
                avoid = summoned.code if summoned else None
            if lemma in self.cues.sighting_verbs and cand.rule.type in _OWN_FORCES:
                # "it had detected 71 Chinese military aircraft": whose forces were seen.
                argument = next((c for c in head.children if c.dep_ == "dobj"), None)
                seer = self._subject(head)
                seen = self._resolve(seer, mentions, ctx) if seer is not None else None
                avoid = seen.code if seen else None
            if argument is None and not _comes_under(head) and lemma not in self.cues.unaccusative_verbs:
                argument = self._subject(head)
                if argument is not None and argument.i == token.i:
                    argument = None  # "The expulsion of the ambassador came ...": no one named
            if argument is None and patient is not None and (
                cand.rule.type in _OWN_FORCES
                or (cand.rule.type in _MUTUAL and lemma in self.cues.participation_verbs)
            ):
                # "Russian troops were deployed": whose forces moved is who moved them; "M23
                # rebels have been engaged in fighting": who is engaged fights.
                argument = patient
            if argument is None and patient is not None:
                # "troops had been killed in the Georgian offensive": whose offensive it was.
                argument = self._holder_of_setting(head, mentions, ctx)
        found: list[Actor] = []
        if argument is not None:
            # "Russia and Belarus", and "the Indian and Chinese foreign ministers".
            shared = [c for m in argument.children if m.dep_ == "amod"
                      for c in m.children if c.dep_ == "conj"]
            # "the foreign ministers of India and China", "delegations from Sudan and South Sudan".
            shared += [c for p in argument.children if p.dep_ == "prep" and p.lower_ in ("of", "from")
                       for o in p.children if o.dep_ == "pobj" for c in o.children if c.dep_ == "conj"]
            for part in (argument, *(c for c in argument.children if c.dep_ == "conj"), *shared):
                parts = ([self._resolve(part, mentions, ctx, avoid=avoid)] if avoid
                         else self._resolve_all(part, mentions, ctx))
                for actor in filter(None, parts):
                    if actor.code not in {a.code for a in found}:
                        found.append(actor)
        if not found and cand.enabled_by is not None and self._orders_forces(cand.enabled_by):
            # "Vucic ordered the army to the highest level of combat readiness": his side acts.
            commander = self._subject(cand.enabled_by)
            resolved = self._resolve(commander, mentions, ctx) if commander is not None else None
            found = [resolved] if resolved else []
        if not found and avoid and ctx.actors is not None:
            # An unnamed host ministry in an article about two states is the other state's.
            other = ctx.actors.other_party(avoid)
            if other is not None:
                found = [Actor(other, "GOV", argument.text if argument is not None else other)]
        if not found and cand.rule.type in _MUTUAL:
            found = self._between(head if head.pos_ in ("VERB", "AUX") else token, mentions, ctx)
        if not found and cand.rule.type == "THREATEN" and argument is not None and (
            argument.lemma_.lower() in self.cues.official_speakers
        ):
            # "A spokesman warned that the People's Liberation Army would crush ...": an unnamed
            # official warns for the side whose forces the warning names.
            for complement in _complements(head):
                subject = self._subject(complement)
                side = self._resolve(subject, mentions, ctx) if subject is not None else None
                if side is not None:
                    found = [side]
                    break
        return found


def _complements(verb: Token) -> list[Token]:
    """The clauses a verb says ("warned that ... would crush")."""
    return [c for c in verb.children if c.dep_ == "ccomp"]


_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def _year_anchor(ent: Span, ents: list[Span]) -> date | None:
    """The end of the year another date of the sentence states, for a date that states none:
    "In 2022, ... before they launched their invasion in February" is February 2022."""
    if _YEAR.search(ent.text):
        return None
    for other in ents:
        found = _YEAR.search(other.text)
        if found and other is not ent:
            return date(int(found.group(1)), 12, 31)
    return None


_PLURAL_PRONOUNS = frozenset({"they", "them", "their", "themselves"})


def according_to(token: Token) -> Token | None:
    """X, when `token` opens "according to X"."""
    doc = token.doc
    if token.lower_ != "according" or token.i + 1 >= token.sent.end or doc[token.i + 1].lower_ != "to":
        return None
    return next((t for t in doc[token.i + 1].children if t.dep_ == "pobj"), None)


def to_blame(token: Token) -> bool:
    """"X is to blame": X is blamed, by whoever says so."""
    return token.lemma_.lower() == "blame" and token.dep_ in ("xcomp", "acomp") and token.head.lemma_ == "be"


def _comes_under(head: Token) -> bool:
    """"came under fire", "came under attack": the subject is the target, not the attacker."""
    return head.lemma_.lower() == "come" and any(c.dep_ == "prep" and c.lower_ == "under"
                                                 for c in head.children)


def _earlier_subject(token: Token, mentions: list[Mention]) -> Mention | None:
    """The nearest actor named as (or as the owner of) a subject before a pronoun in its sentence:
    "South Sudan says its forces ...", "Moscow's ministry said its troops ..."."""
    doc = token.doc
    plural = token.lower_ in _PLURAL_PRONOUNS
    for mention in reversed(mentions):
        if mention.end > token.i:
            continue
        root = doc[mention.start : mention.end].root
        holder = root.head if root.dep_ in ("poss", "compound", "amod") else root
        if (holder.tag_ in ("NNS", "NNPS")) != plural:
            continue  # "Belarus had allowed Russian troops to use its territory for their ..."
        if holder.dep_ in ("nsubj", "nsubjpass", "dobj") and holder.head.i != token.i:
            return mention
    return None


def _entities(sent: Span) -> list[Span]:
    """`sent.ents`, read from the sentence's own tokens: spaCy's `Span.ents` walks every entity
    of the document, which made dating every event of a long document quadratic."""
    found = []
    doc, i = sent.doc, sent.start
    while i < sent.end:
        if doc[i].ent_iob_ != "B":
            i += 1
            continue
        end = i + 1
        while end < len(doc) and doc[end].ent_iob_ == "I":
            end += 1
        if end <= sent.end:
            found.append(Span(doc, i, end, label=doc[i].ent_type_))
        i = end
    return found


def _own_phrase(token: Token) -> set[int]:
    """A phrase's tokens without the clauses hanging from it ("fighters, some of whom ... last year")."""
    out = {token.i}
    for child in token.children:
        if child.dep_ not in ("relcl", "acl", "advcl", "appos", "punct", "conj"):
            out |= _own_phrase(child)
    return out


def _aux_words(verb: Token) -> set[str]:
    return {c.lower_ for c in verb.children if c.dep_ in ("aux", "auxpass")}


def _word_forms(token: Token) -> set[str]:
    """Lemma and surface forms: proper-noun plurals keep their "s" as lemma ("Armed Forces")."""
    lower = token.lower_
    return {token.lemma_.lower(), lower, lower.removesuffix("s")}


@lru_cache(maxsize=512)
def _trigger_words(rule: TriggerRule) -> frozenset[str]:
    """Every word a rule's triggers are made of: its nouns and the words of its phrases."""
    return rule.nouns | {word for phrase in rule.phrases for word in phrase}


def is_party(code: str) -> bool:
    """A state (ISO code) or a named armed group (slug), as against an organisation ("UN", "EU",
    "NATO"): who can fight, charge or be charged."""
    return bool(code) and ((code.isupper() and len(code) == 3) or code.islower())


def sentence_span(sent: Span) -> TextSpan:
    text = sent.text
    start = sent.start_char + (len(text) - len(text.lstrip()))
    end = sent.start_char + len(text.rstrip())
    return TextSpan(start, end)
