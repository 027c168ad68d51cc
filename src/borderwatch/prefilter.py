"""The relevance stage: parse only the sentences that can hold an event, and their neighbours.

An event needs a trigger word (data/triggers.toml) and whatever else its rule asks for in the
same sentence: the rest of a phrase, a word of its object or subject classes. An Aho–Corasick
automaton over every surface form those words can take finds the sentences that meet a rule,
long before spaCy runs. Those sentences, with ``context`` sentences on each side (pronouns and
claimants reach back), go through the whole pipeline.

The rest still go through NER, which in en_core_web_sm embeds tokens itself (it does not listen
to the shared tok2vec), so it runs alone: places are mostly NER's, and the extractor's memory of
the actors named so far sees them. What the geoparser reads from the parse besides (a capitalised
name NER missed, "near Khoiniki"; an entity run on into a function word; nested place strings)
is flagged per sentence by `Geoparser.unparsed_doubts`, and those sentences are parsed after
all. The tagger, parser, attribute ruler and lemmatizer are what is saved on the others.

The pieces are joined back into one spaCy ``Doc`` whose text is the clean text, character for
character: every offset the later stages produce stays exact.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice, pairwise
from typing import TypeVar

import ahocorasick
from spacy.language import Language
from spacy.tokens import Doc

from borderwatch.config import PrefilterConfig
from borderwatch.errors import ConfigError
from borderwatch.extract.lexicon import Lexicon, load_lexicon

T = TypeVar("T")

_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*\s+|\n\s*|;(?=\S)")
"""A cheap sentence boundary: end punctuation and space, a line break, or a glued semicolon
(the headline joiner nlp.headline_splitter knows). Splitting too often costs nothing here:
neighbours are kept and adjacent pieces merge."""


@dataclass(frozen=True)
class Segment:
    """A contiguous slice of a document's text and whether it needs the full pipeline."""

    start: int
    end: int
    relevant: bool


@dataclass(frozen=True)
class Condition:
    """What a sentence must hold for one trigger rule to fire: its anchor word, and for each other
    requirement (the rest of a phrase, a word of the object or subject classes) any one word."""

    anchor: str
    needs: tuple[frozenset[str], ...] = ()


def trigger_conditions(lexicon: Lexicon) -> list[Condition]:
    """One condition per trigger word or phrase of every rule (data/triggers.toml).

    A rule with `objects` or `subjects` fires only when a word of those classes is its object or
    subject, which the parser finds in the same sentence; a phrase needs all its words there."""
    conditions = []
    for rule in lexicon.triggers:
        needs: list[frozenset[str]] = []
        if rule.objects:
            needs.append(frozenset().union(*(lexicon.classes[c] for c in rule.objects)))
        if rule.subjects:
            needs.append(frozenset().union(*(lexicon.classes[c] for c in rule.subjects)))
        for word in rule.verbs | rule.nouns:
            conditions.append(Condition(word, tuple(needs)))
        for phrase in rule.phrases:
            conditions.append(Condition(phrase[0], (*(frozenset({w}) for w in phrase[1:]), *needs)))
    return conditions


def surface_forms(lemma: str, rules: Iterable[tuple[str, str]], irregular: dict[str, set[str]]) -> set[str]:
    """Every word the lemmatizer could map to this lemma: its rules run backwards ("ies" → "y"
    gives "denies" for "deny"), its exceptions ("fought" for "fight"), and doubled final
    consonants ("planned")."""
    forms = {lemma} | irregular.get(lemma, set())
    for old, new in rules:
        if lemma.endswith(new):
            forms.add(lemma[: len(lemma) - len(new)] + old)
    if lemma[-1:].isalpha():
        forms |= {lemma + lemma[-1] + ending for ending in ("ed", "ing", "er")}
    return forms


def lemmatizer_tables(nlp: Language) -> tuple[list[tuple[str, str]], dict[str, set[str]]]:
    """The pipeline's own suffix rules and lemma → irregular forms ("fight" → {"fought"}), so the
    automaton knows every form the lemmatizer turns into a trigger lemma."""
    if "lemmatizer" not in nlp.pipe_names:
        return [], {}
    lookups = nlp.get_pipe("lemmatizer").lookups
    rules: list[tuple[str, str]] = []
    if lookups.has_table("lemma_rules"):
        rules = [(old, new) for table in lookups.get_table("lemma_rules").values() for old, new in table]
    forms: dict[str, set[str]] = {}
    if lookups.has_table("lemma_exc"):
        for table in lookups.get_table("lemma_exc").values():
            for form, lemmas in table.items():
                for lemma in lemmas:
                    forms.setdefault(lemma.lower(), set()).add(form.lower())
    return rules, forms


