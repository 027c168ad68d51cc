"""Analyst notes: documents without a publication date, dated by what they state.

Conflict-event datasets describe each event in a note that opens with its date ("On 12 March
2021, near Hpakant (...), the military shelled ..."); later sentences ("The shelling killed
two.") state none. With no publication date to fall back on, an undated event takes the date the
note last stated before it (or, failing that, the first it states anywhere): the note's own date,
never today's.
"""

from __future__ import annotations

from spacy.tokens import Doc

from borderwatch.extract import dates
from borderwatch.models import Event, EventDate


def stated_dates(doc: Doc) -> list[tuple[int, EventDate]]:
    """(character offset, date) of every date the text states outright, in order."""
    found = []
    for ent in doc.ents:
        if ent.label_ != "DATE":
            continue
        resolved = dates.resolve(ent.text, None)
        if resolved is not None and resolved.start and resolved.granularity in ("day", "week", "month"):
            found.append((ent.start_char, resolved))
    found += dates.numeric_dates(doc.text)
    return sorted(found, key=lambda item: item[0])


def date_undated_events(doc: Doc, events: list[Event], published: str | None) -> None:
    """Give each event without a date the note's own date, when the document has no publication
    date; events with a date of their own keep it."""
    if published or not any(e.date.start is None for e in events):
        return
    stated = stated_dates(doc)
    if not stated:
        return
    for event in events:
        if event.date.start is not None:
            continue
        anchor = event.anchors[0] if event.anchors else 0
        before = [d for offset, d in stated if offset <= anchor]
        chosen = before[-1] if before else stated[0][1]
        event.date = EventDate(chosen.start, chosen.end, chosen.granularity)
