"""What a line looks like and where it sits: the line classifier's features.

Every feature is a shape (length, sentence form, function-word and punctuation density,
capitalisation, digits, dates, URL-ness), a closed word class from ``data/line_features.toml``,
or the line's place among its neighbours (before, inside or after the article body, repeated
elsewhere on the page, repeating the headline). No content word of any page is a feature, so
the model cannot memorise the pages it was trained on. All of it is linear in the text size.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter
from dataclasses import dataclass

import numpy as np

from borderwatch.clean.data import read_packaged
from borderwatch.errors import ConfigError

_WORD = re.compile(r"\w+")
_PATTERN_CHARS = 1_000
"""How much of a line the shape patterns read (see `line_shape`)."""
_SENTENCE_END = re.compile(r"""[.!?…](?:["'”’)\]]*)$""")
_URL = re.compile(r"(https?://|www\.)\S+|\b[\w-]+(\.[\w-]+)+/\S*|\S+@\S+\.\w+", re.IGNORECASE)
_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}\b|\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b"
                   r"|\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b")
_SEPARATORS = re.compile(r"(?:^|\s)[|/›»·•>–—-](?:\s|$)|[|›»·•]")
_BULLET = re.compile(r"^(?:[-*•·▪►]|\d{1,2}[.)])\s")
_CREDIT = re.compile(r"(?:(?:^|\s)[/|]\s*[A-Z][\w.&'’ -]{0,40}|\([A-Z][\w.&'’ /-]{0,40}\)"
                     r"|\b(?:photo|image|picture|credit|file|video)s?\s*:\s*[\w .&/’'-]{0,60})$",
                     re.IGNORECASE)
_BY = re.compile(r"^by\s*[A-Z]", re.IGNORECASE)
_COPYRIGHT = re.compile(r"©|\(c\)|\bcopyright\b|all rights reserved", re.IGNORECASE)

PROSE_MIN_CHARS = 100
"""A line this long, ending a sentence and dense with function words, is article prose."""
_PROSE_MIN_FUNCTION_SHARE = 0.2
_SHORT_CHARS = 60
MIN_ENGLISH_SHARE = 0.15
"""Below this share of English function words a text is not English prose, and the classifier,
whose features assume English, leaves it alone."""
_SHINGLE = 3

FEATURE_NAMES = (
    "log_chars", "log_words", "sentence_end", "function_share", "punct_share", "capital_share",
    "digit_share", "calendar_share", "time_shape", "url_shape", "separators", "colon_end",
    "interface_share", "byline_shape", "credit_shape", "copyright_shape", "bullet",
    "lower_start", "all_caps", "quote", "comma_share", "relative_position", "before_body",
    "after_body", "log_body_distance", "is_prose", "repeated_share", "headline_share",
    "is_first", "prev_log_chars", "next_log_chars", "prev_sentence_end", "next_sentence_end",
    "prev_prose", "next_prose", "log_short_run",
)
"""Column order of the feature matrix; the shipped model names the same columns."""


@dataclass(frozen=True)
class Lexicon:
    """The closed word classes the features count."""

    function_words: frozenset[str]
    calendar_words: frozenset[str]
    interface_words: frozenset[str]


def parse_lexicon(text: str, source: str) -> Lexicon:
    """Validate the word lists; a defect is a ConfigError naming the list."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", source=source) from exc
    names = ("function_words", "calendar_words", "interface_words")
    if set(raw) != set(names):
        raise ConfigError(f"needs exactly the sections {', '.join(names)}", source=source)
    lists = {}
    for name in names:
        words = raw[name].get("words") if isinstance(raw[name], dict) else None
        if (not isinstance(words, list) or not words
                or not all(isinstance(w, str) and _WORD.fullmatch(w) and w == w.lower() for w in words)):
            raise ConfigError(f"[{name}] words must be a non-empty list of lower-case words",
                              source=source)
        lists[name] = frozenset(words)
    return Lexicon(**lists)


def _load_lexicon() -> Lexicon:
    return parse_lexicon(*read_packaged("line_features.toml", "the line-feature word lists"))


LEXICON = _load_lexicon()


@dataclass(frozen=True)
class LineShape:
    """The features of one line that need no neighbours."""

    values: tuple[float, ...]
    prose: bool
    chars: int
    sentence_end: bool


def _share(count: int, total: int) -> float:
    return count / total if total else 0.0


def function_share(text: str, lexicon: Lexicon = LEXICON) -> float:
    """The share of a text's words that are English function words."""
    words = _WORD.findall(text)
    return _share(sum(w.lower() in lexicon.function_words for w in words), len(words))


