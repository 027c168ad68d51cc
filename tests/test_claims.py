"""Claims as events (`borderwatch.extract.claims`): a party that reports the other side's hostile
act accuses it; a third party's report accuses no one."""

from __future__ import annotations

import pytest

from borderwatch.models import Event
from borderwatch.pipeline import Pipeline
from conftest import analyse_text


def current(pipeline: Pipeline, text: str) -> list[Event]:
    return [e for e in analyse_text(pipeline, text).events if e.is_current and not e.future]


def pairs(found: list[Event], kind: str) -> set[tuple[str, str]]:
    return {(a.code, r.code) for e in found if e.type == kind for a in e.actors for r in e.recipients}


def test_a_party_reporting_the_other_sides_fire_accuses_it(pipeline: Pipeline) -> None:
    found = current(pipeline, "Kyrgyzstan and Tajikistan traded blame on Friday.\n\nKyrgyzstan's border "
                              "service said that Tajik troops had started shooting once more.")
    fights = [e for e in found if e.type == "FIGHT"]
    assert fights and fights[0].claim.stance == "alleged" and fights[0].claim.claimant.code == "KGZ"
    assert ("KGZ", "TJK") in pairs(found, "ACCUSE")


def test_the_target_of_an_alleged_attack_accuses_the_attacker(pipeline: Pipeline) -> None:
    found = current(pipeline, "Sudan's army said Ethiopian forces shelled Sudanese positions on Friday.")
    assert ("SDN", "ETH") in pairs(found, "ACCUSE")


def test_a_third_partys_report_accuses_no_one(pipeline: Pipeline) -> None:
    found = current(pipeline, "Vietnamese forces shelled Cambodian guerrilla camps near the border on "
                              "Friday, Thai military sources said.")
    assert [e.type for e in found] == ["FIGHT"]


def test_denying_an_allegation_is_the_denied_stance_of_the_act_not_a_rejection(pipeline: Pipeline) -> None:
    found = current(pipeline, "Azerbaijan said Armenian forces shelled its positions on Friday.\n\n"
                              "Yerevan rejected the accusation as disinformation.")
    assert "REJECT" not in {e.type for e in found}
    (fight,) = [e for e in found if e.type == "FIGHT"]
    assert fight.claim.stance == "denied"


def test_rejecting_a_demand_is_still_a_rejection(pipeline: Pipeline) -> None:
    found = current(pipeline, "Minsk on Thursday rejected Kyiv's demand to withdraw the battalions.")
    assert "REJECT" in {e.type for e in found}


def test_what_has_long_been_so_is_background(pipeline: Pipeline) -> None:
    analysis = analyse_text(pipeline, "The valley has seen occasional deadly clashes over the past years.")
    fights = [e for e in analysis.events if e.type == "FIGHT"]
    assert fights and all(e.historical for e in fights)


def test_document_components_are_named_and_can_be_left_out(pipeline: Pipeline) -> None:
    from borderwatch.errors import ConfigError
    from borderwatch.extract import Extractor

    text = "Kyrgyzstan's border service said Tajik forces shelled Kyrgyz border posts on Friday."
    doc = pipeline.nlp(text)
    with_claims = Extractor(pipeline.nlp).extract(doc, "2024-03-08")
    without = Extractor(pipeline.nlp, components=("merge", "denials")).extract(doc, "2024-03-08")
    assert "ACCUSE" in {e.type for e in with_claims} and "ACCUSE" not in {e.type for e in without}
    with pytest.raises(ConfigError, match="unknown components"):
        Extractor(pipeline.nlp, components=("telepathy",))


def test_a_quotation_opened_in_one_sentence_keeps_its_speaker_in_the_next(pipeline: Pipeline) -> None:
    found = current(pipeline, 'Ukraine\'s defence ministry said on Monday: "Russian troops shelled the '
                              'village of Vovchansk overnight. They also attacked a school in Kupiansk."')
    fights = [e for e in found if e.type == "FIGHT"]
    assert len(fights) == 2  # two places, two acts
    assert all({a.code for a in e.actors} == {"RUS"} for e in fights)  # "they" agrees with "troops"
    assert all(e.claim.claimant.code == "UKR" and e.claim.stance == "alleged" for e in fights)


def test_after_a_closed_quotation_the_outlet_speaks_again(pipeline: Pipeline) -> None:
    found = current(pipeline, 'The ministry said: "We are calm."\n\n'
                              "Azerbaijani forces shelled Armenian positions on Friday.")
    (fight,) = [e for e in found if e.type == "FIGHT"]
    assert fight.claim.claimant is None and fight.claim.stance == "asserted"


def test_a_source_somewhere_speaks_for_no_party(pipeline: Pipeline) -> None:
    found = current(pipeline, "A source in eastern Syria said Turkish warplanes have bombed a number of "
                              "villages along the frontier.")
    fights = [e for e in found if e.type == "FIGHT"]
    assert fights and all(e.claim.claimant is None for e in fights)
    assert not pairs(found, "ACCUSE")


def test_a_deployment_a_party_reports_after_accusing_is_alleged_by_it(pipeline: Pipeline) -> None:
    found = current(pipeline, "Kosovo's prime minister accused Belgrade of destabilising the region and said "
                              "Serbian troops were massing near the border.")
    buildups = [e for e in found if e.type == "MOBILIZE"]
    assert [({a.code for a in e.actors}, e.claim.stance, e.claim.claimant.code) for e in buildups] == [
        ({"SRB"}, "alleged", "XKX")]


def test_two_bystanders_condemning_together_accuse_no_one_of_each_other(pipeline: Pipeline) -> None:
    found = current(pipeline, "Armenia and Azerbaijan traded fire on Monday.\n\n"
                              "The United States and the European Union condemned the violence.")
    assert not pairs(found, "ACCUSE") & {("USA", "EU"), ("EU", "USA")}
