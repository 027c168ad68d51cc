"""Find place names in a parsed article and resolve them against the gazetteer, honestly.

Mentions come from spaCy's entities (GPE, LOC, FAC, and nationality words that name a country),
widened to take in an administrative word ("Gomel region", "Kursk Oblast") and narrowed to a
compass direction plus country ("eastern Ukraine", "Ukraine's northern border"). Each mention is
resolved with the article's context: countries and regions named elsewhere in it, the admin
hierarchy, feature type and population. A name the gazetteer does not know stays unresolved with
its reason: never a made-up point.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from shapely.geometry import box
from spacy.tokens import Doc, Span, Token

from borderwatch.evaluate import haversine_km
from borderwatch.geo.entries import GazetteerEntry
from borderwatch.geo.gazetteer import Gazetteer
from borderwatch.models import Place, PlaceMention

PLACE_LABELS = {"GPE", "LOC", "FAC"}
ADMIN_WORDS = {
    "region",
    "oblast",
    "province",
    "governorate",
    "district",
    "krai",
    "kray",
    "republic",
    "voblast",
    "prefecture",
    "state",
    "county",
    "raion",
    "rayon",
    "area",
}
"""Words after a name that make it an admin-1 region ("Gomel region")."""
DIRECTIONS = {
    "northern": (0.0, 1.0),
    "southern": (0.0, -1.0),
    "eastern": (1.0, 0.0),
    "western": (-1.0, 0.0),
    "north": (0.0, 1.0),
    "south": (0.0, -1.0),
    "east": (1.0, 0.0),
    "west": (-1.0, 0.0),
    "northeastern": (0.7, 0.7),
    "northwestern": (-0.7, 0.7),
    "southeastern": (0.7, -0.7),
    "southwestern": (-0.7, -0.7),
    "central": (0.0, 0.0),
}
_KIND_PRIOR = {"country": 3.0, "admin1": 2.0, "city": 0.0, "site": 1.0, "admin2": 0.5}
_STRIP = re.compile(r"^(?:the\s+)|(?:['’]s)$", re.IGNORECASE)


@dataclass
class _Mention:
    start: int  # token indices
    end: int
    name: str
    admin_hint: bool = False
    direction: str | None = None


class Geoparser:
    """Turns a parsed document into resolved place mentions."""

    def __init__(self, gazetteer: Gazetteer, demonyms: dict[str, str]) -> None:
        self.gazetteer = gazetteer
        self.demonyms = demonyms
        """Lower-case nationality word → ISO3 ("ukrainian" → "UKR")."""

    # ---- finding ---------------------------------------------------------------------------

    def _mentions(self, doc: Doc) -> list[_Mention]:
        found: list[_Mention] = []
        for ent in doc.ents:
            if ent.label_ in PLACE_LABELS:
                found.append(self._widen(doc, ent))
            elif ent.label_ == "NORP" and ent.text.lower() in self.demonyms:
                found.append(_Mention(ent.start, ent.end, ent.text))
        taken = {i for m in found for i in range(m.start, m.end)}
        # Capitalised words NER missed but the gazetteer knows as a region or sizeable city.
        for token in doc:
            if token.i in taken or not token.is_title or token.is_sent_start or token.pos_ != "PROPN":
                continue
            end = token.i + 1
            while end < len(doc) and doc[end].is_title and doc[end].pos_ == "PROPN" and end not in taken:
                end += 1
            span = doc[token.i : end]
            if any(self._strong(e) for e in self.gazetteer.lookup(span.text)):
                found.append(self._widen(doc, span))
                taken.update(range(span.start, span.end))
        return sorted(self._directional(doc, found), key=lambda m: m.start)

    @staticmethod
    def _strong(entry: GazetteerEntry) -> bool:
        return entry.kind in ("admin1", "country", "site") or entry.population >= 50_000

    @staticmethod
    def _widen(doc: Doc, span: Span) -> _Mention:
        end = span.end
        admin = False
        if end < len(doc) and doc[end].lower_ in ADMIN_WORDS:
            end += 1
            admin = True
        elif span[-1].lower_ in ADMIN_WORDS:
            admin = True
        start = span.start
        if doc[start].lower_ == "the":
            start += 1
        return _Mention(start, end, doc[start:end].text, admin_hint=admin)

    def _directional(self, doc: Doc, mentions: list[_Mention]) -> list[_Mention]:
        """'eastern Ukraine', "Ukraine's northern border": a region of a country."""
        out = []
        for m in mentions:
            before = doc[m.start - 1] if m.start > 0 else None
            after = doc[m.end : m.end + 3]
            if before is not None and before.lower_ in DIRECTIONS:
                out.append(_Mention(before.i, m.end, doc[before.i : m.end].text, direction=before.lower_))
                continue
            if len(after) >= 2 and after[0].lower_ in ("'s", "’s") and after[1].lower_ in DIRECTIONS:
                out.append(_Mention(m.start, m.end, m.name, direction=after[1].lower_))
                continue
            out.append(m)
        return out

    # ---- resolving -------------------------------------------------------------------------

    def parse(self, doc: Doc) -> list[PlaceMention]:
        mentions = self._mentions(doc)
        candidates = {id(m): self._candidates(m) for m in mentions}
        context = self._context(candidates.values())
        result = []
        for m in mentions:
            place, reason = self._resolve(m, candidates[id(m)], context)
            start, end = doc[m.start].idx, doc[m.end - 1].idx + len(doc[m.end - 1].text)
            result.append(PlaceMention(start, end, doc.text[start:end], place, reason))
        return result

    def _candidates(self, m: _Mention) -> list[GazetteerEntry]:
        name = _STRIP.sub("", m.name.strip())
        if m.direction:
            name = re.sub(rf"^{m.direction}\s+", "", name, flags=re.IGNORECASE)
        code = self.demonyms.get(name.lower())
        if code:
            entry = self.gazetteer.get(f"c:{code}")
            return [entry] if entry else []
        entries = self.gazetteer.lookup(name)
        if not entries and m.admin_hint:
            words = name.split()
            entries = self.gazetteer.lookup(" ".join(words[:-1])) if len(words) > 1 else []
        if m.admin_hint:
            admin = [e for e in entries if e.kind == "admin1"]
            entries = admin or entries
        return entries

    @staticmethod
    def _context(all_candidates: object) -> Counter[str]:
        """Countries and regions the article is unambiguously about, weighted by mentions."""
        votes: Counter[str] = Counter()
        for entries in all_candidates:  # type: ignore[attr-defined]
            if len(entries) == 1 or (entries and entries[0].kind in ("country", "admin1")):
                top = entries[0]
                if top.country:
                    votes[top.country] += 1
                if top.admin1:
                    votes[top.admin1] += 1
        return votes

    def _resolve(
        self, m: _Mention, entries: list[GazetteerEntry], context: Counter[str]
    ) -> tuple[Place | None, str | None]:
        if not entries:
            return None, "not in the gazetteer"

        def score(e: GazetteerEntry) -> float:
            value = _KIND_PRIOR.get(e.kind, 0.0) + math.log10(max(e.population, 1)) / 2
            if e.country and context[e.country]:
                value += 2.0 + min(context[e.country], 3) * 0.5
            if e.admin1 and context[e.admin1]:
                value += 1.5
            return value

        best = max(entries, key=score)
        if m.direction and best.kind == "country":
            return self._region_of_country(best, m.direction), None
        return _place(best), None

    def _region_of_country(self, country: GazetteerEntry, direction: str) -> Place:
        """The part of a country a compass word points at, with a radius that covers it."""
        dx, dy = DIRECTIONS[direction]
        shape = self.gazetteer.shape(country.key)
        lat, lon, radius = country.lat, country.lon, country.radius_km * 0.6
        if shape is not None and (dx or dy):
            minx, miny, maxx, maxy = shape.bounds
            w, h = maxx - minx, maxy - miny
            cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
            part = shape.intersection(
                box(
                    cx + dx * w / 6 - w / 3,
                    cy + dy * h / 6 - h / 3,
                    cx + dx * w / 6 + w / 3,
                    cy + dy * h / 6 + h / 3,
                )
            )
            if not part.is_empty:
                point = part.representative_point()
                lon, lat = point.x, point.y
                pminx, pminy, pmaxx, pmaxy = part.bounds
                radius = haversine_km(pminy, pminx, pmaxy, pmaxx) / 2
        name = f"{direction} {country.name}"
        return Place(
            name=name,
            geonameid=None,
            lat=round(lat, 5),
            lon=round(lon, 5),
            country=country.country,
            admin1=None,
            precision=1,
            radius_km=round(radius, 1),
        )


def _place(entry: GazetteerEntry) -> Place:
    return Place(
        name=entry.name,
        geonameid=entry.geonameid,
        lat=entry.lat,
        lon=entry.lon,
        country=entry.country,
        admin1=entry.admin1,
        precision=entry.precision,
        radius_km=entry.radius_km,
    )


_LOCATIVE = {
    "in",
    "near",
    "at",
    "into",
    "on",
    "across",
    "towards",
    "toward",
    "outside",
    "around",
    "inside",
    "from",
    "along",
    "of",
    "over",
    "within",
    "through",
    "to",
    "by",
}


def event_place(trigger: Token, sentence: Span, mentions: list[PlaceMention]) -> PlaceMention | None:
    """The place of an event: resolved mentions in its own sentence, preferring those in the
    trigger's own phrase and after a locative preposition, then the most precise."""
    inside = [
        m
        for m in mentions
        if m.place is not None
        and m.place.lat is not None
        and sentence.start_char <= m.start < sentence.end_char
    ]
    if not inside:
        return None
    subtree = {t.idx for t in trigger.subtree}
    head_chain = {t.idx for t in trigger.ancestors}

    def rank(m: PlaceMention) -> tuple[int, int, int]:
        token = sentence.doc.char_span(m.start, m.end, alignment_mode="expand")
        root = token.root if token is not None else None
        locative = int(
            root is not None
            and any(a.lower_ in _LOCATIVE and a.dep_ == "prep" for a in [root.head, root.head.head])
        )
        mine = int(m.start in subtree or (root is not None and root.head.idx in head_chain))
        return (locative + mine, (m.place.precision or 0), -abs(m.start - trigger.idx))

    best = max(inside, key=rank)
    if rank(best)[0] == 0 and best.place and best.place.precision == 1:
        # A country named only as an actor ("Kyiv accused", "Belarus said") is not a location.
        return None
    return best
