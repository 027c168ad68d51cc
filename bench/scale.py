"""Scale figures, as ratios measured in one run on one machine.

    .venv/bin/python bench/scale.py ratio            # Borderwatch docs/s vs bare nlp.pipe, two streams
    .venv/bin/python bench/scale.py dask             # batch throughput, 1 → 2 local Dask workers
    .venv/bin/python bench/scale.py memory           # peak memory of batch at 1k vs 10k documents
    .venv/bin/python bench/scale.py newsday --docs 100000

Two streams: "news", the development sets' news articles (read from ../shared/eval-dev at run
time, never copied; mostly conflict news) with the project's own conflict reports (samples/);
and "general", the project's own general news (samples/general_news.input.jsonl: sport,
business, culture, science, weather, local politics, tech) with one conflict report of
samples/sample.input.jsonl after every four articles (80/20). `dask`, `memory` and `newsday`
use the first. Repeated records are made distinct (a new id and a " (copy N)" mark on the first
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
"""Development sets whose inputs are whole news articles as text (mostly conflict news)."""
GENERAL = ROOT / "samples" / "general_news.input.jsonl"
CONFLICT = ROOT / "samples" / "sample.input.jsonl"


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def news_records() -> list[dict[str, Any]]:
    """Stream (a): the development sets' news articles and our own conflict reports."""
    records = []
    for name in NEWS_SETS:
        path = SHARED / name / f"{name}.input.jsonl"
        if path.exists():
            records += _read(path)
    if not records:
        sys.exit(f"no development news found under {SHARED}")
    records += _read(CONFLICT)
    return [r for r in records if "text" in r]


def general_records() -> list[dict[str, Any]]:
    """Stream (b): our general news (sport, business, culture, science, weather, local politics,
    tech) with one conflict report of our samples after every four articles (80/20)."""
    general, conflict = _read(GENERAL), _read(CONFLICT)
    records = []
    for n, record in enumerate(general):
        records.append(record)
        if n % 4 == 3:
            records.append(conflict[(n // 4) % len(conflict)])
    return records


STREAMS = {"news": news_records, "general": general_records}


def stream(count: int, kind: str = "news") -> Iterator[dict[str, Any]]:
    """`count` distinct records recombined from a stream's records (cycled, each copy marked)."""
    records = STREAMS[kind]()
    for n in range(count):
        record = dict(records[n % len(records)])
        copy = n // len(records)
        if copy:
            first, _, rest = record["text"].partition("\n")
            record["text"] = f"{first} (copy {copy})\n{rest}" if rest else f"{first} (copy {copy})"
            record["id"] = f"{record.get('id', n)}-copy{copy}"
        yield record


def documents(count: int, config: Config, kind: str = "news") -> list[Document]:
    return [document_from_record(r, f"bench:{i}", config.ingest) for i, r in enumerate(stream(count, kind))]


def load() -> dict[str, float]:
    one, five, _ = os.getloadavg()
    return {"load_1m": round(one, 2), "load_5m": round(five, 2), "cpus": os.cpu_count() or 0}


def ratio(args: argparse.Namespace) -> dict[str, Any]:
    """Alternating timed runs of bare spaCy and of Borderwatch with the prefilter on and off, on
    each stream in turn (every run of every measure interleaved, so load falls on all alike)."""
    base = Config()
    variants = {
        "prefilter": Pipeline(replace(base, prefilter=PrefilterConfig(enabled=True))),
        "no_prefilter": Pipeline(replace(base, prefilter=PrefilterConfig(enabled=False))),
    }
    nlp = load_pipeline(base.nlp.pipeline)
    kinds = sorted(STREAMS) if args.stream == "both" else [args.stream]
    texts: dict[str, list[str]] = {}
    for kind in kinds:
        texts[kind] = []
        for doc in documents(args.docs, base, kind):
            clean_document(doc)
            texts[kind].append(doc.clean_text)
    names = ["spacy", *variants]
    timings = {kind: {name: [] for name in names} for kind in kinds}
    cpu = {kind: {name: [] for name in names} for kind in kinds}
    for _ in range(args.runs):
        for kind in kinds:
            started, cpu_started = time.perf_counter(), time.process_time()
            for _doc in nlp.pipe(texts[kind], batch_size=base.nlp.batch_size):
                pass
            timings[kind]["spacy"].append(time.perf_counter() - started)
            cpu[kind]["spacy"].append(time.process_time() - cpu_started)
            for name, pipeline in variants.items():
                fresh = documents(args.docs, base, kind)
                started, cpu_started = time.perf_counter(), time.process_time()
                for _analysis in pipeline.analyse(fresh):
                    pass
                timings[kind][name].append(time.perf_counter() - started)
                cpu[kind][name].append(time.process_time() - cpu_started)
    result: dict[str, Any] = {"documents": args.docs, "runs": args.runs}
    for kind in kinds:
        rates = {name: args.docs / statistics.median(t) for name, t in timings[kind].items()}
        cpu_rates = {name: args.docs / statistics.median(t) for name, t in cpu[kind].items()}
        result[kind] = {
            "characters": sum(map(len, texts[kind])),
            "docs_per_s": {k: round(v, 2) for k, v in rates.items()},
            "ratio_to_spacy": {k: round(v / rates["spacy"], 3) for k, v in rates.items() if k != "spacy"},
            # CPU seconds of this process: what the other load on a shared machine disturbs least.
            "docs_per_cpu_s": {k: round(v, 2) for k, v in cpu_rates.items()},
            "cpu_ratio_to_spacy": {
                k: round(v / cpu_rates["spacy"], 3) for k, v in cpu_rates.items() if k != "spacy"
            },
        }
    return {**result, **load()}


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
    parser.add_argument("--stream", choices=["both", *sorted(STREAMS)], default="both",
                        help="ratio: development news (news), our general news with 20%% conflict "
                             "reports (general), or both in one run")
    args = parser.parse_args()
    function, default_docs = PARTS[args.part]
    args.docs = args.docs or default_docs
    print(json.dumps({"part": args.part, **function(args)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
