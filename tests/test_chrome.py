"""The line classifier: publisher chrome goes by its shape and place, the article stays whole."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

from borderwatch.clean import REASONS, clean_document, clean_text
from borderwatch.clean.chrome import CHROME_REASONS, outlet_keys, reason_for, shipped_model
from borderwatch.clean.classifier import MODEL_VERSION, chrome_scores, parse_model
from borderwatch.clean.features import FEATURE_NAMES, LEXICON, line_features, line_shape, parse_lexicon
from borderwatch.errors import ConfigError
from borderwatch.models import Document, RemovedSpan

DATA = Path(__file__).resolve().parents[1] / "src" / "borderwatch" / "data"
ARTICLES = Path(__file__).resolve().parents[2] / "shared" / "eval-dev" / "articles"

ARTICLE = [
    "Border guards in the eastern province said on Tuesday that two armoured columns had crossed "
    "the river road near the old customs post before dawn, according to the regional command.",
    "The columns halted about three kilometres inside the disputed strip and set up a field camp, "
    "a spokesman for the command told reporters, adding that patrols had been doubled.",
    "Villagers in the valley said they had heard heavy engines through the night and that the "
    "only bridge over the river had been closed to civilian traffic since Monday evening.",
    "The foreign ministry summoned the neighbouring country's ambassador and demanded that the "
    "troops withdraw to their side of the line within forty-eight hours.",
    "Talks between the two defence ministers, planned for next week in a third country, have not "
    "been called off, a diplomat familiar with the preparations said.",
]
HEADLINE = "Columns cross river road as border standoff deepens"
CHROME = {
    "section": "World news",
    "navigation": "Home / World / Asia / Columns cross river road",
    "byline": "Updated: 14-03-2025 09:12 GMT | Created: 14-03-2025 07:40 GMT",
    "caption": "Soldiers stand next to an armoured vehicle near the customs post. / Reuters",
    "widget": "Remind me later",
    "url": "https://example.org/p/8c2f",
    "teaser": "Ministers to meet as tension grows along the northern frontier",
    "newsletter": "Sign up for our daily briefing newsletter",
    "copyright": "© 2025 The Valley Courier. All rights reserved.",
}
PAGE = "\n\n".join([
    CHROME["section"], CHROME["navigation"], HEADLINE, CHROME["byline"], CHROME["caption"],
    ARTICLE[0], ARTICLE[1], CHROME["widget"], ARTICLE[2], ARTICLE[3], CHROME["url"], ARTICLE[4],
    CHROME["newsletter"], "Related stories", CHROME["teaser"],
    "Refugees wait at the closed crossing for a second day", CHROME["copyright"],
]) + "\n"


def _removed(text: str, spans: list[RemovedSpan]) -> dict[str, str]:
    """Each removed non-empty line mapped to its span's reason."""
    return {line.strip(): span.reason for span in spans
            for line in text[span.start:span.end].splitlines() if line.strip()}


def test_chrome_goes_and_every_article_line_stays_byte_identical() -> None:
    clean, spans = clean_text(PAGE)
    removed = _removed(PAGE, spans)
    for line in CHROME.values():
        assert line in removed, f"chrome kept: {line!r}"
    for line in [HEADLINE, *ARTICLE]:
        assert line in clean.splitlines(), f"article line lost or altered: {line[:40]!r}"
    assert {span.reason for span in spans} <= REASONS
    kept, pos = [], 0
    for span in spans:
        assert pos <= span.start < span.end
        assert span.start == 0 or PAGE[span.start - 1] == "\n"
        kept.append(PAGE[pos:span.start])
        pos = span.end
    kept.append(PAGE[pos:])
    assert "".join(kept).rstrip() == clean


def test_removed_lines_say_what_they_were() -> None:
    removed = _removed(PAGE, clean_text(PAGE)[1])
    assert removed[CHROME["section"]] == "navigation"
    for reason in ("navigation", "byline", "caption", "url", "newsletter"):
        assert removed[CHROME[reason]] == reason
    # The newsletter prompt opens a block that runs to the end of the page.
    assert removed[CHROME["copyright"]] == "newsletter"


def test_the_headline_stays_and_the_chrome_around_it_goes() -> None:
    """The headline states the story: it stays, on a line of its own, and the lede follows it."""
    clean, _ = clean_text(PAGE)
    assert clean.split("\n\n")[:2] == [HEADLINE, ARTICLE[0]]


