"""Normalise the words that name a participant into an Actor (code + sector).

"Kyiv's foreign ministry" → UKR/MFA, "Belarusian troops" → BLR/MIL, "Wagner fighters" →
wagner-group. Aliases come from data/actors.toml (and pycountry); the spaCy PhraseMatcher finds
them, so multi-word names ("the United States", "the Kremlin") match as one.
"""

from __future__ import annotations

from dataclasses import dataclass

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Span, Token

from borderwatch.extract.lexicon import ActorEntry, Lexicon
from borderwatch.models import Actor

PRONOUNS = frozenset(
    {
        "it",
        "its",
        "they",
        "them",
        "their",
        "we",
        "our",
        "us",
        "he",
        "she",
        "his",
        "her",
        "itself",
        "themselves",
    }
)


@dataclass(frozen=True)
class Mention:
    """An alias found in a sentence: token range and what it names."""

    start: int
    end: int
    entry: ActorEntry


_NEARBY = frozenset({"near", "along", "around", "across", "beside", "outside", "beyond", "off", "toward",
                     "towards", "opposite"})
"""Prepositions of where, never of whose ("troops near Kosovo"); "in" and "at" may be either."""


class ActorResolver:
    """Finds actor aliases in sentences and turns argument phrases into Actors."""

    def __init__(self, nlp: Language, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        # Sector phrases padded once, as `sector` compares them (whole words, longest first).
        self._sectors = tuple((f" {key} ", sector) for key, sector in lexicon.sectors)
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        # Aliases are matched case-insensitively except short all-caps ones ("US", "UK"),
        # which would otherwise fire on ordinary words ("us").
        self._case_sensitive = PhraseMatcher(nlp.vocab, attr="ORTH")
        short = [a for a in lexicon.aliases if len(a.replace(".", "")) <= 3]
        long = [a for a in lexicon.aliases if len(a.replace(".", "")) > 3]
        self.matcher.add("ACTOR", list(nlp.tokenizer.pipe(long)))
        self._case_sensitive.add("ACTOR", list(nlp.tokenizer.pipe(a.upper() for a in short)))

    def mentions(self, sent: Span) -> list[Mention]:
        """Every alias in a sentence, longest first where they overlap."""
        found: list[tuple[int, int]] = []
        for matcher in (self.matcher, self._case_sensitive):
            found.extend((s, e) for _, s, e in matcher(sent))
        found.sort(key=lambda se: (se[0], -(se[1] - se[0])))
        result: list[Mention] = []
        doc = sent.doc
        last_end = -1
        for start, end in found:
            if start < last_end:
                continue
            key = doc[start:end].text.lower()
            entry = self.lexicon.aliases.get(key)
            if entry is None and key.startswith("the "):
                entry = self.lexicon.aliases.get(key[4:])
            if entry is None:
                continue
            last_end = end
            if entry.kind == "ignore":
                continue
            result.append(Mention(start, end, entry))
        return result

    def sector(self, head: Token) -> str | None:
        """The sector named by an argument's head and its modifiers ("foreign ministry" → MFA)."""
        words = [t for t in head.subtree if t.i <= head.i and t.i >= head.left_edge.i]
        phrase = " ".join(t.lower_ for t in words if t.dep_ in ("compound", "amod") or t == head)
        lemma_phrase = " ".join(
            t.lemma_.lower() for t in words if t.dep_ in ("compound", "amod") or t == head
        )
        for text in (f" {phrase} ", f" {lemma_phrase} "):
            for key, sector in self._sectors:
                if key in text:
                    return sector
        return None

    def resolve(self, head: Token, mentions: list[Mention]) -> Actor | None:
        """The actor an argument phrase names, preferring what sits closest to its head."""
        mention = self._mention_for(head, mentions)
        if mention is None:
            return None
        doc = head.doc
        entry = mention.entry
        # A named group keeps its own sector ("Wagner fighters" are a PMC, not generic rebels).
        sector = entry.sector if entry.kind == "group" and entry.sector else self.sector(head)
        if sector is None and entry.kind == "capital":
            sector = entry.sector
        text_start = min(head.left_edge.i, mention.start)
        text_end = max(head.i + 1, mention.end)
        text = doc[text_start:text_end].text
        return Actor(code=entry.code, sector=sector, text=text)

    @staticmethod
    def _mention_for(head: Token, mentions: list[Mention]) -> Mention | None:
        # What a conjunct names is its own ("Congolese forces and an armed group called M23"),
        # and what a phrase is near is not whose it is ("its army units near the Kosovo boundary").
        others = {t.i for c in head.children
                  if c.dep_ in ("conj", "cc") or (c.dep_ == "prep" and c.lower_ in _NEARBY)
                  for t in c.subtree}
        inside = [m for m in mentions if head.left_edge.i <= m.start and m.end <= head.right_edge.i + 1
                  and m.start not in others]
        if not inside:
            return None
        for m in inside:
            if m.start <= head.i < m.end:
                return m
        # Appositions ("its neighbour Belarus") and direct modifiers ("Kyiv's", "Russian")
        # outrank anything deeper in the phrase ("Moscow-allied").
        for child in head.children:
            if child.dep_ in ("appos", "poss", "compound", "amod", "nmod"):
                for m in inside:
                    if m.start <= child.i < m.end:
                        return m
        return min(inside, key=lambda m: abs(m.start - head.i))
