"""One event from many sources: near-duplicate documents, clusters, claims and cluster status.

Articles are written here; each goes through the real pipeline into a real store (SQLite; the tests
taking a store fixture run again on PostgreSQL in test_store_postgres.py), then
`assign_clusters`. Meaning is compared with the real sentence embedder when it is installed, and
with a plain word-overlap similarity otherwise (both run where the embedder exists).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import ColumnElement, func, select

from borderwatch.assess.cluster import (
    Assignment,
    ClusterSettings,
    Similarity,
    _date_prefilter,
    assign_clusters,
    claims_of,
    dates_compatible,
    default_similarity,
    places_compatible,
)
from borderwatch.assess.dedupe import mark_near_duplicates, shingles, similarity
from borderwatch.models import Alert, AlertEvidence, Analysis, Cluster, Document, Event, EventDate
from borderwatch.pipeline import Pipeline
from borderwatch.store import Store, StoredEvent, open_store
from borderwatch.store.schema import ClaimRow, ClusterMemberRow, ClusterRow, EventRow, MinHashRow

# --- the corpus: one build-up near Mazyr from five outlets, and what else happened --------------

BODY = (
    "Belarus is massing troops and armoured vehicles near the town of Mazyr, close to the border "
    "with Ukraine, according to satellite images reviewed by analysts and accounts from local "
    "residents.\n\n"
    "Columns of tanks, self-propelled howitzers and fuel trucks were seen on the main road into the "
    "town on Friday evening, residents said, and a field camp with dozens of tents has appeared on "
    "the southern outskirts beside the railway station. Trains carrying armour arrived through the "
    "night.\n\n"
    "The Belarusian defence ministry said in a brief statement that the units were taking part in a "
    "snap readiness check ordered by the president and would return to their bases once it ended. "
    "It did not say how many soldiers were involved or how long the check would last.\n\n"
    "Ukraine's border guard service said it was watching the area closely and had strengthened its "
    "positions along the northern frontier. Mazyr lies about fifty kilometres from the Ukrainian "
    "border and a short drive from the exclusion zone around the Chernobyl nuclear plant."
)
ORIGINAL = "MINSK, Aug 24 (Baltic Wire) - " + BODY
COPY_A = "By Gomel Herald staff, with reporting from Baltic Wire. Minsk, 24 August.\n\n" + BODY
COPY_B = "EASTERN COURIER | World desk | Saturday 24 August 2024, 14:30\n\n" + BODY
REWRITE_1 = (
    "Belarusian forces are concentrating near Mazyr, a town in the Gomel region a short drive "
    "from the Ukrainian frontier, witnesses told Polesie Daily on Saturday.\n\n"
    "Several convoys of tanks and lorries arrived there overnight, and soldiers were putting up "
    "tents in fields outside the town. Shopkeepers said they had never seen so many military "
    "vehicles in the streets. Local officials described the movements as a routine check of "
    "combat readiness."
)
REWRITE_2 = (
    "Ukrainian officials are watching a build-up of Belarusian troops around Mazyr, about fifty "
    "kilometres north of the border, the Kyiv Monitor has learned.\n\n"
    "Belarus deployed tank and artillery units to the area on Friday, according to two officials "
    "who spoke on condition of anonymity. In February 2022 Russian troops invaded Ukraine from "
    "Belarus after weeks of joint drills."
)
PROTEST = (
    "Thousands of people protested in Tbilisi, Georgia, on Saturday against a new law on foreign "
    "agents, marching from the parliament to the central railway station."
)
DENIAL = "Minsk denied massing troops near Mazyr on Tuesday."
ACCUSATION = "Ukraine accused Belarus of concentrating troops near Mazyr."


@dataclass(frozen=True)
class Report:
    text: str
    published: str
    outlet: str | None = None
    url: str | None = None


FIRST = "2024-08-24T07:00:00+00:00"
BUILD_UP = {
    "original": Report(ORIGINAL, FIRST, outlet="Baltic Wire", url="https://balticwire.example/mazyr"),
    "copy_a": Report(COPY_A, "2024-08-24T10:15:00+00:00", url="https://www.gomelherald.example/a/1"),
    "copy_b": Report(COPY_B, "2024-08-24T14:30:00+02:00", outlet="Eastern Courier"),
    "rewrite_1": Report(REWRITE_1, "2024-08-25T08:00:00+00:00", outlet="Polesie Daily"),
    "rewrite_2": Report(REWRITE_2, "2024-08-25T17:40:00+03:00", url="https://kyivmonitor.example/x"),
}
"""Five outlets within two days: two wire copies of the Baltic Wire story, two own reports."""


# --- similarity: the real embedder, or word overlap ---------------------------------------------

_STOP = frozenset((
    "a", "an", "and", "the", "of", "in", "on", "at", "to", "from", "by", "for", "with", "near", "is",
    "are", "was", "were", "be", "been", "it", "its", "that", "this", "there", "their", "they", "has",
    "have", "had",
))


def word_overlap(first: list[str], second: list[str]) -> float:
    """Best Jaccard of content-word sets between two lists of sentences: deterministic, crude."""

    def words(sentence: str) -> set[str]:
        return {w for w in re.findall(r"\w+", sentence.lower()) if w not in _STOP}

    pairs = [(words(a), words(b)) for a in first for b in second]
    return max((len(a & b) / len(a | b) for a, b in pairs if a | b), default=0.0)


WORD_OVERLAP_THRESHOLD = 0.05
"""Word overlap cannot see paraphrase ("massing" / "concentrating"): sharing a content word or two
is all it can ask, so it vetoes only sentences with nothing in common."""


@dataclass(frozen=True)
class Meaning:
    similarity: Similarity | None
    settings: ClusterSettings


@pytest.fixture(params=["embedder", "word-overlap"])
def meaning(request: pytest.FixtureRequest) -> Meaning:
    if request.param == "embedder":
        embedded = default_similarity()
        if embedded is None:
            pytest.skip("the sentence embedder (borderwatch.assess.embed and its model package) "
                        "is not installed")
        return Meaning(embedded, ClusterSettings())
    return Meaning(word_overlap, ClusterSettings(similarity_threshold=WORD_OVERLAP_THRESHOLD))


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """SQLite here; test_store_postgres.py points it at PostgreSQL and runs these tests again."""
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as opened:
        yield opened


Feed = Callable[..., Assignment]


@pytest.fixture
def feed(store: Store, pipeline: Pipeline, meaning: Meaning) -> Feed:
    """Analyse a report, save it and cluster it, as `borderwatch run` would."""

    def run(report: Report) -> Assignment:
        doc = Document(source=report.url or report.outlet or "report", raw_text=report.text,
                       url=report.url, outlet=report.outlet, published=report.published)
        (analysis,) = pipeline.analyse([doc])
        assert analysis.error is None
        saved = store.save(analysis)
        return assign_clusters(store, saved.doc_id, similarity=meaning.similarity,
                               settings=meaning.settings)

    return run


def events(store: Store, doc_id: str, kind: str | None = None) -> list[StoredEvent]:
    found = store.query_events(include_historical=True)
    return [e for e in found if e.doc_id == doc_id and (kind is None or e.event.type == kind)]


def clusters_of_type(store: Store, kind: str) -> list[Cluster]:
    return [c for c in store.clusters() if c.type == kind]


def table_sizes(store: Store) -> dict[str, int]:
    with store.transaction("count") as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (MinHashRow, ClusterRow, ClusterMemberRow, ClaimRow, EventRow)}


# --- near-duplicate documents -------------------------------------------------------------------

LIGHT_REWRITE = (
    "Belarus has been massing troops and armoured vehicles near the town of Mazyr, close to the "
    "border with Ukraine, according to satellite images reviewed by analysts and accounts from "
    "local people.\n\n"
    "Columns of tanks, self-propelled howitzers and fuel trucks were seen on the main road into the "
    "town on Friday night, residents said, and a field camp with dozens of tents has appeared on "
    "the southern outskirts beside the railway station. Trains carrying armour arrived through the "
    "night.\n\n"
    "The Belarusian defence ministry said in a short statement that the units were taking part in a "
    "snap readiness check ordered by the president and would return to their bases once it ended. "
    "It did not say how many soldiers were involved or how long the check would last.\n\n"
    "Ukraine's border guard service said it was watching the area closely and had strengthened its "
    "positions along the northern frontier. Mazyr lies about fifty kilometres from the Ukrainian "
    "border and a short drive from the exclusion zone around the Chernobyl nuclear plant."
)


def test_shingles_are_lower_cased_word_five_grams() -> None:
    assert shingles("One two three four five Six") == {b"one two three four five",
                                                       b"two three four five six"}
    assert shingles("Too short.") == {b"too short"}
    assert shingles("") == set()


def test_light_rewrite_is_a_near_duplicate_and_unrelated_text_is_not() -> None:
    assert similarity(ORIGINAL, LIGHT_REWRITE) >= 0.7
    assert similarity(ORIGINAL, COPY_A) >= 0.85
    assert similarity(ORIGINAL, REWRITE_1) < 0.1
    assert similarity(ORIGINAL, PROTEST) < 0.1


def _save(store: Store, pipeline: Pipeline, report: Report) -> str:
    doc = Document(source="t", raw_text=report.text, url=report.url, outlet=report.outlet,
                   published=report.published)
    (analysis,) = pipeline.analyse([doc])
    return store.save(analysis).doc_id


def test_copies_point_at_the_earliest_published_even_when_it_arrives_last(
    store: Store, pipeline: Pipeline
) -> None:
    light = _save(store, pipeline, Report(LIGHT_REWRITE, "2024-08-24T12:00:00+00:00"))
    copy = _save(store, pipeline, Report(COPY_A, "2024-08-24T10:00:00+00:00"))
    other = _save(store, pipeline, Report(PROTEST, "2024-08-24T05:00:00+00:00"))
    original = _save(store, pipeline, Report(ORIGINAL, FIRST))

    assert mark_near_duplicates(store, light).copy_of == light
    assert mark_near_duplicates(store, copy).copy_of == copy  # earlier than the light rewrite
    assert mark_near_duplicates(store, other).copy_of == other
    found = mark_near_duplicates(store, original)
    assert found.copy_of == original
    assert set(found.near) == {light, copy}
    assert set(found.regrouped) == {light, copy}
    with store.transaction("read") as session:
        copy_of = {doc: root for doc, root in session.execute(select(MinHashRow.doc_id, MinHashRow.copy_of))}
    assert copy_of == {light: original, copy: original, original: original, other: other}
    # Signing again changes nothing.
    assert mark_near_duplicates(store, copy).copy_of == original
    assert table_sizes(store)["minhashes"] == 4


def test_a_second_store_object_sees_signatures_stored_by_the_first(
    store: Store, pipeline: Pipeline, tmp_path: Path
) -> None:
    original = _save(store, pipeline, Report(ORIGINAL, FIRST))
    mark_near_duplicates(store, original)
    with open_store(store.engine.url.render_as_string(hide_password=False)) as other:
        copy = _save(other, pipeline, Report(COPY_B, "2024-08-24T13:00:00+00:00"))
        assert mark_near_duplicates(other, copy).copy_of == original
    # ...and the first sees the second's signature once it re-reads the table.
    light = _save(store, pipeline, Report(LIGHT_REWRITE, "2024-08-25T13:00:00+00:00"))
    assert set(mark_near_duplicates(store, light).near) == {original, copy}


# --- clusters ------------------------------------------------------------------------------------


def test_five_outlets_one_build_up_three_independent_outlets(store: Store, feed: Feed) -> None:
    ids = {name: feed(report).doc_id for name, report in BUILD_UP.items()}

    (build_up,) = clusters_of_type(store, "MOBILIZE")
    assert set(build_up.doc_ids) == set(ids.values())
    assert build_up.independent_outlets == 3
    assert sorted(build_up.outlets) == ["Baltic Wire", "Polesie Daily", "kyivmonitor.example"]
    assert build_up.first_reported == FIRST
    assert build_up.status == "corroborated"  # three outlets say it in their own voice
    # Every MOBILIZE event of the five reports is in it; a report's second sentence about the same
    # build-up ("convoys arrived there overnight") is more evidence of its event, not another one.
    stored = [e for doc_id in ids.values() for e in events(store, doc_id, "MOBILIZE")]
    mobilize = [e.id for e in stored]
    assert len(mobilize) >= 5
    assert any(len(e.event.evidence) >= 2 for e in stored)
    assert set(build_up.event_ids) == set(mobilize)
    assert all(store.cluster_of(event_id) == build_up for event_id in mobilize)
    sources = store.cluster_sources(build_up.id)
    assert set(sources) == set(ids.values())
    assert sources[ids["original"]] == ["https://balticwire.example/mazyr"]
    assert sources[ids["rewrite_1"]] == []


def test_unrelated_protest_and_background_stay_out(store: Store, feed: Feed) -> None:
    for report in BUILD_UP.values():
        feed(report)
    protest = feed(Report(PROTEST, "2024-08-24T18:00:00+04:00", outlet="Caucasus Today"))

    (protest_cluster,) = clusters_of_type(store, "PROTEST")
    assert protest_cluster.doc_ids == [protest.doc_id]
    assert protest_cluster.independent_outlets == 1
    assert len(clusters_of_type(store, "MOBILIZE")) == 1
    (invasion,) = [e for e in events(store, feed(BUILD_UP["rewrite_2"]).doc_id, "FIGHT")]
    assert invasion.event.historical
    assert store.cluster_of(invasion.id) is None
    assert all(invasion.id not in c.event_ids for c in store.clusters())


def test_denial_makes_the_cluster_disputed(store: Store, feed: Feed) -> None:
    for report in BUILD_UP.values():
        feed(report)
    denial = feed(Report(DENIAL, "2024-08-27T16:00:00+03:00", outlet="Belta"))

    (build_up,) = clusters_of_type(store, "MOBILIZE")
    assert build_up.status == "disputed"
    (reject,) = events(store, denial.doc_id, "REJECT")
    assert denial.denials == {reject.id: build_up.id}
    assert claims_of(store, build_up.id) == [
        claim for claim in claims_of(store) if claim.cluster_id == build_up.id
    ]
    (claim,) = [c for c in claims_of(store, build_up.id) if c.event_id == reject.id]
    assert (claim.claimant_code, claim.stance) == ("BLR", "denied")
    # The denial is an event of its own too, in a REJECT cluster.
    assert store.cluster_of(reject.id) is not None
    assert store.cluster_of(reject.id).type == "REJECT"


def test_a_denied_event_joins_the_cluster_it_denies(store: Store, feed: Feed) -> None:
    for report in BUILD_UP.values():
        feed(report)
    denial = feed(Report("Belarus denied that it was massing troops near Mazyr.",
                         "2024-08-26T10:00:00+03:00", outlet="Belta"))

    (build_up,) = clusters_of_type(store, "MOBILIZE")
    (denied,) = events(store, denial.doc_id, "MOBILIZE")
    assert denied.event.claim.stance == "denied"
    assert denial.placed[denied.id] == build_up.id
    assert build_up.status == "disputed"
    assert build_up.independent_outlets == 4  # Belta says so too, if only to deny it


@pytest.mark.parametrize("mode", ["embedder", "no-meaning"])
def test_a_denial_of_something_else_disputes_nothing(
    store: Store, pipeline: Pipeline, mode: str
) -> None:
    if mode == "embedder":
        embedded = default_similarity()
        if embedded is None:
            pytest.skip("the sentence embedder is not installed")
        settings = ClusterSettings()
    else:
        embedded, settings = None, ClusterSettings(meaning=False)
    reports = [*BUILD_UP.values(),
               Report("Minsk denied that the elections in the Gomel region had been rigged.",
                      "2024-08-26T10:00:00+03:00", outlet="Belta")]
    for report in reports:
        assign_clusters(store, _save(store, pipeline, report), similarity=embedded, settings=settings)
    (build_up,) = clusters_of_type(store, "MOBILIZE")
    assert build_up.status == "corroborated"
    assert not [c for c in claims_of(store) if c.stance == "denied"]

    # The denial of the build-up itself is linked: by meaning, or without it by a trigger word.
    assign_clusters(store, _save(store, pipeline, Report(DENIAL, "2024-08-27T16:00:00+03:00")),
                    similarity=embedded, settings=settings)
    assert clusters_of_type(store, "MOBILIZE")[0].status == "disputed"


@pytest.mark.parametrize("budget", [0, 12_000])
def test_a_document_embeds_its_own_sentences_within_its_budget(
    store: Store, pipeline: Pipeline, budget: int
) -> None:
    """Past `own_sentence_chars`, a document's sentences are not compared by meaning: the denial
    is then linked as without a similarity function, by repeating the build-up's trigger word."""
    asked: set[str] = set()

    def recording(first: list[str], second: list[str]) -> float:
        asked.update(first, second)
        return word_overlap(first, second)

    settings = ClusterSettings(similarity_threshold=WORD_OVERLAP_THRESHOLD, own_sentence_chars=budget)
    for report in BUILD_UP.values():
        assign_clusters(store, _save(store, pipeline, report), similarity=recording, settings=settings)
    asked.clear()
    denial = _save(store, pipeline, Report(DENIAL, "2024-08-27T16:00:00+03:00"))
    assign_clusters(store, denial, similarity=recording, settings=settings)
    assert (DENIAL in asked) is (budget > len(DENIAL))
    assert clusters_of_type(store, "MOBILIZE")[0].status == "disputed"


