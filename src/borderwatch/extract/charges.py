"""Charges as accusations: a party that calls the other side's conduct a provocation accuses it.

Officials often accuse without an accusing verb: "the aggravation was caused by the provocative
actions of the citizens of Tajikistan", "I told the UN secretary general of India's violation of
international law", "these actions have the U.S. complicity". Each is a PLOVER ACCUSE by whoever
reports it (the subject of the speech verb, "according to X", or the speaker of an open quotation),
aimed at whoever the charge is laid on: the holder of a charge noun ("India's violation"), the
"of" phrase of a charged conduct ("provocative actions of the citizens of X"), or the doer of a
charging verb ("instigated by Kyrgyz citizens"). A charge that names no one, or that its speaker
lays on itself, is no accusation; one negated, hypothetical or in the background is not news.
"""

from __future__ import annotations

from spacy.tokens import Span, Token

from borderwatch.extract.actors import PRONOUNS, ActorResolver, Mention
from borderwatch.extract.lexicon import Lexicon
from borderwatch.extract.rules import (
    DocContext,
    RuleDetector,
    according_to,
    is_party,
    sentence_span,
    to_blame,
)
from borderwatch.models import Actor, Claim, Event, EventDate


class ChargeDetector(RuleDetector):
    """ACCUSE events from charges a reported party lays on another, with no accusing verb; the
    rule detector's reading of arguments, claimants and status, with its own `detect`."""

    name = "charges"

    def __init__(self, lexicon: Lexicon, actors: ActorResolver) -> None:
        super().__init__(lexicon, actors)
        # The accusation entry of the lexicon: its weight and type stand for a charge's.
        self.rule = next(r for r in lexicon.triggers if r.type == "ACCUSE" and "accuse" in r.verbs)

    def _charged(self, token: Token, mentions: list[Mention], ctx: DocContext) -> Token | None:
        """The phrase naming who a charge is laid on, or None when the token lays none."""
        lemma = token.lemma_.lower()
        if to_blame(token):
            return next((c for c in token.head.children if c.dep_ == "nsubj"), None)
        if token.pos_ == "VERB" and lemma in self.cues.charge_verbs:
            agent = next((c for c in token.children if c.dep_ == "agent"), None)
            if agent is not None:
                return next((c for c in agent.children if c.dep_ == "pobj"), None)
            return next((c for c in token.children if c.dep_ == "nsubj"), None)
        if token.pos_ not in ("NOUN", "PROPN"):
            return None
        charged = lemma in self.cues.charge_nouns or (
            lemma in self.cues.conduct_nouns
            and any(c.dep_ == "amod" and c.lemma_.lower() in self.cues.charge_adjectives
                    for c in token.children)
        )
        if not charged:
            return None
        for child in token.children:
            if child.dep_ == "poss" and child.lower_ not in PRONOUNS:
                return child
            if child.dep_ in ("compound", "amod", "nmod") and self.actors.resolve(child, mentions):
                return child
        for prep in (c for c in token.children if c.dep_ == "prep" and c.lower_ in ("of", "by")):
            for obj in (c for c in prep.children if c.dep_ == "pobj"):
                # "of the citizens of X" lays it on X; "violation of X's sovereignty" is X's loss.
                if prep.lower_ == "by" or obj.lemma_.lower() in self.cues.charged_people or any(
                    m.start <= obj.i < m.end for m in mentions
                ):
                    return obj
        return None

    def _speaker(self, token: Token, sent: Span, mentions: list[Mention], ctx: DocContext) -> Actor | None:
        """Who lays the charge: the subject of the speech verb above it, "according to X", or
        the speaker of an open quotation; named by its own words ("Pakistan's foreign minister",
        "it" for one named before), never by the article's context alone ("officials said")."""
        verb = next(self.speech_verbs_above(token), None)
        sources = [c for c in verb.children if c.dep_ == "nsubj"] if verb is not None else []
        sources += [source for source in map(according_to, sent) if source is not None]
        for source in sources:
            if source.lower_ in PRONOUNS:
                return self._resolve(source, mentions, ctx)
            named = self.actors.resolve(source, mentions)
            if named is not None:
                return named
        return ctx.quote_speaker if not sources else None

    def detect(self, sent: Span, ctx: DocContext) -> list[Event]:
        known = ctx.actors.mentions(sent) if ctx.actors is not None else None
        mentions = known if known is not None else self.actors.mentions(sent)
        events: list[Event] = []
        for token in sent:
            phrase = self._charged(token, mentions, ctx)
            if phrase is None:
                continue
            accused = self._resolve(phrase, mentions, ctx)
            accuser = self._speaker(token, sent, mentions, ctx)
            if accused is None or accuser is None or accused.code == accuser.code:
                continue
            if not (is_party(accused.code) and is_party(accuser.code)):
                continue
            head = self._clause_head(token)
            status = self.status.read(token, head)
            if status.negated or status.hypothetical or self.status.background(head):
                continue
            day = ctx.published.isoformat() if ctx.published else None
            events.append(Event(
                type="ACCUSE",
                actors=[accuser],
                recipients=[accused],
                date=EventDate(day, day, "unknown") if day else EventDate(),
                future=status.future,
                status_cues=list(status.cues),
                claim=Claim(claimant=accuser, stance="asserted", outlet_voice=False),
                evidence=[sentence_span(sent)],
                trigger=token.text,
                anchors=[token.idx],
                confidence=self.rule.weight * 0.8,
            ))
            break  # one accusation per sentence: the charges of one statement are one act
        return events

