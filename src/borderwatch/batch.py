"""`borderwatch batch`: many documents through the pipeline on Dask distributed.

The client streams documents from the inputs in partitions of ``partition_size``, keeps at most
``max_in_flight`` partitions on the workers (so memory stays flat however large the input), and
takes results back as they complete. Each worker loads the pipeline once, when the
`PipelinePlugin` is registered with it, and keeps it for every partition it runs.

Results go to the store, to a Parquet file, or both. SQLite allows one writer, so the client
writes it; a PostgreSQL store is written by the workers themselves and the client only assigns
clusters. Documents are identified by their clean text's hash, so a second run over the same
inputs stores nothing twice, and clusters what a run killed between saving and clustering
left out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from distributed import Client, LocalCluster, WorkerPlugin, as_completed, get_worker

from borderwatch.config import Config
from borderwatch.errors import BorderwatchError, IngestError
from borderwatch.export import ParquetSink, stored_events
from borderwatch.ingest import iter_inputs
from borderwatch.models import Analysis, Document
from borderwatch.store import SaveResult, StoredEvent, open_store
from borderwatch.warc import SUFFIXES, is_warc, iter_warc

PLUGIN = "borderwatch-pipeline"

Item = Document | IngestError


def iter_batch_inputs(paths: Iterable[str], config: Config) -> Iterator[Item]:
    """Documents from files, folders (walked recursively) and WARC archives, as a stream."""
    for name in paths:
        path = Path(name)
        if is_warc(path):
            yield from iter_warc(path, config.ingest)
            continue
        yield from iter_inputs([name], config.ingest)
        if path.is_dir():
            archives = sorted(
                p for p in path.rglob("*") if p.is_file() and is_warc(p)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            for archive in archives:
                yield from iter_warc(archive, config.ingest)


class PipelinePlugin(WorkerPlugin):
    """Loads the pipeline (and a PostgreSQL store, when workers write it) once per worker."""

    name = PLUGIN

    def __init__(self, config: Config, worker_db: str | None = None) -> None:
        self.config = config
        self.worker_db = worker_db
        self.pipeline: Any = None
        self.store: Any = None

    def setup(self, worker: Any) -> None:
        from borderwatch.pipeline import Pipeline

        self.pipeline = Pipeline(self.config)
        self.store = open_store(self.worker_db) if self.worker_db else None

    def teardown(self, worker: Any) -> None:
        if self.store is not None:
            self.store.close()


@dataclass
class PartitionResult:
    """What one partition sends back: whatever the client still has to write, and failures."""

    documents: int = 0
    analyses: list[Analysis] = field(default_factory=list)
    events: list[StoredEvent] = field(default_factory=list)
    saved: list[SaveResult] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    internal: int = 0
    """How many of the failures were bugs (internal errors), not refusals of bad input."""


def _failure(analysis: Analysis) -> tuple[str, str]:
    source = analysis.document.source
    return source, (analysis.error or "").removeprefix(f"{source}: ")


def analyse_partition(items: list[Item], want_analyses: bool, want_events: bool) -> PartitionResult:
    """Runs on a worker: analyse the partition with the worker's pipeline."""
    plugin: PipelinePlugin = get_worker().plugins[PLUGIN]  # type: ignore[assignment]
    result = PartitionResult(documents=len(items))
    pipeline = plugin.pipeline
    # One page that runs too long is reported and skipped, as in `watch` ([nlp] budget_s).
    for analysis in pipeline.analyse(items, budget_s=pipeline.config.nlp.budget_s):
        if analysis.error:
            result.failures.append(_failure(analysis))
            result.internal += analysis.internal
            continue
        if plugin.store is not None:
            try:
                result.saved.append(plugin.store.save(analysis))
            except BorderwatchError as exc:
                result.failures.append((analysis.document.source, str(exc)))
                continue
        if want_analyses:
            result.analyses.append(analysis)
        if want_events:
            result.events.extend(stored_events(analysis))
    return result