def test_status_follows_allegation_report_corroboration_denial(store: Store, feed: Feed) -> None:
    accusation = feed(Report(ACCUSATION, "2024-08-24T09:00:00+00:00", outlet="Ukrinform"))
    (build_up,) = clusters_of_type(store, "MOBILIZE")
    assert build_up.status == "alleged"
    (alleged,) = events(store, accusation.doc_id, "MOBILIZE")
    assert [(c.event_id, c.cluster_id, c.claimant_code, c.stance) for c in claims_of(store)] == [
        (alleged.id, build_up.id, "UKR", "alleged")
    ]

    feed(BUILD_UP["rewrite_1"])
    assert clusters_of_type(store, "MOBILIZE")[0].status == "reported"
    feed(BUILD_UP["original"])
    feed(BUILD_UP["copy_a"])
    (build_up,) = clusters_of_type(store, "MOBILIZE")
    assert build_up.status == "corroborated"
    assert build_up.independent_outlets == 3  # Ukrinform, Polesie Daily, Baltic Wire (twice)
    feed(Report(DENIAL, "2024-08-27T16:00:00+03:00", outlet="Belta"))
    assert clusters_of_type(store, "MOBILIZE")[0].status == "disputed"


def test_processing_again_adds_nothing(store: Store, feed: Feed) -> None:
    reports = [*BUILD_UP.values(), Report(PROTEST, "2024-08-24T18:00:00+04:00"),
               Report(DENIAL, "2024-08-27T16:00:00+03:00")]
    for report in reports:
        feed(report)
    before = (table_sizes(store), store.clusters(), claims_of(store))
    again = [feed(report) for report in reports]
    assert all(not a.placed and not a.denials for a in again)
    assert (table_sizes(store), store.clusters(), claims_of(store)) == before


