"""Sentence embeddings: the real all-MiniLM-L6-v2 from its installed package, run in numpy."""

from __future__ import annotations

import numpy as np
import pytest

from borderwatch.assess.embed import DIMENSION, MODEL_PACKAGE, Embedder, _model_dir
from borderwatch.errors import ConfigError

TROOPS = "Belarus is massing troops near the Ukrainian border."
PARAPHRASE = "Minsk has concentrated soldiers close to its frontier with Ukraine."
FOOTBALL = "Manchester United beat Liverpool 2-1 in Saturday's football match at Old Trafford."
SIGHTING = "military trucks moving west near Mazyr, Belarus."
WIRE = (
    "{dateline} - Belarus has moved tanks, artillery and several thousand troops to within "
    "30 km of its border with Ukraine, satellite images published on Tuesday showed, as Kyiv accused "
    "Minsk of preparing the ground for an attack. The Belarusian defence ministry said the units were "
    "taking part in scheduled exercises and would return to their bases by the end of the month."
)
SENTENCES = [TROOPS, PARAPHRASE, FOOTBALL, SIGHTING, "", WIRE.format(dateline="KYIV, Jan 24 (Reuters)")]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder.load()


def test_load_is_cached(embedder: Embedder) -> None:
    assert Embedder.load() is embedder


def test_embeddings_are_unit_float32_vectors(embedder: Embedder) -> None:
    vectors = embedder.encode(SENTENCES)
    assert vectors.shape == (len(SENTENCES), DIMENSION) == (6, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_matches_the_reference_model(embedder: Embedder) -> None:
    # Computed once with sentence-transformers 6.2.0 on torch 2.13.0 (CPU) from the same package.
    reference = [0.017153, -0.001895, -0.029106, 0.020555, 0.037559, -0.003166, -0.061529, -0.021523]
    np.testing.assert_allclose(embedder.encode([SIGHTING])[0, :8], reference, atol=2e-6)
    assert embedder.similarity(TROOPS, PARAPHRASE) == pytest.approx(0.6838824, abs=1e-5)


def test_deterministic(embedder: Embedder) -> None:
    assert np.array_equal(embedder.encode(SENTENCES), embedder.encode(SENTENCES))


def test_batch_size_and_neighbours_do_not_change_a_vector(embedder: Embedder) -> None:
    whole = embedder.encode(SENTENCES, batch_size=32)
    for batch_size in (1, 2, 4):
        np.testing.assert_allclose(embedder.encode(SENTENCES, batch_size=batch_size), whole, atol=1e-5)
    alone = np.vstack([embedder.encode([s]) for s in SENTENCES])
    np.testing.assert_allclose(alone, whole, atol=1e-5)


def test_paraphrase_is_closer_than_an_unrelated_sentence(embedder: Embedder) -> None:
    paraphrase = embedder.similarity(TROOPS, PARAPHRASE)
    unrelated = embedder.similarity(TROOPS, FOOTBALL)
    assert paraphrase > 0.6
    assert unrelated < 0.1
    assert paraphrase > unrelated + 0.5


COPY_DATELINES = ["KYIV, Jan 25 (Reuters)", "MINSK, Jan 25 (Reuters)", "WARSAW, Jan 24 (AP)"]


@pytest.mark.parametrize("dateline", COPY_DATELINES)
def test_wire_copy_with_another_dateline_is_near_identical(embedder: Embedder, dateline: str) -> None:
    original = WIRE.format(dateline="KYIV, Jan 24 (Reuters)")
    assert embedder.similarity(original, WIRE.format(dateline=dateline)) > 0.95


def test_similarity_is_the_dot_product_of_encodings(embedder: Embedder) -> None:
    a, b = embedder.encode([TROOPS, SIGHTING])
    assert embedder.similarity(TROOPS, SIGHTING) == pytest.approx(float(a @ b), abs=1e-6)
    assert embedder.similarity(TROOPS, TROOPS) == pytest.approx(1.0, abs=1e-5)


def test_empty_input_gives_an_empty_matrix(embedder: Embedder) -> None:
    vectors = embedder.encode([])
    assert vectors.shape == (0, DIMENSION)
    assert vectors.dtype == np.float32


def test_long_text_is_cut_at_256_word_pieces(embedder: Embedder) -> None:
    head = " ".join([TROOPS] * 40)  # about 400 word pieces
    assert len(embedder.tokenizer.encode(head).ids) == 256
    one, other = embedder.encode([head + " " + FOOTBALL, head + " " + SIGHTING])
    np.testing.assert_allclose(one, other, atol=1e-6)  # everything past the cut is ignored
    assert np.linalg.norm(one) == pytest.approx(1.0, abs=1e-5)


def test_missing_model_package_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not installed"):
        Embedder.load("no_such_model_package")
    with pytest.raises(ConfigError, match=r"model\.safetensors is missing"):
        Embedder.load("borderwatch")  # installed, but ships no model


def test_the_encoder_is_assembled_only_when_a_sentence_is_encoded(embedder: Embedder) -> None:
    # Extraction reads only the word-piece table; a process that never clusters never pays for
    # the encoder. A fresh instance, since the cached one may have encoded already.
    fresh = Embedder(_model_dir(MODEL_PACKAGE))
    assert fresh.word.shape == embedder.word.shape and fresh._session is None
    sentence = ["Tanks were moved towards the frontier overnight."]
    vector = fresh.encode(sentence)
    assert fresh._session is not None and fresh.session is fresh._session
    assert np.allclose(vector, embedder.encode(sentence), atol=1e-6)