def test_an_earlier_copy_of_a_repeated_line_goes_the_last_stays() -> None:
    summary = ARTICLE[1]
    page = "\n".join([summary, ARTICLE[0], summary, ARTICLE[2], ARTICLE[3]]) + "\n"
    clean, spans = clean_text(page)
    assert clean.count(summary) == 1
    assert clean.index(summary) > clean.index(ARTICLE[0])
    assert spans[0].start == 0 and spans[0].reason == "duplicate"


def test_a_page_in_another_language_is_left_to_the_patterns() -> None:
    page = "\n".join([
        "Inicio", "Las tropas cruzaron el río antes del amanecer, según el mando regional de la zona.",
        "Los vecinos dijeron que el puente estaba cerrado desde el lunes por la noche en la frontera.",
        "https://example.org/p/1",
    ]) + "\n"
    assert clean_text(page)[1] == []


def test_hard_wrapped_text_without_a_prose_line_is_left_alone() -> None:
    wrapped = "\n".join(" ".join(ARTICLE)[i:i + 70] for i in range(0, 700, 70)) + "\n"
    assert clean_text(wrapped)[1] == []


def test_hard_wrapped_text_is_left_alone_even_with_some_prose_lines() -> None:
    """Pieces of wrapped paragraphs ("December.", "and the north.") look like chrome on their own."""
    wrapped = [line for paragraph in ARTICLE[1:] for line in textwrap.wrap(paragraph, 60)]
    page = "\n".join([ARTICLE[0], *wrapped]) + "\n"
    assert sum(line[0].islower() for line in wrapped) >= 0.2 * len(wrapped)
    assert clean_text(page)[1] == []


def test_a_list_of_terse_reports_is_no_page_and_is_left_alone() -> None:
    """Sighting lines or headlines under one paragraph look like teasers after a body; an article
    page's body is most of it, so the classifier keeps out."""
    reports = [f"Column of {n} trucks seen heading north near the river crossing" for n in range(8, 20)]
    page = "\n".join([ARTICLE[0], *reports]) + "\n"
    assert clean_text(page)[1] == []


def test_html_keeps_trafilaturas_main_text_then_the_same_cleaner() -> None:
    body = "".join(f"<p>{p}</p>" for p in ARTICLE)
    html = (f"<html><body><nav><a href='/'>Home</a></nav><article><h1>{HEADLINE}</h1>"
            f"{body}<p>{CHROME['copyright']}</p></article></body></html>")
    doc = clean_document(Document(source="page.html", raw_text=html, is_html=True))
    for line in ARTICLE:
        assert line in doc.clean_text
    assert CHROME["copyright"] not in doc.clean_text
    assert "copyright" in {span.reason for span in doc.removed}


# --- features and model -----------------------------------------------------------------------


def test_features_see_shape_not_content_words() -> None:
    """Two lines of the same shape with other content words get the same features: the model
    cannot memorise the pages it was trained on."""
    a, b = ("Troops crossed the river at dawn, officials said on Monday.",
            "Tanks crossed the border at dawn, officials said on Friday.")
    assert len(a) == len(b)
    assert line_shape(a).values == line_shape(b).values
    assert line_features(["Border news", ARTICLE[0]]).shape == (2, len(FEATURE_NAMES))


def test_classifier_scores_chrome_above_article() -> None:
    bodies = [line for line in PAGE.splitlines() if line]
    x, scores = chrome_scores(bodies, shipped_model())
    assert x.shape == (len(bodies), len(FEATURE_NAMES))
    article = [scores[bodies.index(line)] for line in ARTICLE]
    chrome = [scores[bodies.index(line)] for line in
              (CHROME["section"], CHROME["byline"], CHROME["copyright"], "Related stories")]
    assert max(article) < min(chrome)
    assert np.all((scores >= 0) & (scores <= 1))


def test_every_classifier_reason_is_reachable_and_listed() -> None:
    assert CHROME_REASONS <= REASONS
    bodies = [line for line in PAGE.splitlines() if line]
    x = line_features(bodies)
    assert {reason_for(row) for row in x} <= CHROME_REASONS