class Prefilter:
    """Finds the segments of a text worth parsing."""

    def __init__(
        self,
        conditions: Iterable[Condition],
        rules: Iterable[tuple[str, str]] = (),
        irregular: dict[str, set[str]] | None = None,
        context: int = 1,
    ) -> None:
        if context < 0:
            raise ConfigError("[prefilter] context must be 0 or more")
        self.context = context
        rules = list(rules)
        self.conditions: dict[str, list[Condition]] = {}
        words: set[str] = set()
        for condition in conditions:
            self.conditions.setdefault(condition.anchor, []).append(condition)
            words.add(condition.anchor)
            words.update(*condition.needs)
        forms: dict[str, set[str]] = {}
        for word in words:
            # Object words are also matched as written and without a plural "s" (rules._word_forms).
            for form in surface_forms(word, rules, irregular or {}) | {word + "s"}:
                forms.setdefault(form, set()).add(word)
        if not self.conditions:
            raise ConfigError("the prefilter has no trigger forms: data/triggers.toml is empty")
        self.automaton = ahocorasick.Automaton()
        for form, lemmas in forms.items():
            self.automaton.add_word(form, (len(form), frozenset(lemmas)))
        self.automaton.make_automaton()

    @classmethod
    def for_pipeline(cls, nlp: Language, context: int = 1) -> Prefilter:
        rules, irregular = lemmatizer_tables(nlp)
        return cls(trigger_conditions(load_lexicon()), rules, irregular, context)

    def words(self, text: str) -> list[tuple[int, frozenset[str]]]:
        """(offset, lemmas) of every whole word (run of letters) that is a form of a lexicon word."""
        lower = text.lower()
        found = []
        for end, (size, lemmas) in self.automaton.iter(lower):
            start = end - size + 1
            if (start == 0 or not lower[start - 1].isalpha()) and (
                end + 1 == len(lower) or not lower[end + 1].isalpha()
            ):
                found.append((start, lemmas))
        return found

    def hits(self, text: str) -> list[int]:
        """Offsets of the trigger words whose conditions the text around them meets."""
        return [start for start, relevant in self._anchors(text, _sentences(text)) if relevant]

    def _anchors(self, text: str, sentences: list[tuple[int, int]]) -> list[tuple[int, bool]]:
        found = self.words(text)
        if not found:
            return []
        index, per_sentence = 0, [set() for _ in sentences]
        located = []
        for start, lemmas in found:
            while sentences[index][1] <= start:
                index += 1
            per_sentence[index] |= lemmas
            located.append((start, index, lemmas))
        result = []
        for start, index, lemmas in located:
            # The parser may join a cheap sentence to its neighbours ("U.S. | troops"): look there too.
            window = set().union(*per_sentence[max(0, index - 1) : index + 2])
            relevant = any(
                all(need & window for need in condition.needs)
                for lemma in lemmas
                for condition in self.conditions.get(lemma, ())
            )
            result.append((start, relevant))
        return result

    def segments(self, text: str) -> list[Segment]:
        """The text cut at sentence boundaries into relevant and other runs, covering it exactly."""
        if not text:
            return []
        sentences = _sentences(text)
        keep = [False] * len(sentences)
        index = 0
        for start, relevant in self._anchors(text, sentences):
            while sentences[index][1] <= start:
                index += 1
            if relevant:
                for k in range(max(0, index - self.context), min(len(sentences), index + self.context + 1)):
                    keep[k] = True
        merged: list[Segment] = []
        for (start, end), relevant in zip(sentences, keep, strict=True):
            if merged and merged[-1].relevant == relevant:
                merged[-1] = Segment(merged[-1].start, end, relevant)
            else:
                merged.append(Segment(start, end, relevant))
        return merged


def _sentences(text: str) -> list[tuple[int, int]]:
    bounds = sorted({0, *(m.end() for m in _SENTENCE_END.finditer(text)), len(text)})
    return list(pairwise(bounds))


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _unparsed(tokens: Doc) -> Doc:
    """A piece the parser does not see: its tokens and entities, cut into sentences at the cheap
    boundaries.

    The boundaries are written as a flat tree (each sentence's first token its root, labelled
    ``dep``), because a joined document takes its sentences from the parse of every piece. They
    are set after NER has run, as the parser's are: NER does not run an entity across a sentence
    start, and a cheap boundary falls inside "GEORGETOWN, Ky. (WKYT)"."""
    starts = {0, *(m.end() for m in _SENTENCE_END.finditer(tokens.text))}
    heads, deps, root = [], [], 0
    for token in tokens:
        if token.idx in starts:
            root = token.i
        heads.append(root)
        deps.append("ROOT" if token.i == root else "dep")
    ents = [f"{t.ent_iob_}-{t.ent_type_}" if t.ent_type_ else "O" for t in tokens]
    return Doc(tokens.vocab, words=[t.text for t in tokens], spaces=[bool(t.whitespace_) for t in tokens],
               heads=heads, deps=deps, ents=ents)


