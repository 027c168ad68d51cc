"""Actors across the article (`borderwatch.extract.coref`): initials the article defines, short
repeats, forces known by their own name, definite descriptions, pairs, and "between X and Y";
and the merging of mentions that name no actor into the one that does."""

from __future__ import annotations

import pytest

from borderwatch.models import Event
from borderwatch.pipeline import Pipeline
from conftest import analyse_text


def events(pipeline: Pipeline, text: str) -> list[Event]:
    found = analyse_text(pipeline, text).events
    return [e for e in found if not (e.historical or e.negated or e.hypothetical)]


def codes(event: Event) -> set[str]:
    return {a.code for a in event.actors}


def of_type(found: list[Event], kind: str) -> list[Event]:
    return [e for e in found if e.type == kind]


def test_initials_the_article_defines_name_the_same_actor_later(pipeline: Pipeline) -> None:
    found = events(pipeline, "Seoul's Joint Chiefs of Staff (JCS) counted the launches late on Friday.\n\n"
                             "The JCS urged Pyongyang to stop the provocations.")
    (request,) = of_type(found, "REQUEST")
    assert codes(request) == {"KOR"}
    assert {r.code for r in request.recipients} == {"PRK"}


def test_a_compass_short_form_names_the_country_named_in_full_before(pipeline: Pipeline) -> None:
    found = events(pipeline, "North Korea test-fired a missile on Tuesday, Seoul said.\n\n"
                             "On Friday, the North lobbed about 90 howitzer shells into the sea.")
    fights = of_type(found, "FIGHT")
    assert fights and all(codes(e) == {"PRK"} for e in fights)


def test_a_pair_description_names_the_two_states_the_article_is_about(pipeline: Pipeline) -> None:
    found = events(pipeline, "Kyrgyzstan accused Tajikistan of provoking the incident.\n\n"
                             "Both sides are now deploying extra troops to the frontier zone.")
    sides = {(a.code, r.code) for e in of_type(found, "MOBILIZE") for a in e.actors for r in e.recipients}
    assert sides == {("KGZ", "TJK"), ("TJK", "KGZ")}  # each side's own deployment


def test_a_clash_between_two_named_sides_has_both_as_participants(pipeline: Pipeline) -> None:
    (fight,) = of_type(events(pipeline, "Heavy fighting broke out on Thursday between Armenian and "
                                        "Azerbaijani forces near the village."), "FIGHT")
    assert codes(fight) | {r.code for r in fight.recipients} == {"ARM", "AZE"}


@pytest.mark.parametrize(
    ("context", "expected"),
    [("India said the jets crossed the Line of Control.", {"IND"}),
     ("Israel said the jets crossed into Lebanese airspace.", {"ISR"}),
     ("Officials said the jets crossed the border.", set())],
)
def test_a_force_known_by_initials_shared_by_two_states_is_the_one_the_article_names(
    pipeline: Pipeline, context: str, expected: set[str]
) -> None:
    found = events(pipeline, f"{context}\n\nThe IAF shelled positions across the border on Friday.")
    fights = of_type(found, "FIGHT")
    assert fights
    assert set().union(*(codes(e) for e in fights)) == expected


def test_a_definite_description_names_the_state_named_last(pipeline: Pipeline) -> None:
    found = events(pipeline, "Pakistan condemned the strike on Wednesday.\n\n"
                             "The country deployed troops to the border on Thursday.")
    (mobilize,) = of_type(found, "MOBILIZE")
    assert codes(mobilize) == {"PAK"}


def test_a_possessive_pronoun_takes_the_subject_named_before_it_in_its_sentence(pipeline: Pipeline) -> None:
    found = events(pipeline, "South Sudan announced that its troops were pulling out of the oil town.")
    (retreat,) = of_type(found, "RETREAT")
    assert codes(retreat) == {"SSD"}


