"""Status per event (`borderwatch.extract.status`): current, historical, future, hypothetical or
negated, each decision kept with the words behind it."""

from __future__ import annotations

import pytest

from borderwatch.models import Event
from borderwatch.pipeline import Pipeline
from conftest import analyse_text


def events(pipeline: Pipeline, text: str, kind: str) -> list[Event]:
    return [e for e in analyse_text(pipeline, text).events if e.type == kind]


@pytest.mark.parametrize(("text", "kind", "flag", "cue"), [
    ("Russia will deploy more troops to the border next month.", "MOBILIZE", "future", "future: will"),
    ("Azerbaijani forces could shell the villages again.", "FIGHT", "hypothetical", "hypothetical: could"),
    ("Ukraine has never attacked Belarusian territory.", "FIGHT", "negated", "negated: never"),
    ("In 2019, Armenian forces shelled the village.", "FIGHT", "historical", "historical: 2019"),
    ("The two armies have clashed over the past years.", "FIGHT", "historical",
     "historical: over the past years"),
    ("Armenia and Azerbaijan tried to agree on a ceasefire on Friday.", "AGREE", "hypothetical",
     "hypothetical: tried"),
])
def test_each_flag_keeps_the_words_that_set_it(
    pipeline: Pipeline, text: str, kind: str, flag: str, cue: str
) -> None:
    (event,) = events(pipeline, text, kind)
    assert getattr(event, flag)
    assert cue in event.status_cues


def test_current_news_has_no_status_words(pipeline: Pipeline) -> None:
    (event,) = events(pipeline, "Azerbaijani forces shelled Armenian positions on Thursday.", "FIGHT")
    assert event.is_current and not event.future and event.status_cues == []


def test_what_was_done_without_warning_is_no_warning(pipeline: Pipeline) -> None:
    text = "Lukashenko said Poland had deployed troops close to the border without warning anybody."
    assert not [e for e in events(pipeline, text, "THREATEN") if e.is_current]


def test_a_date_beside_a_nominal_event_dates_it_as_background(pipeline: Pipeline) -> None:
    text = "Some of the fighters are hosted by Belarus after their leader's failed rebellion last year."
    found = [e for e in events(pipeline, text, "FIGHT") if e.historical]
    assert found and found[0].date.start == "2023-01-01"


def test_an_attempted_attack_is_an_attack(pipeline: Pipeline) -> None:
    (fight,) = events(pipeline, "Russian forces tried to capture the town on Monday.", "FIGHT")
    assert fight.is_current


@pytest.mark.parametrize("text", [
    "Estonia has not recorded any violation of its airspace since January.",
    "No violations of the ceasefire were recorded overnight.",
])
def test_an_act_no_one_saw_is_negated(pipeline: Pipeline, text: str) -> None:
    events = analyse_text(pipeline, text, published="2024-05-20").events
    assert events and all(e.negated for e in events if e.type == "FIGHT")


def test_clashes_since_decades_ago_are_background(pipeline: Pipeline) -> None:
    text = "The two countries have clashed repeatedly along the border since the 1990s."
    events = analyse_text(pipeline, text, published="2024-05-20").events
    assert events and all(e.historical for e in events)
    assert any("since the 1990s" in cue for e in events for cue in e.status_cues)


def test_what_happened_decades_ago_is_background(pipeline: Pipeline) -> None:
    events = analyse_text(pipeline, "Decades ago, the two countries fought over the temple.",
                          published="2024-05-20").events
    assert events and all(e.historical for e in events)


def test_what_a_relative_clause_dates_stays_in_the_relative_clause(pipeline: Pipeline) -> None:
    text = "Protesters rallied in the capital on Friday, singing a song first heard a decade ago."
    events = analyse_text(pipeline, text, published="2024-05-20").events
    assert any(e.type == "PROTEST" and not e.historical for e in events)


@pytest.mark.parametrize("text", [
    "The army said the drills included simulated precision strikes on key targets.",
    "The command said the exercise would include strikes on ports.",
])
def test_a_rehearsed_or_planned_strike_is_no_strike(pipeline: Pipeline, text: str) -> None:
    events = analyse_text(pipeline, text, published="2024-05-20").events
    assert not [e for e in events if e.type == "FIGHT" and e.is_current and not e.future]


@pytest.mark.parametrize(("text", "kind"), [
    ("Pyongyang said its artillery units practised shelling enemy islands.", "FIGHT"),
    ("Marines rehearsed an assault on a fortified beach during the exercise.", "FIGHT"),
])
def test_what_forces_practise_or_rehearse_is_not_done(pipeline: Pipeline, text: str, kind: str) -> None:
    found = [e for e in analyse_text(pipeline, text).events if e.type == kind]
    assert found and all(e.hypothetical and not e.is_current for e in found)
