"""Every `borderwatch eval` measure with the prefilter on and off, side by side.

    .venv/bin/python bench/prefilter_eval.py                  # all development sets + our gold samples
    .venv/bin/python bench/prefilter_eval.py --context 0 --sets plover ucdp

The development sets are read from ../shared/eval-dev at run time (never copied). The guarantee
the prefilter gives: every measure, events and toponyms alike, within ±0.005 of the run without
it. The exit code is 1 when a measure moves further.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from borderwatch.config import Config, PrefilterConfig
from borderwatch.errors import BorderwatchError, IngestError
from borderwatch.evaluate import read_jsonl, score
from borderwatch.ingest import document_from_record
from borderwatch.pipeline import Pipeline

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "eval-dev"
SAMPLES = ["sample", "headlines", "notes", "sightings", "headlines_unseen", "notes_unseen", "types_unseen"]
"""Our own gold sets under samples/."""
SETS = ["plover", "ucdp", "case2021", "articles", "geowebnews", "trnews", "scrapinghub", *SAMPLES]
TOLERANCE = 0.005


def gold_path(name: str) -> Path:
    if name in SAMPLES:
        return ROOT / "samples" / f"{name}.gold.jsonl"
    return SHARED / name / f"{name}.gold.jsonl"


def predict(pipeline: Pipeline, gold: Path) -> tuple[dict[str, dict], float]:
    source = gold.with_name(gold.name.replace(".gold.", ".input."))
    items: list[Any] = []
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                record = json.loads(line)
                items.append(document_from_record(record, f"{source}:{number}", pipeline.config.ingest))
            except (BorderwatchError, ValueError) as exc:
                items.append(IngestError(str(exc), source=f"{source}:{number}"))
    started = time.perf_counter()
    result = {}
    for analysis in pipeline.analyse(items):
        record = analysis.to_contract()
        result[record["id"]] = record
    return result, time.perf_counter() - started


def flatten(report: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric measures only (counts of documents are context, not measures)."""
    out: dict[str, float] = {}
    for key, value in report.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, float):
            out[name] = value
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="*", default=SETS)
    parser.add_argument("--context", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    base = Config()
    off = Pipeline(replace(base, prefilter=PrefilterConfig(enabled=False)))
    on = Pipeline(replace(base, prefilter=PrefilterConfig(enabled=True, context=args.context)))
    rows = []
    worst = 0.0
    events = 0.0
    for name in args.sets:
        gold = gold_path(name)
        if not gold.exists():
            print(f"skipping {name}: {gold} not found", file=sys.stderr)
            continue
        gold_records = read_jsonl(gold)
        pred_off, t_off = predict(off, gold)
        pred_on, t_on = predict(on, gold)
        a = flatten(score(gold_records, pred_off).to_dict())
        b = flatten(score(gold_records, pred_on).to_dict())
        same = sum(1 for k in pred_off if pred_off[k] == pred_on.get(k))
        for key in sorted(a):
            delta = b.get(key, float("nan")) - a[key]
            worst = max(worst, abs(delta))
            if not key.startswith("places."):
                events = max(events, abs(delta))
            rows.append({"set": name, "measure": key, "off": a[key], "on": b.get(key), "delta": delta})
        print(
            f"{name}: {same}/{len(pred_off)} outputs identical; {t_off:.1f}s off, {t_on:.1f}s on",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps({"rows": rows, "worst": worst, "worst_event_measure": events}))
    else:
        print(f"{'set':<12} {'measure':<40} {'off':>7} {'on':>7} {'delta':>7}")
        for r in rows:
            if "per_type" in r["measure"] and abs(r["delta"]) < 1e-9:
                continue
            print(f"{r['set']:<12} {r['measure']:<40} {r['off']:7.3f} {r['on']:7.3f} {r['delta']:+7.3f}")
        print(f"largest |delta|: {worst:.4f}; of an event measure: {events:.4f} (tolerance {TOLERANCE})")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    raise SystemExit(main())