def test_order_of_arrival_does_not_change_the_picture(store: Store, feed: Feed) -> None:
    feed(Report(DENIAL, "2024-08-27T16:00:00+03:00", outlet="Belta"))
    for name in ("copy_b", "rewrite_2", "copy_a", "rewrite_1", "original"):
        feed(BUILD_UP[name])

    (build_up,) = clusters_of_type(store, "MOBILIZE")
    assert build_up.independent_outlets == 3
    assert sorted(build_up.outlets) == ["Baltic Wire", "Polesie Daily", "kyivmonitor.example"]
    assert build_up.first_reported == FIRST
    # The denial came first, with nothing to deny yet: it is linked once the build-up is reported.
    assert build_up.status == "disputed"
    assert [c.stance for c in claims_of(store, build_up.id)] == ["denied"]


def test_meaning_check_keeps_apart_what_structure_allows(store: Store, pipeline: Pipeline) -> None:
    """With a similarity under which nothing is alike, only a report's own sentences group."""

    def nothing_alike(first: list[str], second: list[str]) -> float:
        return 0.0

    saved = []
    for report in (BUILD_UP["rewrite_1"], BUILD_UP["rewrite_2"]):
        doc_id = _save(store, pipeline, report)
        assign_clusters(store, doc_id, similarity=nothing_alike)
        saved.append(doc_id)
    mobilize = clusters_of_type(store, "MOBILIZE")
    assert len(mobilize) == 2
    assert all(len(c.doc_ids) == 1 for c in mobilize)
    # Both MOBILIZE sentences of the first rewrite are one event, in its one cluster.
    (first,) = events(store, saved[0], "MOBILIZE")
    assert len(first.event.evidence) >= 2
    assert [c.event_ids for c in mobilize if c.doc_ids == [saved[0]]] == [[first.id]]