def test_shipped_model_is_loaded_once_and_matches_the_features() -> None:
    assert shipped_model() is shipped_model()
    raw = json.loads((DATA / "chrome_model.json").read_text(encoding="utf-8"))
    assert raw["version"] == MODEL_VERSION and raw["features"] == list(FEATURE_NAMES)
    assert raw["training"]["cv_folds_by_page"] >= 2
    assert (DATA / "chrome_model.json").stat().st_size < 20_000, "the model must stay small"


GOOD_MODEL = (DATA / "chrome_model.json").read_text(encoding="utf-8")


def _edit(change) -> str:
    raw = json.loads(GOOD_MODEL)
    change(raw)
    return json.dumps(raw)


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("{", "not valid JSON"),
        (_edit(lambda m: m.update(version=MODEL_VERSION + 1)), "model version"),
        (_edit(lambda m: m["features"].reverse()), "features"),
        (_edit(lambda m: m["stages"].pop()), "two stages"),
        (_edit(lambda m: m["stages"][0]["coef"].pop()), "stages[0].coef"),
        (_edit(lambda m: m["stages"][1]["scale"].__setitem__(0, 0)), "scales positive"),
        (_edit(lambda m: m.update(threshold=1.5)), "threshold"),
    ],
)
def test_malformed_model_is_a_config_error(broken: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_model(broken, "model.json")


def test_packaged_model_parses() -> None:
    model = parse_model(GOOD_MODEL, "model.json")
    assert 0 < model.threshold <= model.prose_threshold < 1


def test_word_lists_are_validated() -> None:
    good = (DATA / "line_features.toml").read_text(encoding="utf-8")
    assert parse_lexicon(good, "lists.toml") == LEXICON
    with pytest.raises(ConfigError, match="lower-case words"):
        parse_lexicon(good.replace('"a", "about"', '"A", "about"'), "lists.toml")
    with pytest.raises(ConfigError, match="sections"):
        parse_lexicon(good + "\n[extra]\nwords = ['x']\n", "lists.toml")


def test_cost_grows_linearly_with_the_text() -> None:
    """Repeating the page 200 times multiplies the lines by 200; every feature is a single pass
    or a dictionary look-up, so the work per line must not grow."""
    page = "\n".join(ARTICLE) + "\n"
    big = page * 200
    clean, spans = clean_text(big)
    assert clean.count(ARTICLE[0]) == 1, "all but the last copy of a repeated line go"
    assert all(span.reason == "duplicate" for span in spans)


# --- the real articles development set ---------------------------------------------------------


def _norm(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.skipif(not ARTICLES.exists(), reason="../shared/eval-dev/articles is not available")
def test_real_articles_lose_their_chrome_and_keep_their_evidence() -> None:
    inputs = {r["id"]: r for r in map(json.loads, (ARTICLES / "articles.input.jsonl").open())}
    chrome = kept = evidence = found = 0
    for gold in map(json.loads, (ARTICLES / "articles.gold.jsonl").open()):
        clean = _norm(clean_document(Document(source=gold["id"], raw_text=inputs[gold["id"]]["text"]))
                      .clean_text)
        for text in gold["removed_substrings"]:
            if len(text) >= 12:
                chrome += 1
                kept += _norm(text) not in clean
        for event in gold["events"]:
            if not any(event.get(k) for k in ("historical", "negated", "hypothetical", "future")):
                evidence += 1
                found += _norm(event["evidence_text"]) in clean
    assert kept / chrome >= 0.75
    assert found == evidence


def test_outlet_name_alone_on_a_line_goes() -> None:
    keys = outlet_keys("https://www.valley-courier.example/world/8812", None)
    assert keys == {"valleycourier"}
    page = "\n".join(["The Valley Courier", *ARTICLE]) + "\n"
    clean, spans = clean_text(page, keys)
    assert spans[0].reason == "outlet-name"
    assert clean == "\n".join(ARTICLE)
    doc = clean_document(Document(source="x", raw_text=page, outlet="Valley Courier"))
    assert doc.removed[0].reason == "outlet-name"


def test_no_sentence_crosses_a_kept_line() -> None:
    """Headline, byline and lede stay on lines of their own, so the parser never glues them."""
    from borderwatch.nlp import load_pipeline

    page = "\n".join([HEADLINE, "By Anna Reed", "14 March 2025", *ARTICLE]) + "\n"
    clean, _ = clean_text(page)
    assert clean.startswith(HEADLINE + "\n")
    for sentence in load_pipeline()(clean).sents:
        assert "\n" not in sentence.text.strip(), sentence.text
