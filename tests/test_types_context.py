"""Types the context decides (PLOVER/CAMEO conventions): announced hostile acts are threats,
obligations in reported speech are requests, a refusal phrase keeps its own negation, what a
demand or offer names has not happened, and the object decides between CAMEO's neighbouring
codes (a strike called off, a curfew lifted, an embargo, a seized trawler, one's own staff)."""

from __future__ import annotations

import pytest

from borderwatch.pipeline import Pipeline
from conftest import analyse_text


def current_types(pipeline: Pipeline, text: str) -> set[str]:
    return {e.type for e in analyse_text(pipeline, text).events if e.is_current}


def test_a_party_saying_it_would_strike_if_its_terms_are_not_met_threatens(pipeline: Pipeline) -> None:
    types = current_types(
        pipeline, "Lithuania said it would close its border with Belarus if the balloons kept coming.")
    assert "THREATEN" in types
    assert "COERCE" not in types


def test_a_guess_about_someone_elses_attack_is_no_threat(pipeline: Pipeline) -> None:
    types = current_types(pipeline, "Analysts said Russian forces could attack the town within weeks.")
    assert "THREATEN" not in types


def test_must_in_reported_speech_is_a_request(pipeline: Pipeline) -> None:
    types = current_types(pipeline, "The observers concluded that both armies must pull back from the line.")
    assert types == {"REQUEST"}


def test_will_not_accept_is_a_current_refusal(pipeline: Pipeline) -> None:
    analysis = analyse_text(pipeline, "Hanoi says it will not accept the new Chinese map.")
    events = [e for e in analysis.events if e.type == "REJECT"]
    assert events and not events[0].negated


def test_talks_only_offered_are_not_held(pipeline: Pipeline) -> None:
    types = current_types(pipeline, "The party rejected an offer of talks from the ruling coalition.")
    assert types == {"REJECT"}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("The dockers called off their strike on Friday after the port raised wages.", "CONCEDE"),
        ("The army lifted the curfew in the town on Sunday.", "CONCEDE"),
        ("Canada imposed an arms embargo on the junta on Tuesday.", "SANCTION"),
        ("The coast guard seized a fishing trawler off the coast on Thursday.", "COERCE"),
        ("Italy evacuated its embassy staff from the capital as the fighting spread.", "RETREAT"),
        ("Spain extradited a fugitive banker to Argentina on Wednesday.", "COOPERATE"),
        ("The senate voted down the border treaty with its neighbour.", "REJECT"),
    ],
)
def test_the_object_decides_between_neighbouring_codes(pipeline: Pipeline, text: str, kind: str) -> None:
    assert kind in current_types(pipeline, text)


def test_a_sighted_column_leaving_a_town_is_no_withdrawal(pipeline: Pipeline) -> None:
    assert "RETREAT" not in current_types(pipeline, "Echelon with tanks leaving Kursk")


def test_the_demand_a_protest_is_for_is_no_request_of_its_own(pipeline: Pipeline) -> None:
    types = current_types(pipeline, "Nurses began a hunger strike outside the ministry to demand back pay.")
    assert types == {"PROTEST"}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Oslo is willing to resume negotiations with the rebels, the minister said.", "AGREE"),
        ("The rebels announced their intention to seize the airport.", "THREATEN"),
        ("The army prepared to resume shelling the rebel villages as the talks stalled.", "MOBILIZE"),
    ],
)
def test_a_stated_readiness_or_intention_is_coded_as_announced(
    pipeline: Pipeline, text: str, kind: str
) -> None:
    assert kind in current_types(pipeline, text)


def test_forces_moved_by_an_unknown_verb_are_deployed_or_withdrawn(pipeline: Pipeline) -> None:
    assert "MOBILIZE" in current_types(pipeline, "Hungary shunted two battalions towards its south.")
    assert "RETREAT" in current_types(pipeline, "Greece moved its tanks away from the border on Monday.")
    assert "MOBILIZE" not in current_types(pipeline, "Rebels downed an army helicopter in Sagaing")


def test_the_opposition_as_a_party_is_no_rejection(pipeline: Pipeline) -> None:
    assert "REJECT" not in current_types(pipeline, "The opposition called on the premier to resign.")
    assert "REJECT" in current_types(pipeline, "Rome restated its opposition to the new tariff.")


def test_a_joint_exercise_is_read_through_its_compounds(pipeline: Pipeline) -> None:
    types = current_types(pipeline, "Chilean and Peruvian marines held a joint landing exercise near Arica.")
    assert "COOPERATE" in types
    assert "MOBILIZE" not in types


def test_what_parties_do_jointly_is_cooperation_and_delegations_from_two_states_consult(
    pipeline: Pipeline,
) -> None:
    assert "COOPERATE" in current_types(pipeline, "Chad and Niger are jointly building a border road.")
    assert "CONSULT" in current_types(pipeline, "Officials from Lima and Quito discussed the dispute.")
