"""`POST /api/ingest`'s analysis, in a process of its own.

Analysis is CPU-bound Python; run on a thread of the server, it holds the interpreter lock, and
every read request, which lets go of the lock at each socket or SQLite call, waits its turn again
and again (reads went from ~19 ms to 0.4–0.8 s during one ingest). A worker process loads its own
pipeline and store once, on the first ingest, and analyses, stores and clusters one article at a
time; the server only waits on its answer. A worker that dies (killed, out of memory) is replaced
on the next ingest, and the article it held is answered with a named error.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from borderwatch.config import Config
from borderwatch.models import Document

_state: dict[str, Any] = {}
"""The worker process's pipeline and store, set once by `_start`."""


def _start(db_url: str, config: Config) -> None:
    from borderwatch.pipeline import Pipeline
    from borderwatch.store import open_store

    _state["pipeline"] = Pipeline(config)
    _state["store"] = open_store(db_url)
    _state["budget_s"] = config.nlp.budget_s


def _ingest(document: Document) -> dict[str, Any]:
    """Analyse, store and cluster one document (in the worker); `error` set when it failed."""
    from borderwatch.assess.cluster import assign_clusters
    from borderwatch.errors import BorderwatchError
    from borderwatch.store.schema import DocumentRow

    store = _state["store"]
    analysis = next(iter(_state["pipeline"].analyse([document], budget_s=_state["budget_s"])))
    if analysis.error:
        return {"error": analysis.error, "status": 500 if analysis.internal else 422}
    try:
        result = store.save(analysis)
        assign_clusters(store, result.doc_id)
        with store.transaction(f"cannot read document {result.doc_id}") as session:
            row = session.get(DocumentRow, result.doc_id)
            ids = [e.id for e in sorted(row.events, key=lambda e: e.seq)] if row is not None else []
    except BorderwatchError as exc:
        return {"error": str(exc), "status": 500}
    return {"doc": result.doc_id, "new_document": result.new_document,
            "events_added": result.events_added, "events": ids, "warnings": document.warnings}


class IngestWorker:
    """One worker process, started on first use ("spawn": a clean interpreter, no forked locks)."""

    def __init__(self, db_url: str, config: Config) -> None:
        self.db_url = db_url
        self.config = config
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, document: Document) -> Future[dict[str, Any]]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start, initargs=(self.db_url, self.config),
            )
        try:
            return self._pool.submit(_ingest, document)
        except BrokenProcessPool:
            self._pool = None
            return self.submit(document)

    def lost(self) -> None:
        """The worker died under an article: start a fresh one next time."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
