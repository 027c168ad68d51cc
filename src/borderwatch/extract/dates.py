"""Resolve date expressions against the publication date.

dateparser does the parsing. Three conventions it does not follow are handled here: a bare
weekday ("on Sunday") means the latest such day on or before publication (dateparser would skip
back a week when the article appears that very day), "since 1994" opens an ongoing range, and
without a publication date an expression relative to it ("two days later") stays unresolved.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta
from functools import lru_cache

from dateparser.date import DateDataParser

from borderwatch.models import PUBLISHED_YEARS, EventDate

_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_WEEKDAY_RE = re.compile(
    r"\b(?:on\s+|last\s+|this\s+(?:past\s+)?)?(" + "|".join(_WEEKDAYS) + r")\b", re.IGNORECASE
)
_SINCE_RE = re.compile(r"\bsince\s+(.+)$", re.IGNORECASE)
_YEAR_RE = re.compile(r"^(?:in\s+|the\s+year\s+)?(1[89]\d\d|20\d\d)$", re.IGNORECASE)
_DECADE_RE = re.compile(
    r"^(?:in\s+)?(?:the\s+)?(?:(early|mid|late)[\s-]+)?(1[89]\d|20\d)0s$", re.IGNORECASE
)
_YEAR_RANGE_RE = re.compile(r"^(?:from\s+)?(1[89]\d\d|20\d\d)\s*(?:-|–|to)\s*(\d\d|1[89]\d\d|20\d\d)$")
_DAY_RANGE_RE = re.compile(
    r"^(?:(?:the\s+)?(?:night|morning|evening|afternoon)\s+of\s+)?(?:between\s+)?(\d{1,2})(?:st|nd|rd|th)?"
    r"\s*(?:-|–|to|and)\s*(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+\.?)(?:,?\s+(\d{4}))?$",
    re.IGNORECASE,
)
"""'3-4 May 2020', 'the night of 12 to 13 March': two days of one month."""
_PART_OF_DAY_RE = re.compile(r"^(?:the\s+)?(?:night|morning|evening|afternoon)\s+of\s+", re.IGNORECASE)
_THIS_RE = re.compile(r"^(?:earlier\s+|later\s+)?this\s+(week|month|year)$", re.IGNORECASE)
_NOISE_RE = re.compile(
    r"^(?:on|in|at|during|by|from|of|early|late|mid|the|around|about|circa|approximately)\s+",
    re.IGNORECASE,
)
_VAGUE = {
    "today",
    "now",
    "currently",
    "recently",
    "tonight",
    "this morning",
    "this evening",
    "this afternoon",
    "overnight",
    "earlier",
    "later",
    "lately",
}


@lru_cache(maxsize=256)
def _parser(base: datetime) -> DateDataParser:
    """dateparser takes its reference date at construction; one parser per publication date."""
    return DateDataParser(
        languages=["en"],
        settings={
            "PREFER_DATES_FROM": "past",
            "RETURN_TIME_AS_PERIOD": True,
            "RELATIVE_BASE": base,
        },
    )


_PROBE_BASES = (date(2001, 3, 14), date(2013, 9, 3))
"""Two unrelated reference days: an absolute date reads the same against both."""


def _reading(text: str, base: date) -> tuple[tuple[date, date], str] | None:
    data = _parser(datetime.combine(base, datetime.min.time())).get_date_data(text)
    if data is None or data.date_obj is None:
        return None
    period = data.period or "day"
    return _period_bounds(data.date_obj.date(), period), period


_NUMERIC_RE = re.compile(
    r"(?<![\w.])(?:(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})([./])(\d{1,2})\5(\d{4}))(?![\d.]*\d)"
)
"""2022-01-15, 15.01.2022, 15/01/2022: the numeric dates of logs and sighting lines, which NER
rarely marks."""


def numeric_dates(text: str) -> list[tuple[int, EventDate]]:
    """(offset, day) of each unambiguous numeric date: ISO, dotted (day first, as in Europe), or
    slashed when one side cannot be a month."""
    found = []
    for match in _NUMERIC_RE.finditer(text):
        if match.group(1):
            year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
        else:
            first, second, year = int(match.group(4)), int(match.group(6)), int(match.group(7))
            if match.group(5) == "/" and first <= 12 and second <= 12 and first != second:
                continue  # 03/04/2021: April or March, depending on the writer
            day, month = (second, first) if match.group(5) == "/" and second > 12 else (first, second)
        try:
            when = date(year, month, day).isoformat()
        except ValueError:
            continue
        found.append((match.start(), EventDate(when, when, "day")))
    return found


_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name} | {
    name.lower(): number for number, name in enumerate(calendar.month_abbr) if name} | {"sept": 9}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WRITTEN_RE = re.compile(
    rf"(?<![\w.])(?:(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+({_MONTH})\.?,?\s+(\d{{4}})"
    rf"|({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}}))(?!\d)",
    re.IGNORECASE,
)
"""9 Nov 2019, 5th of March 2018, March 5, 2018, Sept. 9, 2017: a day written out, which NER
misses after a weekday ("Sat 9 Nov 2019") or reads as its month alone."""


def written_dates(text: str) -> list[tuple[int, int, EventDate]]:
    """(start, end, day) of each day written with its month's name and its year."""
    found = []
    for match in _WRITTEN_RE.finditer(text):
        if match.group(1):
            day, month, year = match.group(1), match.group(2), match.group(3)
        else:
            month, day, year = match.group(4), match.group(5), match.group(6)
        try:
            when = date(int(year), _MONTHS[month.lower()], int(day)).isoformat()
        except ValueError:
            continue
        found.append((match.start(), match.end(), EventDate(when, when, "day")))
    return found