# --- compatibility rules -------------------------------------------------------------------------

MAZYR = {"lat": 52.04, "lon": 29.22, "country": "BLR", "admin1": "BY-HO", "radius_km": 10.0}
GOMEL_REGION = {"lat": 52.4, "lon": 30.98, "country": "BLR", "admin1": "BY-HO", "radius_km": 120.0}
KALINKAVICHY = {"lat": 52.13, "lon": 29.33, "country": "BLR", "admin1": "BY-HO", "radius_km": 5.0}
BREST = {"lat": 52.1, "lon": 23.7, "country": "BLR", "admin1": "BY-BR", "radius_km": 10.0}
BREST_UNLOCATED = {"lat": None, "lon": None, "country": "BLR", "admin1": "BY-BR", "radius_km": None}
TBILISI = {"lat": 41.69, "lon": 44.83, "country": "GEO", "admin1": "GE-TB", "radius_km": 20.0}


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (MAZYR, KALINKAVICHY, True),  # 12 km apart, radii 10 + 5 + 25
        (MAZYR, GOMEL_REGION, True),  # same admin-1 region
        ({**MAZYR, "admin1": None}, {**BREST, "admin1": None}, False),  # 375 km apart
        (MAZYR, BREST_UNLOCATED, False),  # different regions, no coordinates to say otherwise
        (MAZYR, None, True),  # unknown place
        ({"lat": None, "lon": None, "country": None, "admin1": None}, TBILISI, True),
        ({"lat": None, "lon": None, "country": "BLR", "admin1": None}, TBILISI | {"lat": None}, False),
    ],
)
def test_places_compatible(first: dict | None, second: dict | None, expected: bool) -> None:
    assert places_compatible(first, second, 25.0) is expected
    assert places_compatible(second, first, 25.0) is expected


