"""Places in articles: found, resolved with context, honest about uncertainty, measured to borders."""

from __future__ import annotations

import pytest

from borderwatch.config import IngestConfig
from borderwatch.ingest import document_from_record
from borderwatch.models import Analysis, Event
from borderwatch.pipeline import Pipeline
from conftest import SEED, needs_gazetteer

pytestmark = needs_gazetteer


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline()


def analyse(pipeline: Pipeline, text: str, published: str = "2024-08-25") -> Analysis:
    doc = document_from_record({"id": "g", "text": text, "published": published}, "test", IngestConfig())
    (analysis,) = pipeline.analyse([doc])
    assert analysis.error is None
    return analysis


def mention(analysis: Analysis, text: str):
    found = [m for m in analysis.places if m.text == text]
    assert found, f"{text!r} not among {[m.text for m in analysis.places]}"
    return found[0]


def of_type(analysis: Analysis, kind: str) -> list[Event]:
    return [e for e in analysis.events if e.type == kind and e.is_current]


def test_city_in_its_region_with_a_small_radius(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Belarusian troops massed near Mazyr on Friday, officials said.")
    place = mention(result, "Mazyr").place
    assert place is not None
    assert (place.country, place.admin1, place.precision) == ("BLR", "BY-HO", 4)
    assert place.radius_km is not None and place.radius_km <= 20
    (mobilize,) = of_type(result, "MOBILIZE")
    assert mobilize.place == place
    assert mobilize.proximity["border_with"] == "UKR"
    assert 20 < mobilize.proximity["border_km"] < 80


def test_spelling_variants_resolve_to_one_place(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Shelling hit Kiev and Kharkov; later Kyiv and Kharkiv reported calm.")
    ids = {m.text: m.place.geonameid for m in result.places if m.place}
    assert ids["Kiev"] == ids["Kyiv"]
    assert ids["Kharkov"] == ids["Kharkiv"]


def test_region_word_makes_an_admin1_with_the_oblast_radius(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Russia moved artillery into the Belgorod region near the border.")
    place = next(m.place for m in result.places if m.text.startswith("Belgorod"))
    assert (place.admin1, place.precision) == ("RU-BEL", 2)
    assert place.radius_km > 50


def test_compass_direction_is_a_region_of_the_country(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Heavy fighting continued in eastern Ukraine on Sunday.")
    place = mention(result, "eastern Ukraine").place
    assert place.country == "UKR" and place.precision == 1 and place.radius_km > 150
    assert place.lon > 31.0, "the point sits in the east of the country"


def test_unknown_place_stays_unresolved(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Troops gathered near Zqxvillebergstadt, a village in the north.")
    unresolved = [m for m in result.places if m.place is None]
    assert all(m.reason for m in unresolved)
    assert not any(e.place for e in result.events if "Zqx" in (e.place.name if e.place else ""))


def test_context_picks_the_right_namesake(pipeline: Pipeline) -> None:
    result = analyse(
        pipeline, "In Ukraine, Russian forces shelled positions near Kostiantynivka in the Donetsk region."
    )
    place = next(m.place for m in result.places if m.text.startswith("Kostiantynivka"))
    assert place is not None and place.country == "UKR"


def test_actor_capitals_are_not_event_places(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Kyiv accused Minsk on Sunday of provocations.")
    (accuse,) = of_type(result, "ACCUSE")
    assert accuse.place is None


def test_nuclear_plant_is_a_site(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Drones struck near the Zaporizhzhia nuclear power plant overnight.")
    site = next(m.place for m in result.places if "Zaporizhzhia" in m.text)
    assert site.precision == 5 and site.radius_km <= 5


@pytest.fixture(scope="module")
def seed(pipeline: Pipeline) -> Analysis:
    return analyse(pipeline, SEED.read_text(encoding="utf-8"))


@pytest.mark.skipif(not SEED.exists(), reason=f"seed article not found at {SEED}")
class TestSeedGeography:
    """Issue 3, done when: the seed's places and distances."""

    def test_buildup_in_gomel_oblast_touching_ukraine_near_chernobyl(self, seed: Analysis) -> None:
        (buildup,) = [e for e in of_type(seed, "MOBILIZE") if {a.code for a in e.actors} == {"BLR"}]
        place = buildup.place
        assert (place.admin1, place.precision) == ("BY-HO", 2)
        assert place.radius_km > 100, "an oblast is not a point"
        assert buildup.proximity["border_km"] == 0 and buildup.proximity["border_with"] == "UKR"
        chernobyl = [s for s in buildup.proximity["sites"] if s["id"] == "npp-chernobyl"]
        assert chernobyl and abs(chernobyl[0]["km"] - 10.5) < 2

    def test_incursion_in_kursk_oblast(self, seed: Analysis) -> None:
        incursion = [e for e in of_type(seed, "FIGHT") if {a.code for a in e.actors} == {"UKR"}]
        assert incursion and incursion[0].place.admin1 == "RU-KRS"

    def test_eastern_ukraine_is_wide(self, seed: Analysis) -> None:
        advance = [e for e in of_type(seed, "FIGHT") if {a.code for a in e.actors} == {"RUS"}]
        assert advance and advance[0].place.country == "UKR"
        assert advance[0].place.precision == 1 and advance[0].place.radius_km > 150


def test_informal_region_is_the_union_of_its_oblasts(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Fighting intensified across the Donbas on Monday.")
    place = mention(result, "Donbas").place
    assert place.country == "UKR" and place.precision == 1
    assert 100 < place.radius_km < 400, "the region, not the whole country"
    assert 36.5 < place.lon < 40.5 and 47 < place.lat < 50


def test_a_world_city_beats_a_namesake_the_article_only_shares_a_country_with(pipeline: Pipeline) -> None:
    text = (
        "Officials in Dayton, Columbus and Cincinnati met on Monday. "
        "Later the delegation flew to London for talks."
    )
    assert mention(analyse(pipeline, text), "London").place.country == "GBR"


def test_the_namesake_wins_when_the_article_names_its_region(pipeline: Pipeline) -> None:
    text = "Flooding closed roads in Ohio on Monday. Residents of London, Ohio were evacuated."
    place = mention(analyse(pipeline, text), "London").place
    assert (place.country, place.admin1) == ("USA", "US-OH")


@pytest.mark.parametrize(
    ("name", "kind_precision", "admin1"),
    [("Montana", 2, "US-MT"), ("Quebec", 2, "CA-QC"), ("Donetsk", 4, "UA-14"), ("Gomel", 4, "BY-HO")],
)
def test_a_bare_region_name_is_its_city_only_when_the_city_is_a_large_part_of_it(
    pipeline: Pipeline, name: str, kind_precision: int, admin1: str
) -> None:
    place = mention(analyse(pipeline, f"Reporters travelled to {name} last week."), name).place
    assert (place.precision, place.admin1) == (kind_precision, admin1)


def test_the_nations_of_the_united_kingdom_are_regions(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Storms hit England and Wales, and snow fell across Scotland.")
    found = {m.text: m.place for m in result.places}
    assert {name: (p.country, p.admin1, p.precision) for name, p in found.items()} == {
        "England": ("GBR", "GB-ENG", 2),
        "Wales": ("GBR", "GB-WLS", 2),
        "Scotland": ("GBR", "GB-SCT", 2),
    }
    assert found["England"].radius_km > found["Wales"].radius_km > 50


@pytest.mark.parametrize(
    ("text", "kind", "place"),
    [
        ("Russians shelled Kharkiv overnight, one person died.", "FIGHT", "Kharkiv"),
        ("A pensioner died during separatist shelling of Starobilsk on Monday.", "FIGHT", "Starobilsk"),
        ("Russian forces destroyed 30 soldiers in the Kupiansk direction.", "FIGHT", "Kupyansk"),
        ("Woman killed in Horlivka shelling - mayor's office", "ASSAULT", "Horlivka"),
    ],
)
def test_an_attack_takes_its_place_from_its_target_or_its_direction(
    pipeline: Pipeline, text: str, kind: str, place: str
) -> None:
    events = of_type(analyse(pipeline, text, published="2022-06-01"), kind)
    assert [e.place.name for e in events if e.place] == [place] * len(events) and events


def test_an_accused_capital_is_not_where_the_accusation_happened(pipeline: Pipeline) -> None:
    (accuse,) = of_type(analyse(pipeline, "Kyiv accused Minsk of massing troops."), "ACCUSE")
    assert accuse.place is None


def test_a_romanisation_the_gazetteer_lacks_resolves_within_the_articles_countries(
    pipeline: Pipeline,
) -> None:
    result = analyse(
        pipeline, "Belarusian units were seen near Khoiniki and Brahin in the Gomel region, Kyiv said."
    )
    for text, geonames_name in (("Khoiniki", "Khoyniki"), ("Brahin", "Bragin")):
        place = mention(result, text).place
        assert (place.name, place.country, place.admin1) == (geonames_name, "BLR", "BY-HO")


def test_a_spelling_match_outside_the_articles_countries_stays_unresolved(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Fans waited in Chicago and near Khoiniki for the team bus.")
    found = mention(result, "Khoiniki")
    assert found.place is None and "outside the article's countries" in found.reason


def test_an_informal_region_is_measured_from_its_whole_outline(pipeline: Pipeline) -> None:
    (mobilize,) = of_type(analyse(pipeline, "Russian forces massed troops in Donbas on Monday."), "MOBILIZE")
    assert mobilize.place.name == "Donbas" and mobilize.place.radius_km > 100
    # Donetsk and Luhansk oblasts touch Russia; a point inside them is 60+ km from it.
    assert (mobilize.proximity["border_km"], mobilize.proximity["border_with"]) == (0.0, "RUS")


def test_a_dateline_abbreviation_names_the_state_and_places_the_town(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "GLASGOW, Ky. (AP) — A man was arrested in Glasgow on Monday.")
    assert mention(result, "Ky.").place.admin1 == "US-KY"
    assert [m.place.admin1 for m in result.places if m.text.lower() == "glasgow"] == ["US-KY", "US-KY"]


@pytest.mark.parametrize(
    ("text", "word"),
    [("Miss Ukraine visited Kharkiv on Monday.", "Miss"), ("A Mass was held in Kharkiv on Monday.", "Mass")],
)
def test_a_press_abbreviation_counts_only_with_its_full_stop(
    pipeline: Pipeline, text: str, word: str
) -> None:
    result = analyse(pipeline, text)
    assert all(m.place is None or m.place.country != "USA" for m in result.places)
    assert word not in {m.text for m in result.places}


def test_a_region_made_of_regions_is_measured_from_its_outline(pipeline: Pipeline) -> None:
    result = analyse(pipeline, "Serbian troops massed in Republic Srpska on Monday.")
    (mobilize,) = of_type(result, "MOBILIZE")
    assert mobilize.place.precision == 2 and mobilize.place.admin1 is None
    # Republika Srpska runs along the Drina, the border with Serbia; its centre is ~80 km from it.
    assert (mobilize.proximity["border_km"], mobilize.proximity["border_with"]) == (0.0, "SRB")


def _groups() -> dict[str, dict]:
    import tomllib
    from importlib import resources

    text = (resources.files("borderwatch") / "data" / "regions.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)["group"]


@pytest.mark.parametrize("slug", sorted(_groups()))
def test_every_group_of_countries_resolves_with_a_radius_holding_its_members(
    pipeline: Pipeline, slug: str
) -> None:
    from borderwatch.evaluate import haversine_km

    spec = _groups()[slug]
    geoparser = pipeline.geo.geoparser
    for name in spec["names"]:
        entry = geoparser.regions[geoparser_key(name)]
        assert entry.key == f"group:{slug}" and entry.precision == 1
    for code in spec["countries"]:
        member = geoparser.gazetteer.get(f"c:{code}")
        assert haversine_km(entry.lat, entry.lon, member.lat, member.lon) < entry.radius_km, code


def geoparser_key(name: str) -> str:
    from borderwatch.geo.gazetteer import normalize_name

    return normalize_name(name.removeprefix("the "))


def test_the_baltics_are_a_region_the_sites_are_measured_from(pipeline: Pipeline) -> None:
    (mobilize,) = of_type(analyse(pipeline, "NATO moved troops into the Baltics on Monday."), "MOBILIZE")
    assert mobilize.place.name == "Baltic states" and mobilize.place.precision == 1
    assert mobilize.proximity["border_with"] is None, "many borders: none is the nearest of one country"
    assert "npp-ignalina" in {s["id"] for s in mobilize.proximity["sites"]}


@pytest.mark.parametrize(("text", "kind", "place"), [
    ("North Korea fired two missiles from Pyongyang toward Hokkaido on Friday.", "FIGHT", "Hokkaid"),
    ("South Sudan said its forces were withdrawing from Bentiu on Friday.", "RETREAT", "Bentiu"),
])
def test_a_strike_is_placed_where_it_goes_an_origin_only_when_nothing_else_is_named(
    pipeline: Pipeline, text: str, kind: str, place: str
) -> None:
    (event,) = of_type(analyse(pipeline, text), kind)
    assert event.place is not None and event.place.name.startswith(place)


@pytest.mark.parametrize(("text", "ship"), [
    ("The cruiser Moskva sank in the Black Sea after Ukraine struck it.", "Moskva"),
    ("The Russian submarine Kursk was deployed near the Norwegian coast on Friday.", "Kursk"),
    ("The frigate Admiral Essen fired cruise missiles at Odesa.", "Essen"),
])
def test_a_ships_name_is_no_place(pipeline: Pipeline, text: str, ship: str) -> None:
    analysis = analyse(pipeline, text)
    assert mention(analysis, ship).place is None
    assert all(e.place is None or e.place.name != ship for e in analysis.events)


def test_a_city_named_like_a_ship_is_still_a_city(pipeline: Pipeline) -> None:
    assert mention(analyse(pipeline, "Troops moved to Kursk on Friday."), "Kursk").place is not None


def test_a_capitalised_headline_word_the_article_also_writes_in_lower_case_is_no_place(
    pipeline: Pipeline,
) -> None:
    analysis = analyse(pipeline, "Guards Trade Fire at Torkham Border\n\n"
                                 "Officials reported an exchange of fire on the Torkham border on Thursday.")
    # Read in sentence case (truecasing) or as a mention, "Border" resolves to no place.
    assert not [m for m in analysis.places if m.text == "Border" and m.place is not None]
    assert "Torkham Border" not in {m.text for m in analysis.places}


def test_two_acts_in_two_places_stay_two_events_one_place_merges(pipeline: Pipeline) -> None:
    apart = analyse(pipeline, "Russian forces shelled Kharkiv on Saturday.\n\n"
                              "Russian forces shelled Odesa on Saturday.")
    assert len([e for e in of_type(apart, "FIGHT") if e.is_current]) == 2
    # The same act retold (a noun, the same place) is one event; "struck Kharkiv again" would be
    # another one (tests/test_extract.py: incidents).
    together = analyse(pipeline, "Russian forces shelled Kharkiv on Saturday.\n\n"
                                 "The Russian shelling of Kharkiv lasted for hours on Saturday.")
    (fight,) = [e for e in of_type(together, "FIGHT") if e.is_current]
    assert len(fight.evidence) == 2 and fight.place is not None and fight.place.name == "Kharkiv"


@needs_gazetteer
@pytest.mark.parametrize("text, name, country", [
    ("Pakistani and Afghan guards exchanged fire at the Chaman border on Friday.", "Chaman", "PAK"),
    ("Trucks were stuck for days at the Lachin corridor.", "Lachin", "AZE"),
])
def test_a_name_before_a_border_or_crossing_word_is_a_place_whatever_ner_calls_it(
    pipeline: Pipeline, text: str, name: str, country: str
) -> None:
    # NER reads these names as a nationality or a person; "border", "corridor" say where.
    found = mention(analyse(pipeline, text), name)
    assert found.place is not None and found.place.country == country