def parse_published(value: str | None) -> date | None:
    """The publication date of an ISO 8601 date or datetime, or None.

    Ingest has already read the other formats (`borderwatch.ingest.check_published`); a date
    outside `PUBLISHED_YEARS` is unknown here too, since relative dates count days back from it.
    """
    if not value:
        return None
    try:
        day = datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None
    return day if day.year in PUBLISHED_YEARS else None


def _period_bounds(day: date, period: str) -> tuple[date, date]:
    if period == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    if period == "month":
        last = calendar.monthrange(day.year, day.month)[1]
        return date(day.year, day.month, 1), date(day.year, day.month, last)
    if period == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    return day, day


EVENT_YEARS = range(1000, 3000)
"""Years a resolved event date may fall in: "December 31, 9999" is no date news reports, and
one at the edge of the calendar overflows every date window taken around it (clustering)."""


@lru_cache(maxsize=4096)
def resolve(expression: str, published: date | None) -> EventDate | None:
    """Turn one date expression into a dated range with its granularity; None if not a date.

    Remembered: the answer depends on the two arguments alone, and a page repeats the same few
    expressions ("on Sunday") hundreds of times, each a costly dateparser call.
    """
    found = _resolve(expression, published)
    bounds = [found.start, found.end] if found is not None else []
    return found if all(int(day[:4]) in EVENT_YEARS for day in bounds if day) else None


def _resolve(expression: str, published: date | None) -> EventDate | None:
    text = " ".join(expression.split()).strip(" ,.;")
    lowered = text.lower()
    if not text:
        return None
    this = _THIS_RE.match(text)
    if this and published is not None:
        start, end = _period_bounds(published, this.group(1).lower())
        return EventDate(start.isoformat(), min(end, published).isoformat(), this.group(1).lower())
    if lowered in _VAGUE:
        if published is None:
            return None
        return EventDate(published.isoformat(), published.isoformat(), "day")
    days = _DAY_RANGE_RE.match(text)
    if days:
        first = resolve(f"{days.group(1)} {days.group(3)} {days.group(4) or ''}", published)
        last = resolve(f"{days.group(2)} {days.group(3)} {days.group(4) or ''}", published)
        if first and last and first.start and last.end and first.start <= last.end:
            return EventDate(first.start, last.end, "day")
    if _PART_OF_DAY_RE.match(text):
        return resolve(_PART_OF_DAY_RE.sub("", text), published)
    years = _YEAR_RANGE_RE.match(text)
    if years:
        first, last = years.group(1), years.group(2)
        last = first[: 4 - len(last)] + last  # "1950-53" → 1953
        if first < last:
            return EventDate(f"{first}-01-01", f"{last}-12-31", "year")
    decade = _DECADE_RE.match(text)
    if decade:
        first = int(decade.group(2)) * 10
        part = {"early": (0, 3), "mid": (3, 6), "late": (6, 9)}.get((decade.group(1) or "").lower(), (0, 9))
        return EventDate(f"{first + part[0]}-01-01", f"{first + part[1]}-12-31", "year")
    since = _SINCE_RE.search(text)
    if since:
        inner = resolve(since.group(1), published)
        if inner is None:
            return None
        return EventDate(inner.start, published.isoformat() if published else None, "ongoing")
    weekday = _WEEKDAY_RE.fullmatch(text)
    if weekday and published is not None:
        back = (published.weekday() - _WEEKDAYS[weekday.group(1).lower()]) % 7
        if lowered.startswith("last ") and back == 0:
            back = 7
        day = published - timedelta(days=back)
        return EventDate(day.isoformat(), day.isoformat(), "day")
    year = _YEAR_RE.match(text)
    if year:
        start, end = _period_bounds(date(int(year.group(1)), 1, 1), "year")
        return EventDate(start.isoformat(), end.isoformat(), "year")
    cleaned = _NOISE_RE.sub("", text)
    if published is None:
        # No publication date (an analyst's note): an expression whose reading depends on the
        # reference day ("two days later", "in March") stays unresolved; never today's date.
        readings = {_reading(cleaned, base) for base in _PROBE_BASES}
        if len(readings) != 1 or None in readings:
            return None
    base = datetime.combine(published or _PROBE_BASES[0], datetime.min.time())
    data = _parser(base).get_date_data(cleaned)
    if data is None or data.date_obj is None:
        return None
    period = data.period or "day"
    if period in ("time", "part_of_day"):
        period = "day"
    start, end = _period_bounds(data.date_obj.date(), period)
    return EventDate(start.isoformat(), end.isoformat(), period)  # type: ignore[arg-type]
