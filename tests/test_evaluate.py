"""The scorer (`borderwatch.evaluate`), on small gold/prediction sets whose scores are worked out
by hand in each test. The measures are those of the shared eval-dev README."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from borderwatch.errors import EvalError
from borderwatch.evaluate import haversine_km, read_jsonl, score

KM_PER_DEGREE = 2 * math.pi * 6371.0 / 360  # ≈ 111.19 km along a meridian (and the equator)


def doc(**fields: Any) -> dict[str, Any]:
    return fields


def ev(event_type: str | None = None, **fields: Any) -> dict[str, Any]:
    """An event record; flags default to a current event, as `extract` writes them."""
    event: dict[str, Any] = {"historical": False, "future": False, "hypothetical": False,
                             "negated": False}
    if event_type is not None:
        event["type"] = event_type
    event.update(fields)
    return event


def at(lat: float, lon: float) -> dict[str, float]:
    return {"lat": lat, "lon": lon}


# --- event types ---------------------------------------------------------------------------------


def test_type_micro_and_per_type_scores_on_a_worked_example() -> None:
    gold = {
        "d1": doc(events=[{"type": "ACCUSE"}, {"type": "MOBILIZE"}]),
        "d2": doc(events=[{"type": "FIGHT"}]),
        "d3": doc(events=[{"type": "ASSAULT"}]),
    }
    pred = {
        "d1": doc(events=[ev("ACCUSE"), ev("THREATEN")]),       # tp ACCUSE, fn MOBILIZE, fp THREATEN
        "d2": doc(events=[ev("FIGHT"), ev("FIGHT")]),           # one (document, type) pair: tp FIGHT
        "d3": doc(events=[]),                                   # fn ASSAULT
        "elsewhere": doc(events=[ev("PROTEST")]),               # not in the gold: not scored
    }

    types = score(gold, pred).sections["event_types"]

    assert types["documents"] == 3
    # tp 2, fp 1, fn 2: P = 2/3, R = 2/4, F1 = 2·(2/3)(1/2)/(2/3 + 1/2) = 4/7
    assert types["micro"] == {"precision": 0.6667, "recall": 0.5, "f1": 0.5714, "tp": 2, "fp": 1,
                              "fn": 2}
    assert types["per_type"] == {
        "ACCUSE": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "tp": 1, "fp": 0, "fn": 0},
        "ASSAULT": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "tp": 0, "fp": 0, "fn": 1},
        "FIGHT": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "tp": 1, "fp": 0, "fn": 0},
        "MOBILIZE": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "tp": 0, "fp": 0, "fn": 1},
        "THREATEN": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "tp": 0, "fp": 1, "fn": 0},
    }
    # Macro F1 averages the types present in the gold: (1 + 0 + 1 + 0) / 4.
    assert types["macro_f1"] == 0.5


@pytest.mark.parametrize("flag", ["historical", "negated", "hypothetical"])
def test_events_that_are_not_current_news_are_not_counted(flag: str) -> None:
    gold = {"d": doc(events=[{"type": "FIGHT"}])}
    pred = {"d": doc(events=[ev("FIGHT", **{flag: True}), ev("SANCTION", **{flag: True})])}

    micro = score(gold, pred).sections["event_types"]["micro"]

    assert (micro["tp"], micro["fp"], micro["fn"]) == (0, 0, 1)


def test_future_events_are_still_counted() -> None:
    gold = {"d": doc(events=[{"type": "CONSULT"}])}
    pred = {"d": doc(events=[ev("CONSULT", future=True)])}
    assert score(gold, pred).sections["event_types"]["micro"]["tp"] == 1


def test_legacy_types_count_as_their_plover_types() -> None:
    gold = {"d": doc(events=[{"type": "DEMAND"}, {"type": "DISAPPROVE"}])}
    pred = {"d": doc(events=[ev("REQUEST"), ev("ACCUSE")])}

    types = score(gold, pred).sections["event_types"]

    assert types["micro"]["f1"] == 1.0
    assert set(types["per_type"]) == {"REQUEST", "ACCUSE"}


def test_actor_agreement_over_type_matched_events() -> None:
    gold = {
        "d1": doc(events=[{"type": "ACCUSE", "actors": [{"code": "UKR"}]}]),
        "d2": doc(events=[{"type": "FIGHT", "actors": [{"code": "RUS"}]}]),
        "d3": doc(events=[{"type": "MOBILIZE", "actors": [{"code": "BLR"}]}]),  # no match: no pair
        "d4": doc(events=[{"type": "AID"}]),                                   # no actors: no pair
    }
    pred = {
        "d1": doc(events=[ev("ACCUSE", actors=[{"code": "UKR", "sector": "GOV", "text": "Kyiv"}])]),
        "d2": doc(events=[ev("FIGHT", actors=[{"code": "UKR", "sector": None, "text": "Ukraine"}])]),
        "d3": doc(events=[ev("THREATEN", actors=[{"code": "BLR", "sector": None, "text": "Minsk"}])]),
        "d4": doc(events=[ev("AID")]),
    }

    types = score(gold, pred).sections["event_types"]

    assert (types["actor_pairs"], types["actor_agreement"]) == (2, 0.5)


# --- type_any: was a conflict event found at all? ---------------------------------------------------


def test_type_any_found_share_and_quiet_share() -> None:
    gold = {
        "p1": doc(events=[{"type_any": ["FIGHT", "ASSAULT"]}]),
        "p2": doc(events=[{"type_any": ["FIGHT"]}]),
        "p3": doc(events=[{"type_any": ["PROTEST"]}]),
        "n1": doc(events=[]),
        "n2": doc(events=[]),
        "n3": doc(events=[]),
    }
    pred = {
        "p1": doc(events=[ev("ASSAULT")]),                  # found: any listed type counts
        "p2": doc(events=[ev("FIGHT", historical=True)]),   # background is not a find
        "p3": doc(events=[ev("FIGHT")]),                    # a type not listed for this document
        "n1": doc(events=[ev("CONSULT")]),                  # quiet: not an alarm type of the set
        "n2": doc(events=[ev("PROTEST")]),                  # an alarm type: not quiet
        "n3": doc(events=[ev("FIGHT", negated=True)]),      # negated: still quiet
    }

    found = score(gold, pred).sections["event_found"]

    assert found == {"documents": 3, "found": 1, "found_share": 0.3333,
                     "non_event_documents": 3, "quiet_share": 0.6667}


def test_type_any_gold_is_not_scored_as_event_types() -> None:
    gold = {"p": doc(events=[{"type_any": ["FIGHT"]}])}
    report = score(gold, {"p": doc(events=[ev("FIGHT")])})
    assert "event_types" not in report.sections
    assert report.sections["event_found"]["found_share"] == 1.0


# --- places ----------------------------------------------------------------------------------------


def test_places_match_by_overlapping_spans_then_score_distance() -> None:
    gold = {"d": doc(places=[
        {"start": 0, "end": 4, **at(50.0, 30.0)},
        {"start": 10, "end": 20, **at(50.0, 30.0)},
        {"start": 30, "end": 35, **at(48.0, 35.0)},     # nothing predicted here: fn
        {"start": 50, "end": 55, **at(48.0, 35.0)},     # touching is not overlapping: fn
        {"start": 70, "end": 80, **at(10.0, 10.0)},
    ])}
    pred = {"d": doc(places=[
        {"start": 2, "end": 6, **at(50.0, 30.0)},       # 0 km
        {"start": 15, "end": 25, **at(51.0, 30.0)},     # one degree north: ~111 km
        {"start": 40, "end": 45, **at(48.0, 35.0)},     # fp
        {"start": 55, "end": 60, **at(48.0, 35.0)},     # fp
        {"start": 72, "end": 78, "lat": None, "lon": None},  # matched but unresolved: infinitely far
    ])}

    places = score(gold, pred).sections["places"]

    # tp 3, fp 2, fn 2
    assert (places["tp"], places["fp"], places["fn"]) == (3, 2, 2)
    assert (places["precision"], places["recall"], places["f1"]) == (0.6, 0.6, 0.6)
    assert places["resolved_pairs"] == 3
    assert places["within_25km"] == 0.3333
    assert places["within_161km"] == 0.6667


def test_a_predicted_place_matches_at_most_one_gold_place() -> None:
    gold = {"d": doc(places=[{"start": 0, "end": 10}, {"start": 5, "end": 15}])}
    pred = {"d": doc(places=[{"start": 0, "end": 15}])}

    places = score(gold, pred).sections["places"]

    assert (places["tp"], places["fp"], places["fn"]) == (1, 0, 1)
    assert places["resolved_pairs"] == 0 and places["within_25km"] is None


@pytest.mark.parametrize(("degrees", "within_25", "within_161"), [
    (0.2, 1.0, 1.0),    # ~22 km
    (0.25, 0.0, 1.0),   # ~28 km
    (1.4, 0.0, 1.0),    # ~156 km
    (1.5, 0.0, 0.0),    # ~167 km
])
def test_place_distance_thresholds(degrees: float, within_25: float, within_161: float) -> None:
    gold = {"d": doc(places=[{"start": 0, "end": 5, **at(50.0, 30.0)}])}
    pred = {"d": doc(places=[{"start": 0, "end": 5, **at(50.0 + degrees, 30.0)}])}

    places = score(gold, pred).sections["places"]

    assert (places["within_25km"], places["within_161km"]) == (within_25, within_161)


# --- event places and dates --------------------------------------------------------------------


def test_event_place_is_scored_by_the_nearest_current_predicted_place() -> None:
    gold = {
        "d1": doc(events=[{"type_any": ["FIGHT"], "place": at(50.0, 30.0)}]),
        "d2": doc(events=[{"type_any": ["FIGHT"], "place": at(48.0, 30.0)}]),
        "d3": doc(events=[{"type_any": ["FIGHT"], "place": at(40.0, 20.0)}]),
        "d4": doc(events=[{"type_any": ["FIGHT"], "place": {"lat": None, "lon": None}}]),  # not scored
    }
    pred = {
        "d1": doc(events=[ev("FIGHT", place=at(48.5, 30.0)), ev("FIGHT", place=at(50.1, 30.0))]),
        "d2": doc(events=[ev("FIGHT", place=at(48.5, 30.0))]),              # ~56 km
        "d3": doc(events=[ev("FIGHT", place=at(40.0, 20.0), historical=True), ev("FIGHT")]),
    }

    places = score(gold, pred).sections["event_places"]

    # d1: nearest ~11 km; d2: ~56 km; d3: the only placed event is background, so no place.
    assert places == {"events": 3, "within_25km": 0.3333, "within_100km": 0.6667}


def test_event_dates_agree_within_one_day_of_the_gold_range() -> None:
    gold = {
        "d1": doc(events=[{"type": "FIGHT", "date": {"start": "2024-08-25", "end": "2024-08-25"}}]),
        "d2": doc(events=[{"type": "FIGHT", "date": {"start": "2024-08-25", "end": "2024-08-25"}}]),
        "d3": doc(events=[{"type": "MOBILIZE", "date": {"start": "2024-08-01", "end": "2024-08-11"}}]),
        "d4": doc(events=[{"type": "FIGHT", "date": {"start": "2024-08-25"}}]),
        "d5": doc(events=[{"type": "FIGHT"}]),                                   # undated: not scored
    }
    pred = {
        "d1": doc(events=[ev("FIGHT", date={"start": "2024-08-26", "end": None})]),     # +1 day
        "d2": doc(events=[ev("FIGHT", date={"start": "2024-08-23", "end": None})]),     # -2 days
        "d3": doc(events=[ev("AID", date={"start": "2024-08-12T21:00:00+03:00"})]),     # end + 1 day
        "d4": doc(events=[ev("FIGHT", date={"start": "2024-08-25"}, hypothetical=True)]),
        "d5": doc(events=[ev("FIGHT", date={"start": "2024-08-25"})]),
    }

    dates = score(gold, pred).sections["event_dates"]

    assert dates == {"events": 4, "agreement": 0.5}


# --- main text -----------------------------------------------------------------------------------


def test_clean_text_four_word_shingles_averaged_over_pages() -> None:
    gold = {
        "p1": doc(clean_text="alpha beta gamma delta epsilon"),          # 2 shingles
        "p2": doc(clean_text="one two three four five six"),             # 3 shingles
        "p3": doc(clean_text="the page we did not return at all"),       # 5 shingles
    }
    pred = {
        "p1": doc(clean_text="Alpha beta gamma delta zeta"),   # 1 of 2 shared: P 1/2, R 1/2
        "p2": doc(clean_text="ONE, two; three four."),         # 1 of 1 shared: P 1, R 1/3
        "p3": doc(clean_text=None),                            # P 0, R 0
    }

    text = score(gold, pred).sections["clean_text"]

    # P (1/2 + 1 + 0) / 3, R (1/2 + 1/3 + 0) / 3, F1 (1/2 + 1/2 + 0) / 3
    assert text == {"documents": 3, "precision": 0.5, "recall": 0.2778, "f1": 0.3333}


# --- the report as a whole -----------------------------------------------------------------------


def test_only_measures_with_gold_fields_are_reported() -> None:
    report = score({"d": doc(title="no scored fields")}, {"d": doc(events=[ev("FIGHT")])})
    assert report.sections == {}
    assert report.to_dict() == {"gold": "gold", "documents": 1, "predicted": 1, "errors": 0}


def test_report_counts_predicted_and_failed_documents() -> None:
    gold = {i: doc(events=[{"type": "FIGHT"}]) for i in ("a", "b", "c")}
    pred = {"a": doc(events=[ev("FIGHT")], error=None), "b": doc(events=[], error="x: invalid JSON")}

    report = score(gold, pred, gold_name="set.gold.jsonl").to_dict()

    assert (report["gold"], report["documents"], report["predicted"], report["errors"]) == (
        "set.gold.jsonl", 3, 2, 1)
    assert report["event_types"]["micro"]["fn"] == 2


# --- reading files ---------------------------------------------------------------------------------


def test_read_jsonl_keys_records_by_id_and_skips_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"id": "a", "events": []}\n\n{"id": "b", "clean_text": "t"}\n', encoding="utf-8")
    assert read_jsonl(path) == {"a": {"id": "a", "events": []}, "b": {"id": "b", "clean_text": "t"}}


@pytest.mark.parametrize(("second_line", "message"), [
    ("{not json", "invalid JSON"),
    ('["a", "list"]', "string id"),
    ('{"id": 3}', "string id"),
    ('{"events": []}', "string id"),
])
def test_malformed_jsonl_names_the_file_and_line(tmp_path: Path, second_line: str, message: str) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text('{"id": "ok"}\n' + second_line + "\n", encoding="utf-8")

    with pytest.raises(EvalError, match=message) as caught:
        read_jsonl(path)

    assert caught.value.source == f"{path}:2"
    assert str(caught.value).startswith(f"{path}:2: ")


def test_missing_file_is_an_eval_error(tmp_path: Path) -> None:
    with pytest.raises(EvalError, match="cannot read") as caught:
        read_jsonl(tmp_path / "absent.jsonl")
    assert caught.value.source == str(tmp_path / "absent.jsonl")


# --- distance --------------------------------------------------------------------------------------


def test_haversine_sanity() -> None:
    assert haversine_km(50.0, 30.0, 50.0, 30.0) == 0.0
    assert haversine_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(KM_PER_DEGREE, rel=1e-9)
    assert haversine_km(0.0, 0.0, 0.0, 1.0) == pytest.approx(KM_PER_DEGREE, rel=1e-9)
    assert haversine_km(60.0, 0.0, 60.0, 1.0) == pytest.approx(KM_PER_DEGREE / 2, rel=1e-3)  # cos 60°
    assert haversine_km(0.0, 0.0, 0.0, 180.0) == pytest.approx(math.pi * 6371.0, rel=1e-9)
    assert haversine_km(89.0, -179.5, 89.0, 179.5) == pytest.approx(KM_PER_DEGREE * math.cos(
        math.radians(89.0)), rel=1e-3), "the antimeridian is no wall"
    kyiv, minsk = (50.45, 30.52), (53.90, 27.57)
    assert haversine_km(*kyiv, *minsk) == haversine_km(*minsk, *kyiv)
    assert 430 < haversine_km(*kyiv, *minsk) < 440


# --- whole articles (the articles set's SOURCE.md rules) ----------------------------------------


def actors(*codes: str) -> list[dict[str, str]]:
    return [{"code": code} for code in codes]


def test_articles_match_events_one_to_one_by_type_or_alternative_and_a_shared_actor() -> None:
    gold = {"a": doc(events=[
        ev("FIGHT", actors=actors("RUS"), evidence_text="x"),
        ev("FIGHT", actors=actors("RUS"), evidence_text="x"),           # one prediction cannot serve twice
        ev("ACCUSE", alt_types=["PROTEST"], actors=actors("GEO"), evidence_text="x"),
        ev("MOBILIZE", actors=[], evidence_text="x"),                   # actorless: type alone
        ev("FIGHT", actors=actors("GEO"), historical=True),             # background: not scored as current
    ])}
    pred = {"a": doc(clean_text="x", events=[
        ev("FIGHT", actors=actors("RUS", "GEO")),
        ev("PROTEST", actors=actors("GEO")),
        ev("MOBILIZE", actors=actors("UKR")),
        ev("THREATEN", actors=actors("RUS")),                           # unmatched
        ev("FIGHT", actors=actors("RUS"), future=True),                 # a forecast is not current
    ])}
    articles = score(gold, pred).sections["articles"]
    assert (articles["gold_current"], articles["predicted_current"], articles["matched"]) == (4, 4, 3)
    assert articles["recall"] == 0.75 and articles["precision"] == 0.75
    assert articles["history_leaks"] == 0


def test_articles_count_history_leaks_and_field_agreement_of_matched_events() -> None:
    gold = {"a": doc(events=[
        ev("MOBILIZE", actors=actors("BLR"), recipients=actors("UKR"),
           claim={"claimant": {"code": "UKR"}, "stance": "alleged"},
           date={"start": "2024-08-25", "end": "2024-08-25", "granularity": "ongoing"},
           place={"lat": 52.4, "lon": 31.0, "admin1": "BY-HO", "radius_km": 160}, evidence_text="x"),
        ev("FIGHT", actors=actors("RUS"), historical=True),
    ])}
    pred = {"a": doc(events=[
        ev("MOBILIZE", actors=actors("BLR"), recipients=actors("POL"),
           claim={"claimant": None, "stance": "asserted"},
           date={"start": "2024-08-26", "end": None, "granularity": "day"},
           place={"lat": 52.4, "lon": 33.0, "admin1": "BY-HO"}),       # same admin-1: agrees
        ev("FIGHT", actors=actors("RUS")),                              # the background read as news
    ])}
    articles = score(gold, pred).sections["articles"]
    assert articles["history_leaks"] == 1
    assert articles["recipient_agreement"] == 0.0 and articles["stance_agreement"] == 0.0
    assert articles["date_agreement"] == 1.0 and articles["place_agreement"] == 1.0


def test_articles_measure_chrome_removed_and_evidence_kept_whitespace_normalised() -> None:
    gold = {"a": doc(
        removed_substrings=["Subscribe to our newsletter", "Share  this\narticle now", "Short"],
        events=[ev("FIGHT", evidence_text="Troops   clashed\nat dawn."),
                ev("FIGHT", evidence_text="A line the cleaner dropped.")],
    )}
    pred = {"a": doc(clean_text="Troops clashed at dawn.\nShare this article now\nShort", events=[])}
    articles = score(gold, pred).sections["articles"]
    assert articles["chrome_removed"] == 0.5        # "Short" (< 12 characters) is not counted
    assert articles["evidence_kept"] == 0.5
