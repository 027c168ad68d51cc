"""The thin wiring of the stages: clean → nlp → extract → geo (→ store, by the caller).

The CLI, the benchmark and the tests all call `Pipeline.analyse`, so there is one code path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from spacy.tokens import Doc

from borderwatch.clean import clean_document
from borderwatch.config import Config
from borderwatch.errors import BorderwatchError
from borderwatch.extract import Extractor
from borderwatch.geo.stage import GeoStage
from borderwatch.models import Analysis, Document, Event
from borderwatch.nlp import load_pipeline
from borderwatch.prefilter import SelectiveParser


class Pipeline:
    """Loads the NLP pipeline and extractor once; analyses documents in batches."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config()
        self.nlp = load_pipeline(self.config.nlp.pipeline)
        self.extractor = Extractor(self.nlp, self.config.extract.detectors)
        self.geo = GeoStage(self.config.geo) if self.config.geo.enabled else None
        prefilter = self.config.prefilter
        self.selective = SelectiveParser(self.nlp, prefilter) if prefilter.enabled else None

    def _extract(self, doc: Doc, analysis: Analysis) -> list[Event]:
        """Events with their places: mentions are placed before they merge, so two acts in two
        places stay two events, and each merged event is placed and measured from all its evidence."""
        published = analysis.document.published
        if self.geo is None:
            return self.extractor.extract(doc, published)
        geo = self.geo
        places = analysis.places = geo.geoparser.parse(doc)
        analysis.events = self.extractor.extract(
            doc, published, placer=lambda event: geo.place_of(doc, event, places, strict=True)
        )
        geo.measure(doc, analysis)
        return analysis.events

    def analyse(self, items: Iterable[Document | BorderwatchError]) -> Iterator[Analysis]:
        """One Analysis per item, in order; a failing item carries its error and the rest go on."""

        def cleaned() -> Iterator[tuple[str, Analysis]]:
            for item in items:
                if isinstance(item, BorderwatchError):
                    doc = Document(source=item.source or "input", raw_text="")
                    yield "", Analysis(doc, error=str(item))
                    continue
                try:
                    clean_document(item)
                except BorderwatchError as exc:
                    yield "", Analysis(item, error=str(exc))
                    continue
                yield item.clean_text, Analysis(item)

        batch_size = self.config.nlp.batch_size
        if self.selective is not None:
            parsed = self.selective.pipe(cleaned(), batch_size=batch_size)
        else:
            parsed = self.nlp.pipe(cleaned(), as_tuples=True, batch_size=batch_size)
        for spacy_doc, analysis in parsed:
            if analysis.error is None:
                try:
                    analysis.events = self._extract(spacy_doc, analysis)
                except BorderwatchError as exc:
                    analysis.error = str(exc)
            yield analysis
