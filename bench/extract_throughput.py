"""End-to-end `extract` throughput measured against bare spaCy, in the same run.

Why this exists: spaCy's parse is the one cost Borderwatch cannot avoid, so the honest question about
speed is how much the rest of `borderwatch extract` adds to it: JSON parsing, ingest, cleaning,
the rule-based extractor, rendering the contract and `json.dumps`. This script times both over
the same documents on the same machine and prints the ratio (pipeline docs/s ÷ spaCy docs/s); the
target is a ratio of at least 0.6, i.e. everything outside spaCy costs no more than about two
thirds of spaCy's own time. Absolute docs/s depend on the machine; the ratio much less so.

Measure A (spaCy): `load_pipeline()` then ``nlp.pipe(texts, batch_size=32)`` over the texts the
clean stage produces (cleaned outside the timed region, so both measures parse the same text).
Measure B (pipeline): from the JSON Lines strings, ``json.loads`` → `document_from_record` →
`Pipeline.analyse` (clean, nlp, extract) → ``json.dumps(analysis.to_contract())`` per document,
which is what `borderwatch extract` does per line. Runs alternate A, B, A, B, … after a warm-up,
and the median of each is reported. Peak memory of each measure is taken in a fresh subprocess
(``--only spacy FILE`` / ``--only pipeline FILE``) that streams its inputs from a file, so neither
inherits the other's allocations nor counts the benchmark's in-memory corpus.

Run: ``.venv/bin/python bench/extract_throughput.py [--corpus FILE.jsonl] [--repeat N] [--json]``.
This is a benchmark, not a test: it never fails on a slow result.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import psutil
import spacy
from spacy.language import Language

from borderwatch.clean import clean_document
from borderwatch.config import Config, GeoConfig
from borderwatch.errors import BorderwatchError, IngestError
from borderwatch.ingest import document_from_record
from borderwatch.models import Document
from borderwatch.nlp import load_pipeline
from borderwatch.pipeline import Pipeline

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO / "samples" / "sample.input.jsonl"
MIN_DOCUMENTS = 300
"""Without `--repeat`, the corpus is repeated until it holds at least this many documents."""
TARGET_RATIO = 0.6
SPACY_BATCH_SIZE = 32
WARMUP_DOCS = 8
MIB = 1024 * 1024
ANCHOR_MARK = " (copy 0)"
ANCHOR_LINES, ANCHOR_TRIES = 5, 10
"""How hard `html_anchor` looks for a place in an HTML page where cleaning keeps the copy mark."""

Measure = Literal["spacy", "pipeline", "nogeo"]


# --- corpus ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    """The benchmark's documents: JSON Lines for B and the matching cleaned texts for A."""

    path: Path
    name: str
    records: int
    repeat: int
    lines: list[str]
    clean_texts: list[str]
    raw_chars: int
    clean_chars: int
    clean_errors: int
    distinct_clean_texts: int
    """Fewer than the documents that cleaned if the corpus itself holds duplicates."""

    @property
    def documents(self) -> int:
        return len(self.lines)


def corpus_name(path: Path) -> str:
    """`ucdp.input.jsonl` → `ucdp`; `sample.input.jsonl` → `sample`."""
    name = path.name
    for suffix in (".jsonl", ".input"):
        name = name.removesuffix(suffix)
    return name


