#!/usr/bin/python3
"""Writes the Slice and Gather models of tests/data/ops/ (issue 15: real models must compile):
Slice with opset 9 attributes and with opset 13 inputs (negative positions, steps > 1, negative
steps, clamped ends), Gather with scalar, vector and 2-D constant indices on several axes, and a
PyTorch Conv1d model whose head reads y[:, -1] and y[:, 1::2] (python3-torch). Each comes with
an input (<name>.npz) for calibration and tests.

    /usr/bin/python3 tools/make_slice_gather_models.py

The output is deterministic (fixed seeds), so rerunning it leaves the committed files unchanged.
"""
import numpy as np
import onnx
from onnx import helper

from make_op_models import OUT, SAMPLES, floats, helper_model, save, torch_model

INT64_MAX = np.iinfo(np.int64).max


def ints(*values):
    return np.array(values, dtype=np.int64)


def helper_models():
    rng = np.random.default_rng(1515)
    # Opset 9: starts/ends/axes are attributes, no steps; ends past the axis clamp.
    helper_model("slice_9", [
        helper.make_node("Slice", ["x"], ["inner"], starts=[1, -7], ends=[100, -1], axes=[1, 2]),
        helper.make_node("Slice", ["x"], ["tail"], starts=[0, 0, 5], ends=[1000, 3, 8]),
    ], ["x"], ["inner", "tail"], {}, 9, {"x": floats(rng, SAMPLES, 6, 8)})
    # ONNX's inference leaves the first output's dimensions unnamed symbols: give them, with the
    # batch symbol of the input.
    model = onnx.load(OUT / "slice_9.onnx")
    del model.graph.output[:]
    model.graph.output.extend([
        helper.make_tensor_value_info("inner", onnx.TensorProto.FLOAT, ["n", 5, 6]),
        helper.make_tensor_value_info("tail", onnx.TensorProto.FLOAT, ["n", 3, 3])])
    save("slice_9", model, dict(np.load(OUT / "slice_9.npz")))
    # Opset 13: Slice takes inputs, here with negative and larger steps on a 4-D tensor, one
    # reversing an axis whole (the ends PyTorch and tf2onnx write for x[::-1]). Gather: a scalar
    # index drops the axis; vector indices mix a range, a repeat and a negative index; 2-D
    # indices add an axis.
    helper_model("slice_gather_13", [
        helper.make_node("Slice", ["x", "starts_a", "ends_a", "axes_a", "steps_a"], ["strided"]),
        helper.make_node("Slice", ["x", "starts_b", "ends_b", "axes_b", "steps_b"], ["reversed"]),
        helper.make_node("Slice", ["x", "starts_c", "ends_c", "axes_c"], ["clamped"]),
        helper.make_node("Gather", ["x", "last"], ["scalar"], axis=1),
        helper.make_node("Gather", ["x", "picks"], ["vector"], axis=2),
        helper.make_node("Gather", ["x", "grid"], ["matrix"], axis=-1),
    ], ["x"], ["strided", "reversed", "clamped", "scalar", "vector", "matrix"], {
        "starts_a": ints(-1, 6, 1), "ends_a": ints(-100, 0, 5), "axes_a": ints(1, 2, -1),
        "steps_a": ints(-1, -2, 2),
        "starts_b": ints(-1), "ends_b": ints(-INT64_MAX), "axes_b": ints(3), "steps_b": ints(-1),
        "starts_c": ints(2, -3), "ends_c": ints(INT64_MAX, 1000), "axes_c": ints(2, 1),
        "last": np.array(-1, dtype=np.int64), "picks": ints(6, 5, 4, 4, 4, 0, -1, 1),
        "grid": np.array([[0, 1], [5, 2]], dtype=np.int32),
    }, 13, {"x": floats(rng, SAMPLES, 5, 7, 6)})


def torch_models():
    import torch
    import torch.nn as nn

    class LastStep(nn.Module):
        """A 1-D convolution over time whose head reads the last and every other step,
        y[:, -1] (Gather of a scalar index) and y[:, 1::2] (Slice), as sequence models do."""

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(4, 8, 3, padding=1)
            self.last = nn.Linear(8, 3)
            self.steps = nn.Linear(8, 3)

        def forward(self, x):
            y = torch.relu(self.conv(x)).permute(0, 2, 1)  # [batch, time, channels]
            return self.last(y[:, -1]) + self.steps(y[:, 1::2]).mean(1)

    torch.manual_seed(0)
    torch_model("conv_last_step", LastStep(), (1, 4, 6), 13, 7)


def main():
    helper_models()
    torch_models()


if __name__ == "__main__":
    main()