def test_a_headline_that_names_no_actor_joins_the_lede_that_does(pipeline: Pipeline) -> None:
    found = events(pipeline, "Artillery shells hit border villages\n\n"
                             "Azerbaijani forces shelled border villages in Armenia on Friday, the Armenian "
                             "defence ministry said.")
    fights = of_type(found, "FIGHT")
    assert len(fights) == 1
    assert codes(fights[0]) == {"AZE"} and len(fights[0].evidence) == 2


def test_incidents_on_two_days_by_two_actors_stay_two_events(pipeline: Pipeline) -> None:
    found = events(pipeline, "Azerbaijani forces shelled Armenian positions on Monday.\n\n"
                             "Armenian forces shelled Azerbaijani positions on Thursday.")
    assert len(of_type(found, "FIGHT")) == 2


def test_what_a_past_permission_allowed_happened_and_dates_with_it(pipeline: Pipeline) -> None:
    text = "In 2019, the government had allowed Chinese troops to deploy on its soil."
    analysis = analyse_text(pipeline, text)
    (mobilize,) = [e for e in analysis.events if e.type == "MOBILIZE"]
    assert codes(mobilize) == {"CHN"} and mobilize.historical and mobilize.date.start == "2019-01-01"


def test_a_permission_still_to_give_asserts_nothing(pipeline: Pipeline) -> None:
    found = events(pipeline, "Officials said the ministry must allow Chinese troops to deploy on its soil.")
    assert not of_type(found, "MOBILIZE")


def test_an_undated_clause_that_only_dates_the_news_is_not_an_event(pipeline: Pipeline) -> None:
    text = "Azerbaijan withdrew its troops on Friday after 12 days of clashes with Armenia."
    found = events(pipeline, text)
    assert of_type(found, "RETREAT") and not of_type(found, "FIGHT")


def test_whose_forces_were_moved_is_who_moved_them(pipeline: Pipeline) -> None:
    found = events(pipeline, "Belarusian units were withdrawn from the border on Monday.")
    (retreat,) = of_type(found, "RETREAT")
    assert codes(retreat) == {"BLR"}


@pytest.mark.parametrize("text", [
    "The decision came after a government meeting on Monday to assess the security situation.",
    "The UN Security Council discussed the border clashes on Tuesday.",
])
def test_a_meeting_with_no_counterpart_is_no_consultation(pipeline: Pipeline, text: str) -> None:
    assert not of_type(events(pipeline, text), "CONSULT")


def test_talks_between_two_named_sides_are_a_consultation(pipeline: Pipeline) -> None:
    found = events(pipeline, "Armenia and Azerbaijan held talks in Brussels on Tuesday.")
    assert of_type(found, "CONSULT")


@pytest.mark.parametrize(("published", "expected"), [("2023-01-05", "AFG"), ("2019-06-01", "taliban")])
def test_a_group_that_governs_a_state_acts_as_that_state_from_then_on(
    pipeline: Pipeline, published: str, expected: str
) -> None:
    text = "Taliban forces shelled Pakistani border posts at Torkham on Thursday."
    analysis = analyse_text(pipeline, text, published)
    fights = [e for e in analysis.events if e.type == "FIGHT"]
    assert fights and codes(fights[0]) == {expected}
    assert {r.code for r in fights[0].recipients} == {"PAK"}


def test_a_demonym_two_states_share_is_the_one_the_article_names_most(pipeline: Pipeline) -> None:
    found = events(pipeline, "Rwanda accused DR Congo of shelling its territory.\n\n"
                             "Rwandan officials have since contacted their Congolese counterparts by phone.")
    (consult,) = of_type(found, "CONSULT")
    assert codes(consult) == {"RWA"} and {r.code for r in consult.recipients} == {"COD"}


