"""Train the clean stage's line classifier (article line or page chrome) and write its model.

Data: the ScrapingHub article-extraction benchmark pages in ``../shared/eval-dev/scrapinghub``
(real news pages as HTML; the gold ``clean_text`` is each page's article body, written by people;
MIT-licensed benchmark, pages belong to their publishers, see that folder's SOURCE.md). Nothing of
those pages is copied into the project: only the coefficients over shape features are written.

Each page gives three plain-text views, the way the cleaner meets page text:
- its whole visible text, one block element per line (jusText's paragraph segmentation);
- trafilatura's main text with ``favor_recall`` (a scraper's output, chrome included);
- trafilatura's main text with ``favor_precision`` (what ``borderwatch`` itself extracts).
Pages whose gold body is not English (too few English function words) are left out: the
features count English function words, and the cleaner skips such pages too. A line is article
when most of its word trigrams occur in the gold body (a short line: when it
equals a gold paragraph), chrome otherwise.

The model is logistic regression (scikit-learn) in two stages: the first reads a line's own
features, the second adds the first stage's scores of its neighbours (trained on out-of-fold
scores). Folds are grouped by page, so every figure below is measured on unseen pages. The
shipped file holds only standardisation constants and coefficients, applied with numpy.

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python bench/train_chrome_model.py            # prints CV figures, writes the model
    .venv/bin/python bench/train_chrome_model.py --dry-run  # figures only
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from importlib import resources
from pathlib import Path

import justext
import numpy as np
import trafilatura
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import StandardScaler

from borderwatch.clean.classifier import MODEL_VERSION, neighbour_features
from borderwatch.clean.features import FEATURE_NAMES, MIN_ENGLISH_SHARE, function_share, line_features

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "eval-dev" / "scrapinghub"
_WORD = re.compile(r"\w+")
_TRIGRAM = 3
_FOLDS = 5
_C = 1.0
VIEWS = ("visible_text", "trafilatura_recall", "trafilatura_precision")


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _views(html: str) -> list[list[str]]:
    """The page's plain-text views, each a list of stripped non-empty lines."""
    dom_text = [p.text for p in justext.justext(html.encode("utf-8"), frozenset(), encoding="utf-8")]
    views = [dom_text]
    for option in ("favor_recall", "favor_precision"):
        text = trafilatura.extract(html, include_comments=False, include_tables=False,
                                   **{option: True}) or ""
        views.append(text.splitlines())
    return [[line.strip() for line in view if line.strip()] for view in views]


def _labels(lines: list[str], gold: str) -> list[int]:
    """1 for chrome, 0 for article (see the module docstring)."""
    words = _words(gold)
    trigrams = {tuple(words[i:i + _TRIGRAM]) for i in range(len(words) - _TRIGRAM + 1)}
    paragraphs = {tuple(_words(p)) for p in gold.splitlines() if p.strip()}
    labels = []
    for line in lines:
        own = _words(line)
        if len(own) < _TRIGRAM:
            labels.append(0 if tuple(own) in paragraphs else 1)
            continue
        grams = [tuple(own[i:i + _TRIGRAM]) for i in range(len(own) - _TRIGRAM + 1)]
        labels.append(0 if sum(g in trigrams for g in grams) >= 0.5 * len(grams) else 1)
    return labels


def load(data: Path) -> tuple[list[np.ndarray], list[np.ndarray], list[int], list[np.ndarray]]:
    """Per view: features, labels, page index, line lengths."""
    pages = [json.loads(line) for line in (data / "scrapinghub.input.jsonl").open(encoding="utf-8")]
    gold = {json.loads(line)["id"]: json.loads(line)["clean_text"]
            for line in (data / "scrapinghub.gold.jsonl").open(encoding="utf-8")}
    xs, ys, groups, chars = [], [], [], []
    for page_index, page in enumerate(pages):
        if function_share(gold[page["id"]]) < MIN_ENGLISH_SHARE:
            continue
        for lines in _views(page["html"]):
            xs.append(line_features(lines))
            ys.append(np.array(_labels(lines, gold[page["id"]])))
            groups.append(page_index)
            chars.append(np.array([len(line) for line in lines]))
    return xs, ys, groups, chars


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[StandardScaler, LogisticRegression]:
    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=_C, max_iter=2000).fit(scaler.transform(x), y)
    return scaler, model


