"""The thin wiring of the stages: clean → nlp → extract → geo (→ store, by the caller).

The CLI, the benchmark and the tests all call `Pipeline.analyse`, so there is one code path.
Each document is isolated: whatever one raises (a named error, or a bug) becomes that document's
error and the others go on; what the parser is handed is bounded (`borderwatch.nlp.prepare`),
and an optional time budget skips a document that runs too long.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from spacy.tokens import Doc

from borderwatch.clean import clean_document
from borderwatch.config import Config
from borderwatch.errors import BorderwatchError, LimitError
from borderwatch.extract import Extractor
from borderwatch.extract.lexicon import load_lexicon
from borderwatch.geo.stage import GeoStage
from borderwatch.models import Analysis, Document, Event
from borderwatch.nlp import CAPPED, join, load_pipeline, prepare
from borderwatch.prefilter import SelectiveParser
from borderwatch.truecase import Truecaser, restore

T = TypeVar("T")


@dataclass
class _Chunk:
    """One piece of one document on its way through the parser."""

    text: str
    analysis: Analysis
    last: bool
    """The document's final piece: its parsed pieces can be joined."""
    spent: float = 0.0
    """Seconds the document took before parsing (cleaning), counted against its budget."""
    capped: bool = False
    """Parsed with the sentence cap on (the piece runs on: `borderwatch.nlp.runs_on`)."""
    doc: Doc | None = None


def _batches(items: Iterable[T], size: int, chars: int, length: Callable[[T], int]) -> Iterator[list[T]]:
    """Consecutive batches of at most `size` items and `chars` characters (a longer item alone)."""
    batch: list[T] = []
    total = 0
    for item in items:
        if batch and (len(batch) == size or total + length(item) > chars):
            yield batch
            batch, total = [], 0
        batch.append(item)
        total += length(item)
    if batch:
        yield batch


def internal_error(exc: Exception) -> str:
    """The error recorded for an exception no stage expected: a bug, named as such."""
    return f"internal error: {type(exc).__name__}: {exc}"


