#!/usr/bin/python3
"""Writes tests/data/elemops: the PyTorch layers whose exports stopped code generation (PReLU,
torch.max/min/abs/clamp, ConvTranspose2d/1d, InstanceNorm2d and GroupNorm) exported by
torch.onnx.export at the opsets they exist in, plus onnx.helper graphs of the edge cases the
exporter does not write (a single PRelu slope broadcast along the last axis, variadic Max, an
unsupported ConvTranspose attribute), for tests/cli/test_elemops.py.

    /usr/bin/python3 tools/make_elemops_models.py [NAME...]   (default: every model)

Each <name>.onnx comes with <name>.npz: SAMPLES inputs (key "x", [SAMPLES, ...]) used both as
calibration data and as the test batch. Deterministic: fixed seeds, one thread.
"""
import pathlib
import sys
import zlib

import numpy as np
import torch
import torch.nn as nn
from onnx import TensorProto, helper, numpy_helper

import model_files  # tools/model_files.py

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "data" / "elemops"
SAMPLES = 16
PRODUCER = "make_elemops_models"


class ConvPRelu(nn.Module):
    """Conv2d then nn.PReLU(channels): the slope exported as a [C, 1, 1] initialiser."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.prelu = nn.PReLU(8)
        with torch.no_grad():  # trained slopes differ per channel, some negative
            self.prelu.weight.copy_(torch.linspace(-0.3, 0.6, 8))

    def forward(self, x):
        return self.prelu(self.conv(x))


class LinearPRelu(nn.Module):
    """nn.PReLU() with its single slope after a Linear layer on a sequence."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 12)
        self.prelu = nn.PReLU(init=0.2)

    def forward(self, x):
        return self.prelu(self.linear(x))


class MaxMinAbs(nn.Module):
    """torch.max / torch.min of two activations, of an activation and its per-row mean
    (broadcast along the last axis), abs, and clamp with one bound."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(8, 12)
        self.b = nn.Linear(8, 12)

    def forward(self, x):
        a, b = self.a(x), self.b(x)
        larger = torch.max(a, b)
        smaller = torch.min(a, a.mean(2, keepdim=True))
        return torch.abs(larger) + torch.clamp(smaller, min=-0.5) + torch.maximum(b, torch.neg(a))


class ConvTranspose2d(nn.Module):
    """The decoder step of a small segmentation / autoencoder net: Conv2d down, ReLU,
    ConvTranspose2d up (stride 2, padding 1, output_padding 1)."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 8, 3, stride=2)
        self.up = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)

    def forward(self, x):
        return self.up(torch.relu(self.down(x)))


class ConvTranspose1d(nn.Module):
    """A 1-D upsampling ConvTranspose1d (stride 2, kernel 4, padding 1), no bias."""

    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose1d(8, 6, 4, stride=2, padding=1, bias=False)

    def forward(self, x):
        return self.up(x)


class ConvInstanceNorm(nn.Module):
    """Conv2d then InstanceNorm2d(affine=True), exported as InstanceNormalization."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.norm = nn.InstanceNorm2d(8, affine=True)
        with torch.no_grad():
            self.norm.weight.uniform_(0.5, 1.5)
            self.norm.bias.uniform_(-0.5, 0.5)

    def forward(self, x):
        return self.norm(self.conv(x))


class ConvGroupNorm(nn.Module):
    """Conv2d then GroupNorm(2 groups, 8 channels): the exporter writes Reshape to [N, 2, -1],
    InstanceNormalization with unit scale, Reshape back, Mul and Add per channel."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.norm = nn.GroupNorm(2, 8)
        with torch.no_grad():
            self.norm.weight.uniform_(0.5, 1.5)
            self.norm.bias.uniform_(-0.5, 0.5)

    def forward(self, x):
        return self.norm(self.conv(x))


IMAGE = (1, 3, 10, 10)
SEQUENCE = (1, 6, 8)
TORCH_MODELS = [
    ("prelu_conv_9", ConvPRelu, IMAGE, 9),
    ("prelu_conv_13", ConvPRelu, IMAGE, 13),
    ("prelu_conv_17", ConvPRelu, IMAGE, 17),
    ("prelu_single_11", LinearPRelu, SEQUENCE, 11),
    ("max_min_abs_9", MaxMinAbs, SEQUENCE, 9),
    ("max_min_abs_13", MaxMinAbs, SEQUENCE, 13),
    ("conv_transpose2d_11", ConvTranspose2d, IMAGE, 11),
    ("conv_transpose2d_13", ConvTranspose2d, IMAGE, 13),
    ("conv_transpose1d_13", ConvTranspose1d, (1, 8, 10), 13),
    ("instance_norm_13", ConvInstanceNorm, IMAGE, 13),
    ("instance_norm_17", ConvInstanceNorm, IMAGE, 17),
    ("group_norm_13", ConvGroupNorm, IMAGE, 13),
]


