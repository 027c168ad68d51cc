"""The line classifier: how likely each line of a page is chrome rather than article.

Two logistic-regression stages trained by ``bench/train_chrome_model.py``: the first scores a
line from its own features (``features.py``), the second adds its neighbours' first-stage scores,
so a caption inside a run of chrome and a short line inside the story are told apart. The model
is a small JSON file of coefficients (``data/chrome_model.json``), loaded once and applied with
numpy: no pickle, no scikit-learn at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from borderwatch.clean.data import read_packaged
from borderwatch.clean.features import FEATURE_NAMES, line_features
from borderwatch.errors import ConfigError

MODEL_VERSION = 1
"""Bumped whenever the features change; a model file of another version is refused."""
NEIGHBOUR_NAMES = ("prev_score", "next_score", "window_score")
_WINDOW = 3


@dataclass(frozen=True)
class Stage:
    """One standardised logistic regression."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def score(self, x: np.ndarray) -> np.ndarray:
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class Model:
    """Both stages of the shipped model and the scores at which a line is removed."""

    own: Stage
    context: Stage
    threshold: float
    prose_threshold: float
    """For article-like prose lines (``features.line_shape``): stricter, as losing one costs more."""


def _stage(raw: Any, width: int, where: str, source: str) -> Stage:
    keys = {"mean", "scale", "coef", "intercept"}
    if not isinstance(raw, dict) or set(raw) != keys:
        raise ConfigError(f"{where}: needs exactly the keys {', '.join(sorted(keys))}", source=source)
    arrays = {}
    for key in ("mean", "scale", "coef"):
        value = raw[key]
        if not isinstance(value, list) or len(value) != width:
            raise ConfigError(f"{where}.{key}: needs {width} numbers", source=source)
        try:
            arrays[key] = np.array(value, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}.{key}: needs {width} numbers", source=source) from exc
    if not np.all(np.isfinite(np.concatenate(list(arrays.values())))) or np.any(arrays["scale"] <= 0):
        raise ConfigError(f"{where}: numbers must be finite and scales positive", source=source)
    if not isinstance(raw["intercept"], int | float):
        raise ConfigError(f"{where}.intercept: needs a number", source=source)
    return Stage(arrays["mean"], arrays["scale"], arrays["coef"], float(raw["intercept"]))


def parse_model(text: str, source: str) -> Model:
    """Validate a model file against the features this code computes."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON: {exc}", source=source) from exc
    if not isinstance(raw, dict) or raw.get("version") != MODEL_VERSION:
        raise ConfigError(f"model version must be {MODEL_VERSION}; retrain with "
                          "bench/train_chrome_model.py", source=source)
    if raw.get("features") != list(FEATURE_NAMES):
        raise ConfigError("the model's features are not the ones this code computes; retrain",
                          source=source)
    stages = raw.get("stages")
    if not isinstance(stages, list) or len(stages) != 2:
        raise ConfigError("needs exactly two stages", source=source)
    thresholds = [raw.get(key) for key in ("threshold", "prose_threshold")]
    if not all(isinstance(t, float) and 0 < t < 1 for t in thresholds):
        raise ConfigError("threshold and prose_threshold must be numbers in (0, 1)", source=source)
    width = len(FEATURE_NAMES)
    return Model(_stage(stages[0], width, "stages[0]", source),
                 _stage(stages[1], width + len(NEIGHBOUR_NAMES), "stages[1]", source), *thresholds)


def load_model() -> Model:
    """The packaged model file, validated."""
    return parse_model(*read_packaged("chrome_model.json", "the line classifier"))


def neighbour_features(scores: np.ndarray) -> np.ndarray:
    """Per line: the previous and next line's score and the mean score of the lines around it."""
    n = len(scores)
    padded = np.concatenate([[0.5], scores, [0.5]])
    cumulative = np.concatenate([[0.0], np.cumsum(scores)])
    idx = np.arange(n)
    lo, hi = np.maximum(idx - _WINDOW, 0), np.minimum(idx + _WINDOW + 1, n)
    around = cumulative[hi] - cumulative[lo] - scores
    count = np.maximum(hi - lo - 1, 1)
    window = np.where(hi - lo > 1, around / count, 0.5)
    return np.column_stack([padded[:-2], padded[2:], window]) if n else np.zeros((0, 3))


def chrome_scores(bodies: list[str], model: Model) -> tuple[np.ndarray, np.ndarray]:
    """The feature matrix of the non-empty ``bodies`` and each line's chrome probability."""
    x = line_features(bodies)
    if not bodies:
        return x, np.zeros(0)
    first = model.own.score(x)
    return x, model.context.score(np.hstack([x, neighbour_features(first)]))