class Pipeline:
    """Loads the NLP pipeline and extractor once; analyses documents in batches."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config()
        self.nlp = load_pipeline(self.config.nlp.pipeline, self.config.nlp.max_sentence_tokens)
        self.extractor = Extractor(self.nlp, self.config.extract.detectors)
        self.geo = GeoStage(self.config.geo) if self.config.geo.enabled else None
        prefilter = self.config.prefilter
        doubts = self.geo.geoparser.unparsed_doubts if self.geo is not None else None
        self.selective = SelectiveParser(self.nlp, prefilter, doubts) if prefilter.enabled else None
        actors = [name for name, entry in load_lexicon().aliases.items() if entry.kind != "ignore"]
        self.truecase = Truecaser.from_pipeline(
            self.nlp, actors, self.geo.gazetteer.lookup if self.geo is not None else None
        )

    def analyse(
        self, items: Iterable[Document | BorderwatchError], *, budget_s: float | None = None
    ) -> Iterator[Analysis]:
        """One Analysis per item, in order; a failing item carries its error and the rest go on.

        `budget_s`: seconds each document's own stages (cleaning, extraction, geography; the
        parser's shared batches are bounded by size instead) may take before it is skipped with
        a `LimitError`.
        """
        pending: list[_Chunk] = []
        for chunk in self._parsed(self._chunks(items)):
            pending.append(chunk)
            if not chunk.last:
                continue
            pieces, pending = pending, []
            analysis = chunk.analysis
            if analysis.error is None:
                self._finish(analysis, pieces, budget_s)
            yield analysis

    def _chunks(self, items: Iterable[Document | BorderwatchError]) -> Iterator[_Chunk]:
        """Each item cleaned and cut for the parser; a failed one passes as one empty piece."""
        for item in items:
            if isinstance(item, BorderwatchError):
                doc = Document(source=item.source or "input", raw_text="")
                yield _Chunk("", Analysis(doc, error=str(item)), last=True)
                continue
            analysis = Analysis(item)
            start = time.monotonic()
            try:
                clean_document(item)
                prepared = prepare(item.clean_text, self.config.nlp)
            except BorderwatchError as exc:
                analysis.error = str(exc)
            except Exception as exc:  # a bug in one document must not end the batch
                analysis.error, analysis.internal = f"{item.source}: {internal_error(exc)}", True
            if analysis.error is not None:
                yield _Chunk("", analysis, last=True)
                continue
            item.warnings.extend(prepared.warnings)
            spent = time.monotonic() - start
            last = len(prepared.chunks) - 1
            for i, (text, capped) in enumerate(zip(prepared.chunks, prepared.capped, strict=True)):
                yield _Chunk(text, analysis, last=i == last, spent=spent, capped=capped)

    def _parsed(self, chunks: Iterator[_Chunk]) -> Iterator[_Chunk]:
        """The chunks with their parse, batch by batch (spaCy's fast path); if a batch fails, its
        chunks are parsed one by one so only the failing document is lost."""
        nlp = self.config.nlp
        for batch in _batches(chunks, nlp.batch_size, nlp.batch_chars, lambda chunk: len(chunk.text)):
            texts = [self.truecase(chunk.text) for chunk in batch]
            try:
                docs = self._parse(batch, texts)
            except Exception:  # retried one by one just below
                docs = []
                for chunk, text in zip(batch, texts, strict=True):
                    try:
                        docs.append(self.nlp(text, component_cfg=CAPPED if chunk.capped else None))
                    except Exception as exc:
                        source = chunk.analysis.document.source
                        chunk.analysis.error = chunk.analysis.error or f"{source}: {internal_error(exc)}"
                        chunk.analysis.internal = True
                        docs.append(self.nlp.make_doc(""))
            for chunk, doc in zip(batch, docs, strict=True):
                chunk.doc = restore(doc, chunk.text)
                yield chunk

    def _parse(self, batch: list[_Chunk], texts: list[str]) -> list[Doc]:
        """The batch's parses in order: pieces that run on with the sentence cap, the rest without;
        `texts` are the pieces as the parser reads them (`truecase`)."""
        size = self.config.nlp.batch_size
        if self.selective is not None:
            return [doc for doc, _ in self.selective.pipe(((text, None) for text in texts), size)]
        docs: dict[int, Doc] = {}
        for capped in (False, True):
            picked = [i for i, chunk in enumerate(batch) if chunk.capped is capped]
            parsed = self.nlp.pipe((texts[i] for i in picked), batch_size=size,
                                   component_cfg=CAPPED if capped else None)
            docs.update(zip(picked, parsed, strict=True))
        return [docs[i] for i in range(len(batch))]

    def _finish(self, analysis: Analysis, pieces: list[_Chunk], budget_s: float | None) -> None:
        """Extract and locate the events of one parsed document, within its budget."""
        document = analysis.document
        deadline = None if budget_s is None else time.monotonic() + budget_s - pieces[0].spent
        try:
            doc = self._bounded(join(self._capped(pieces, document)), document)
            analysis.events = self._extract(doc, analysis, deadline)
            if deadline is not None and time.monotonic() > deadline:
                raise LimitError("geography ran past the budget")
        except LimitError as exc:
            analysis.events, analysis.places = [], []
            analysis.error = f"{document.source}: {exc.message} of {budget_s:g} s per document; skipped"
        except BorderwatchError as exc:
            analysis.error = str(exc)
        except Exception as exc:  # a bug in one document must not end the batch
            analysis.events, analysis.places = [], []
            analysis.error, analysis.internal = f"{document.source}: {internal_error(exc)}", True

    def _extract(self, doc: Doc, analysis: Analysis, deadline: float | None) -> list[Event]:
        """Events with their places: mentions are placed before they merge, so two acts in two
        places stay two events, and each merged event is placed and measured from all its evidence."""
        published = analysis.document.published
        if self.geo is None:
            return self.extractor.extract(doc, published, deadline=deadline)
        geo = self.geo
        places = analysis.places = geo.geoparser.parse(doc)
        analysis.events = self.extractor.extract(
            doc, published, placer=lambda event: geo.place_of(doc, event, places, strict=True),
            deadline=deadline,
        )
        if deadline is not None and time.monotonic() > deadline:
            raise LimitError("extraction ran past the budget")
        geo.measure(doc, analysis)
        return analysis.events

    def _capped(self, pieces: list[_Chunk], document: Document) -> list[Doc]:
        """The pieces' parses; a piece parsed without the cap that still has a sentence over
        `max_sentence_tokens` (the parser fused short ones) is parsed again with the cap on (only
        then, so ordinary text parses as the parser alone would)."""
        limit = self.config.nlp.max_sentence_tokens
        kept = [p for p in pieces if p.doc is not None]
        docs = [p.doc for p in kept if p.doc is not None]
        long = [i for i, doc in enumerate(docs)
                if not kept[i].capped and any(len(sent) > limit for sent in doc.sents)]
        if long:
            nlp = self.config.nlp
            for batch in _batches(long, nlp.batch_size, nlp.batch_chars, lambda i: len(docs[i].text)):
                # Read as the first parse read it: headlines truecased, the parse put back on the text.
                again = self.nlp.pipe([self.truecase(docs[i].text) for i in batch], component_cfg=CAPPED)
                for i, doc in zip(batch, again, strict=True):
                    docs[i] = restore(doc, docs[i].text)
            warning = f"sentences over {limit} tokens cut ([nlp] max_sentence_tokens)"
            if warning not in document.warnings:
                document.warnings.append(warning)
        return docs

    def _bounded(self, doc: Doc, document: Document) -> Doc:
        """The document's first `max_sentences` sentences (a prefix, so offsets hold)."""
        limit = self.config.nlp.max_sentences
        for count, sent in enumerate(doc.sents):
            if count == limit:
                document.warnings.append(f"only the first {limit:,} sentences analysed "
                                         f"([nlp] max_sentences)")
                return doc[: sent.start].as_doc()
        return doc
