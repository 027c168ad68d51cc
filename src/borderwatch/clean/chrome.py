"""Publisher chrome judged line by line: the classifier decides, the line's shape names the reason.

The lines the patterns leave are scored by the line classifier (``classifier.py``); a line at or
above the model's threshold is removed (article prose needs the stricter ``prose_threshold``).
The headline stays: the first headline-shaped line before the article body (five to 25 words, no
stamp, credit or label) is never judged, as it states the story and the parser keeps it a
sentence of its own. A removed line's reason comes from its shape and place, checked in order:

- ``url``: a bare address; ``copyright``: a copyright or rights line;
- ``byline``: "By ..." or a date/time stamp (bylines, datelines, "Updated ..." lines);
- ``caption``: a photo credit ("... / AP", "Image: ...") or text repeated elsewhere on the page
  before the article body (captions restate the story);
- ``navigation``: breadcrumbs and menus (separators, the headline repeated, labels before the body);
- ``teaser``: a headline-like line after the body or repeated text after it (related articles);
- ``widget``: any other short label or control ("loading…", "Page 1", "View Large").

Three reasons do not come from the classifier: ``duplicate`` (an earlier copy of a line the page
repeats), ``widget`` for a line without a word ("+ ↺ −", ".") and ``outlet-name`` (the outlet's
name alone on a line, known from the document's outlet or web address).
"""

from __future__ import annotations

import math
import re
from functools import cache
from itertools import pairwise
from urllib.parse import urlsplit

import numpy as np

from borderwatch.clean.classifier import Model, chrome_scores, load_model
from borderwatch.clean.features import FEATURE_NAMES, MIN_ENGLISH_SHARE, function_share
from borderwatch.clean.rules import RULES, Line, first_reason

CHROME_REASONS = frozenset({"url", "copyright", "byline", "caption", "navigation",
                            "teaser", "widget", "duplicate", "outlet-name"})
"""The reasons the line classifier gives."""
_F = {name: i for i, name in enumerate(FEATURE_NAMES)}
_REPEATED = 0.5
_DOUBT = 0.5
_DOUBT_LOG_WORDS = math.log1p(6)
"""A short line between two removed ones goes from this score on: chrome comes in runs."""
_MIN_COPY_WORDS = 5
_CREDIT_WORDS = 3
_WORD = re.compile(r"\w+")
_NOT_LETTER = re.compile(r"[\W\d_]+")
_HOST_WORDS = frozenset({"www", "m", "amp", "en", "english", "news", "com", "co", "org", "net", "tv"})
_MIN_OUTLET_CHARS = 3
_MAX_OUTLET_CHARS = 60
_TEASER_WORDS = 4
_WRAPPED_SHARE = 0.2
_MIN_PROSE_SHARE = 0.25
"""The share of a text's characters on prose lines below which it is no article page."""
_SENTENCE_END = re.compile(r"""[.!?…](?:["'”’)\]]*)$""")
_HEADLINE_WORDS = (5, 25)
_HEADLINE_CHARS = 150
_NOT_HEADLINE = ("bullet", "byline_shape", "time_shape", "url_shape", "credit_shape", "colon_end",
                 "copyright_shape")


@cache
def shipped_model() -> Model:
    """The packaged model, read and validated once."""
    return load_model()


def reason_for(row: np.ndarray) -> str:
    """Why a line the classifier removes is chrome, from its feature row."""
    words = np.expm1(row[_F["log_words"]])
    repeated = row[_F["repeated_share"]] >= _REPEATED
    if row[_F["url_shape"]] and words <= 8:
        return "url"
    if row[_F["copyright_shape"]]:
        return "copyright"
    if row[_F["byline_shape"]] or ((row[_F["time_shape"]] or row[_F["calendar_share"]] >= 0.2)
                                   and not row[_F["sentence_end"]]):
        return "byline"
    if row[_F["credit_shape"]] or (repeated and row[_F["before_body"]]):
        return "caption"
    if row[_F["separators"]] or row[_F["headline_share"]] >= _REPEATED or row[_F["before_body"]]:
        return "navigation"
    if row[_F["after_body"]] and (repeated or (words >= _TEASER_WORDS and not row[_F["sentence_end"]])):
        return "teaser"
    return "widget"


def _is_wrapped(bodies: list[str]) -> bool:
    """Whether enough lines stop mid-sentence and go on in lower case on the next line."""
    runs_on = sum(1 for line, following in pairwise(bodies)
                  if following[0].islower() and not _SENTENCE_END.search(line))
    return runs_on >= _WRAPPED_SHARE * len(bodies)


