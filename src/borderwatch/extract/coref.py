"""Document-level actor memory: who "the North", "the JCS", "the country" and "both sides" are.

The sentence rules name an actor from what its own sentence says. Articles also name actors by
what they said before, and a reader resolves those across the article:
- initials the article defines: "South Korea's Joint Chiefs of Staff (JCS)" … "the JCS said";
- a shortened repeat: "the North" after "North Korea", "the South" after "South Sudan";
- forces known by their own name (data/organisations.toml: "the IDF", "the PAF"), bound to the
  one of their states the article names most;
- a definite description: "the country", "the nation", "the ministry" → the state named last;
- a pair: "both sides", "the two countries", "the two neighbours" → the two states the article
  names most.
"""

from __future__ import annotations

import tomllib
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources

from spacy.tokens import Doc, Span, Token

from borderwatch.errors import ConfigError
from borderwatch.extract.actors import ActorResolver, Mention
from borderwatch.extract.lexicon import Government
from borderwatch.models import Actor, Event

_COMPASS = ("north", "south", "east", "west")
_SINGULAR_DESCRIPTIONS = frozenset({
    "country", "nation", "government", "regime", "republic", "kingdom", "ministry", "military",
    "army", "leadership", "authorities", "administration",
})
"""Heads of a definite description that stand for the state named last ("the country")."""
_INSTITUTIONS = frozenset({
    "ministry", "government", "army", "military", "navy", "command", "service", "guard", "police",
    "president", "minister", "spokesman", "spokeswoman", "spokesperson", "office", "council",
    "agency", "committee", "embassy", "delegation", "leader", "chief",
})
"""Heads of phrases that name an institution or office of a side ("Cambodia's defence ministry"),
whose shortened repeat ("the ministry") is that side's."""
_PAIR_DESCRIPTIONS = frozenset({
    "side", "country", "nation", "neighbour", "neighbor", "army", "government", "state",
    "military", "force", "minister", "ministry", "leader", "president", "premier", "delegation",
    "commander",
})
"""Plural heads that, with "both" or "two", stand for the article's two parties ("the two
defence ministers spoke by phone")."""
_MAX_ACRONYM = 8


@dataclass(frozen=True)
class Organisation:
    """A force or service named without its state, and the states that use the name."""

    codes: tuple[str, ...]
    sector: str | None


def _key(name: str) -> str:
    """Short names match as written (like ActorResolver's upper-case aliases), others in any case."""
    bare = name.replace(".", "")
    return name if len(bare) <= 3 else name.lower()


