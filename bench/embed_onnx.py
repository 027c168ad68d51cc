"""Sentence embeddings: onnxruntime against the numpy forward pass it replaced, in one run.

    .venv/bin/python bench/embed_onnx.py [--sentences 1500]

The numpy encoder is read from git history (`git show REV:src/borderwatch/assess/embed.py`, the
last revision that had it) into a temporary module, so both run on the same machine, the same
sentences and the same tokenizer. Sentences are the development sets' texts split at full stops,
read from ../shared/eval-dev at run time. Prints the cosine of each pair of vectors (minimum,
share below 0.999) and both throughputs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from borderwatch.assess.embed import Embedder

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "eval-dev"
NUMPY_REVISION = "2ed23a5"
"""The last commit whose embed.py ran the encoder in numpy."""


def numpy_embedder() -> object:
    source = subprocess.run(
        ["git", "show", f"{NUMPY_REVISION}:src/borderwatch/assess/embed.py"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    folder = Path(tempfile.mkdtemp())
    (folder / "numpy_embed.py").write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("numpy_embed", folder / "numpy_embed.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Embedder.load()


def sentences(limit: int) -> list[str]:
    found: list[str] = []
    for name in ("plover", "ucdp", "case2021", "articles", "geowebnews", "trnews"):
        path = SHARED / name / f"{name}.input.jsonl"
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            text = json.loads(line).get("text") or ""
            found += [s.strip() for s in text.split(". ") if s.strip()][:20]
    if not found:
        sys.exit(f"no sentences found under {SHARED}")
    return found[:limit]


def timed(embedder: object, texts: list[str], runs: int = 3) -> tuple[np.ndarray, float]:
    embedder.encode(texts[:16])  # type: ignore[attr-defined]
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        vectors = embedder.encode(texts)  # type: ignore[attr-defined]
        best = min(best, time.perf_counter() - started)
    return vectors, best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=1500)
    args = parser.parse_args()
    texts = sentences(args.sentences)
    reference, numpy_s = timed(numpy_embedder(), texts)
    vectors, onnx_s = timed(Embedder.load(), texts)
    cosine = (reference * vectors).sum(axis=1)
    print(json.dumps({
        "sentences": len(texts),
        "cosine_min": round(float(cosine.min()), 7),
        "below_0.999": int((cosine < 0.999).sum()),
        "numpy_sentences_per_s": round(len(texts) / numpy_s, 1),
        "onnx_sentences_per_s": round(len(texts) / onnx_s, 1),
        "speedup": round(numpy_s / onnx_s, 2),
        "load_1m": round(os.getloadavg()[0], 2),
    }, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
