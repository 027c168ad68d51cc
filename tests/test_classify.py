"""The learned type classifier (extract/classify.py): its shipped weights, its training corpus, a
reproducible retrain, and the context decisions it adds to the rule detector."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from spacy.language import Language

from borderwatch.assess.embed import DIMENSION, Embedder
from borderwatch.config import Config, ExtractConfig, IngestConfig, load_config
from borderwatch.errors import ConfigError
from borderwatch.evaluate import score
from borderwatch.extract.actors import ActorResolver
from borderwatch.extract.classify import (
    CORPUS_FILE,
    LABELS,
    N_FEATURES,
    TypeModel,
    load_corpus,
    training_rows,
    wordnet_verbs,
)
from borderwatch.extract.lexicon import load_lexicon
from borderwatch.extract.rules import RuleDetector
from borderwatch.ingest import document_from_record
from borderwatch.models import EVENT_TYPES, Analysis, Event
from borderwatch.pipeline import Pipeline


def test_shipped_model_is_well_formed_and_matches_the_corpus() -> None:
    model = TypeModel.load()
    assert model.labels == LABELS
    assert model.coef.shape == (len(LABELS), N_FEATURES)
    probs = model.probabilities(np.random.default_rng(0).normal(size=(4, N_FEATURES)).astype(np.float32))
    assert probs.shape == (4, len(LABELS))
    assert np.allclose(probs.sum(axis=1), 1.0)
    # The weights were trained on the corpus that ships beside them (scripts/train_classifier.py).
    corpus = load_corpus()
    digest = hashlib.sha256("\n".join(f"{a}\t{b}" for a, b in corpus).encode()).hexdigest()[:12]
    assert f"{CORPUS_FILE} sha256:{digest} n={len(corpus)}" in model.version


def test_a_malformed_model_file_is_refused(tmp_path: Path) -> None:
    model = TypeModel.load()
    path = tmp_path / "bad.npz"
    np.savez(path, format=np.array(1), labels=np.array(model.labels[:-1]), coef=model.coef[:-1],
             intercept=model.intercept[:-1], version=np.array("x"), vectors=np.array("pieces"))
    with pytest.raises(ConfigError, match="labels"):
        TypeModel.read(path)
    with pytest.raises(ConfigError, match="cannot load"):
        TypeModel.read(tmp_path / "missing.npz")


def test_corpus_covers_every_type() -> None:
    corpus = load_corpus()
    counts = Counter(label for label, _ in corpus)
    assert set(counts) == set(LABELS)
    assert min(counts.values()) >= 30, counts
    sentences = [s for _, s in corpus]
    assert len(set(sentences)) == len(sentences), "duplicate sentences"


def test_corpus_copies_no_gold_sentence(shared: Path) -> None:
    """Eight words in a row shared with a development input would mean a copied line."""

    def shingles(text: str) -> set[str]:
        words = re.findall(r"\w+", text.lower())
        return {" ".join(words[i : i + 8]) for i in range(len(words) - 7)}

    gold: set[str] = set()
    for path in (shared / "eval-dev").glob("*/*.input.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            gold |= shingles(json.loads(line).get("text") or "")
    copied = [s for _, s in load_corpus() if shingles(s) & gold]
    assert not copied, copied


def test_a_small_retrain_cross_validates_above_the_lexicon(nlp: Language) -> None:
    sklearn_lm = pytest.importorskip("sklearn.linear_model", reason="scikit-learn is a dev dependency")
    selection = pytest.importorskip("sklearn.model_selection")
    corpus = load_corpus()[::2]
    labels = np.array([label for label, _ in corpus])
    lexicon = load_lexicon()
    rows = training_rows(nlp, RuleDetector(lexicon, ActorResolver(nlp, lexicon)),
                         [s for _, s in corpus], Embedder.load(), TypeModel.load().vectors)
    folds = selection.StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    predicted = selection.cross_val_predict(sklearn_lm.LogisticRegression(C=2.0, max_iter=5000), rows, labels,
                                            cv=folds)
    accuracy = float(np.mean(predicted == labels))
    rules = rows[:, DIMENSION : DIMENSION + len(EVENT_TYPES)]
    lexicon_only = np.array([EVENT_TYPES[int(r.argmax())] if r.any() else "NONE" for r in rules])
    assert accuracy >= 0.7
    assert accuracy > float(np.mean(lexicon_only == labels)) + 0.05


@pytest.fixture(scope="module")
def typed() -> Pipeline:
    return Pipeline(replace(Config(), extract=ExtractConfig(detectors=("typed",))))


def current_types(pipeline: Pipeline, text: str) -> set[str]:
    doc = document_from_record({"id": "t", "text": text, "published": "2025-03-04"}, "test", IngestConfig())
    (analysis,) = pipeline.analyse([doc])
    assert isinstance(analysis, Analysis) and analysis.error is None
    return {e.type for e in analysis.events if isinstance(e, Event) and e.is_current}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # Modality decides: a conditional blockade is a threat, not coercion that may happen.
        ("The farmers' federation would blockade the motorways if the import quotas were lifted, "
         "its president said.", "THREATEN"),
        # Verbs the lexicon lacks, typed through WordNet and the sentence: the long tail.
        ("Kazakhstan reprimanded the Russian envoy over the remarks about its northern regions.", "ACCUSE"),
        ("Uruguay's foreign minister berated Paraguay over the closure of the river port.", "ACCUSE"),
        ("The coastguard impounded a Honduran trawler fishing illegally in the bay.", "COERCE"),
    ],
)
def test_context_and_the_long_tail_decide_the_type(typed: Pipeline, text: str, kind: str) -> None:
    assert kind in current_types(typed, text)


def test_an_added_event_takes_its_actor_from_the_rules(typed: Pipeline) -> None:
    text = "Kazakhstan reprimanded the Russian envoy over the remarks."
    doc = document_from_record({"id": "t", "text": text, "published": "2025-03-04"}, "test", IngestConfig())
    (analysis,) = typed.analyse([doc])
    (event,) = [e for e in analysis.events if e.type == "ACCUSE"]
    assert [a.code for a in event.actors] == ["KAZ"]
    assert event.date.start == "2025-03-04"


def test_the_wordnet_verbs_are_well_formed() -> None:
    verbs = wordnet_verbs()
    assert len(verbs) > 500
    assert set(verbs.values()) <= set(EVENT_TYPES)
    assert all(verb == verb.lower().strip() and verb for verb in verbs)


def test_an_unknown_detector_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown detectors"):
        Pipeline(replace(Config(), extract=ExtractConfig(detectors=("nonsense",))))


def test_the_switch_is_read_from_the_configuration_file(tmp_path: Path) -> None:
    path = tmp_path / "borderwatch.toml"
    path.write_text('[extract]\ndetectors = ["rules"]\n', encoding="utf-8")
    assert load_config(path).extract.detectors == ("rules",)
    assert load_config(None).extract.detectors == ("typed", "charges", "sightings", "headlines")


@pytest.mark.parametrize(
    ("text", "read"),
    [
        # No actor the lexicon knows and no trigger, but people who act as the subject.
        ("Gunmen mowed down worshippers at a church near the river.", True),
        ("The regime muzzled the independent press ahead of the vote.", True),
        ("Wheat prices rose on the exchange in Chicago.", False),
        ("More details will follow, President Martin added.", False),  # a verb of saying
    ],
)
def test_a_sentence_whose_subject_can_act_is_read_without_trigger_or_actor(
    typed: Pipeline, text: str, read: bool
) -> None:
    (detector,) = typed.extractor.detectors
    sent = next(iter(typed.nlp(text).sents))
    assert (detector.opinion(sent, []) is not None) is read


def test_a_state_protesting_by_name_accuses_and_a_population_protests(typed: Pipeline) -> None:
    assert "ACCUSE" in current_types(typed, "The Philippines protested the ramming of its supply boat.")
    assert "PROTEST" not in current_types(typed, "The Philippines protested the ramming of its supply boat.")
    assert "PROTEST" in current_types(typed, "Thousands of Ukrainians protested in Kyiv against the law.")


def test_nothing_is_added_on_a_verb_of_saying(typed: Pipeline) -> None:
    assert not current_types(typed, "He said more details would follow after the meeting of the committee.")


def test_types_of_unseen_verbs_stay_above_the_floor(typed: Pipeline) -> None:
    """samples/types_unseen: 144 typed sentences whose main verb is mostly outside the lexicon (126)
    and never in the training corpus, and 8 without an event."""
    samples = Path(__file__).resolve().parents[1] / "samples"
    records = [json.loads(line) for line in (samples / "types_unseen.input.jsonl").read_text().splitlines()]
    lines = (samples / "types_unseen.gold.jsonl").read_text().splitlines()
    gold = {g["id"]: g for g in map(json.loads, lines)}
    docs = [document_from_record(r, f"sample:{r['id']}", IngestConfig()) for r in records]
    pred = {a.document.input_id: a.to_contract() for a in typed.analyse(docs)}
    micro = score(gold, pred).to_dict()["event_types"]["micro"]
    # Measured micro F1 0.57 (precision 0.70) when this floor was set; 0.45 before issue 10's second round.
    assert micro["f1"] >= 0.5 and micro["precision"] >= 0.6


def test_types_of_a_fresh_plover_style_set_stay_above_the_floor(typed: Pipeline) -> None:
    """samples/types_fresh: 128 one-sentence wire lines across the 18 types (7 or 8 each), with
    modality, nominal events and negation, and 10 with no current event; written before issue 10's
    third round changed the code, as its unseen measure."""
    samples = Path(__file__).resolve().parents[1] / "samples"
    records = [json.loads(line) for line in (samples / "types_fresh.input.jsonl").read_text().splitlines()]
    lines = (samples / "types_fresh.gold.jsonl").read_text().splitlines()
    gold = {g["id"]: g for g in map(json.loads, lines)}
    docs = [document_from_record(r, f"sample:{r['id']}", IngestConfig()) for r in records]
    pred = {a.document.input_id: a.to_contract() for a in typed.analyse(docs)}
    micro = score(gold, pred).to_dict()["event_types"]["micro"]
    # Measured micro F1 0.92 (precision 0.94) when this floor was set; 0.82 before that round.
    assert micro["f1"] >= 0.85 and micro["precision"] >= 0.85