@dataclass
class BatchSummary:
    documents: int = 0
    new_documents: int = 0
    new_events: int = 0
    events_written: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    internal: int = 0


class BatchRunner:
    """Streams inputs through a Dask cluster into the store and/or a Parquet file."""

    def __init__(
        self,
        client: Client,
        config: Config,
        *,
        db_url: str | None = None,
        parquet: Path | None = None,
        partition_size: int = 32,
        max_in_flight: int | None = None,
    ) -> None:
        self.client = client
        self.config = config
        self.db_url = db_url
        self.parquet = parquet
        self.partition_size = partition_size
        workers = max(1, len(client.scheduler_info()["workers"]))
        self.max_in_flight = max_in_flight or 2 * workers
        self.workers_write = bool(db_url) and not db_url.startswith("sqlite")
        client.register_plugin(PipelinePlugin(config, db_url if self.workers_write else None), name=PLUGIN)

    def run(self, items: Iterable[Item], progress: Callable[[int], None] | None = None) -> BatchSummary:
        summary = BatchSummary()
        store = open_store(self.db_url) if self.db_url else None
        sink = ParquetSink(self.parquet) if self.parquet else None
        want_analyses = store is not None and not self.workers_write
        try:
            pending = as_completed()
            sources: dict[str, list[str]] = {}
            for partition in _partitions(items, self.partition_size):
                future = self.client.submit(
                    analyse_partition, partition, want_analyses, sink is not None, pure=False
                )
                sources[future.key] = [_source(item) for item in partition]
                pending.add(future)
                while len(sources) >= self.max_in_flight:
                    self._collect(next(pending), sources, summary, store, sink, progress)
            for future in pending:
                self._collect(future, sources, summary, store, sink, progress)
        finally:
            if sink is not None:
                sink.close()
            if store is not None:
                store.close()
        return summary

    def _collect(
        self, future: Any, sources: dict[str, list[str]], summary: BatchSummary, store: Any,
        sink: ParquetSink | None, progress: Callable[[int], None] | None,
    ) -> None:
        from borderwatch.assess.cluster import assign_clusters

        inputs = sources.pop(future.key)
        try:
            result: PartitionResult = future.result()
        except Exception as exc:  # a lost worker or a bug fails its inputs, not the whole run
            result = PartitionResult(
                documents=len(inputs), failures=[(name, f"batch worker failed: {exc!r}") for name in inputs]
            )
        future.release()
        summary.documents += result.documents
        summary.failures.extend(result.failures)
        summary.internal += result.internal
        saved = list(result.saved)
        for analysis in result.analyses:
            try:
                saved.append(store.save(analysis))
            except BorderwatchError as exc:
                summary.failures.append((analysis.document.source, str(exc)))
        for outcome in saved:
            summary.new_documents += outcome.new_document
            summary.new_events += outcome.events_added
            # A stored document is clustered again (a no-op when it already is): a run killed
            # between saving and clustering it must not leave its events out of every cluster.
            if store is not None:
                try:
                    assign_clusters(store, outcome.doc_id)
                except BorderwatchError as exc:
                    summary.failures.append((outcome.doc_id, str(exc)))
        if sink is not None:
            summary.events_written += sink.write(result.events)
        if progress is not None:
            progress(result.documents)


def _source(item: Item) -> str:
    return item.source if isinstance(item, Document) else item.source or str(item)


def _partitions(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    iterator = iter(items)
    while partition := list(islice(iterator, size)):
        yield partition


def connect(workers: int, scheduler: str | None) -> tuple[Client, LocalCluster | None]:
    """A client of an existing scheduler, or of a new local cluster of `workers` processes."""
    if scheduler:
        return Client(scheduler), None
    # A scheduler runs whatever its clients send: listen on loopback only, and let the
    # diagnostics page take any free loopback port rather than a fixed one another run may hold.
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        silence_logs=logging.ERROR,
    )
    return Client(cluster), cluster


__all__ = ["SUFFIXES", "BatchRunner", "BatchSummary", "analyse_partition", "connect", "iter_batch_inputs"]