def export(name, make, shape, opset):
    torch.manual_seed(zlib.crc32(name.encode()))  # a model's data do not depend on the others
    module = make().eval()
    x = torch.randn(SAMPLES, *shape[1:])
    return model_files.export_torch(module, torch.randn(*shape), opset, batch="batch"), x.numpy()


def graph_model(name, nodes, inputs, output_shape, initialisers, opset=13):
    """One-node graphs of onnx.helper, input x and output y with a dynamic batch axis."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", *s[1:]]) for n, s in inputs],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", *output_shape[1:]])],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in initialisers.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    data = {n: rng.standard_normal((SAMPLES,) + tuple(s[1:])).astype(np.float32)
            for n, s in inputs}
    return model, data


def helper_models():
    # A single slope of shape [1] and a per-column slope of shape [W] (the last axis), which
    # nn.PReLU never writes but ONNX allows (unidirectional broadcast).
    yield "prelu_last_axis", *graph_model(
        "prelu_last_axis", [helper.make_node("PRelu", ["x", "slope"], ["y"])],
        [("x", [1, 4, 6])], [1, 4, 6], {"slope": np.linspace(-0.5, 0.5, 6)})
    rng = np.random.default_rng(7)
    # ConvTranspose as the exporter never writes it: output_shape (pads derived, the end enlarged
    # past the natural size), a dilation, a bias, and a Relu that fuses into it.
    yield "conv_transpose_output_shape", *graph_model(
        "conv_transpose_output_shape",
        [helper.make_node("ConvTranspose", ["x", "w", "b"], ["t"], strides=[2, 2],
                          dilations=[1, 2], output_shape=[10, 14]),
         helper.make_node("Relu", ["t"], ["y"])],
        [("x", [1, 3, 5, 5])], [1, 4, 10, 14],
        {"w": rng.standard_normal((3, 4, 3, 3)) * 0.3, "b": rng.standard_normal(4) * 0.1})
    # Two groups: float32 compiles it; int8 has one weight scale per slice of W's axis 1, which
    # is not one per output channel, and is refused.
    yield "conv_transpose_grouped", *graph_model(
        "conv_transpose_grouped",
        [helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 2], group=2)],
        [("x", [1, 4, 4, 4])], [1, 6, 9, 9], {"w": rng.standard_normal((4, 3, 3, 3)) * 0.3})
    # InstanceNormalization whose scale is a model input: the reference runs it, code
    # generation needs constants.
    graph = helper.make_graph(
        [helper.make_node("InstanceNormalization", ["x", "scale", "b"], ["y"])],
        "instance_norm_runtime_scale",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 2, 4, 4]),
         helper.make_tensor_value_info("scale", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2, 4, 4])],
        [numpy_helper.from_array(np.zeros(2, np.float32), "b")])
    yield "instance_norm_runtime_scale", helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13)]), {
            "x": rng.standard_normal((SAMPLES, 2, 4, 4)).astype(np.float32),
            "scale": rng.standard_normal((SAMPLES, 2)).astype(np.float32)}
    # Max and Min with three inputs: the reference runs them, code generation asks for a chain.
    yield "max_three_inputs", *graph_model(
        "max_three_inputs", [helper.make_node("Max", ["x", "a", "b"], ["y"])],
        [("x", [1, 4, 6])], [1, 4, 6], {"a": np.full([6], 0.1), "b": np.full([4, 1], -0.2)})


def main(names):
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    models = []
    for name, make, shape, opset in TORCH_MODELS:
        if not names or name in names:
            model, x = export(name, make, shape, opset)
            models.append((name, model, {"x": x}))
    for name, model, data in helper_models():
        if not names or name in names:
            models.append((name, model, data))
    for name, model, data in models:
        model_files.save(OUT, PRODUCER, name, model, data)


if __name__ == "__main__":
    main(sys.argv[1:])