def line_shape(body: str, lexicon: Lexicon = LEXICON) -> LineShape:
    """Shape features of one stripped, non-empty line."""
    words = _WORD.findall(body)
    lower = [w.lower() for w in words]
    n, chars = len(words), len(body)
    letters = sum(c.isalpha() for c in body)
    function = _share(sum(w in lexicon.function_words for w in lower), n)
    ends = bool(_SENTENCE_END.search(body[-_PATTERN_CHARS:]))
    # The patterns read at most the start of a line: some backtrack over a long run of word
    # characters ("a link-like token"), and chrome lines are short anyway.
    probe = body[:_PATTERN_CHARS]
    values = (
        math.log1p(chars),
        math.log1p(n),
        float(ends),
        function,
        _share(sum(not c.isalnum() and not c.isspace() for c in body), chars),
        _share(sum(w[0].isupper() for w in words), n),
        _share(sum(c.isdigit() for c in body), chars),
        _share(sum(w in lexicon.calendar_words for w in lower), n),
        float(bool(_TIME.search(probe))),
        float(bool(_URL.search(probe))),
        min(len(_SEPARATORS.findall(probe)), 5) / 5,
        float(body.endswith(":")),
        _share(sum(w in lexicon.interface_words for w in lower), n),
        float(bool(_BY.match(body)) and chars < _SHORT_CHARS * 2),
        float(bool(_CREDIT.search(probe))),
        float(bool(_COPYRIGHT.search(probe))),
        float(bool(_BULLET.match(body))),
        float(body[0].islower()),
        float(letters > 3 and body.upper() == body),
        float(any(q in body for q in "\"“”«»")),
        _share(body.count(","), n),
    )
    prose = chars >= PROSE_MIN_CHARS and ends and function >= _PROSE_MIN_FUNCTION_SHARE
    return LineShape(values, prose, chars, ends)


def _shingles(body: str) -> set[tuple[str, ...]]:
    words = [w.lower() for w in _WORD.findall(body)]
    if len(words) < _SHINGLE:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + _SHINGLE]) for i in range(len(words) - _SHINGLE + 1)}


def line_features(bodies: list[str], lexicon: Lexicon = LEXICON) -> np.ndarray:
    """The feature matrix of a page's non-empty lines, in order (one row per line)."""
    n = len(bodies)
    matrix = np.zeros((n, len(FEATURE_NAMES)))
    if not n:
        return matrix
    shapes = [line_shape(b, lexicon) for b in bodies]
    shingles = [_shingles(b) for b in bodies]
    counts: Counter[tuple[str, ...]] = Counter(s for line in shingles for s in line)
    headline = shingles[0]
    prose = [i for i, s in enumerate(shapes) if s.prose]
    first, last = (prose[0], prose[-1]) if prose else (n, -1)
    distance = _distance_to(prose, n)
    short_run = _short_runs(shapes)
    for i, shape in enumerate(shapes):
        prev, nxt = (shapes[i - 1] if i else None), (shapes[i + 1] if i + 1 < n else None)
        own = shingles[i]
        context = (
            i / max(n - 1, 1),
            float(i < first),
            float(i > last),
            math.log1p(distance[i]),
            float(shape.prose),
            _share(sum(counts[s] > 1 for s in own), len(own)),
            _share(len(headline & own), len(headline)) if i else 0.0,
            float(i == 0),
            math.log1p(prev.chars) if prev else 0.0,
            math.log1p(nxt.chars) if nxt else 0.0,
            float(prev.sentence_end) if prev else 0.0,
            float(nxt.sentence_end) if nxt else 0.0,
            float(prev.prose) if prev else 0.0,
            float(nxt.prose) if nxt else 0.0,
            math.log1p(short_run[i]),
        )
        matrix[i] = (*shape.values, *context)
    return matrix


def _distance_to(marked: list[int], n: int) -> list[int]:
    """Distance in lines from each line to the nearest marked one (n when none is marked)."""
    distance = [n] * n
    for i in marked:
        distance[i] = 0
    for i in range(1, n):
        distance[i] = min(distance[i], distance[i - 1] + 1)
    for i in range(n - 2, -1, -1):
        distance[i] = min(distance[i], distance[i + 1] + 1)
    return distance


def _short_runs(shapes: list[LineShape]) -> list[int]:
    """For each line, the length of the run of consecutive short lines it belongs to (0 if long)."""
    runs, i = [0] * len(shapes), 0
    while i < len(shapes):
        if shapes[i].chars >= _SHORT_CHARS:
            i += 1
            continue
        j = i
        while j < len(shapes) and shapes[j].chars < _SHORT_CHARS:
            j += 1
        runs[i:j] = [j - i] * (j - i)
        i = j
    return runs