def _dated(start: str | None, end: str | None = None, granularity: str = "day") -> EventRow:
    return EventRow(date_start=start, date_end=end, granularity=granularity)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (_dated("2024-08-24"), _dated("2024-08-31"), True),  # 7 days
        (_dated("2024-08-24"), _dated("2024-09-01"), False),  # 8 days
        (_dated("2024-08-01", "2024-08-31", "month"), _dated("2024-09-05"), True),
        (_dated("2024-08-24", None, "ongoing"), _dated("2024-09-20"), True),  # open: 30 days
        (_dated("2024-08-24", None, "unknown"), _dated("2024-10-01"), False),
        (_dated(None, None, "unknown"), _dated("2021-01-01"), True),  # no date at all
    ],
)
def test_dates_compatible(first: EventRow, second: EventRow, expected: bool) -> None:
    settings = ClusterSettings()
    assert dates_compatible(first, second, settings) is expected
    assert dates_compatible(second, first, settings) is expected


STORED_DATES = [
    ("2024-08-01", None), ("2024-08-01T23:59:59+02:00", None), ("2024-07-12", None),
    ("2024-07-13T00:00:00Z", None), ("2024-07-01", "2024-07-12T23:00:00-05:00"),
    ("2024-07-01", "2024-07-13"), ("2024-06-01", "2024-06-30"), ("2024-09-13", None),
    ("2024-09-13T23:59:59.5+02:00", None), ("2024-09-14", None), ("2024-09-14T00:00:00Z", None),
    ("2023-01-01", "2025-01-01"), ("2024-08-10", ""), ("2024-08-20 06:00", "2024-08-19"),
    (None, None), (None, "2024-08-01"),
]
"""Dates as the store holds them (ISO days, some with a time; open, closed, empty and reversed
ends) around the candidate window of 2024-08-13 (2024-07-13 to 2024-09-13)."""