def _independent_ner(nlp: Language) -> bool:
    """Whether the pipeline's NER embeds tokens itself (en_core_web_sm's does) rather than
    listening to the shared tok2vec, so it can run alone on the skipped sentences."""
    if "ner" not in nlp.pipe_names:
        return False
    embed = nlp.config["components"]["ner"].get("model", {}).get("tok2vec", {})
    return "Listener" not in str(embed.get("@architectures", "Listener"))


class SelectiveParser:
    """``nlp.pipe`` with the prefilter in front: same (Doc, context) pairs, same text.

    The sentences the prefilter skips still go through NER, when the pipeline's NER needs no
    other component (its own token embedding): NER is what finds most places. `doubts` (the
    geoparser's `unparsed_doubts`) names the tokens of such a piece whose places the parse
    could read differently; their sentences are parsed after all."""

    def __init__(
        self, nlp: Language, config: PrefilterConfig, doubts: Callable[[Doc], Iterable[int]] | None = None
    ) -> None:
        self.nlp = nlp
        self.prefilter = Prefilter.for_pipeline(nlp, config.context)
        self.ner = nlp.get_pipe("ner") if _independent_ner(nlp) else None
        self.doubts = doubts if self.ner is not None else None

    def pipe(self, items: Iterable[tuple[str, T]], batch_size: int = 32) -> Iterator[tuple[Doc, T]]:
        for batch in _batches(items, batch_size):
            plans = [self.prefilter.segments(text) for text, _ in batch]
            skipped = [
                self.nlp.make_doc(text[s.start : s.end])
                for (text, _), plan in zip(batch, plans, strict=True)
                for s in plan
                if not s.relevant
            ]
            if self.ner is not None:
                skipped = list(self.ner.pipe(skipped, batch_size=batch_size))
            read = iter([self._split(doc) for doc in skipped])
            # Each document as pieces in order: text still to parse, or a Doc already read.
            layouts: list[list[str | Doc]] = []
            for (text, _), plan in zip(batch, plans, strict=True):
                layouts.append([])
                for segment in plan:
                    if segment.relevant:
                        layouts[-1].append(text[segment.start : segment.end])
                    else:
                        layouts[-1].extend(next(read))
            to_parse = [piece for layout in layouts for piece in layout if isinstance(piece, str)]
            parsed = iter(list(self.nlp.pipe(to_parse, batch_size=batch_size)))
            for (text, context), layout in zip(batch, layouts, strict=True):
                pieces = [next(parsed) if isinstance(piece, str) else piece for piece in layout]
                if not pieces:
                    yield self.nlp.make_doc(text), context
                elif len(pieces) == 1:
                    yield pieces[0], context
                else:
                    yield Doc.from_docs(pieces, ensure_whitespace=False, exclude=["tensor"]), context

    def _split(self, doc: Doc) -> list[str | Doc]:
        """A skipped piece read by NER, as runs of cheap sentences: the text of those `doubts`
        flags (to be parsed), and the others as unparsed Docs."""
        doubted = set(self.doubts(doc)) if self.doubts is not None and len(doc) else set()
        if not doubted:
            return [_unparsed(doc)]
        starts = {token.idx: token.i for token in doc}
        bounds = sorted({0, len(doc), *(starts[b] for _, b in _sentences(doc.text) if b in starts)})
        runs: list[tuple[int, int, bool]] = []
        for a, b in pairwise(bounds):
            parse = any(a <= i < b for i in doubted)
            if runs and runs[-1][2] == parse:
                runs[-1] = (runs[-1][0], b, parse)
            else:
                runs.append((a, b, parse))
        return [_text(doc, a, b) if parse else _unparsed(doc[a:b].as_doc()) for a, b, parse in runs]


def _text(doc: Doc, start: int, end: int) -> str:
    """Tokens `start` to `end` of `doc` as written, with the last one's trailing space."""
    return doc.text[doc[start].idx : doc[end - 1].idx + len(doc[end - 1].text_with_ws)]
