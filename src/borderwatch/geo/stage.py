"""Place mentions resolved, each event located, its distances to borders and critical sites.

    stage = GeoStage(config.geo)        # opens the installed gazetteer and the site layers
    stage.locate(spacy_doc, analysis)    # fills analysis.places, event.place, event.proximity
    places = stage.geoparser.parse(doc)  # or in two steps, so the extractor can place mentions
    stage.measure(spacy_doc, analysis)   # before it merges them (see Pipeline.analyse)
"""

from __future__ import annotations

from bisect import bisect_left
from functools import lru_cache
from pathlib import Path

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from spacy.tokens import Doc

from borderwatch.config import GeoConfig
from borderwatch.evaluate import haversine_km
from borderwatch.extract.lexicon import load_lexicon
from borderwatch.extract.notes import place_of_note
from borderwatch.geo.gazetteer import Gazetteer
from borderwatch.geo.geoparse import Geoparser, rank_place
from borderwatch.geo.proximity import measure
from borderwatch.geo.sites import load_sites
from borderwatch.models import Analysis, Event, Place, PlaceMention


class GeoStage:
    """Everything geographic the pipeline does to one document."""

    def __init__(self, config: GeoConfig) -> None:
        self.config = config
        self.gazetteer = Gazetteer.open(Path(config.gazetteer) if config.gazetteer else None)
        self.sites = load_sites([Path(p) for p in config.site_files])
        aliases = load_lexicon().aliases
        demonyms = {alias: e.code for alias, e in aliases.items() if e.kind == "demonym"}
        capitals = {alias: e.code for alias, e in aliases.items() if e.kind == "capital"}
        countries = {alias: e.code for alias, e in aliases.items() if e.kind == "country"}
        self.geoparser = Geoparser(self.gazetteer, demonyms, self.sites, capitals, countries)

    def locate(self, doc: Doc, analysis: Analysis) -> None:
        analysis.places = self.geoparser.parse(doc)
        self.measure(doc, analysis)

    def measure(self, doc: Doc, analysis: Analysis) -> None:
        """Each event placed from all of its evidence, and its distances measured; in a note
        without a publication date, an event whose sentences name no place is where the note
        last said (`notes.place_of_note`)."""
        note = analysis.document.published is None
        for event in analysis.events:
            event.place = self.place_of(doc, event, analysis.places)
            if event.place is None and note:
                event.place = place_of_note(doc, event, analysis.places)
            if event.place is not None:
                event.proximity = self.proximity(event.place)

    def place_of(
        self, doc: Doc, event: Event, places: list[PlaceMention], strict: bool = False
    ) -> Place | None:
        """The best-placed mention across all of the event's evidence sentences; `strict` takes
        only where the act is said to happen or what it targets, never a town merely named."""
        best: tuple[tuple[int, int, int], Place] | None = None
        actors = [*event.actors, *event.recipients, *([event.claim.claimant] if event.claim.claimant else [])]
        actor_texts = frozenset(a.text for a in actors)
        starts = [mention.start for mention in places]  # in text order
        for span, anchor in zip(event.evidence, event.anchors, strict=False):
            trigger = doc.char_span(anchor, anchor + 1, alignment_mode="expand")
            sentence = doc.char_span(span.start, span.end, alignment_mode="expand")
            if trigger is None or sentence is None:
                continue
            # Only the sentence's own mentions can rank: found by bisection, not a scan of all.
            first = bisect_left(starts, sentence.start_char)
            for mention in places[first : bisect_left(starts, sentence.end_char)]:
                rank = rank_place(trigger.root, sentence, mention, actor_texts)
                if rank is None or (strict and rank[0] < 0):
                    continue
                if mention.place is not None and (best is None or rank > best[0]):
                    best = (rank, mention.place)
        return best[1] if best else None

    def _area(self, place: Place) -> BaseGeometry | None:
        """The outline distances are measured from: an admin-1 region's, a region made of several
        (England, Republika Srpska: no ISO code of their own, found by name and point), or an
        informal region's (Donbas)."""
        if place.precision == 2 and place.admin1:
            return self.gazetteer.shape(f"a1:{place.admin1}")
        if place.precision == 2 and place.name:
            same = [
                e for e in self.gazetteer.lookup(place.name)
                if e.kind == "admin1" and (e.lat, e.lon) == (place.lat, place.lon)
            ]
            return self.gazetteer.shape(same[0].key) if same else None
        return self.geoparser.area_of(place)

    def proximity(self, place: Place) -> dict | None:
        """Distances from a located place to the nearest border and to critical sites.

        Places repeat across events and articles (one oblast, one plant), so results are cached."""
        if place.lat is None or place.lon is None:
            return None
        return self._proximity(place)

    @lru_cache(maxsize=4096)  # noqa: B019 - one stage per pipeline; the cache lives as long as it
    def _proximity(self, place: Place) -> dict | None:
        area = self._area(place)
        if place.precision == 1 and place.radius_km is None:
            return None
        # Only sites that can be in range need a geodesic measurement.
        reach = self.config.site_range_km + (place.radius_km or 0.0)
        sites = [s for s in self.sites if haversine_km(place.lat, place.lon, s.lat, s.lon) <= reach]
        result = measure(
            Point(place.lon, place.lat), place.radius_km, place.country,
            self.gazetteer.country_shape, self.gazetteer.neighbours, sites,
            area=area, site_range_km=self.config.site_range_km, thresholds=self.config.thresholds,
        )
        return result.to_contract()
