"""Property-based fuzzing of ingest → clean → extract → store with generated hostile inputs.

Generators cover raw bytes, text in several encodings, JSON of any shape, HTML of any shape and
pathological text (punctuation runs, long tokens, repeated triggers, lone surrogates). The
property: every input ends in a result or an error naming it, never an exception; a result is
well-formed (offsets inside the text, JSON-encodable as UTF-8) and the store accepts it.

A fixed seed (`derandomize`) and a small budget keep CI fast; ``BORDERWATCH_FUZZ=long`` runs
many more examples per property.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borderwatch.config import IngestConfig
from borderwatch.errors import BorderwatchError, IngestError
from borderwatch.ingest import iter_inputs, read_jsonl
from borderwatch.models import Analysis, Document
from borderwatch.pipeline import Pipeline
from borderwatch.store import Store, open_store

LONG = os.environ.get("BORDERWATCH_FUZZ") == "long"
FUZZ = settings(
    max_examples=400 if LONG else 12,
    derandomize=not LONG,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                           HealthCheck.data_too_large],
)
"""Fixed seed and a dozen examples per property in CI (well under a minute in all)."""

CONFIG = IngestConfig(max_input_bytes=64 * 1024)

WORDS = ["troops", "shelled", "Kyiv", "accused", "Minsk", "border", "near", "the", "army", "on",
         "Sunday", "attacked", "Belarus", "deployed", "tanks", "said", "officials", "in", "Gomel"]

words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=40).map(" ".join)
pathological = st.one_of(
    st.text(alphabet=".,;:!?-—()[]'\"", min_size=1, max_size=3000),
    st.integers(100, 3000).map(lambda n: "x" * n),
    st.tuples(st.sampled_from(WORDS), st.integers(1, 400)).map(lambda p: (p[0] + " ") * p[1]),
    st.integers(1, 300).map(lambda n: "A. " * n),
    st.text(min_size=1, max_size=500),
    st.lists(st.one_of(words, st.just("\ud800"), st.just("\udfff"), st.just("\u202e")),
             min_size=1, max_size=20).map("".join),
    st.integers(1, 2000).map(lambda n: "9" * n),
)
"""Text built to make some stage slow or crash; `words` keep events and places in play."""

text = st.one_of(words, pathological, st.lists(words, min_size=1, max_size=8).map("\n\n".join))

json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
published = st.one_of(
    st.none(), st.text(max_size=30), st.dates().map(str), st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01", "9999-12-31", "11/28/2016", "03/04/2016", "2016-02-30",
                     "Tue, 29 Nov 2016 10:00:00 +0000", "1" * 50]),
    json_value,
)
records = st.fixed_dictionaries(
    {"id": st.one_of(st.text(max_size=10), st.integers(), st.none())},
    optional={"text": text, "html": text, "published": published, "title": text, "url": text,
              "language": st.text(max_size=5)},
)
tags = st.sampled_from(["p", "div", "article", "b", "table", "td", "script", "style", "li", "h1"])
html = st.recursive(
    text.map(lambda t: t.replace("<", " "))
    | st.sampled_from(["&#xD800;", "&#55296;", "&amp;", "&#x110000;"]),
    lambda inner: st.tuples(tags, st.lists(inner, max_size=4)).map(
        lambda p: f"<{p[0]}>{''.join(p[1])}</{p[0]}>"),
    max_leaves=20,
).map(lambda body: f"<html><body>{body}</body></html>")
encodings = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252", "koi8-r"])
encoded = st.tuples(text, encodings).map(lambda p: p[0].encode(p[1], "replace"))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.sqlite'}") as opened:
        yield opened


def check(items: list[Document | IngestError], pipeline: Pipeline, store: Store) -> None:
    """The property: one analysis per item, each a well-formed result or an error naming it."""
    analyses = list(pipeline.analyse(items))
    assert len(analyses) == len(items)
    for item, analysis in zip(items, analyses, strict=True):
        assert not analysis.internal, analysis.error
        source = item.source if isinstance(item, Document) else item.source or "input"
        if analysis.error is not None:
            assert source in analysis.error
            continue
        well_formed(analysis)
        store.save(analysis)


def well_formed(analysis: Analysis) -> None:
    clean = analysis.document.clean_text
    record = analysis.to_contract()
    json.dumps(record, ensure_ascii=False).encode("utf-8")  # no lone surrogate left anywhere
    for place in record["places"]:
        assert 0 <= place["start"] < place["end"] <= len(clean)
        assert clean[place["start"]:place["end"]] == place["text"]
    for event in record["events"]:
        for span in event["evidence"]:
            assert 0 <= span["start"] < span["end"] <= len(clean)


def ingest_bytes(data: bytes, tmp_path: Path, name: str) -> list[Document | IngestError]:
    path = tmp_path / name
    path.write_bytes(data)
    return list(iter_inputs([str(path)], CONFIG))


@FUZZ
@given(data=st.one_of(st.binary(max_size=4000), encoded))
def test_any_bytes_as_a_text_file(data: bytes, tmp_path: Path, pipeline: Pipeline, store: Store) -> None:
    check(ingest_bytes(data, tmp_path, "input.txt"), pipeline, store)


@FUZZ
@given(page=html, encoding=encodings)
def test_any_html_page(page: str, encoding: str, tmp_path: Path, pipeline: Pipeline, store: Store) -> None:
    check(ingest_bytes(page.encode(encoding, "replace"), tmp_path, "page.html"), pipeline, store)


@FUZZ
@given(lines=st.lists(st.one_of(records, json_value), min_size=1, max_size=4))
def test_any_json_lines(lines: list[object], pipeline: Pipeline, store: Store) -> None:
    data = "\n".join(json.dumps(line) for line in lines).encode()
    found = list(read_jsonl(io.BytesIO(data), "fuzz.jsonl", CONFIG))
    assert len(found) == sum(1 for line in data.splitlines() if line.strip())
    for _, item in found:
        assert isinstance(item, Document) or item.source.startswith("fuzz.jsonl:")
    check([item for _, item in found], pipeline, store)


@FUZZ
@given(depth=st.integers(1, 100_000), kind=st.sampled_from(["[", '{"a":']))
def test_json_nested_to_any_depth_is_named(depth: int, kind: str) -> None:
    closing = "]" if kind == "[" else "}"
    data = (kind * depth + "1" + closing * depth).encode()
    ((_, item),) = list(read_jsonl(io.BytesIO(data), "deep.jsonl", CONFIG))
    assert isinstance(item, BorderwatchError) and item.source == "deep.jsonl:1"
