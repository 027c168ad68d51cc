"""Headlines written in title case or capitals read as the same headline in sentence case, and
the constructions the parser misreads (headlinese's dropped auxiliaries, a fight as a casualty's
setting, a subject that dies) keep who did what to whom. Every sentence here was written for
these tests.
"""

from __future__ import annotations

import pytest
from spacy.language import Language

from borderwatch.extract.lexicon import load_lexicon
from borderwatch.models import Analysis
from borderwatch.pipeline import Pipeline
from borderwatch.truecase import Truecaser, restore
from conftest import analyse_text, needs_gazetteer


@pytest.fixture(scope="module")
def truecase(nlp: Language) -> Truecaser:
    names = [name for name, entry in load_lexicon().aliases.items() if entry.kind != "ignore"]
    return Truecaser.from_pipeline(nlp, names)


def events(analysis: Analysis) -> set[tuple[str, frozenset[str], frozenset[str]]]:
    return {(e.type, frozenset(a.code for a in e.actors), frozenset(r.code for r in e.recipients))
            for e in analysis.events if e.is_current}


def test_a_title_case_line_is_lowered_except_its_names_and_keeps_its_length(truecase: Truecaser) -> None:
    line = "Georgian Troops Shell Ossetian Hamlets Near Boundary On Tuesday, Tbilisi Says"
    cased = truecase(line)
    assert cased == "Georgian troops shell Ossetian hamlets near boundary on Tuesday, Tbilisi says"
    assert len(cased) == len(line)


def test_inflected_common_words_are_lowered_and_unknown_names_kept(truecase: Truecaser) -> None:
    assert truecase("Rebels Ambushed Convoys Outside Zhytkavichy, Officials Reported") == (
        "Rebels ambushed convoys outside Zhytkavichy, officials reported"
    )


def test_a_line_in_capitals_keeps_short_acronyms_and_names_become_capitalised(truecase: Truecaser) -> None:
    assert truecase("NATO JETS INTERCEPT BELARUSIAN HELICOPTERS OVER LITHUANIA") == (
        "NATO jets intercept Belarusian helicopters over Lithuania"
    )


@pytest.mark.parametrize("text", [
    "Moldova said on Friday that two drones had crossed into its airspace near Ocnita.",
    "Border Guard Service\nFollow Us\nAbout",
    "The Pentagon Papers were published in The New York Times.",
])
def test_prose_and_short_lines_are_handed_over_as_written(truecase: Truecaser, text: str) -> None:
    assert truecase(text) == text


def test_restore_puts_the_parse_back_on_the_original_characters(nlp: Language, truecase: Truecaser) -> None:
    line = "Armenian Sappers Clear Mines Along Lachin Road"
    parsed = nlp(truecase(line))
    restored = restore(parsed, line)
    assert restored.text == line
    assert [t.tag_ for t in restored] == [t.tag_ for t in parsed]
    assert [t.head.i for t in restored] == [t.head.i for t in parsed]
    assert [(e.start_char, e.end_char, e.label_) for e in restored.ents] == [
        (e.start_char, e.end_char, e.label_) for e in parsed.ents
    ]


@needs_gazetteer
@pytest.mark.parametrize("title, sentence", [
    ("Azerbaijani Troops Shell Armenian Village Near Border",
     "Azerbaijani troops shell Armenian village near border"),
    ("Israeli Strike Kills Hezbollah Commander In Southern Lebanon",
     "Israeli strike kills Hezbollah commander in southern Lebanon"),
    ("Indian Army Accuses China Of Building Bunkers In Ladakh",
     "Indian army accuses China of building bunkers in Ladakh"),
])
def test_a_title_case_headline_reads_as_its_sentence_case_twin(pipeline: Pipeline, title: str,
                                                               sentence: str) -> None:
    titled = analyse_text(pipeline, title)
    assert events(titled) == events(analyse_text(pipeline, sentence))
    assert events(titled)
    assert titled.document.clean_text == title  # the article's own characters, not the parser's


@needs_gazetteer
def test_a_headline_casualty_without_auxiliary_is_the_victim(pipeline: Pipeline) -> None:
    (event,) = analyse_text(pipeline, "Georgian police officer killed in ambush near Abkhaz line").events
    assert event.type in ("ASSAULT", "FIGHT")
    assert "GEO" not in {a.code for a in event.actors}
    assert "GEO" in {r.code for r in event.recipients}


@needs_gazetteer
def test_an_active_killing_keeps_its_subject_as_the_killer(pipeline: Pipeline) -> None:
    found = analyse_text(pipeline, "Azerbaijani snipers killed two Armenian soldiers near Sotk.").events
    assert any("AZE" in {a.code for a in e.actors} for e in found)


@needs_gazetteer
def test_those_who_clash_hold_the_fight_a_casualty_fell_in(pipeline: Pipeline) -> None:
    text = "Four soldiers were killed as Kyrgyz and Tajik forces clashed near Vorukh."
    analysis = analyse_text(pipeline, text)
    fights = [e for e in analysis.events if e.type == "FIGHT"]
    assert fights
    sides = {a.code for e in fights for a in [*e.actors, *e.recipients]}
    assert sides == {"KGZ", "TJK"}


@needs_gazetteer
def test_a_town_taken_as_the_lines_collapse_is_still_a_fight(pipeline: Pipeline) -> None:
    analysis = analyse_text(pipeline, "Azerbaijan recaptures Shusha as Armenian defences collapse.")
    assert any(e.type == "FIGHT" and "AZE" in {a.code for a in e.actors} for e in analysis.events)


@needs_gazetteer
@pytest.mark.parametrize("text, victims", [
    ("Three Moldovan border guards died of their wounds on Sunday.", "MDA"),
    ("A Lebanese soldier perished when the outpost was hit.", "LBN"),
    ("The Georgian battalion lost eleven men in the shelling near the boundary.", "GEO"),
])
def test_who_dies_is_whom_the_event_befell(pipeline: Pipeline, text: str, victims: str) -> None:
    found = [e for e in analyse_text(pipeline, text).events if e.type in ("FIGHT", "ASSAULT")]
    assert found
    assert all(victims not in {a.code for a in e.actors} for e in found)
    assert any(victims in {r.code for r in e.recipients} for e in found)


def test_a_long_word_before_punctuation_is_recased_without_backtracking(truecase: Truecaser) -> None:
    # Hostile text: a name pattern with an optional separator would try 2^40 splits of this word.
    word = "Borderlandsofthefareasternprovinceswest"
    line = f"Troops Shell Villages Near {word}1 Border, Officials Say"
    assert truecase(line) == f"Troops shell villages near {word}1 border, officials say"
