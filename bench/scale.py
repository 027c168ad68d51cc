"""Scale figures, as ratios measured in one run on one machine.

    .venv/bin/python bench/scale.py ratio            # Borderwatch docs/s vs bare nlp.pipe, general news
    .venv/bin/python bench/scale.py dask             # batch throughput, 1 → 2 local Dask workers
    .venv/bin/python bench/scale.py memory           # peak memory of batch at 1k vs 10k documents
    .venv/bin/python bench/scale.py newsday --docs 100000

The stream is general news (the text records of the development sets, read from
../shared/eval-dev at run time, never copied) mixed with the project's own conflict reports
(samples/). Repeated records are made distinct (a new id and a " (copy N)" mark on the first
line), so no cache sees the same text twice. The load average is printed beside every figure:
the machine may be shared. This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil

from borderwatch.clean import clean_document
from borderwatch.config import Config, PrefilterConfig
from borderwatch.ingest import document_from_record
from borderwatch.models import Document
from borderwatch.nlp import load_pipeline
from borderwatch.pipeline import Pipeline

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "eval-dev"
NEWS_SETS = ("geowebnews", "trnews", "articles")
"""Development sets whose inputs are whole general-news articles as text."""


def base_records() -> list[dict[str, Any]]:
    records = []
    for name in NEWS_SETS:
        path = SHARED / name / f"{name}.input.jsonl"
        if path.exists():
            records += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    if not records:
        sys.exit(f"no general news found under {SHARED}")
    own = ROOT / "samples" / "sample.input.jsonl"
    records += [json.loads(line) for line in own.read_text(encoding="utf-8").splitlines() if line]
    return [r for r in records if "text" in r]


def stream(count: int) -> Iterator[dict[str, Any]]:
    """`count` distinct records recombined from the base records (cycled, each copy marked)."""
    records = base_records()
    for n in range(count):
        record = dict(records[n % len(records)])
        copy = n // len(records)
        if copy:
            first, _, rest = record["text"].partition("\n")
            record["text"] = f"{first} (copy {copy})\n{rest}" if rest else f"{first} (copy {copy})"
            record["id"] = f"{record.get('id', n)}-copy{copy}"
        yield record


def documents(count: int, config: Config) -> list[Document]:
    return [document_from_record(r, f"bench:{i}", config.ingest) for i, r in enumerate(stream(count))]


def load() -> dict[str, float]:
    one, five, _ = os.getloadavg()
    return {"load_1m": round(one, 2), "load_5m": round(five, 2), "cpus": os.cpu_count() or 0}


def ratio(args: argparse.Namespace) -> dict[str, Any]:
    """Alternating timed runs of bare spaCy and of Borderwatch with the prefilter on and off."""
    base = Config()
    variants = {
        "prefilter": Pipeline(replace(base, prefilter=PrefilterConfig(enabled=True))),
        "no_prefilter": Pipeline(replace(base, prefilter=PrefilterConfig(enabled=False))),
    }
    nlp = load_pipeline(base.nlp.pipeline)
    docs = documents(args.docs, base)
    texts = []
    for doc in docs:
        clean_document(doc)
        texts.append(doc.clean_text)
    timings: dict[str, list[float]] = {"spacy": [], **{name: [] for name in variants}}
    cpu: dict[str, list[float]] = {name: [] for name in timings}
    for _ in range(args.runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        for _doc in nlp.pipe(texts, batch_size=base.nlp.batch_size):
            pass
        timings["spacy"].append(time.perf_counter() - started)
        cpu["spacy"].append(time.process_time() - cpu_started)
        for name, pipeline in variants.items():
            fresh = documents(args.docs, base)
            started, cpu_started = time.perf_counter(), time.process_time()
            for _analysis in pipeline.analyse(fresh):
                pass
            timings[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - cpu_started)
    rates = {name: args.docs / statistics.median(t) for name, t in timings.items()}
    cpu_rates = {name: args.docs / statistics.median(t) for name, t in cpu.items()}
    return {
        "documents": args.docs,
        "characters": sum(map(len, texts)),
        "docs_per_s": {k: round(v, 2) for k, v in rates.items()},
        "ratio_to_spacy": {k: round(v / rates["spacy"], 3) for k, v in rates.items() if k != "spacy"},
        # CPU seconds of this process: what the other load on a shared machine disturbs least.
        "docs_per_cpu_s": {k: round(v, 2) for k, v in cpu_rates.items()},
        "cpu_ratio_to_spacy": {
            k: round(v / cpu_rates["spacy"], 3) for k, v in cpu_rates.items() if k != "spacy"
        },
        **load(),
    }


def _write_input(count: int, folder: Path) -> Path:
    path = folder / f"stream-{count}.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for record in stream(count):
            handle.write(json.dumps(record) + "\n")
    return path


class PeakMemory:
    """Peak summed RSS of this process and its children (the Dask workers), sampled."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_batch(count: int, workers: int, folder: Path, config: Config) -> dict[str, Any]:
    """One `batch` run over `count` documents into Parquet; the clock starts once every worker
    has loaded the pipeline."""
    from borderwatch.batch import BatchRunner, connect, iter_batch_inputs

    source = _write_input(count, folder)
    client, cluster = connect(workers, None)
    try:
        runner = BatchRunner(client, config, parquet=folder / f"out-{count}-{workers}.parquet")
        with PeakMemory() as memory:
            started = time.perf_counter()
            summary = runner.run(iter_batch_inputs([str(source)], config))
            elapsed = time.perf_counter() - started
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return {
        "documents": summary.documents,
        "workers": workers,
        "seconds": round(elapsed, 1),
        "docs_per_s": round(summary.documents / elapsed, 2),
        "events": summary.events_written,
        "failures": len(summary.failures),
        "peak_rss_mib": round(memory.peak / 2**20),
        **load(),
    }