@pytest.mark.parametrize("span", [
    (date(2024, 8, 13), date(2024, 8, 13)), (date(2024, 8, 1), date(2024, 8, 31)),
    (date(2024, 6, 12), date(2024, 6, 12)), (date(2024, 10, 15), date(2024, 10, 15)),
])
def test_the_date_prefilter_selects_what_comparing_days_selected(
    store: Store, span: tuple[date, date]
) -> None:
    """Whole-string bounds (an index can serve them) pick the same candidates as comparing the
    first ten characters did, on either backend."""
    text = "Belarus moved troops to the border."
    store.save(Analysis(document=Document(source="d", raw_text=text, clean_text=text), events=[
        Event(type="MOBILIZE", date=EventDate(start, end, "day")) for start, end in STORED_DATES]))
    settings = ClusterSettings()
    reach = int(max(settings.window_days, settings.open_window_days)) + 1
    low = (span[0] - timedelta(days=reach)).isoformat()
    high = (span[1] + timedelta(days=reach)).isoformat()
    start = func.substr(EventRow.date_start, 1, 10)
    end = func.coalesce(func.substr(EventRow.date_end, 1, 10), start)
    by_day = EventRow.date_start.is_(None) | ((start <= high) & (end >= low))

    prefilter = _date_prefilter(span, settings)
    assert "substr" not in str(prefilter.compile(store.engine)).lower()
    with store.transaction("read") as session:
        def chosen(condition: ColumnElement[bool]) -> list[int]:
            return list(session.scalars(select(EventRow.seq).where(condition).order_by(EventRow.seq)))

        expected = chosen(by_day)
        assert chosen(prefilter) == expected
    assert 3 <= len(expected) < len(STORED_DATES)  # the window leaves some in and some out