def read_records(path: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            if not isinstance(record, dict):
                raise SystemExit(f"{path}:{number}: expected a JSON object")
            records.append(record)
    if not records:
        raise SystemExit(f"{path}: no records")
    return records


def html_anchor(record: dict[str, Any], config: Config) -> int | None:
    """Where in an HTML record's markup to put the copy mark so that cleaning keeps it.

    Candidates are the places where the first words of a cleaned line occur verbatim in the
    markup (the same words may also sit in the title or a meta tag); the first one whose mark
    survives cleaning wins. None for a text record, or when no candidate survives.
    """
    html = record.get("html")
    if not isinstance(html, str):
        return None

    def clean(markup: str) -> str:
        document = document_from_record({**record, "html": markup}, "anchor", config.ingest)
        return clean_document(document).clean_text

    try:
        lines = clean(html).splitlines()
    except BorderwatchError:
        return None
    tried = 0
    for line in lines[:ANCHOR_LINES]:
        words = line.split()
        snippet = " ".join(words[:6])
        found = html.find(snippet) if len(words) >= 3 else -1
        while found >= 0 and tried < ANCHOR_TRIES:
            tried += 1
            cut = found + len(snippet)
            try:
                if ANCHOR_MARK in clean(html[:cut] + ANCHOR_MARK + html[cut:]):
                    return cut
            except BorderwatchError:
                pass
            found = html.find(snippet, cut)
    return None


def vary(record: dict[str, Any], copy: int, anchor: int | None) -> dict[str, Any]:
    """Copy `copy` of a record, made distinct so no layer can serve it from a cache.

    Copy 0 is the record as given; later copies get a distinct id and " (copy N)" at the end of
    their first line (a last line is often boilerplate that cleaning drops whole), or for HTML
    at `anchor`, inside the main text (else at the end, where trafilatura may drop it).
    """
    if copy == 0:
        return record
    varied = dict(record)
    mark = f" (copy {copy})"
    if "id" in record:
        varied["id"] = f"{record['id']}#copy{copy}"
    if isinstance(text := record.get("text"), str):
        cut = text.find("\n")
        cut = len(text) if cut < 0 else cut
        varied["text"] = text[:cut] + mark + text[cut:]
    elif isinstance(html := record.get("html"), str):
        cut = len(html) if anchor is None else anchor
        varied["html"] = html[:cut] + mark + html[cut:]
    return varied


def document(line: str, source: str, config: Config) -> Document | BorderwatchError:
    """One JSON line → a `Document` (or the error), as `borderwatch extract` builds it."""
    try:
        record = json.loads(line)
        if not isinstance(record, dict):
            raise IngestError("each line must be a JSON object", source=source)
        return document_from_record(record, source, config.ingest)
    except json.JSONDecodeError as exc:
        return IngestError(f"invalid JSON: {exc.msg}", source=source)
    except IngestError as exc:
        return exc


def load_corpus(path: Path, repeat: int | None, config: Config) -> Corpus:
    records = read_records(path)
    if repeat is None:
        repeat = max(1, math.ceil(MIN_DOCUMENTS / len(records)))
    anchors = [html_anchor(record, config) if repeat > 1 else None for record in records]
    lines = [json.dumps(vary(record, copy, anchor), ensure_ascii=False)
             for copy in range(repeat) for record, anchor in zip(records, anchors, strict=True)]
    clean_texts: list[str] = []
    raw_chars = errors = 0
    for number, line in enumerate(lines, 1):
        item = document(line, f"{path.name}:{number}", config)
        if isinstance(item, BorderwatchError):
            errors += 1
            clean_texts.append("")  # what Pipeline.analyse hands spaCy for a failed item
            continue
        raw_chars += len(item.raw_text)
        try:
            clean_texts.append(clean_document(item).clean_text)
        except BorderwatchError:
            errors += 1
            clean_texts.append("")
    return Corpus(path=path, name=corpus_name(path), records=len(records), repeat=repeat,
                  lines=lines, clean_texts=clean_texts, raw_chars=raw_chars,
                  clean_chars=sum(map(len, clean_texts)), clean_errors=errors,
                  distinct_clean_texts=len(set(clean_texts) - {""}))


# --- the two measures ------------------------------------------------------------------------

Run = Callable[[Iterable[str]], int]
"""One measure over some inputs (cleaned texts for spaCy, JSON lines for the pipeline)."""


def run_spacy(nlp: Language, texts: Iterable[str]) -> int:
    """Measure A: spaCy's fast path and nothing else; returns the number of documents."""
    count = 0
    for _ in nlp.pipe(texts, batch_size=SPACY_BATCH_SIZE):
        count += 1
    return count


def run_pipeline(pipeline: Pipeline, lines: Iterable[str], name: str) -> int:
    """Measure B: what `borderwatch extract` does per line; returns the number of events."""

    def items() -> Iterator[Document | BorderwatchError]:
        for number, line in enumerate(lines, 1):
            yield document(line, f"{name}:{number}", pipeline.config)

    events = 0
    with open(os.devnull, "w", encoding="utf-8") as sink:
        for analysis in pipeline.analyse(items()):
            events += len(analysis.events)
            sink.write(json.dumps(analysis.to_contract(), ensure_ascii=False) + "\n")
    return events


def runner(measure: Measure, name: str) -> Run:
    """Load what `measure` needs (spaCy alone for A, the whole `Pipeline` for B).

    Both load the spaCy pipeline through `load_pipeline`, which caches it, so in one process the
    two measures share one model.
    """
    if measure == "spacy":
        nlp = load_pipeline(Config().nlp.pipeline)
        return lambda texts: run_spacy(nlp, texts)
    config = Config() if measure == "pipeline" else Config(geo=GeoConfig(enabled=False))
    pipeline = Pipeline(config)
    return lambda lines: run_pipeline(pipeline, lines, name)


@dataclass(frozen=True)
class Timing:
    wall_s: float
    cpu_s: float
    """This process's CPU time (all threads): barely moved by other programs on a busy machine."""
    result: int


def timed(run: Run, items: Iterable[str]) -> Timing:
    """One run's wall and CPU seconds, with garbage collected beforehand, outside the timing."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = run(items)
    return Timing(time.perf_counter() - wall, time.process_time() - cpu, result)


# --- memory ----------------------------------------------------------------------------------


def peak_rss_mib() -> float:
    """This process's peak resident set size so far, in MiB.

    On Linux from ``VmHWM``: `getrusage`'s ``ru_maxrss`` survives ``exec``, so a subprocess would
    report at least the RSS its parent had when it forked.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    try:
        import resource
    except ImportError:  # Windows: psutil reports the peak working set there
        return float(getattr(psutil.Process().memory_info(), "peak_wset", 0)) / MIB
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MIB if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere


def stream(measure: Measure, path: Path, limit: int | None = None) -> Iterator[str]:
    """The inputs of `measure` read lazily from `path` (one JSON string per line for spaCy)."""
    with path.open(encoding="utf-8") as handle:
        for line in itertools.islice(handle, limit):
            yield json.loads(line) if measure == "spacy" else line.rstrip("\n")


def measure_alone(measure: Measure, path: Path) -> dict[str, Any]:
    """Body of ``--only``: load, warm up, one run streamed from `path`; report its memory.

    Inputs are streamed, as `borderwatch extract` streams its input file, so the peak reflects
    the measure's own working set rather than a corpus held in memory.
    """
    run = runner(measure, path.name)
    run(stream(measure, path, WARMUP_DOCS))
    rss_warm = psutil.Process().memory_info().rss / MIB
    seconds = timed(run, stream(measure, path)).wall_s
    return {"measure": measure, "seconds": seconds,
            "rss_after_warmup_mib": rss_warm, "peak_rss_mib": peak_rss_mib()}


def memory_in_subprocess(measure: Measure, items: list[str], folder: Path) -> dict[str, Any]:
    """Run `measure` over `items` in a fresh interpreter (``--only``) and return its figures."""
    path = folder / f"{measure}.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for item in items:
            handle.write((json.dumps(item, ensure_ascii=False) if measure == "spacy" else item) + "\n")
    command = [sys.executable, str(Path(__file__).resolve()), "--only", measure, str(path)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"--only {measure} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# --- report ----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "spacy": spacy.__version__,
        "spacy_pipeline": Config().nlp.pipeline,
        "load_avg_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def figures(corpus: Corpus, runs: int, skip_memory: bool) -> dict[str, Any]:
    host = machine()  # before the runs, so the load average shows what else the CPUs were doing
    inputs: dict[Measure, list[str]] = {"spacy": corpus.clean_texts, "pipeline": corpus.lines,
                                        "nogeo": corpus.lines}
    plans = {measure: runner(measure, corpus.path.name) for measure in inputs}
    for measure, run in plans.items():
        run(inputs[measure][:WARMUP_DOCS])
    rates: dict[Measure, list[float]] = {measure: [] for measure in inputs}
    cpu_rates: dict[Measure, list[float]] = {measure: [] for measure in inputs}
    events = 0
    for _ in range(runs):
        for measure, run in plans.items():
            timing = timed(run, inputs[measure])
            rates[measure].append(corpus.documents / timing.wall_s)
            cpu_rates[measure].append(corpus.documents / timing.cpu_s)
            if measure == "pipeline":
                events = timing.result
    result: dict[str, Any] = {
        "machine": host,
        "corpus": {
            "path": str(corpus.path), "name": corpus.name, "records": corpus.records,
            "repeat": corpus.repeat, "documents": corpus.documents,
            "raw_chars": corpus.raw_chars, "clean_chars": corpus.clean_chars,
            "clean_errors": corpus.clean_errors,
            "distinct_clean_texts": corpus.distinct_clean_texts, "events": events,
        },
        "runs": runs,
    }
    for measure in inputs:
        median = statistics.median(rates[measure])
        result[measure] = {"docs_per_s": rates[measure], "median_docs_per_s": median,
                           "median_chars_per_s": median * corpus.clean_chars / corpus.documents,
                           "best_docs_per_s": max(rates[measure]),
                           "docs_per_cpu_s": cpu_rates[measure],
                           "median_docs_per_cpu_s": statistics.median(cpu_rates[measure])}
    spacy_, pipeline = result["spacy"], result["pipeline"]
    ratio = pipeline["median_docs_per_s"] / spacy_["median_docs_per_s"]
    result.update(ratio=ratio, target_ratio=TARGET_RATIO, meets_target=ratio >= TARGET_RATIO,
                  ratio_best=pipeline["best_docs_per_s"] / spacy_["best_docs_per_s"],
                  ratio_cpu=pipeline["median_docs_per_cpu_s"] / spacy_["median_docs_per_cpu_s"],
                  geo_overhead=result["nogeo"]["median_docs_per_s"] / pipeline["median_docs_per_s"] - 1,
                  geo_overhead_cpu=result["nogeo"]["median_docs_per_cpu_s"]
                  / pipeline["median_docs_per_cpu_s"] - 1)
    if not skip_memory:
        with tempfile.TemporaryDirectory(prefix="borderwatch-bench-") as folder:
            for measure, items in inputs.items():
                alone = memory_in_subprocess(measure, items, Path(folder))
                result[measure].update(peak_rss_mib=alone["peak_rss_mib"],
                                       rss_after_warmup_mib=alone["rss_after_warmup_mib"])
    return result


def table(result: dict[str, Any]) -> str:
    m, c = result["machine"], result["corpus"]
    lines = [
        f"machine   {m['cpu_count']} CPUs ({m['cpu']}), Python {m['python']}, "
        f"spaCy {m['spacy']} ({m['spacy_pipeline']}), {m['platform']}, "
        f"load average {'?' if m['load_avg_1m'] is None else format(m['load_avg_1m'], '.2f')} "
        "at start",
        f"corpus    {c['name']} ({c['path']}): {c['records']} records × {c['repeat']} = "
        f"{c['documents']} documents, {c['raw_chars']:,} input chars, "
        f"{c['clean_chars']:,} clean chars ({c['distinct_clean_texts']} distinct texts), "
        f"{c['clean_errors']} failed ingest/clean, {c['events']} events",
        f"runs      {result['runs']} of each, alternating spaCy/pipeline after a warm-up; "
        "medians unless marked best",
        "",
        f"{'measure':<24}{'docs/s':>8}{'kchars/s':>10}{'best':>8}{'docs/CPU-s':>12}{'peak RSS':>11}"
        f"{'RSS warm':>11}   runs (docs/s)",
    ]
    labels = {"spacy": "A  bare spaCy nlp.pipe", "pipeline": "B  extract end-to-end",
              "nogeo": "C  extract without geo"}
    for measure, label in labels.items():
        r = result[measure]
        memory = (f"{r['peak_rss_mib']:>7.0f} MiB{r['rss_after_warmup_mib']:>7.0f} MiB"
                  if "peak_rss_mib" in r else f"{'-':>11}{'-':>11}")
        runs = ", ".join(f"{rate:.1f}" for rate in r["docs_per_s"])
        lines.append(f"{label:<24}{r['median_docs_per_s']:>8.1f}"
                     f"{r['median_chars_per_s'] / 1000:>10.1f}{r['best_docs_per_s']:>8.1f}"
                     f"{r['median_docs_per_cpu_s']:>12.1f}"
                     f"{memory}   {runs}")
    verdict = "meets" if result["meets_target"] else "BELOW"
    lines += ["", f"ratio B/A {result['ratio']:.2f} of the medians ({verdict} the target of "
                  f"≥ {result['target_ratio']:.1f}); of the best runs {result['ratio_best']:.2f}, "
                  f"by CPU time {result['ratio_cpu']:.2f}",
              f"geo stage adds {result['geo_overhead']:.0%} to extract time (B vs C; by CPU time "
              f"{result['geo_overhead_cpu']:.0%}; target ≤ 30%)"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="JSON Lines input (fields id, text or html, published, ...)")
    parser.add_argument("--repeat", type=int, default=None,
                        help=f"copies of the corpus (default: enough for ≥ {MIN_DOCUMENTS} docs)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each measure")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the two subprocesses that measure peak memory")
    parser.add_argument("--only", nargs=2, metavar=("MEASURE", "INPUTS"),
                        help="internal: run spacy|pipeline|nogeo once over prepared INPUTS, print "
                             "its memory as JSON")
    args = parser.parse_args(argv)
    if (args.repeat is not None and args.repeat < 1) or args.runs < 1:
        parser.error("--repeat and --runs must be at least 1")
    if args.only:
        measure, inputs = args.only
        if measure not in ("spacy", "pipeline", "nogeo"):
            parser.error("--only takes spacy, pipeline or nogeo")
        print(json.dumps(measure_alone(cast(Measure, measure), Path(inputs))))
        return 0
    load_pipeline()  # fail early and plainly if the spaCy pipeline is not installed
    corpus = load_corpus(args.corpus, args.repeat, Config())
    result = figures(corpus, args.runs, args.no_memory)
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