def _config(args: argparse.Namespace) -> Config:
    return replace(Config(), prefilter=PrefilterConfig(enabled=args.prefilter))


def dask(args: argparse.Namespace) -> dict[str, Any]:
    config = _config(args)
    with tempfile.TemporaryDirectory() as tmp:
        one = run_batch(args.docs, 1, Path(tmp), config)
        two = run_batch(args.docs, 2, Path(tmp), config)
    return {"one_worker": one, "two_workers": two, "speedup": round(two["docs_per_s"] / one["docs_per_s"], 2)}


def memory(args: argparse.Namespace) -> dict[str, Any]:
    config = _config(args)
    small, large = args.docs, args.docs * 10
    with tempfile.TemporaryDirectory() as tmp:
        first = run_batch(small, args.workers, Path(tmp), config)
        second = run_batch(large, args.workers, Path(tmp), config)
    peak_ratio = round(second["peak_rss_mib"] / first["peak_rss_mib"], 2)
    return {"small": first, "large": second, "peak_ratio": peak_ratio}


def newsday(args: argparse.Namespace) -> dict[str, Any]:
    config = _config(args)
    with tempfile.TemporaryDirectory() as tmp:
        result = run_batch(args.docs, args.workers, Path(tmp), config)
    result["projected_articles_per_day"] = round(result["docs_per_s"] * 86_400)
    return result


PARTS = {"ratio": (ratio, 300), "dask": (dask, 400), "memory": (memory, 1000), "newsday": (newsday, 100_000)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=sorted(PARTS))
    parser.add_argument("--docs", type=int, help="documents (memory: the small run; the large is 10×)")
    parser.add_argument("--runs", type=int, default=3, help="ratio: timed runs of each measure")
    parser.add_argument("--workers", type=int, default=2, help="memory, newsday: Dask workers")
    parser.add_argument("--prefilter", action="store_true", help="dask, memory, newsday: prefilter on")
    args = parser.parse_args()
    function, default_docs = PARTS[args.part]
    args.docs = args.docs or default_docs
    print(json.dumps({"part": args.part, **function(args)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