# --- alerts are recorded once and again only when they escalate ----------------------------------


def _alert(severity: str, explanation: str = "Troops massing near the border.") -> Alert:
    return Alert(id="border-concentration:abc", rule="border-concentration", severity=severity,
                 as_of="2024-08-25", border="BLR-UKR", sites=["npp-chernobyl"],
                 explanation=explanation, events=["abc"],
                 evidence=[AlertEvidence(doc="d1", start=0, end=10, text="Belarus is")])


def test_alert_is_saved_once_and_again_only_when_it_escalates(store: Store) -> None:
    assert store.save_alert(_alert("medium")) is True
    assert store.save_alert(_alert("medium", "reworded")) is False
    assert store.save_alert(_alert("low")) is False
    assert store.alerts() == [_alert("medium")]
    assert store.save_alert(_alert("high", "now near the plant too")) is True
    assert store.alerts() == [_alert("high", "now near the plant too")]
    assert store.alerts()[0].to_contract()["evidence"] == [
        {"doc": "d1", "start": 0, "end": 10, "text": "Belarus is"}
    ]


def test_an_actorless_report_does_not_bridge_two_sides(tmp_path: Path) -> None:
    """Ukraine's own deployment (bw-003) must not join Belarus's build-up (bw-001) through the
    unattributed "several battalions ... have moved" sentence of bw-001."""
    from borderwatch.assess.cluster import assign_clusters
    from borderwatch.config import IngestConfig
    from borderwatch.ingest import document_from_record
    from borderwatch.pipeline import Pipeline
    from borderwatch.store import open_store

    samples = Path(__file__).resolve().parents[1] / "samples" / "sample.input.jsonl"
    records = [r for r in map(json.loads, samples.read_text(encoding="utf-8").splitlines())
               if r["id"] in ("bw-001", "bw-003")]
    store = open_store(f"sqlite:///{tmp_path / 'b.sqlite'}")
    try:
        docs = [document_from_record(r, r["id"], IngestConfig()) for r in records]
        for analysis in Pipeline().analyse(docs):
            assign_clusters(store, store.save(analysis).doc_id)
        events = {e.id: e for e in store.query_events()}
        for cluster in store.clusters():
            codes = {a.code for i in cluster.event_ids if i in events for a in events[i].event.actors}
            assert not {"BLR", "UKR"} <= codes, f"one {cluster.type} cluster holds both sides"
    finally:
        store.close()
