"""Date expressions resolved against the publication date, with a granularity."""

from datetime import date

import pytest

from borderwatch.extract.dates import parse_published, resolve

PUBLISHED = date(2024, 8, 25)  # a Sunday


@pytest.mark.parametrize(("expression", "start", "end", "granularity"), [
    ("on Sunday", "2024-08-25", "2024-08-25", "day"),  # the same day, not a week back
    ("Tuesday", "2024-08-20", "2024-08-20", "day"),
    ("last Sunday", "2024-08-18", "2024-08-18", "day"),
    ("last year", "2023-01-01", "2023-12-31", "year"),
    ("in February 2022", "2022-02-01", "2022-02-28", "month"),
    ("in 2022", "2022-01-01", "2022-12-31", "year"),
    ("since 1994", "1994-01-01", "2024-08-25", "ongoing"),
    ("the 1990s", "1990-01-01", "1999-12-31", "year"),
    ("this month", "2024-08-01", "2024-08-25", "month"),
    ("last month", "2024-07-01", "2024-07-31", "month"),
    ("today", "2024-08-25", "2024-08-25", "day"),
])
def test_expressions(expression: str, start: str, end: str, granularity: str) -> None:
    resolved = resolve(expression, PUBLISHED)
    assert resolved is not None
    assert (resolved.start, resolved.end, resolved.granularity) == (start, end, granularity)


def test_not_a_date() -> None:
    assert resolve("the border", PUBLISHED) is None
    assert resolve("", PUBLISHED) is None


def test_weekday_needs_a_publication_date_to_mean_anything() -> None:
    resolved = resolve("Tuesday", None)
    assert resolved is None or resolved.granularity == "day"


def test_published_parsing() -> None:
    assert parse_published("2024-08-25T10:00:00Z") == PUBLISHED
    assert parse_published("2024-08-25") == PUBLISHED
    assert parse_published("not a date") is None
    assert parse_published(None) is None
