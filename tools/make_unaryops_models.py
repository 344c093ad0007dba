#!/usr/bin/python3
"""Writes tests/data/unaryops: the element-wise operators whose third-party exports stopped
`compile` (Log, Ceil, Round, Sign, Sin, Cos, Celu, exported by
torch.onnx.export at the opsets 9, 13 and 17 that have them), plus onnx.helper graphs of the ops
PyTorch does not write (Softsign, ThresholdedRelu, Shrink, Celu's alpha, Sum and Mean of one and
three broadcast inputs as tf2onnx's AddN and Keras' Average write them, Log of negative inputs),
for tests/cli/test_unaryops.py.

    /usr/bin/python3 tools/make_unaryops_models.py [NAME...]   (default: every model)

Each <name>.onnx comes with <name>.npz: SAMPLES inputs ([SAMPLES, ...] per graph input) used both
as calibration data and as the test batch. Deterministic: fixed seeds, one thread.
"""
import pathlib
import sys
import zlib

import numpy as np
import torch
import torch.nn as nn
from onnx import TensorProto, helper, numpy_helper

import model_files  # tools/model_files.py

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "data" / "unaryops"
SAMPLES = 16
PRODUCER = "make_unaryops_models"


class Function(nn.Module):
    """The function under test, applied to the model input itself: its int8 program is then the
    function's table alone, so the comparison with the QDQ file measures the op."""

    def __init__(self, function):
        super().__init__()
        self.function = function

    def forward(self, x):
        return self.function(x)


# Log of a value clamped away from 0 (log(clamp(x, min=eps)), as losses and spectrograms write
# it); the others of the input itself, of about +-8 so that Round, Ceil and the periodic
# functions see several steps and periods.
FUNCTIONS = {
    "log": (lambda x: torch.log(torch.clamp(x, min=0.05)), (9, 13, 17)),
    "ceil": (torch.ceil, (9, 13, 17)),
    "round": (torch.round, (13, 17)),  # aten::round exports from opset 11
    "sign": (torch.sign, (9, 13, 17)),
    "sin": (torch.sin, (9, 13, 17)),
    "cos": (torch.cos, (9, 13, 17)),
    "celu": (nn.CELU(1.5), (13, 17)),  # Celu is an opset 12 op
}
SEQUENCE = (1, 6, 8)


def export(name, function, opset):
    torch.manual_seed(zlib.crc32(name.encode()))  # a model's data do not depend on the others
    module = Function(function).eval()
    x = 3.0 * torch.randn(SAMPLES, *SEQUENCE[1:])
    return model_files.export_torch(module, torch.randn(*SEQUENCE), opset, batch="batch"), x.numpy()


def graph_model(name, nodes, inputs, output_shape, initialisers=None, opset=13):
    """onnx.helper graphs of float inputs (name, shape) with a dynamic batch axis and output y."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", *s[1:]]) for n, s in inputs],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", *output_shape[1:]])],
        [numpy_helper.from_array(v.astype(np.float32), k)
         for k, v in (initialisers or {}).items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    data = {n: (2.0 * rng.standard_normal((SAMPLES,) + tuple(s[1:]))).astype(np.float32)
            for n, s in inputs}
    return model, data


def helper_models():
    x = [("x", [1, 4, 6])]
    node = helper.make_node
    yield "softsign", *graph_model("softsign", [node("Softsign", ["x"], ["y"])], x, [1, 4, 6])
    yield "thresholded_relu", *graph_model(
        "thresholded_relu", [node("ThresholdedRelu", ["x"], ["y"], alpha=0.3)], x, [1, 4, 6])
    yield "shrink", *graph_model(
        "shrink", [node("Shrink", ["x"], ["y"], lambd=0.4, bias=0.25)], x, [1, 4, 6])
    yield "celu_alpha", *graph_model(
        "celu_alpha", [node("Celu", ["x"], ["y"], alpha=0.5)], x, [1, 4, 6], opset=12)
    # Log of an input that is negative half the time: NaN, and -inf at 0 in float32; the int8
    # table saturates those codes to -128.
    yield "log_domain", *graph_model("log_domain", [node("Log", ["x"], ["y"])], x, [1, 4, 6])
    # tf2onnx's AddN of two activations and a bias row; Keras' Average of three branches, one a
    # per-row value broadcast along the last axis and one a constant column.
    yield "sum_three_broadcast", *graph_model(
        "sum_three_broadcast",
        [node("Tanh", ["x"], ["t"]), node("Sum", ["x", "t", "row"], ["y"])],
        x, [1, 4, 6], {"row": np.linspace(-1.0, 1.0, 6)})
    yield "mean_three_broadcast", *graph_model(
        "mean_three_broadcast", [node("Mean", ["x", "z", "column"], ["y"])],
        [("x", [1, 4, 6]), ("z", [1, 4, 1])], [1, 4, 6],
        {"column": np.linspace(-0.5, 1.5, 4).reshape(4, 1)})
    yield "mean_two_8", *graph_model(
        "mean_two_8", [node("Sigmoid", ["x"], ["s"]), node("Mean", ["x", "s"], ["y"])],
        x, [1, 4, 6], opset=8)
    # One input: the op is its input.
    yield "sum_one", *graph_model(
        "sum_one", [node("Tanh", ["x"], ["t"]), node("Sum", ["t"], ["y"])], x, [1, 4, 6])


def main(names):
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    models = []
    for op, (function, opsets) in FUNCTIONS.items():
        for opset in opsets:
            name = f"{op}_{opset}"
            if not names or name in names:
                model, x = export(name, function, opset)
                models.append((name, model, {"x": x}))
    for name, model, data in helper_models():
        if not names or name in names:
            models.append((name, model, data))
    for name, model, data in models:
        model_files.save(OUT, PRODUCER, name, model, data)


if __name__ == "__main__":
    main(sys.argv[1:])
