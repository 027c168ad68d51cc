"""The pattern filter of the clean stage: appeals, widgets and notices every site words alike.

Its patterns are data (``data/boilerplate.toml``). It only ever removes whole lines and reports
each removal as a span with a reason, so every kept character is byte-identical to the input and
later offsets can be traced back to it. The line classifier (``classifier.py``) then judges the
lines it leaves.
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from borderwatch.clean.data import read_packaged
from borderwatch.errors import ConfigError
from borderwatch.models import CONTROL_CHARACTERS, RemovedSpan

_RULE_KINDS = ("block_starter", "ui_fragment", "paragraph", "list_heading", "page_line")
_LIMIT_TYPES: dict[str, type] = {
    "tail_start": float,
    "min_appeal_share": float,
    "max_fragment_chars": int,
    "max_paragraph_chars": int,
    "max_headline_chars": int,
    "max_list_items": int,
}
RULE_REASONS = frozenset({
    "donation-appeal", "membership", "newsletter", "app-promotion", "cookie-notice",
    "read-more-list", "ui-fragment", "social-share", "caption",
    "url", "byline", "navigation", "copyright", "disclaimer",
})
"""The reasons the patterns give (``boilerplate.toml`` may use only these)."""
_SENTENCE_END = re.compile(r"""[.;:](?:["'”’)\]]*)$""")
_SEPARATOR = re.compile(r"[\W_]+")
"""A line of punctuation only ("---", "* * *"): a visual break that belongs to what follows it."""
_TERM_LISTS = ("appeal_vocabulary", "prose_markers")


@dataclass(frozen=True)
class Rule:
    """One boilerplate pattern and the reason reported when it removes a line."""

    reason: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Rules:
    """Everything the filter needs, validated once so a bad data file fails at start-up."""

    block_starter: tuple[Rule, ...]
    ui_fragment: tuple[Rule, ...]
    paragraph: tuple[Rule, ...]
    list_heading: tuple[Rule, ...]
    page_line: tuple[Rule, ...]
    """Applied by the line classifier's stage, on English prose pages only."""
    appeal_vocabulary: re.Pattern[str]
    prose_markers: re.Pattern[str]
    tail_start: float
    min_appeal_share: float
    max_fragment_chars: int
    max_paragraph_chars: int
    max_headline_chars: int
    max_list_items: int


def _compile(pattern: Any, where: str, source: str) -> re.Pattern[str]:
    if not isinstance(pattern, str) or not pattern:
        raise ConfigError(f"{where}: pattern must be a non-empty string", source=source)
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(f"{where}: bad regular expression {pattern!r}: {exc}",
                          source=source) from exc


def _rule(entry: Any, where: str, source: str) -> Rule:
    if not isinstance(entry, dict) or set(entry) != {"reason", "pattern"}:
        raise ConfigError(f"{where}: needs exactly the keys 'reason' and 'pattern'", source=source)
    reason = entry["reason"]
    if reason not in RULE_REASONS:
        raise ConfigError(f"{where}: unknown reason {reason!r}; use one of "
                          f"{', '.join(sorted(RULE_REASONS))}", source=source)
    return Rule(reason, _compile(entry["pattern"], where, source))


def parse_rules(text: str, source: str) -> Rules:
    """Validate a boilerplate TOML document; every defect is a ConfigError naming its place."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", source=source) from exc
    unknown = set(raw) - {*_RULE_KINDS, "limits", *_TERM_LISTS}
    if unknown:
        raise ConfigError(f"unknown sections: {', '.join(sorted(unknown))}", source=source)
    rules: dict[str, Any] = {}
    for kind in _RULE_KINDS:
        entries = raw.get(kind)
        if not isinstance(entries, list) or not entries:
            raise ConfigError(f"[[{kind}]] needs at least one entry", source=source)
        rules[kind] = tuple(_rule(e, f"{kind} #{i + 1}", source) for i, e in enumerate(entries))
    limits = raw.get("limits")
    if not isinstance(limits, dict) or set(limits) != set(_LIMIT_TYPES):
        raise ConfigError(f"[limits] needs exactly: {', '.join(_LIMIT_TYPES)}", source=source)
    for name, kind_of in _LIMIT_TYPES.items():
        value = limits[name]
        if type(value) is not kind_of or value <= 0 or (kind_of is float and value >= 1):
            expected = "a number in (0, 1)" if kind_of is float else "a positive integer"
            raise ConfigError(f"limits.{name} must be {expected}, got {value!r}", source=source)
        rules[name] = value
    for name in _TERM_LISTS:
        rules[name] = _terms(raw.get(name), name, source)
    return Rules(**rules)


def _terms(section: Any, name: str, source: str) -> re.Pattern[str]:
    """One search pattern for a list of terms, each matched from the start of a word."""
    terms = section.get("terms") if isinstance(section, dict) else None
    if not isinstance(terms, list) or not terms or set(section) != {"terms"}:
        raise ConfigError(f"[{name}] needs a non-empty list 'terms'", source=source)
    for i, term in enumerate(terms):
        _compile(term, f"{name} term #{i + 1}", source)
    # (?<!\w) rather than \b, so that terms starting with a symbol ("€5") match too.
    return re.compile(r"(?<!\w)(?:" + "|".join(f"(?:{t})" for t in terms) + ")", re.IGNORECASE)


def _load_default_rules() -> Rules:
    return parse_rules(*read_packaged("boilerplate.toml", "boilerplate patterns"))


RULES = _load_default_rules()
"""The packaged patterns, loaded at import so a malformed file fails before any document."""


@dataclass(frozen=True)
class Line:
    start: int
    end: int
    """Offset just past the line terminator."""
    body: str
    """The line without surrounding whitespace: what patterns see."""


def split_lines(text: str) -> list[Line]:
    lines, pos = [], 0
    for chunk in text.splitlines(keepends=True):
        lines.append(Line(pos, pos + len(chunk), chunk.strip()))
        pos += len(chunk)
    return lines


def first_reason(rules: tuple[Rule, ...], body: str) -> str | None:
    return next((r.reason for r in rules if r.pattern.fullmatch(body)), None)


def _line_reason(body: str, rules: Rules) -> str | None:
    """Why a line is boilerplate on its own, wherever it stands (UI fragment or paragraph)."""
    if not body:
        return None
    if len(body) <= rules.max_fragment_chars:
        reason = first_reason(rules.ui_fragment, body)
        if reason:
            return reason
    if len(body) <= rules.max_paragraph_chars:
        return first_reason(rules.paragraph, body)
    return None


def _is_prose(body: str, rules: Rules) -> bool:
    """A sentence of reported speech ("..., the ministry said"): the story, not the publisher."""
    return len(body) > rules.max_fragment_chars and bool(rules.prose_markers.search(body))


def _is_ui_like(body: str, rules: Rules) -> bool:
    """A short line that does not end a sentence: a button, an amount, a label."""
    return len(body) <= rules.max_fragment_chars and not _SENTENCE_END.search(body)


def _starter_reason(body: str, rules: Rules) -> str | None:
    """Why a line could open an appeal block; long lines and reported speech are prose."""
    if not body or len(body) > rules.max_paragraph_chars or _is_prose(body, rules):
        return None
    return first_reason(rules.block_starter, body)


def _is_appeal_like(body: str, reason: str | None, rules: Rules) -> bool:
    """Whether a line reads like part of an appeal block; ``reason`` is its own removal reason."""
    if reason or _is_ui_like(body, rules):
        return True
    if _is_prose(body, rules):
        return False
    return bool(_starter_reason(body, rules) or rules.appeal_vocabulary.search(body))


def _appeal_block(lines: list[Line], reasons: list[str | None], text_length: int,
                  rules: Rules) -> tuple[int, str] | None:
    """The first line opening an appeal that runs to the end, and its reason.

    A starter counts only after the article has had room to begin, and only when most of the
    characters from it to the end sit on appeal-like lines (appeal wording, buttons and labels,
    lines removed on their own), so a quoted "message from" in the story cannot cut the story
    short. One backward pass keeps this linear in the line count.
    """
    block = None
    total = appeal = 0
    for i in range(len(lines) - 1, -1, -1):
        body = lines[i].body
        total += len(body)
        appeal += len(body) if _is_appeal_like(body, reasons[i], rules) else 0
        if lines[i].start < rules.tail_start * text_length:
            break
        reason = _starter_reason(body, rules)
        if reason and appeal >= rules.min_appeal_share * total:
            block = i, reason
    return block


def _with_separator(lines: list[Line], first: int) -> int:
    """Move a block's first line up over a separator line ("---") that introduces it."""
    i = first - 1
    while i >= 0 and not lines[i].body:
        i -= 1
    return i if i >= 0 and _SEPARATOR.fullmatch(lines[i].body) else first


def _mark_trailing_fragments(lines: list[Line], reasons: list[str | None], rules: Rules) -> None:
    """Mark the unrecognised lines of a run of buttons and labels that ends the text.

    The run is the last short, non-sentence lines (and lines removed on their own); when most
    of its lines are recognised boilerplate, the rest are the same page furniture.
    """
    run = []
    for i in range(len(lines) - 1, -1, -1):
        body = lines[i].body
        if not body:
            continue
        if not (reasons[i] or _is_ui_like(body, rules)):
            break
        run.append(i)
    known = sum(1 for i in run if reasons[i])
    if known >= 2 and 2 * known > len(run):
        for i in run:
            reasons[i] = reasons[i] or "ui-fragment"


def _is_headline(body: str, rules: Rules) -> bool:
    return len(body) <= rules.max_headline_chars and not _SENTENCE_END.search(body)


def _mark_lists(lines: list[Line], reasons: list[str | None], rules: Rules) -> None:
    """Mark "Related articles"-style headings and the short headlines listed under them."""
    i = 0
    while i < len(lines):
        body = lines[i].body
        heading = (first_reason(rules.list_heading, body)
                   if body and len(body) <= rules.max_fragment_chars else None)
        i += 1
        if not heading:
            continue
        reasons[i - 1] = heading
        items = 0
        while i < len(lines) and items < rules.max_list_items:
            body = lines[i].body
            if body and not _is_headline(body, rules):
                break
            if body:
                reasons[i] = heading
                items += 1
            i += 1


def merge_spans(lines: list[Line], reasons: list[str | None]) -> list[RemovedSpan]:
    """Merge removed lines into spans; blank lines after a removed line go with it."""
    spans: list[RemovedSpan] = []
    current: RemovedSpan | None = None
    for line, reason in zip(lines, reasons, strict=True):
        if current is not None and not line.body:
            current = RemovedSpan(current.start, line.end, current.reason)
        elif reason is not None and current is not None and reason == current.reason:
            current = RemovedSpan(current.start, line.end, reason)
        else:
            if current is not None:
                spans.append(current)
            current = RemovedSpan(line.start, line.end, reason) if reason is not None else None
    if current is not None:
        spans.append(current)
    return spans


def cut(text: str, spans: list[RemovedSpan]) -> str:
    """``text`` without the (sorted, disjoint) spans and without trailing whitespace."""
    kept, pos = [], 0
    for span in spans:
        kept.append(text[pos:span.start])
        pos = span.end
    kept.append(text[pos:])
    return "".join(kept).rstrip()


def mark_rules(lines: list[Line], text_length: int) -> list[str | None]:
    """Each line's removal reason under the patterns (None: kept); ``text_length`` excludes
    trailing whitespace, so an appeal block is placed against the text's real end."""
    reasons = [_line_reason(line.body, RULES) for line in lines]
    _mark_lists(lines, reasons, RULES)
    block = _appeal_block(lines, reasons, text_length, RULES)
    if block is not None:
        first, reason = block
        first = _with_separator(lines, first)
        reasons[first:] = [reason] * (len(lines) - first)
    else:
        _mark_trailing_fragments(lines, reasons, RULES)
    return reasons


def strip_boilerplate(text: str) -> tuple[str, list[RemovedSpan]]:
    """Remove appeals, UI fragments and stray boilerplate paragraphs from plain text.

    Returns the clean text and the removed spans (sorted, disjoint offsets into ``text``, each
    covering whole lines, or a run of control characters); the clean text is ``text`` with those
    spans cut out and trailing whitespace trimmed, so every kept line is otherwise unchanged.
    """
    lines = split_lines(text)
    reasons = mark_rules(lines, len(text.rstrip()))
    spans = with_controls(text, merge_spans(lines, reasons))
    return cut(text, spans), spans


def with_controls(text: str, spans: list[RemovedSpan]) -> list[RemovedSpan]:
    """`spans` plus every run of control characters on a kept line, sorted. A run never crosses a
    line and spans cover whole lines, so each run is wholly inside a span or wholly outside."""
    starts = [span.start for span in spans]
    controls = []
    for match in CONTROL_CHARACTERS.finditer(text):
        before = bisect_right(starts, match.start()) - 1
        if before < 0 or match.start() >= spans[before].end:
            controls.append(RemovedSpan(match.start(), match.end(), "control characters"))
    return sorted([*spans, *controls], key=lambda span: span.start) if controls else spans