def test_an_act_of_one_of_the_articles_two_states_with_no_target_is_aimed_at_the_other(
    pipeline: Pipeline,
) -> None:
    found = events(pipeline, "Kyrgyzstan accused Tajikistan of provoking the clashes.\n\n"
                             "Tajik forces shelled border villages on Friday.")
    (fight,) = of_type(found, "FIGHT")
    assert codes(fight) == {"TJK"} and {r.code for r in fight.recipients} == {"KGZ"}


def test_a_demand_on_one_of_the_two_states_by_an_unnamed_official_is_the_others(
    pipeline: Pipeline,
) -> None:
    found = events(pipeline, "Armed men crossed from Belarus into Lithuania on Tuesday, Lithuania said.\n\n"
                             "The deputy minister urged the Belarusian side to explain the incident.")
    (request,) = of_type(found, "REQUEST")
    assert codes(request) == {"LTU"} and {r.code for r in request.recipients} == {"BLR"}


def test_an_unnamed_shooter_is_not_given_a_side(pipeline: Pipeline) -> None:
    found = events(pipeline, "Armenia and Azerbaijan traded accusations on Monday.\n\n"
                             "Shots were fired at an Armenian border post overnight.")
    assert all(not e.actors for e in of_type(found, "FIGHT") + of_type(found, "ASSAULT"))


def test_each_conjunct_names_its_own_side(pipeline: Pipeline) -> None:
    found = events(pipeline, "Rwanda accused DR Congo of shelling its territory.\n\n"
                             "Clashes go on between Congolese forces and the rebel movement M23.")
    assert any(codes(e) == {"COD", "m23"} for e in of_type(found, "FIGHT"))


def test_a_shortened_repeat_of_named_forces_is_theirs(pipeline: Pipeline) -> None:
    found = events(pipeline, "Azerbaijani drones were seen near the border on Tuesday, Armenia said.\n\n"
                             "The two drones later struck an Armenian army post near Jermuk.")
    fights = of_type(found, "FIGHT")
    assert fights and all(codes(e) == {"AZE"} for e in fights)


def test_a_possessive_takes_a_subject_known_by_its_initials(pipeline: Pipeline) -> None:
    found = events(pipeline, "The IDF said its jets struck Hezbollah positions in southern Lebanon.")
    (fight,) = of_type(found, "FIGHT")
    assert codes(fight) == {"ISR"}


def test_a_person_the_article_introduces_with_a_title_speaks_for_that_state(pipeline: Pipeline) -> None:
    found = events(pipeline, "Armenian Prime Minister Nikol Pashinyan accused Baku of aggression.\n\n"
                             "Later, Pashinyan spoke by phone with the French president.")
    (consult,) = of_type(found, "CONSULT")
    assert codes(consult) == {"ARM"} and {r.code for r in consult.recipients} == {"FRA"}


def test_the_ministers_of_two_states_are_both_actors(pipeline: Pipeline) -> None:
    found = events(pipeline, "The foreign ministers of India and China met in Moscow on Thursday.")
    (consult,) = of_type(found, "CONSULT")
    assert codes(consult) == {"IND", "CHN"}


def test_a_shortened_repeat_of_a_sides_ministry_is_that_side(pipeline: Pipeline) -> None:
    found = events(pipeline, "Cambodia's defence ministry accused Thailand of shelling its territory.\n\n"
                             '"We demand that Thailand withdraw its forces immediately," the ministry said.')
    (request,) = of_type(found, "REQUEST")
    assert codes(request) == {"KHM"} and request.claim.claimant.code == "KHM"
    assert request.claim.stance == "asserted"


def test_the_two_ministers_are_the_articles_two_sides(pipeline: Pipeline) -> None:
    text = ("Kyrgyz and Tajik border guards clashed near Vorukh on Monday. "
            "The two foreign ministers met in Bishkek on Wednesday.")
    talks = [e for e in analyse_text(pipeline, text).events if e.type == "CONSULT"]
    assert talks and {a.code for e in talks for a in [*e.actors, *e.recipients]} == {"KGZ", "TJK"}
