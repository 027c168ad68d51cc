"""Headlines in title case or capitals put in sentence case for the parser, offsets unchanged.

The small English pipeline learned its tags from prose: in "Azerbaijani Troops Shell Armenian
Village Near Border" every capitalised word looks like part of a name, so "Shell" is read as a
proper noun and the headline has no verb. Truecasing (Lita et al., 2003) is the usual remedy:
the line is handed to the parser as "Azerbaijani troops shell Armenian village near border",
and the parse is put back on the original characters (`restore`), so evidence, offsets and the
text an analyst sees are the article's own.

A word is lowered only when it is a common English word, known to the pipeline's own lemmatizer
tables (WordNet's noun, verb, adjective and adverb lemmas, reached through its inflection rules
and irregular forms), and not a name: an actor of the lexicon ("Israeli", "Hezbollah"), a month
or a weekday, a word of a longer name the lexicon or the gazetteer knows ("South Korea", "Gaza
Strip", "Democratic Republic of Congo"), or a large place. Each word keeps its length, so every
character offset holds. Only short lines in which nearly every longer word is capitalised are
touched; prose is handed over as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence

from spacy.attrs import DEP, ENT_IOB, ENT_KB_ID, ENT_TYPE, HEAD, LEMMA, MORPH, POS, SENT_START, TAG
from spacy.language import Language
from spacy.tokens import Doc

from borderwatch.geo.entries import GazetteerEntry

MAX_WORDS = 30
"""A headline is short; a longer line is prose or a list of names, left as written."""
MAX_LINES = 50
"""Lines recased per text: a title and its subheads are far fewer, and a page made of thousands
of capitalised lines (hostile, or a dump) is bounded in the gazetteer lookups it costs."""
MIN_CONTENT = 3
"""Longer words (after the first) a line needs before its casing says anything."""
TITLE_SHARE = 0.8
"""Share of those words capitalised (or in capitals) that makes a line a title-case (caps) line."""
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_NAME_RUN = re.compile(r"[^\W\d_]+(?:(?:['’][\s-]*|[\s-]+)[^\W\d_]+)*")
"""Words with only spaces, hyphens or apostrophes between them: a name does not cross punctuation.
Each separator is at least one character, so a word cannot be split between repetitions: the
match is linear (an optional separator made it exponential in the length of a word)."""
_CONNECTORS = frozenset({"of", "the", "and", "de", "al", "el", "du", "la", "da"})
"""Lower-case words inside a multi-word name ("Democratic Republic of the Congo")."""
_CALENDAR = frozenset({
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
})
_LONGEST_NAME = 5
_LARGE_CITY = 300_000
_CACHE = 50_000
_POS = ("noun", "verb", "adj", "adv")
_ATTRS = [DEP, SENT_START, ENT_IOB, ENT_TYPE, ENT_KB_ID, HEAD, MORPH, LEMMA, POS, TAG]
"""What a parse adds to the tokens, in the order `Doc.from_docs` copies it (sentence starts of
unparsed text kept, those of parsed text rebuilt from the trees)."""


class Truecaser:
    """Sentence case for title-case and all-capitals lines; everything else unchanged."""

    def __init__(
        self,
        index: Mapping[str, Collection[str]],
        rules: Mapping[str, Sequence[Sequence[str]]],
        exceptions: Mapping[str, Mapping[str, Sequence[str]]],
        names: Collection[str],
        places: Callable[[str], Sequence[GazetteerEntry]] | None = None,
        function_words: Collection[str] = (),
    ) -> None:
        self.index = {pos: frozenset(words) for pos, words in index.items()}
        self.function_words = frozenset(function_words)
        self.rules = rules
        self.exceptions = exceptions
        self.names = frozenset(names)
        """Lower-case actor names of the lexicon (countries, capitals, demonyms, groups)."""
        self.places = places
        """The gazetteer's entries by name, when there is a gazetteer."""
        self._place_names: dict[str, bool] = {}

    @classmethod
    def from_pipeline(
        cls, nlp: Language, names: Collection[str],
        places: Callable[[str], Sequence[GazetteerEntry]] | None = None,
    ) -> Truecaser:
        """Common words from the pipeline's own lemmatizer tables and stop words (no other word
        list to ship)."""
        lookups = nlp.get_pipe("lemmatizer").lookups
        index, rules, exceptions = (
            lookups.get_table(name) for name in ("lemma_index", "lemma_rules", "lemma_exc")
        )
        return cls(
            {pos: index.get(pos, ()) for pos in _POS},
            {pos: rules.get(pos, ()) for pos in _POS},
            {pos: exceptions.get(pos, {}) for pos in _POS},
            names,
            places,
            nlp.Defaults.stop_words,
        )

    def is_common(self, lower: str) -> bool:
        """A word of the general vocabulary, in any inflection ("kills", "shelled", "troops")."""
        if lower in self.function_words:
            return True
        for pos in _POS:
            words = self.index[pos]
            if lower in words or any(base in words for base in self.exceptions[pos].get(lower, ())):
                return True
            for old, new in self.rules[pos]:
                stem = lower[: len(lower) - len(old)]
                if stem and lower.endswith(old) and stem + new in words:
                    return True
        return False

    def __call__(self, text: str) -> str:
        """The text with its title-case and capitals lines in sentence case, same length."""
        lines = text.splitlines(keepends=True)
        shouted = [n for n, line in enumerate(lines) if _shouted(line)][:MAX_LINES]
        for n in shouted:
            lines[n] = self._line(lines[n])
        return "".join(lines) if shouted else text

    def _line(self, line: str) -> str:
        words = list(_WORD.finditer(line))
        kept = self._names(line, words)
        chars = list(line)
        for n, match in enumerate(words):
            word = match.group()
            lower = word.lower()
            # Only a common word can be lowered, so only a common word is looked up as a name.
            if n in kept or not self.is_common(lower) or self._name(word):
                # Capitals are a name's own case only when short ("NATO", "IDF"); "RUSSIA" is Russia.
                new = word if not word.isupper() or len(word) <= 4 else word.capitalize()
            else:
                new = word.capitalize() if n == 0 else lower
            if len(new) == len(word):
                chars[match.start() : match.end()] = new
        return "".join(chars)

    def is_place(self, name: str) -> bool:
        """A place's name, not a word that is also a village somewhere ("Temple", "Police"): a
        name of several words, or of a country, a region or a city of 300,000 people or more."""
        if self.places is None:
            return False
        known = self._place_names.get(name)
        if known is None:
            several = " " in name or "-" in name
            known = any(several or e.kind in ("country", "admin1") or e.population >= _LARGE_CITY
                        for e in self.places(name))
            if len(self._place_names) >= _CACHE:
                self._place_names.clear()  # bounded over a long watch
            self._place_names[name] = known
        return known

    def _name(self, word: str) -> bool:
        lower = word.lower()
        if lower in _CALENDAR:
            return True
        if lower in self.names:
            return len(lower) > 3 or word.isupper()  # "CAR" is a country, "Car" a car
        return self.is_place(word)

    def _names(self, line: str, words: list[re.Match[str]]) -> set[int]:
        """Indices of the words that belong to a multi-word name of the lexicon or gazetteer."""
        kept: set[int] = set()
        for first in range(len(words)):
            for last in range(min(len(words), first + _LONGEST_NAME) - 1, first, -1):
                if words[first].group().lower() in _CONNECTORS or words[last].group().lower() in _CONNECTORS:
                    continue
                phrase = line[words[first].start() : words[last].end()]
                if not _NAME_RUN.fullmatch(phrase):
                    continue  # a name does not run across punctuation
                if phrase.lower() in self.names or self.is_place(phrase):
                    kept.update(range(first, last + 1))
                    break
        return kept


def _shouted(line: str) -> bool:
    """A short line in which nearly every longer word after the first is capitalised."""
    words = _WORD.findall(line)
    if not words or len(words) > MAX_WORDS:
        return False
    content = [w for w in words[1:] if len(w) >= 4]
    if len(content) < MIN_CONTENT:
        return False
    capitalised = sum(w[0].isupper() for w in content)
    return capitalised >= TITLE_SHARE * len(content)


def restore(doc: Doc, text: str) -> Doc:
    """The parse of a truecased text put back on the original text (same length, same tokens)."""
    if doc.text == text:
        return doc
    words = [text[t.idx : t.idx + len(t)] for t in doc]
    spaces = [bool(t.whitespace_) for t in doc]
    restored = Doc(doc.vocab, words=words, spaces=spaces)
    restored.from_array(_ATTRS, doc.to_array(_ATTRS))
    return restored
