"""The clean stage on the sample corpus: its boilerplate goes, every article sentence stays.

``samples/sample.gold.jsonl`` gives, for articles that end with publisher boilerplate, the text
where it begins (``removed_from``: from there to the end is boilerplate, nothing before it is)
and article sentences that mention money, support or reminders (``must_keep``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from borderwatch.clean import REASONS, clean_document, strip_boilerplate
from borderwatch.models import Document

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def _records(name: str) -> list[dict]:
    lines = (SAMPLES / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


INPUTS = {r["id"]: r for r in _records("sample.input.jsonl")}
GOLD = {g["id"]: g for g in _records("sample.gold.jsonl")}
WITH_BOILERPLATE = sorted(i for i, g in GOLD.items() if g.get("removed_from"))
WITHOUT_BOILERPLATE = sorted(i for i, g in GOLD.items() if not g.get("removed_from"))
MUST_KEEP = sorted({s for g in GOLD.values() for s in g.get("must_keep", [])})
FEED = {r["id"]: r for r in _records("files/feed_items.jsonl")}


def _clean(text: str, source: str) -> Document:
    return clean_document(Document(source=source, raw_text=text))


def _assert_cut_at(text: str, start: str, doc: Document) -> None:
    """Everything from ``start`` to the end is removed, nothing before it, for allowed reasons."""
    assert text.count(start) == 1, f"{start!r} must occur once"
    cut = text.index(start)
    assert doc.clean_text == text[:cut].rstrip()
    assert doc.removed, "the boilerplate was not reported"
    assert doc.removed[-1].end == len(text)
    assert {span.reason for span in doc.removed} <= REASONS
    assert all(span.start >= len(text[:cut].rstrip()) for span in doc.removed)


def test_gold_labels_cover_the_corpus() -> None:
    assert set(GOLD) == set(INPUTS)
    assert len(WITH_BOILERPLATE) >= 10
    assert MUST_KEEP


@pytest.mark.parametrize("doc_id", WITH_BOILERPLATE)
def test_boilerplate_is_removed_from_its_start_to_the_end(doc_id: str) -> None:
    text = INPUTS[doc_id]["text"]
    doc = _clean(text, doc_id)
    _assert_cut_at(text, GOLD[doc_id]["removed_from"], doc)
    for sentence in GOLD[doc_id].get("must_keep", []):
        assert sentence in doc.clean_text


@pytest.mark.parametrize("doc_id", WITHOUT_BOILERPLATE)
def test_article_without_boilerplate_is_untouched(doc_id: str) -> None:
    text = INPUTS[doc_id]["text"]
    doc = _clean(text, doc_id)
    assert doc.removed == []
    assert doc.clean_text == text.rstrip()
    for sentence in GOLD[doc_id].get("must_keep", []):
        assert sentence in doc.clean_text


@pytest.mark.parametrize("sentence", MUST_KEEP)
@pytest.mark.parametrize("doc_id", WITH_BOILERPLATE)
def test_must_keep_sentence_survives_right_above_the_boilerplate(doc_id: str, sentence: str) -> None:
    """As its own paragraph, the last one before an appeal, a news sentence is still news."""
    text = INPUTS[doc_id]["text"]
    cut = text.index(GOLD[doc_id]["removed_from"])
    text = text[:cut] + sentence + "\n\n" + text[cut:]
    clean, spans = strip_boilerplate(text)
    assert clean == (text[:cut] + sentence).rstrip()
    assert {span.reason for span in spans} <= REASONS


@pytest.mark.parametrize("sentence", MUST_KEEP)
@pytest.mark.parametrize("doc_id", WITHOUT_BOILERPLATE)
def test_must_keep_sentence_survives_as_the_last_paragraph(doc_id: str, sentence: str) -> None:
    text = INPUTS[doc_id]["text"].rstrip() + "\n\n" + sentence + "\n"
    clean, spans = strip_boilerplate(text)
    assert spans == []
    assert clean == text.rstrip()


def test_plain_text_file_loses_its_appeal_and_the_rule_above_it() -> None:
    """border_clash.txt ends with an appeal from ``Before you go...``, with a ``---`` line above."""
    text = (SAMPLES / "files" / "border_clash.txt").read_text(encoding="utf-8")
    doc = _clean(text, "border_clash.txt")
    _assert_cut_at(text, "\n---\n", doc)
    assert "District officials reminded villagers" in doc.clean_text
    assert "Before you go" not in doc.clean_text


def test_feed_item_loses_its_newsletter_box() -> None:
    text = FEED["feed-003"]["text"]
    doc = _clean(text, "feed-003")
    _assert_cut_at(text, "Sign up for our Asia newsletter", doc)
    assert [span.reason for span in doc.removed] == ["newsletter"]


def test_feed_items_without_boilerplate_are_untouched() -> None:
    text = FEED["feed-002"]["text"]
    doc = _clean(text, "feed-002")
    assert doc.removed == []
    assert doc.clean_text == text.rstrip()
    page = clean_document(Document(source="feed-001", raw_text=FEED["feed-001"]["html"], is_html=True))
    assert page.removed == []
    assert "Ukraine's foreign ministry said the decision" in page.clean_text
    assert "Home" not in page.clean_text
