"""The relevance prefilter: what it keeps, that it keeps offsets exact, and that it changes no
event (the development-set guarantee is measured by bench/prefilter_eval.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest
from spacy.language import Language
from spacy.tokens import Doc

from borderwatch.config import Config, GeoConfig, NlpConfig, PrefilterConfig, load_config
from borderwatch.errors import ConfigError
from borderwatch.evaluate import read_jsonl, score
from borderwatch.ingest import document_from_record
from borderwatch.models import Document
from borderwatch.pipeline import Pipeline
from borderwatch.prefilter import Prefilter, SelectiveParser, lemmatizer_tables, surface_forms
from conftest import needs_gazetteer

ROOT = Path(__file__).resolve().parents[1]

SPORTS = "The orchestra played Mozart in a packed hall on Saturday. Tickets sold out within hours."
MIXED = (
    "The orchestra played in Frankfurt on Monday.\n\n"
    "Tickets sold out within hours. Critics loved the violinist.\n\n"
    "Belarus massed troops near the border with Ukraine, Kyiv said. They fought near Gomel.\n"
    "Weather stayed mild in Lisbon. Tourists swam all afternoon."
)


@pytest.fixture(scope="module")
def prefilter(nlp: Language) -> Prefilter:
    return Prefilter.for_pipeline(nlp)


def test_forms_come_from_the_lemmatizer(nlp: Language) -> None:
    rules, irregular = lemmatizer_tables(nlp)
    assert "fought" in irregular["fight"] and "met" in irregular["meet"]
    forms = surface_forms("deny", rules, irregular)
    assert {"deny", "denies", "denied", "denying"} <= forms
    assert {"plan", "planned", "planning"} <= surface_forms("plan", rules, irregular)


def test_inflected_trigger_forms_hit_and_word_insides_do_not(prefilter: Prefilter) -> None:
    text = "Troops were mobilized; Minsk denies it; they fought on."
    hit_words = {text[i:].split()[0].strip(";.") for i in prefilter.hits(text)}
    assert {"mobilized", "denies", "fought"} <= hit_words
    assert prefilter.hits(SPORTS) == []


def test_a_trigger_needs_the_rest_of_its_rule_nearby(prefilter: Prefilter) -> None:
    # "head" moves troops only with troops as its object; "car" starts the phrase "car bomb".
    assert prefilter.hits("The head of the orchestra parked her car outside.") == []
    assert prefilter.hits("Two battalions headed for the border.") != []
    assert prefilter.hits("A car bomb exploded outside the ministry.") != []


def test_segments_cover_the_text_and_keep_neighbours(prefilter: Prefilter) -> None:
    plan = prefilter.segments(MIXED)
    assert plan[0].start == 0 and plan[-1].end == len(MIXED)
    assert all(a.end == b.start for a, b in pairwise(plan))
    relevant = "".join(MIXED[s.start : s.end] for s in plan if s.relevant)
    assert "massed troops" in relevant and "fought near Gomel" in relevant
    assert "The orchestra played" not in relevant
    # One sentence of context on each side of a kept sentence.
    assert "Critics loved the violinist" in relevant and "Weather stayed mild" in relevant
    assert "Tourists swam all afternoon" not in relevant


def test_no_trigger_means_no_relevant_segment(prefilter: Prefilter) -> None:
    assert [s.relevant for s in prefilter.segments(SPORTS)] == [False]
    assert prefilter.segments("") == []


def test_joined_doc_keeps_the_text_exactly(nlp: Language) -> None:
    parser = SelectiveParser(nlp, PrefilterConfig(enabled=True))
    texts = [MIXED, SPORTS, "", "  \n", MIXED[5:-3]]
    docs = [doc for doc, _ in parser.pipe(((t, i) for i, t in enumerate(texts)), batch_size=2)]
    assert [d.text for d in docs] == texts
    mixed = docs[0]
    parsed = {t.text for t in mixed if t.pos_}  # tagged and parsed
    assert "massed" in parsed and "played" not in parsed
    # NER reads every sentence: it finds places where the parser never runs.
    assert {"Gomel", "Frankfurt", "Lisbon"} <= {e.text for e in mixed.ents}
    assert [s.text.strip() for s in mixed.sents][:2] == ["The orchestra played in Frankfurt on Monday.",
                                                         "Tickets sold out within hours."]


def _analyse(pipeline: Pipeline, records: list[dict]) -> list[dict]:
    docs = [document_from_record(r, f"test:{i}", pipeline.config.ingest) for i, r in enumerate(records)]
    return [a.to_contract() for a in pipeline.analyse(docs)]


def test_samples_give_the_same_events_and_places_with_the_prefilter_on_and_off(pipeline: Pipeline) -> None:
    records = [
        json.loads(line)
        for line in (ROOT / "samples" / "sample.input.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    records.append({"id": "mixed", "text": MIXED, "published": "2024-08-25"})
    on = Pipeline(replace(Config(), prefilter=PrefilterConfig(enabled=True)))
    assert pipeline.selective is None and on.selective is not None  # off unless asked for
    with_prefilter = _analyse(on, records)
    without = _analyse(pipeline, records)
    assert sum(len(r["events"]) for r in without) > 0
    for a, b in zip(with_prefilter, without, strict=True):
        assert a["events"] == b["events"], a["id"]
        assert a["places"] == b["places"], a["id"]  # NER reads the skipped sentences too
    mixed = with_prefilter[-1]["places"]
    assert {"Gomel", "Frankfurt", "Lisbon"} <= {p["text"] for p in mixed}


def test_sentences_the_places_need_parsed_are_parsed(nlp: Language) -> None:
    def doubts(doc: Doc) -> list[int]:
        return [t.i for t in doc if t.text == "Lisbon"]

    parser = SelectiveParser(nlp, PrefilterConfig(enabled=True), doubts)
    text = MIXED + "\nThe choir sang in Porto. Nobody left early."
    (doc, _), = parser.pipe([(text, None)])
    assert doc.text == text
    parsed = {t.text for t in doc if t.pos_}
    assert {"massed", "Weather", "Lisbon"} <= parsed  # kept, and the doubted sentence
    assert not {"played", "Tourists", "choir", "Porto"} & parsed
    assert "Porto" in {e.text for e in doc.ents}
    assert "Weather stayed mild in Lisbon." in [s.text.strip() for s in doc.sents]


@needs_gazetteer
def test_the_geoparser_names_what_an_unparsed_sentence_leaves_in_doubt(pipeline: Pipeline) -> None:
    def doubts(words: str, ents: list[str]) -> list[str]:
        doc = Doc(pipeline.nlp.vocab, words=words.split(), ents=ents)
        return [doc[i].text for i in pipeline.geo.geoparser.unparsed_doubts(doc)]

    assert pipeline.geo is not None
    # A name NER missed that the gazetteer knows: only the parse says whether it is a place.
    assert doubts("the storm reached Aberdeen on Monday", ["O"] * 5 + ["B-DATE"]) == ["Aberdeen"]
    assert doubts("the storm reached Aberdeen on Monday", ["O", "O", "O", "B-GPE", "O", "B-DATE"]) == []
    # An entity run on into a function word; names nested with words between them.
    ran_on = ["O", "O", "B-GPE", "I-GPE", "I-GPE", "O"]
    assert doubts("ships left United States ' ports", ran_on) == ["United"]
    nested = "Kani ( Kani township , Sagaing region )"
    assert doubts(nested, ["B-GPE", "O", "B-GPE", "O", "O", "B-GPE", "O", "O"]) == ["Sagaing"]
    assert doubts("the frigate Moskva sank", ["O", "O", "B-GPE", "O"]) == ["Moskva"]
    assert doubts("the match ended in a draw", ["O"] * 6) == []


def test_prefilter_settings_load_and_are_checked(tmp_path: Path, nlp: Language) -> None:
    path = tmp_path / "bw.toml"
    path.write_text("[prefilter]\nenabled = true\ncontext = 2\n", encoding="utf-8")
    config = load_config(path)
    assert config.prefilter.enabled is True and config.prefilter.context == 2
    assert Config().prefilter.enabled is False
    with pytest.raises(ConfigError):
        Prefilter.for_pipeline(nlp, context=-1)


def test_a_long_text_joins_chunks_read_either_way(nlp: Language) -> None:
    """One chunk wholly skipped (NER alone: no token vectors), the next wholly parsed."""
    config = replace(
        Config(),
        prefilter=PrefilterConfig(enabled=True),
        nlp=replace(NlpConfig(), chunk_chars=len(SPORTS) + 1),
        geo=replace(GeoConfig(), enabled=False),
    )
    text = SPORTS + "\n" + "Belarus massed troops near the border with Ukraine, Kyiv said."
    analysis = next(Pipeline(config).analyse([Document(source="long", raw_text=text)]))
    assert analysis.error is None
    assert analysis.document.clean_text.endswith("Kyiv said.")
    assert analysis.events


def _measures(report: dict, prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in report.items():
        if isinstance(value, dict):
            out.update(_measures(value, f"{prefix}{key}."))
        elif isinstance(value, float):
            out[f"{prefix}{key}"] = value
    return out


@needs_gazetteer
def test_toponyms_hold_with_the_prefilter_on(shared: Path, pipeline: Pipeline) -> None:
    """The guarantee bench/prefilter_eval.py measures on every set, on the smallest news set:
    every measure, toponyms included, within 0.005 with the prefilter on and off."""
    gold_path = shared / "eval-dev" / "trnews" / "trnews.gold.jsonl"
    if not gold_path.exists():
        pytest.skip(f"{gold_path} not found")
    lines = gold_path.with_name("trnews.input.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    gold = read_jsonl(gold_path)
    on = Pipeline(replace(Config(), prefilter=PrefilterConfig(enabled=True)))
    scores = [
        _measures(score(gold, {r["id"]: r for r in _analyse(p, records)}).to_dict()) for p in (pipeline, on)
    ]
    assert scores[0]["places.recall"] > 0.5
    moved = {k: round(scores[1][k] - v, 4) for k, v in scores[0].items() if abs(scores[1][k] - v) > 0.005}
    assert moved == {}