def _is_headline(row: np.ndarray) -> bool:
    """A line shaped like a headline: five to 25 words, not too long, no stamp, credit, list
    number, label or trailing colon."""
    words = np.expm1(row[_F["log_words"]])
    return bool(_HEADLINE_WORDS[0] <= round(words) <= _HEADLINE_WORDS[1]
                and np.expm1(row[_F["log_chars"]]) <= _HEADLINE_CHARS
                and row[_F["interface_share"]] < _REPEATED
                and not any(row[_F[name]] for name in _NOT_HEADLINE))


def outlet_keys(url: str | None, outlet: str | None) -> frozenset[str]:
    """The squashed names a page's outlet may print alone on a line: its given name and the
    labels of its web address ("www.valley-courier.example" gives "valleycourier")."""
    keys = {_squash(outlet)} if outlet else set()
    host = urlsplit(url).hostname if url and "//" in url else None
    if host:
        keys |= {_squash(label) for label in host.split(".")[:-1] if label not in _HOST_WORDS}
    return frozenset(k for k in keys if len(k) >= _MIN_OUTLET_CHARS)


def _squash(text: str) -> str:
    return _NOT_LETTER.sub("", text.lower())


def mark_outlet(lines: list[Line], reasons: list[str | None], keys: frozenset[str]) -> None:
    """Mark short lines that are only the outlet's name ("The Valley Courier")."""
    if not keys:
        return
    for i, line in enumerate(lines):
        if reasons[i] is None and line.body and len(line.body) <= _MAX_OUTLET_CHARS:
            squashed = _squash(line.body)
            if squashed in keys or squashed.removeprefix("the") in keys:
                reasons[i] = "outlet-name"


def mark_chrome(lines: list[Line], reasons: list[str | None], model: Model | None = None) -> None:
    """Give every kept line the classifier calls chrome its reason (in place).

    First the ``page_line`` patterns (bare URLs, date stamps, photo credits), then the classifier.
    A text that is not English prose is left alone (the features count English function words),
    and so is hard-wrapped text (many lines run on into the next), whose lines are pieces of
    paragraphs, and text with little prose (a list of sightings or headlines), whose terse lines
    look like teasers: an article page's body is most of it.
    The classifier sees all non-empty lines, removed ones included, so a line's neighbours and the
    page's repeated text are those of the page as it came. Then the earlier copies of a repeated
    line go (the last copy stays and is judged on its own), as do lines without a word and
    short doubtful lines between two removed ones.
    """
    model = model or shipped_model()
    index = [i for i, line in enumerate(lines) if line.body]
    if function_share(" ".join(lines[i].body for i in index)) < MIN_ENGLISH_SHARE:
        return
    bodies = [lines[i].body for i in index]
    if _is_wrapped(bodies):
        return
    x, scores = chrome_scores(bodies, model)
    prose = x[:, _F["is_prose"]] == 1
    chars = np.array([len(body) for body in bodies])
    if chars[prose].sum() < _MIN_PROSE_SHARE * chars.sum():
        return
    headline = None
    for k, i in enumerate(index):
        if reasons[i] is not None:
            continue
        if len(lines[i].body) <= RULES.max_paragraph_chars:
            reasons[i] = first_reason(RULES.page_line, lines[i].body)
            if reasons[i] is not None:
                continue
        if headline is None and x[k, _F["before_body"]] and _is_headline(x[k]):
            headline = k
            continue
        threshold = model.prose_threshold if x[k, _F["is_prose"]] else model.threshold
        if scores[k] >= threshold:
            reasons[i] = reason_for(x[k])
        elif not _WORD.search(lines[i].body):
            reasons[i] = "widget"
    _mark_copies([lines[i].body for i in index], [reasons[i] for i in index], index, reasons)
    for k in range(1, len(index) - 1):
        i = index[k]
        if (reasons[i] is None and scores[k] >= _DOUBT and x[k, _F["log_words"]] <= _DOUBT_LOG_WORDS
                and reasons[index[k - 1]] is not None and reasons[index[k + 1]] is not None):
            reasons[i] = reason_for(x[k])


def _mark_copies(bodies: list[str], kept: list[str | None], index: list[int],
                 reasons: list[str | None]) -> None:
    """Mark every earlier copy of a line that recurs later on the page (a teaser or caption
    restating the story), also when the copy only adds a short credit at its end."""
    last: dict[tuple[str, ...], int] = {}
    words = [tuple(w.lower() for w in _WORD.findall(body)) for body in bodies]
    for k, w in enumerate(words):
        last[w] = k
    for k, w in enumerate(words):
        if kept[k] is not None or len(w) < _MIN_COPY_WORDS:
            continue
        heads = [w] + [w[:-cut] for cut in range(1, _CREDIT_WORDS + 1) if len(w) - cut >= _MIN_COPY_WORDS]
        if any(last.get(head, -1) > k for head in heads):
            reasons[index[k]] = "duplicate"
