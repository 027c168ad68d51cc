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
from borderwatch.models import Event, EventDate, Place, PlaceMention


def stated_dates(doc: Doc) -> list[tuple[int, EventDate]]:
    """(character offset, date) of every date the text states outright, in order; a day written
    out wins over NER's reading of part of it ("10 February 2022" read as "February 2022")."""
    written = dates.written_dates(doc.text)
    found = [(start, when) for start, _, when in written]
    for ent in doc.ents:
        inside = any(start < ent.end_char and ent.start_char < end for start, end, _ in written)
        if ent.label_ != "DATE" or inside:
            continue
        resolved = dates.resolve(ent.text, None)
        if resolved is not None and resolved.start and resolved.granularity in ("day", "week", "month"):
            found.append((ent.start_char, resolved))
    found += dates.numeric_dates(doc.text)
    return sorted(found, key=lambda item: item[0])


def date_undated_events(doc: Doc, events: list[Event], published: str | None) -> None:
    """Give each event without a date the note's own date, when the document has no publication
    date; events with a date of their own keep it, made finer when the note states a day inside
    it (an event dated "February 2022" in a note on "10 February 2022")."""
    if published or not any(e.date.start is None or e.date.granularity in _COARSE for e in events):
        return
    stated = stated_dates(doc)
    if not stated:
        return
    for event in events:
        anchor = event.anchors[0] if event.anchors else 0
        before = [d for offset, d in stated if offset <= anchor]
        if event.date.start is None:
            chosen = before[-1] if before else stated[0][1]
        elif event.date.granularity in _COARSE and event.date.end:
            inside = [d for d in (before[::-1] or [d for _, d in stated])
                      if d.granularity == "day" and event.date.start <= d.start <= event.date.end]
            if not inside:
                continue
            chosen = inside[0]
        else:
            continue
        event.date = EventDate(chosen.start, chosen.end, chosen.granularity)


_COARSE = ("month", "year")


def place_of_note(doc: Doc, event: Event, places: list[PlaceMention]) -> Place | None:
    """Where a note last said things happened, for an event whose own sentences name no place
    ("... in Bamenda (Mezam department, North-West region). Three separatists were killed."): the
    finest resolved place of the nearest earlier sentence that names one, else of the first
    sentence after it that does."""
    anchor = event.anchors[0] if event.anchors else 0
    by_sentence: dict[int, list[PlaceMention]] = {}
    for mention in places:
        if mention.place is None or mention.place.lat is None:
            continue
        token = doc.char_span(mention.start, mention.end, alignment_mode="expand")
        if token is not None:
            by_sentence.setdefault(token.sent.start_char, []).append(mention)
    if not by_sentence:
        return None
    before = [start for start in by_sentence if start <= anchor]
    chosen = by_sentence[max(before)] if before else by_sentence[min(by_sentence)]
    return max(chosen, key=lambda m: (m.place.precision or 0, -m.start)).place