def _score(fitted: tuple[StandardScaler, LogisticRegression], x: np.ndarray) -> np.ndarray:
    scaler, model = fitted
    return model.predict_proba(scaler.transform(x))[:, 1]


def _out_of_fold(xs: list[np.ndarray], ys: list[np.ndarray], groups: list[int],
                 folds: GroupKFold) -> list[np.ndarray]:
    """Each view's first-stage scores from a model that never saw its page."""
    scores: list[np.ndarray] = [np.zeros(0)] * len(xs)
    for train, test in folds.split(xs, groups=groups):
        fitted = _fit(np.vstack([xs[i] for i in train]), np.concatenate([ys[i] for i in train]))
        for i in test:
            scores[i] = _score(fitted, xs[i])
    return scores


def _report(name: str, p: np.ndarray, y: np.ndarray, chars: np.ndarray, prose: np.ndarray,
            thresholds: tuple[float, float]) -> dict[str, float]:
    """Line and character figures for chrome predicted at the model's thresholds."""
    pred = p >= np.where(prose, thresholds[1], thresholds[0])
    tp, fp, fn = int((pred & (y == 1)).sum()), int((pred & (y == 0)).sum()), int((~pred & (y == 1)).sum())
    lost = float(chars[pred & (y == 0)].sum() / max(chars[y == 0].sum(), 1))
    removed = float(chars[pred & (y == 1)].sum() / max(chars[y == 1].sum(), 1))
    figures = {"lines": len(y), "chrome_precision": tp / max(tp + fp, 1),
               "chrome_recall": tp / max(tp + fn, 1), "article_chars_lost": lost,
               "chrome_chars_removed": removed}
    print(f"{name}: " + ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                                  for k, v in figures.items()))
    return {k: round(v, 4) for k, v in figures.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    shipped = resources.files("borderwatch").joinpath("data", "chrome_model.json")
    parser.add_argument("--out", type=Path, default=Path(str(shipped)))
    parser.add_argument("--threshold", type=float, default=0.8,
                        help="score at which a line is chrome")
    parser.add_argument("--prose-threshold", type=float, default=0.95,
                        help="the same for article-like prose lines")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    xs, ys, groups, chars = load(args.data)
    folds = GroupKFold(n_splits=_FOLDS)
    first = _out_of_fold(xs, ys, groups, folds)
    xs2 = [np.hstack([x, neighbour_features(p)]) for x, p in zip(xs, first, strict=True)]
    second = _out_of_fold(xs2, ys, groups, folds)
    y, c = np.concatenate(ys), np.concatenate(chars)
    prose = np.vstack(xs)[:, FEATURE_NAMES.index("is_prose")] == 1
    view = np.concatenate([np.full(len(labels), i % len(VIEWS)) for i, labels in enumerate(ys)])
    print(f"{len(set(groups))} pages, {len(xs)} views, {len(y)} lines ({int(y.sum())} chrome)")
    thresholds = (args.threshold, args.prose_threshold)
    scores = np.concatenate(second)
    cv = {"all_views": _report("CV, all views", scores, y, c, prose, thresholds)}
    for i, name in enumerate(VIEWS):
        m = view == i
        cv[name] = _report(f"CV, {name}", scores[m], y[m], c[m], prose[m], thresholds)
    if args.dry_run:
        return 0
    stages = []
    for features in (xs, xs2):
        scaler, model = _fit(np.vstack(features), y)
        stages.append({"mean": scaler.mean_.round(6).tolist(), "scale": scaler.scale_.round(6).tolist(),
                       "coef": model.coef_[0].round(6).tolist(),
                       "intercept": round(float(model.intercept_[0]), 6)})
    model_file = {
        "version": MODEL_VERSION,
        "threshold": args.threshold,
        "prose_threshold": args.prose_threshold,
        "features": list(FEATURE_NAMES),
        "stages": stages,
        "training": {"data": "ScrapingHub article-extraction benchmark, dev split (eval-dev/scrapinghub)",
                     "pages": len(set(groups)), "views": len(xs), "lines": len(y),
                     "chrome_lines": int(y.sum()), "cv_folds_by_page": _FOLDS, "cv": cv,
                     "script": "bench/train_chrome_model.py"},
    }
    args.out.write_text(json.dumps(model_file, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
