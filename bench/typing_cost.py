"""What the learned type classifier costs: `extract` with detectors ["typed"] against ["rules"].

Both pipelines (clean → nlp → extract, geo off so the extract stage's share is not diluted) run
over the same documents, alternating after a warm-up; the median wall time of each is reported
with the overhead of "typed" in per cent. The target is at most about 20%.

Run: ``PYTHONPATH=src .venv/bin/python bench/typing_cost.py [--corpus FILE.jsonl] [--repeat N]
[--runs N]``. A benchmark, not a test: it never fails on a slow result.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from dataclasses import replace
from pathlib import Path

from borderwatch.config import Config, ExtractConfig, GeoConfig, IngestConfig
from borderwatch.ingest import document_from_record
from borderwatch.models import Document
from borderwatch.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]


def documents(path: Path, repeat: int) -> list[dict]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [dict(r, id=f"{r['id']}-{i}") for i in range(repeat) for r in records]


def timed(pipeline: Pipeline, records: list[dict]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process, events) for one pass over the records."""
    docs: list[Document] = [document_from_record(r, "bench", IngestConfig()) for r in records]
    start, cpu = time.perf_counter(), time.process_time()
    events = sum(len(a.events) for a in pipeline.analyse(docs))
    return time.perf_counter() - start, time.process_time() - cpu, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "samples" / "sample.input.jsonl")
    parser.add_argument("--repeat", type=int, default=4, help="copies of the corpus per run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    records = documents(args.corpus, args.repeat)
    base = replace(Config(), geo=GeoConfig(enabled=False))
    pipelines = {
        name: Pipeline(replace(base, extract=ExtractConfig(detectors=(name,)))) for name in ("rules", "typed")
    }
    for pipeline in pipelines.values():
        timed(pipeline, records[:5])  # warm-up: models loaded, caches filled
    seconds: dict[str, list[float]] = {name: [] for name in pipelines}
    cpu: dict[str, list[float]] = {name: [] for name in pipelines}
    events: dict[str, int] = {}
    for _ in range(args.runs):
        for name, pipeline in pipelines.items():
            took, used, events[name] = timed(pipeline, records)
            seconds[name].append(took)
            cpu[name].append(used)
    print(f"corpus    {args.corpus.name}: {len(records)} documents; load average {os.getloadavg()[0]:.2f}")
    for name, runs in seconds.items():
        median = statistics.median(runs)
        print(f"{name:6s}    {len(records) / median:6.1f} docs/s  median {median:.2f} s  "
              f"CPU {statistics.median(cpu[name]):.2f} s  runs {', '.join(f'{r:.2f}' for r in runs)}  "
              f"events {events[name]}")
    wall = statistics.median(seconds["typed"]) / statistics.median(seconds["rules"]) - 1
    used = statistics.median(cpu["typed"]) / statistics.median(cpu["rules"]) - 1
    print(f"typed adds {wall:.0%} to extraction time, {used:.0%} by CPU time (target ≤ 20%)")


if __name__ == "__main__":
    main()
