"""The extract stage, end to end through the real spaCy pipeline: what a reader would check."""

from __future__ import annotations

from pathlib import Path

import pytest

from borderwatch.config import IngestConfig
from borderwatch.ingest import document_from_record
from borderwatch.models import Analysis, Event
from borderwatch.pipeline import Pipeline

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "000_27b3de6de7ba2833.txt"


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline()


def analyse(pipeline: Pipeline, text: str, published: str | None = "2024-08-25") -> Analysis:
    record = {"id": "t", "text": text}
    if published:
        record["published"] = published
    doc = document_from_record(record, "test", IngestConfig())
    (analysis,) = pipeline.analyse([doc])
    assert analysis.error is None
    return analysis


def current(analysis: Analysis, kind: str) -> list[Event]:
    return [e for e in analysis.events if e.type == kind and e.is_current]


def codes(actors: list) -> set[str]:
    return {a.code for a in actors}


def test_accusation_with_capital_metonyms_and_weekday(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Kyiv accused Minsk on Tuesday of massing troops near the border.")
    (accuse,) = current(result, "ACCUSE")
    assert codes(accuse.actors) == {"UKR"} and codes(accuse.recipients) == {"BLR"}
    assert accuse.actors[0].sector == "GOV"
    assert (accuse.date.start, accuse.date.granularity) == ("2024-08-20", "day")
    (mobilize,) = current(result, "MOBILIZE")
    assert codes(mobilize.actors) == {"BLR"}
    assert mobilize.claim.stance == "alleged" and mobilize.claim.claimant.code == "UKR"


def test_demonyms_and_sectors(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Armenian forces shelled Azerbaijani positions near the border on Monday.")
    (fight,) = current(result, "FIGHT")
    assert fight.actors[0].code == "ARM" and fight.actors[0].sector == "MIL"
    assert codes(fight.recipients) == {"AZE"}


def test_named_group_gets_its_slug(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Hezbollah fired rockets at northern Israel on Friday, the army said.")
    events = [e for e in result.events if e.type in ("FIGHT", "ASSAULT")]
    assert events and events[0].actors[0].code == "hezbollah"


def test_background_year_is_historical(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "In 2020 Azerbaijan attacked Armenian positions in a six-week war.")
    assert result.events, "the attack is still an event"
    assert all(e.historical for e in result.events)
    assert not current(result, "FIGHT")


def test_negated_sentence_is_not_a_current_event(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Estonia has never attacked Russia and will not attack it.")
    assert not [e for e in result.events if e.is_current and e.type in ("FIGHT", "ASSAULT")]


def test_denial_marks_the_embedded_event_denied(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Moscow denied deploying troops to the border.")
    assert current(result, "REJECT")
    mobilize = [e for e in result.events if e.type == "MOBILIZE"]
    assert mobilize and mobilize[0].claim.stance == "denied"


def test_modal_makes_it_hypothetical(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Analysts said Russia could launch an offensive in the spring.")
    fights = [e for e in result.events if e.type == "FIGHT"]
    assert fights and all(e.hypothetical for e in fights)


def test_future_commitment_is_an_agreement(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Israel will withdraw its troops from the town, a spokesman said.")
    assert current(result, "AGREE")
    assert not current(result, "RETREAT")


def test_repeated_mentions_merge_into_one_event(pipeline: Pipeline) -> None:
    text = ("Lithuania accused Belarus of massing troops near the border on Sunday. "
            "Vilnius said Belarus had been massing troops for a week. "
            "The weather was cold.")
    result = analyse(pipeline, text)
    mobilize = current(result, "MOBILIZE")
    assert len(mobilize) == 1
    assert len(mobilize[0].evidence) == 2
    for span in mobilize[0].evidence:
        assert "massing" in result.document.clean_text[span.start:span.end]


def test_undated_event_is_anchored_to_publication(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Pakistani troops clashed with Indian soldiers along the frontier.",
                     published="2025-05-07")
    (fight,) = current(result, "FIGHT")
    assert fight.date.start == "2025-05-07" and fight.date.granularity == "unknown"


def test_no_events_in_plain_description(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Belarus is a landlocked country with a population of about nine million.")
    assert result.events == []


def test_evidence_offsets_point_into_clean_text(pipeline: Pipeline) -> None:
    text = "Seoul said on Monday that North Korean soldiers crossed the border. Pyongyang denied it."
    result = analyse(pipeline, text)
    assert result.events
    for event in result.events:
        for span in event.evidence:
            sentence = result.document.clean_text[span.start:span.end]
            assert sentence and sentence == sentence.strip()


@pytest.fixture(scope="module")
def seed(pipeline: Pipeline) -> Analysis:
    return analyse(pipeline, SEED.read_text(encoding="utf-8"), published="2024-08-25")


@pytest.mark.skipif(not SEED.exists(), reason=f"seed article not found at {SEED}")
class TestSeedArticle:
    """DESIGN §4: the worked example (geography is the geography issue's job)."""

    def test_donation_appeal_removed_and_article_kept(self, seed: Analysis) -> None:
        raw = seed.document.raw_text
        appeal = raw.index("A Message from")
        assert len(seed.document.removed) == 1
        (removed,) = seed.document.removed
        assert removed.start == appeal and removed.end >= len(raw.rstrip())
        assert seed.document.clean_text == raw[:appeal].rstrip()

    def test_accusation_dated_publication_day(self, seed: Analysis) -> None:
        accusations = current(seed, "ACCUSE")
        assert any(codes(e.actors) == {"UKR"} and codes(e.recipients) == {"BLR"}
                   and e.date.start == "2024-08-25" for e in accusations)

    def test_one_alleged_belarusian_buildup_with_several_sentences(self, seed: Analysis) -> None:
        buildups = [e for e in current(seed, "MOBILIZE") if codes(e.actors) == {"BLR"}]
        assert len(buildups) == 1
        (buildup,) = buildups
        assert buildup.claim.stance == "alleged" and buildup.claim.claimant.code == "UKR"
        assert len(buildup.evidence) >= 2

    def test_wagner_presence_is_alleged_mobilization(self, seed: Analysis) -> None:
        wagner = [e for e in current(seed, "MOBILIZE") if codes(e.actors) == {"wagner-group"}]
        assert wagner and wagner[0].claim.stance == "alleged"

    def test_warning_or_demand_to_belarus(self, seed: Analysis) -> None:
        verbal = current(seed, "THREATEN") + current(seed, "REQUEST")
        assert any(codes(e.actors) == {"UKR"} and "BLR" in codes(e.recipients) for e in verbal)

    def test_fighting_both_ways_is_ongoing(self, seed: Analysis) -> None:
        fights = current(seed, "FIGHT")
        pairs = {(a.code, r.code) for e in fights for a in e.actors for r in e.recipients}
        assert {("UKR", "RUS"), ("RUS", "UKR")} <= pairs
        assert all(e.date.granularity == "ongoing" for e in fights)

    def test_background_is_historical(self, seed: Analysis) -> None:
        text = seed.document.clean_text
        for marker in ("February 2022 invasion", "In 2022,"):
            sentence_events = [e for e in seed.events
                               if any(marker in text[s.start:s.end] for s in e.evidence)]
            assert sentence_events, marker
            assert all(e.historical for e in sentence_events), marker

    def test_background_nested_in_permissions_are_events_of_their_own(self, seed: Analysis) -> None:
        """DESIGN §4: Belarus let Russian troops use its territory for the 2022 invasion, and Russian
        troops were stationed in Belarus for "drills" in 2022: both historical, dated 2022."""
        background = [e for e in seed.events if e.historical]
        invasion = [e for e in background if e.type == "FIGHT" and codes(e.actors) == {"RUS"}]
        stationing = [e for e in background if e.type == "MOBILIZE" and codes(e.actors) == {"RUS"}]
        assert invasion and stationing
        assert all((e.date.start or "").startswith("2022") for e in invasion + stationing)
        assert not any(e.type == "FIGHT" and codes(e.actors) == {"RUS"} and e.date.start.startswith("2022")
                       for e in seed.events if e.is_current)

    def test_last_years_rebellion_is_a_historical_event_dated_2023(self, seed: Analysis) -> None:
        """DESIGN §4: the Wagner rebellion "last year" is background, dated 2023."""
        text = seed.document.clean_text
        rebellion = [e for e in seed.events
                     if e.historical and (e.date.start or "").startswith("2023")
                     and any("rebellion" in text[s.start:s.end] for s in e.evidence)]
        assert rebellion and "historical: last year" in rebellion[0].status_cues

    def test_negated_promise_is_not_hostile(self, seed: Analysis) -> None:
        text = seed.document.clean_text
        for event in seed.events:
            if any("never taken" in text[s.start:s.end] for s in event.evidence):
                assert not event.is_current


def test_headlines_glued_by_semicolons_are_read_one_by_one(pipeline: Pipeline) -> None:
    result = analyse(
        pipeline,
        "Rebel commander killed near Luhansk - report;Rebels deny internal strife;'Shelling resumed'",
    )
    assert current(result, "ASSAULT"), "the first headline's killing is not lost in the next one's denial"
    assert current(result, "REJECT")


@pytest.mark.parametrize(
    "text",
    [
        "Separatists violated the ceasefire 40 times overnight, the army said.",
        "The army reported ceasefire violations near Avdiivka on Monday.",
        "Both sides accused each other of breaching the truce.",
    ],
)
def test_breaking_a_ceasefire_is_fighting(pipeline: Pipeline, text: str) -> None:
    result = analyse(pipeline, text)
    assert current(result, "FIGHT")
    assert not current(result, "REJECT"), "violating a truce is not rejecting a proposal"


def test_rejecting_a_ceasefire_proposal_is_still_a_rejection(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "The rebels rejected the ceasefire proposal on Sunday.")
    assert current(result, "REJECT") and not current(result, "FIGHT")


@pytest.mark.parametrize(
    "text",
    [
        "A tsunami after the eruption killed 222 people along the coast on Saturday.",
        "Fourteen passengers died when their coach skidded off a mountain road into a gorge.",
        "A boiler at a chemical plant exploded on Thursday, killing two workers.",
        "Flash floods killed at least 77 people in the eastern province, officials said.",
        "Police said 12 pilgrims were killed after their minibus overturned on a highway.",
    ],
)
def test_deaths_in_disasters_and_accidents_are_not_attacks(pipeline: Pipeline, text: str) -> None:
    result = analyse(pipeline, text)
    assert not current(result, "ASSAULT") and not current(result, "FIGHT")


@pytest.mark.parametrize(
    "text",
    [
        "Explosions hit an ammunition depot in Crimea overnight.",
        "A drone attack set a refinery ablaze and killed two workers, the governor said.",
        "A Russian landmine exploded under a tractor near Kherson, killing two farmers.",
        "Militants stormed the factory and killed three guards.",
        "Bandits stormed a village in the north, killing 20 people.",
        "Police opened fire on protesters after the collapse of talks, killing three.",
    ],
)
def test_blasts_with_an_armed_hand_or_at_military_sites_stay_conflict(pipeline: Pipeline, text: str) -> None:
    result = analyse(pipeline, text)
    assert current(result, "ASSAULT") or current(result, "FIGHT")


def test_expelling_diplomats_is_a_sanction_and_expelling_people_is_coercion(pipeline: Pipeline) -> None:
    assert current(analyse(pipeline, "Germany expelled four Russian diplomats on Monday."), "SANCTION")
    assert current(analyse(pipeline, "Police expelled the protesters from the square."), "COERCE")


def test_a_failed_assault_is_still_fighting_not_a_rejection(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Russian troops failed to capture Kyiv in the spring.", published="2022-06-01")
    (fight,) = current(result, "FIGHT")
    assert fight.place is not None and fight.place.name == "Kyiv", "the ground fought over"
    assert not current(result, "REJECT")
    assert not analyse(pipeline, "Kyiv failed to pay the debt on time.").events


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Security forces killed 40 rebels in the north on Sunday.", "FIGHT"),
        ("A roadside bomb killed two soldiers near the border on Sunday.", "ASSAULT"),
        ("Gunmen killed 14 villagers at the market on Sunday.", "ASSAULT"),
    ],
)
def test_killing_fighters_is_fighting_unless_by_bomb_and_killing_civilians_is_assault(
    pipeline: Pipeline, text: str, kind: str
) -> None:
    result = analyse(pipeline, text)
    assert {e.type for e in result.events if e.is_current} & {"FIGHT", "ASSAULT"} == {kind}


@pytest.mark.parametrize(
    "text",
    [
        "Turkish forces set up an observation post near the Syrian border on Monday.",
        "American troops set up a new outpost close to the frontier this week.",
        "Moscow has built an army garrison in western Belarus, officials said.",
    ],
)
def test_setting_up_a_military_post_is_a_deployment(pipeline: Pipeline, text: str) -> None:
    assert current(analyse(pipeline, text), "MOBILIZE")


@pytest.mark.parametrize(
    "text",
    [
        "Poland set up a camp for Ukrainian refugees near the border on Monday.",
        "The bank opened a new headquarters in Kyiv on Monday.",
        "The foreign ministry established its position on the talks on Monday.",
    ],
)
def test_a_camp_a_headquarters_or_a_position_is_not_a_deployment(pipeline: Pipeline, text: str) -> None:
    assert not current(analyse(pipeline, text), "MOBILIZE")


@pytest.mark.parametrize(
    "text",
    [
        "Students scuffled with riot police outside the parliament building on Saturday.",
        "Thousands of protesters marched through the capital on Sunday.",
        "Protesters blocked highways and occupied the town hall on Saturday.",
    ],
)
def test_what_a_crowd_of_protesters_does_is_a_protest(pipeline: Pipeline, text: str) -> None:
    assert current(analyse(pipeline, text), "PROTEST")


def test_troops_gathering_is_a_deployment_not_a_protest(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Russian troops gathered near the border on Sunday.")
    assert current(result, "MOBILIZE") and not current(result, "PROTEST")


def test_reporters_asking_for_comment_and_rescuers_pulling_people_out_are_not_events(
    pipeline: Pipeline,
) -> None:
    assert not analyse(pipeline, "The army press office did not immediately answer our questions.").events
    assert not current(analyse(pipeline, "Soldiers pulled villagers from flooded rooftops."), "RETREAT")
    assert current(analyse(pipeline, "Russia pulled its troops back from the border."), "RETREAT")


@pytest.mark.parametrize(
    ("text", "kind", "actor", "recipient"),
    [
        ("Poland's chargé d'affaires was summoned to the Belarusian foreign ministry on Monday.",
         "ACCUSE", "BLR", "POL"),
        ("Vietnam summoned the Chinese ambassador on Tuesday over the collision.", "ACCUSE", "VNM", "CHN"),
        ("Two Russian fighter jets violated Estonian airspace on Friday.", "FIGHT", "RUS", "EST"),
        ("Armenia and Azerbaijan reached a ceasefire on Sunday.", "AGREE", "ARM", None),
        ("China used water cannon against Philippine vessels on Tuesday.", "COERCE", "CHN", "PHL"),
        ("Georgia said 150 Russian tanks had entered South Ossetia on Friday.", "MOBILIZE", "RUS", None),
        ("The Indian jets turned back on Tuesday.", "RETREAT", "IND", None),
        ("Russia ordered troops to move to the Ukrainian border on Monday.", "MOBILIZE", "RUS", None),
        ("The Greek coast guard answered by firing warning shots at the Turkish vessel.", "THREATEN", "GRC",
         "TUR"),
    ],
)
def test_a_known_trigger_is_typed_by_its_object(
    pipeline: Pipeline, text: str, kind: str, actor: str, recipient: str | None
) -> None:
    result = analyse(pipeline, text, published="2024-05-20")
    found = [e for e in result.events if e.type == kind and actor in codes(e.actors)]
    assert found, [(e.type, codes(e.actors)) for e in result.events]
    if recipient:
        assert recipient in codes(found[0].recipients)


@pytest.mark.parametrize("text", [
    "The planes flew some 2 km into the bay before reaching the coast on Friday.",
    "Refugees crossed the border into Poland on Friday.",
])
def test_reaching_a_place_or_civilians_crossing_is_no_event(pipeline: Pipeline, text: str) -> None:
    result = analyse(pipeline, text, published="2024-05-20")
    assert not [e for e in result.events if e.type in ("AGREE", "FIGHT")]


@pytest.mark.parametrize(("text", "actor"), [
    ("SEOUL: North Korea fired dozens of artillery rounds near the border on Saturday.", "PRK"),
    ("KYIV, Ukraine (AP) — Russian forces shelled villages near the border overnight.", "RUS"),
])
def test_a_dateline_is_not_the_actor_of_the_first_sentence(pipeline: Pipeline, text: str, actor: str) -> None:
    result = analyse(pipeline, text, published="2024-01-06")
    fights = [e for e in result.events if e.type == "FIGHT"]
    assert fights and all(codes(e.actors) == {actor} for e in fights)


def test_deaths_in_the_fighting_are_the_fighting(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Four conscripts were killed in the fighting near the frontier on Monday.",
                     published="2024-05-20")
    assert [e.type for e in result.events if e.is_current] == ["FIGHT"]


def test_a_killing_told_as_the_result_of_shelling_is_one_happening(pipeline: Pipeline) -> None:
    text = ("Officials said the shelling was started by Azerbaijani forces, and as a result "
            "a villager had been killed.")
    result = analyse(pipeline, text, published="2024-05-20")
    current = [e for e in result.events if e.is_current]
    assert [e.type for e in current] == ["FIGHT"]


@pytest.mark.parametrize("text", [
    "She told the council of Armenia's violation of the laws of war, she said.",
    "The ministry said such a breach of Estonia's sovereignty was intolerable.",
])
def test_a_charged_violation_is_no_rejection(pipeline: Pipeline, text: str) -> None:
    result = analyse(pipeline, text, published="2024-05-20")
    assert "REJECT" not in {e.type for e in result.events}


def test_an_order_to_ones_own_forces_is_the_act_it_orders_not_a_request(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Russia ordered troops to move to the Ukrainian border on Monday.",
                     published="2024-05-20")
    assert "REQUEST" not in {e.type for e in result.events}


def test_strikes_told_with_verbs_of_their_own_are_separate_incidents(pipeline: Pipeline) -> None:
    text = ("Armenia says Azerbaijan attacks border posts\n\n"
            "Azerbaijani forces shelled three villages in the Syunik province on Tuesday, the ministry said. "
            "Azerbaijani drones struck an army depot near Jermuk on Tuesday, it added. "
            "The Azerbaijani forces shelled the villages for two hours, officials said.")
    fights = [e for e in current(analyse(pipeline, text, published="2024-05-21"), "FIGHT")
              if codes(e.actors) == {"AZE"}]
    # The shelling is told twice (one event), the drone strike once: two incidents, the headline
    # joining the first.
    assert len(fights) == 2
    assert sorted(len(e.evidence) for e in fights) == [1, 3]


def test_a_clause_that_calls_its_act_another_one_is_a_new_incident(pipeline: Pipeline) -> None:
    text = ("Sudanese jets bombed the town of Bentiu on Saturday, a spokesman said. "
            "Sudanese jets bombed the town again on Saturday evening, local officials said.")
    fights = [e for e in current(analyse(pipeline, text, published="2012-04-14"), "FIGHT")
              if codes(e.actors) == {"SDN"}]
    assert len(fights) == 2


def test_who_is_engaged_in_fighting_fights(pipeline: Pipeline) -> None:
    text = ("Armenia said on Monday that Azerbaijani units have been engaged in heavy fighting with "
            "Armenian troops.")
    fights = current(analyse(pipeline, text, published="2024-05-20"), "FIGHT")
    assert [(codes(e.actors), codes(e.recipients)) for e in fights] == [({"AZE"}, {"ARM"})]


def test_casualties_in_a_named_offensive_are_that_sides_attack(pipeline: Pipeline) -> None:
    text = ("Yerevan said six of its soldiers had been killed and four wounded in the Azerbaijani "
            "offensive on Tuesday.")
    fights = current(analyse(pipeline, text, published="2024-05-22"), "FIGHT")
    assert any(codes(e.actors) == {"AZE"} for e in fights)


def test_a_summoned_envoy_is_summoned_by_the_host_state(pipeline: Pipeline) -> None:
    text = ("Two Russian jets crossed into the airspace of Estonia on Thursday, the third Russian "
            "incursion this month. The Russian chargé d'affaires was summoned to the Ministry of "
            "Foreign Affairs on Friday to receive a protest note.")
    accusations = current(analyse(pipeline, text, published="2024-05-24"), "ACCUSE")
    assert accusations
    assert all(codes(e.actors) == {"EST"} and "RUS" in codes(e.recipients) for e in accusations)


def test_a_condemnation_and_a_summons_are_two_accusations(pipeline: Pipeline) -> None:
    text = ("Latvia on Monday condemned the violation of its airspace by Russian jets. "
            "Latvia also summoned the Russian ambassador to the foreign ministry on Monday.")
    accusations = [e for e in current(analyse(pipeline, text, published="2024-05-20"), "ACCUSE")
                   if codes(e.actors) == {"LVA"}]
    assert len(accusations) == 2


def test_the_act_a_party_condemns_is_alleged_by_it_with_its_doer_and_target(pipeline: Pipeline) -> None:
    text = "Latvia on Tuesday denounced the breach of its airspace by Russian aircraft."
    fights = current(analyse(pipeline, text, published="2024-05-21"), "FIGHT")
    assert [(codes(e.actors), codes(e.recipients), e.claim.stance, e.claim.claimant.code)
            for e in fights] == [({"RUS"}, {"LVA"}, "alleged", "LVA")]


def test_a_warning_read_as_an_accusation_retells_the_accusation(pipeline: Pipeline) -> None:
    text = ("Lithuania accused Belarus on Sunday of massing troops on the border and warned Minsk "
            "against unfriendly actions. Vilnius accused Belarus of building up troops on the border.")
    accusations = [e for e in current(analyse(pipeline, text, published="2024-08-25"), "ACCUSE")
                   if codes(e.recipients) == {"BLR"}]
    assert len(accusations) == 1


def test_casualties_told_before_the_fighting_they_fell_in_are_the_fighting(pipeline: Pipeline) -> None:
    text = ("Heavy fighting broke out between Armenian and Azerbaijani forces on Monday. The health "
            "ministry said that 40 people were injured and three were killed in the fighting.")
    result = analyse(pipeline, text, published="2024-05-20")
    assert [e.type for e in result.events if e.is_current] == ["FIGHT"]


@pytest.mark.parametrize(("text", "retreat"), [
    ("South Korea orders evacuation of residents on border island", False),
    ("The army announced the evacuation of its troops from the border town on Monday.", True),
])
def test_evacuating_residents_is_no_retreat_but_evacuating_troops_is(
    pipeline: Pipeline, text: str, retreat: bool
) -> None:
    result = analyse(pipeline, text, published="2024-05-20")
    assert ("RETREAT" in {e.type for e in result.events}) is retreat


@pytest.mark.parametrize(("text", "kind", "actors"), [
    # Forces a side reports having seen are the other side's deployment.
    ("Japan's defence ministry said it had detected 14 Chinese navy ships near the Senkaku islands.",
     "MOBILIZE", {"CHN"}),
    # Raising readiness, on the order of one's own leader.
    ("The Serbian president ordered the army to the highest level of combat readiness.", "MOBILIZE", {"SRB"}),
    ("Cambodia put its troops along the Thai border on high alert on Sunday.", "MOBILIZE", {"KHM"}),
    ("Hezbollah fighters took up positions along the Lebanese border, the Israeli army said.",
     "MOBILIZE", {"hezbollah"}),
    # A phone call is a consultation of both speakers.
    ("The Indian and Chinese foreign ministers spoke by phone on Tuesday.", "CONSULT", {"IND", "CHN"}),
])
def test_build_ups_alerts_and_calls(pipeline: Pipeline, text: str, kind: str, actors: set[str]) -> None:
    found = current(analyse(pipeline, text, published="2024-05-20"), kind)
    assert any(codes(e.actors) == actors for e in found)


def test_soldiers_killed_in_fighting_with_the_other_side_were_hit_by_it(pipeline: Pipeline) -> None:
    text = "Armenia said six of its soldiers were killed in the fighting with Azerbaijani troops."
    fights = current(analyse(pipeline, text, published="2024-05-20"), "FIGHT")
    assert [(codes(e.actors), codes(e.recipients)) for e in fights] == [({"AZE"}, {"ARM"})]


def test_the_year_of_a_treaty_does_not_date_the_act_that_invokes_it(pipeline: Pipeline) -> None:
    text = "Armenia asked Russia for military assistance under a 1997 treaty on Wednesday."
    requests = current(analyse(pipeline, text, published="2022-09-14"), "REQUEST")
    assert [(codes(e.actors), e.date.start) for e in requests] == [({"ARM"}, "2022-09-14")]


def test_joint_drills_of_two_states_are_cooperation(pipeline: Pipeline) -> None:
    text = "Russia and China held joint naval drills in the Sea of Japan on Wednesday."
    result = analyse(pipeline, text, published="2024-05-22")
    assert [codes(e.actors) for e in current(result, "COOPERATE")] == [{"RUS", "CHN"}]
    assert not current(result, "MOBILIZE")


@pytest.mark.parametrize(("text", "kind", "actor", "target"), [
    ("Chinese coast guard ships began a blockade of Taiwan on Monday.", "COERCE", None, "TWN"),
    ("The withdrawal of Russian troops from the border began on Monday.", "RETREAT", "RUS", None),
])
def test_of_names_the_target_of_an_act_and_the_mover_of_a_withdrawal(
    pipeline: Pipeline, text: str, kind: str, actor: str | None, target: str | None
) -> None:
    found = current(analyse(pipeline, text, published="2024-05-20"), kind)
    assert found
    assert all((actor is None or actor in codes(e.actors)) and "TWN" not in codes(e.actors) for e in found)
    assert target is None or any(target in codes(e.recipients) for e in found)


def test_ramming_another_sides_vessel_is_coercion(pipeline: Pipeline) -> None:
    found = current(analyse(pipeline, "Chinese coast guard ships rammed a Philippine supply boat on Monday.",
                            published="2024-05-20"), "COERCE")
    assert [(codes(e.actors), codes(e.recipients)) for e in found] == [({"CHN"}, {"PHL"})]


@pytest.mark.parametrize(("text", "actors", "targets"), [
    ("An Indian army post came under fire from across the Line of Control on Tuesday.", set(), {"IND"}),
    ("Skirmishes erupted between Thai and Cambodian troops near the disputed temple.", {"THA", "KHM"}, set()),
])
def test_who_comes_under_fire_is_hit_and_a_capitalised_plural_is_no_name(
    pipeline: Pipeline, text: str, actors: set[str], targets: set[str]
) -> None:
    fights = current(analyse(pipeline, text, published="2024-05-21"), "FIGHT")
    assert [(codes(e.actors), codes(e.recipients)) for e in fights] == [(actors, targets)]


def test_an_ultimatum_given_is_a_threat_by_the_giver(pipeline: Pipeline) -> None:
    text = "Azerbaijan gave Armenia an ultimatum to withdraw its troops from the area."
    threats = current(analyse(pipeline, text, published="2024-05-21"), "THREATEN")
    assert [(codes(e.actors), codes(e.recipients)) for e in threats] == [({"AZE"}, {"ARM"})]


def test_a_nominal_act_is_not_its_own_actor(pipeline: Pipeline) -> None:
    text = ("The expulsion of the Rwandan ambassador came on a day when the rebels doubled the "
            "territory they control.")
    found = [e for e in analyse(pipeline, text, published="2022-10-29").events if e.type == "SANCTION"]
    assert all("RWA" not in codes(e.actors) for e in found)


def test_the_use_of_force_a_party_protests_is_alleged_by_it(pipeline: Pipeline) -> None:
    text = ("Vietnam summoned China's ambassador on Friday to protest the Chinese coast guard's use of "
            "water cannon on Vietnamese trawlers.")
    coercion = current(analyse(pipeline, text, published="2024-05-03"), "COERCE")
    assert [(codes(e.actors), e.claim.stance) for e in coercion] == [({"CHN"}, "alleged")]


@pytest.mark.parametrize(("text", "fight"), [
    ("Rebel forces took control of the border town on Sunday after heavy fighting.", True),
    ("The government took control of the national airline on Monday.", False),
])
def test_forces_taking_control_of_a_place_capture_it(pipeline: Pipeline, text: str, fight: bool) -> None:
    assert bool(current(analyse(pipeline, text, published="2024-05-20"), "FIGHT")) is fight


def test_what_forces_stand_near_is_not_whose_they_are(pipeline: Pipeline) -> None:
    text = "Hungary raised the readiness of its army units near the Serbian frontier."
    (event,) = current(analyse(pipeline, text), "MOBILIZE")
    assert codes(event.actors) == {"HUN"}


@pytest.mark.parametrize("text, actor, kind", [
    ("Pakistani troops were seen digging new trenches near the Line of Control.", "PAK", "MOBILIZE"),
    ("Georgian troops were ordered to withdraw from the village.", "GEO", "RETREAT"),
])
def test_the_subject_of_a_passive_governs_what_follows_it(pipeline: Pipeline, text: str, actor: str,
                                                           kind: str) -> None:
    found = current(analyse(pipeline, text), kind)
    assert found and actor in codes(found[0].actors)


def test_gunfire_traded_is_the_traders_fight(pipeline: Pipeline) -> None:
    (event,) = current(analyse(pipeline, "Kyrgyz and Tajik border guards traded gunfire overnight."), "FIGHT")
    assert codes(event.actors) | codes(event.recipients) == {"KGZ", "TJK"}


@pytest.mark.parametrize("text, actor", [
    ("Chinese soldiers transgressed the Line of Actual Control near Demchok.", "CHN"),
    ("Indian troops were hurt in a scuffle with Chinese soldiers, the army said.", None),
])
def test_transgressions_and_scuffles_are_fights(pipeline: Pipeline, text: str, actor: str | None) -> None:
    found = current(analyse(pipeline, text), "FIGHT")
    assert found
    if actor:
        assert actor in codes(found[0].actors)


def test_an_unnamed_spokesman_warns_for_the_side_whose_forces_the_warning_names(pipeline: Pipeline) -> None:
    text = "A spokesman warned that the Azerbaijani army would respond firmly to any provocation."
    found = current(analyse(pipeline, text), "THREATEN")
    assert found and codes(found[0].actors) == {"AZE"}
    # Bystanders' forecasts speak for no one.
    guesses = current(analyse(pipeline, "Analysts warned that Serbia could send troops."), "THREATEN")
    assert all("SRB" not in codes(e.actors) for e in guesses)


@pytest.mark.parametrize("text, kind", [
    ("Armenia reduced the number of troops near Jermuk, its defence ministry said.", "RETREAT"),
    ("Japan reduced weapons deliveries to the region.", None),
])
def test_fewer_forces_is_a_pullback(pipeline: Pipeline, text: str, kind: str | None) -> None:
    found = current(analyse(pipeline, text), "RETREAT")
    assert bool(found) == (kind == "RETREAT")