@lru_cache(maxsize=1)
def load_organisations() -> dict[str, Organisation]:
    source = "organisations.toml"
    try:
        raw = tomllib.loads(resources.files("borderwatch.data").joinpath(source).read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", source=source) from exc
    table: dict[str, Organisation] = {}
    for number, entry in enumerate(raw.get("organisation", []), 1):
        names, codes = entry.get("names"), entry.get("codes")
        if not names or not codes or not all(isinstance(x, str) and x for x in [*names, *codes]):
            raise ConfigError(f"organisation {number}: needs non-empty names and codes", source=source)
        org = Organisation(tuple(codes), entry.get("sector"))
        for name in names:
            if _key(name) in table:
                raise ConfigError(f"organisation {number}: {name!r} is listed twice", source=source)
            table[_key(name)] = org
    return table


def _is_state(code: str) -> bool:
    return len(code) == 3 and code.isupper()


class DocumentActors:
    """What one article has established about its actors, read once before its sentences."""

    def __init__(
        self,
        prominence: Counter[str],
        defined: dict[str, Actor],
        compass: dict[str, str],
        organisations: dict[str, Organisation],
    ) -> None:
        self.prominence = prominence
        self.defined = defined
        self.compass = compass
        self.organisations = organisations
        self.mentions_by_sentence: dict[int, list[Mention]] = {}
        self.names: dict[str, str] = {}
        """How the article first names each actor."""
        self.persons: dict[str, Actor] = {}
        """People the article names with their state's title ("Armenian Prime Minister Nikol
        Pashinyan"), by full name and each name: a later "Pashinyan said" is Armenia's."""
        self.forces: dict[str, list[tuple[int, Actor]]] = {}
        """Forces and institutions the article names with their owner ("Pakistani jets",
        "Cambodia's defence ministry"), by noun lemma, in order: a later "the three jets" or "the
        ministry" is theirs."""

    @classmethod
    def read(cls, doc: Doc, resolver: ActorResolver) -> DocumentActors:
        prominence: Counter[str] = Counter()
        defined: dict[str, Actor] = {}
        compass_codes: dict[str, set[str]] = {}
        by_sentence: dict[int, list[Mention]] = {}
        names: dict[str, str] = {}
        forces: dict[str, list[tuple[int, Actor]]] = {}
        persons: dict[str, Actor] = {}
        classes = resolver.lexicon.classes
        force_words = classes["troops"] | classes["combatants"] | _INSTITUTIONS
        # Grouped once: `Span.ents` walks every entity of the document on each call.
        people: dict[int, list[Span]] = {}
        for ent in doc.ents:
            if ent.label_ == "PERSON":
                people.setdefault(ent.sent.start, []).append(ent)
        for sent in doc.sents:
            mentions = by_sentence[sent.start] = resolver.mentions(sent)
            for mention in mentions:
                prominence[mention.entry.code] += 1
                names.setdefault(mention.entry.code, doc[mention.start : mention.end].text)
                words = doc[mention.start : mention.end].text.split()
                if len(words) >= 2 and words[0].lower() in _COMPASS and words[0][0].isupper():
                    compass_codes.setdefault(words[0].lower(), set()).add(mention.entry.code)
            for ent in people.get(sent.start, ()):
                # "Armenian Prime Minister Nikol Pashinyan": later "Pashinyan" is Armenia's.
                root = ent.root
                titled = [m for m in mentions if root.left_edge.i <= m.start and m.end <= ent.start]
                if titled:
                    owner = titled[-1].entry
                    spellings = {ent.text, *(t.text for t in ent
                                             if t.pos_ == "PROPN" and t.text[:1].isupper())}
                    for name in spellings:
                        persons.setdefault(name, Actor(owner.code, resolver.sector(root), name))
            for token in sent:
                if token.lemma_.lower() in force_words and _has_modifier(token):
                    owner = resolver.resolve(token, mentions)
                    if owner is not None:
                        forces.setdefault(token.lemma_.lower(), []).append((token.i, owner))
                acronym = _defined_acronym(token)
                if acronym is None:
                    continue
                phrase = _phrase_before(token)
                actor = resolver.resolve(phrase, mentions) if phrase is not None else None
                if actor is not None:
                    sector = resolver.sector(phrase) or actor.sector
                    defined.setdefault(acronym, Actor(actor.code, sector, acronym))
        compass = {word: next(iter(codes)) for word, codes in compass_codes.items() if len(codes) == 1}
        article = cls(prominence, defined, compass, load_organisations())
        article.mentions_by_sentence = by_sentence
        article.names = names
        article.forces = forces
        article.persons = persons
        return article

    def mentions(self, sent: Span) -> list[Mention] | None:
        """The actor aliases of a sentence, found once when the article was read."""
        return self.mentions_by_sentence.get(sent.start)

    def resolve(self, token: Token, recent: list[Actor]) -> list[Actor]:
        """The actors a phrase names through the article's context; empty when it names none."""
        for name in _names_of(token):
            if name in self.defined:
                found = self.defined[name]
                return [Actor(found.code, found.sector, token.text)]
            if name in self.persons:
                found = self.persons[name]
                return [Actor(found.code, found.sector, token.text)]
            org = self.organisations.get(_key(name))
            if org is not None:
                code = self._most_named(org.codes)
                return [Actor(code, org.sector, name)] if code else []
        lower = token.lower_
        determiners = {c.lower_ for c in token.children if c.dep_ in ("det", "predet", "nummod", "preconj")}
        if token.pos_ == "PROPN" and lower in self.compass and "the" in determiners:
            return [Actor(self.compass[lower], None, f"the {token.text}")]
        lemma = token.lemma_.lower()
        if token.tag_ in ("NNS", "NNPS") and lemma in _PAIR_DESCRIPTIONS and determiners & {"both", "two"}:
            pair = self.parties(2)
            return [Actor(code, None, token.text) for code in pair] if len(pair) == 2 else []
        if determiners & {"the", "these", "those"} and not _has_modifier(token):
            # A shortened repeat: "Pakistani jets ... The three jets violated Indian airspace",
            # "Cambodia's defence ministry said ... the ministry said".
            named = self.forces.get(lemma, [])
            before = bisect_left(named, token.i, key=lambda entry: entry[0])  # in text order
            if before:
                owner = named[before - 1][1]
                return [Actor(owner.code, owner.sector, token.text)]
        if lemma in _SINGULAR_DESCRIPTIONS and determiners & {"the", "this"} and not _has_owner(token):
            for actor in reversed(recent):
                if _is_state(actor.code):
                    return [Actor(actor.code, None, token.text)]
        return []

    def parties(self, count: int) -> list[str]:
        """The states the article names most, most named first."""
        return [code for code, _ in self.prominence.most_common() if _is_state(code)][:count]

    def other_party(self, code: str) -> str | None:
        """The other of the article's two states, when `code` is one of them."""
        parties = self.parties(2)
        if len(parties) < 2 or code not in parties:
            return None
        return parties[1] if code == parties[0] else parties[0]

    def _most_named(self, codes: tuple[str, ...]) -> str | None:
        if len(codes) == 1:
            return codes[0]
        counts = [(self.prominence[code], code) for code in codes]
        best = max(counts)
        # Two states that share a name, neither named or both named as often: say nothing.
        if best[0] == 0 or sum(1 for count, _ in counts if count == best[0]) > 1:
            return None
        return best[1]


def _defined_acronym(token: Token) -> str | None:
    """"ACR" in "... (ACR)": initials the article defines for the phrase just before them."""
    doc = token.doc
    text = token.text
    if not (2 <= len(text) <= _MAX_ACRONYM and text[0].isupper() and sum(c.isupper() for c in text) >= 2):
        return None
    if not text.replace("-", "").isalpha():
        return None
    if token.i < 2 or token.i + 1 >= len(doc) or doc[token.i - 1].text != "(" or doc[token.i + 1].text != ")":
        return None
    return text


def _phrase_before(token: Token) -> Token | None:
    """The head of the noun phrase that ends just before "(": "Chiefs" in "Joint Chiefs of Staff"."""
    last = token.doc[token.i - 2]
    if last.pos_ not in ("NOUN", "PROPN"):
        return None
    head = last
    nominal = ("ADP", "NOUN", "PROPN")
    while head.dep_ in ("pobj", "prep") and head.head.i < head.i and head.head.pos_ in nominal:
        head = head.head
    return head if head.pos_ in ("NOUN", "PROPN") else last


def _names_of(token: Token) -> list[str]:
    """The ways a phrase may spell a name: the word itself, with its compounds, the whole phrase."""
    doc = token.doc
    left = token
    while left.i > 0 and doc[left.i - 1].dep_ == "compound" and doc[left.i - 1].head.i in (left.i, token.i):
        left = doc[left.i - 1]
    names = [token.text, doc[left.i : token.i + 1].text]
    start = token.left_edge.i + (1 if token.left_edge.lower_ == "the" else 0)
    names.append(doc[start : token.right_edge.i + 1].text)
    # A modifier that names the owner: "their Congolese counterparts".
    names += [c.text for c in token.children if c.dep_ in ("amod", "compound") and c.i < token.i]
    return list(dict.fromkeys(n for n in names if n))


def _has_modifier(token: Token) -> bool:
    """Whether a noun names whose it is by a word of its own ("Pakistani jets", "Russia's troops")."""
    return any(c.dep_ in ("poss", "amod", "compound", "nmod") and c.pos_ in ("PROPN", "ADJ", "NOUN", "PRON")
               for c in token.children)


def _has_owner(token: Token) -> bool:
    """Whether the phrase names its own owner ("the country's army", "the Kremlin administration")."""
    return any(c.dep_ == "poss" or (c.dep_ == "compound" and c.pos_ == "PROPN") for c in token.children)


def as_governments(
    governments: dict[str, Government], events: list[Event], published: date | None
) -> list[Event]:
    """A group that governs a state de facto acts as that state in articles from then on: the
    Taliban's forces after August 2021 are Afghanistan's (GOV), as conflict datasets code them."""
    if published is None or not governments:
        return events
    day = published.isoformat()

    def state(actor: Actor) -> Actor:
        rule = governments.get(actor.code)
        if rule is None or day < rule.since:
            return actor
        return Actor(rule.country, "GOV" if actor.sector in (None, "REB") else actor.sector, actor.text)

    for event in events:
        event.actors = _unique([state(a) for a in event.actors])
        event.recipients = [r for r in _unique([state(r) for r in event.recipients])
                            if r.code not in {a.code for a in event.actors}]
        if event.claim.claimant is not None:
            event.claim.claimant = state(event.claim.claimant)
    return events


def _unique(actors: list[Actor]) -> list[Actor]:
    seen: set[str] = set()
    return [a for a in actors if not (a.code in seen or seen.add(a.code))]


DIRECTED = frozenset({"FIGHT", "ASSAULT", "ACCUSE", "THREATEN", "COERCE", "MOBILIZE", "REQUEST",
                      "SANCTION", "REJECT"})
"""Acts aimed at someone: in an article about two states, one's act with no target named is
aimed at the other ("Russian forces shelled border villages" in a report on Russia and Ukraine)."""


STATEMENTS = frozenset({"ACCUSE", "THREATEN", "REQUEST", "REJECT", "SANCTION"})
"""Diplomatic acts, made by states: in an article about two states, one aimed at one of them by an
unnamed speaker ("the deputy minister urged the Belarusian side") is the other's."""


def counterparts(article: DocumentActors | None, events: list[Event]) -> list[Event]:
    """Give each directed act of one of the article's two states, with no target named, the
    other state as its recipient; and a diplomatic act aimed at one of them by no one named, the
    other as its actor. Force is never given an actor this way: an unnamed shooter stays unnamed."""
    if article is None:
        return events
    for event in events:
        if event.type in STATEMENTS and not event.actors and len(event.recipients) == 1:
            other = article.other_party(event.recipients[0].code)
            if other is not None:
                event.actors = [Actor(other, "GOV", article.names.get(other, other))]
            continue
        if event.type not in DIRECTED or event.recipients or len(event.actors) != 1:
            continue
        other = article.other_party(event.actors[0].code)
        if other is not None:
            event.recipients = [Actor(other, None, article.names.get(other, other))]
    return events
