#!/usr/bin/python3
"""Writes tests/data/reduceops/: small models of the classifier heads and normalisations PyTorch
exports with ArgMax, LogSoftmax, ReduceMax, ReduceSum, Softplus (Mish) and ReduceL2
(F.normalize), each a few KB, with an input archive for each (<name>.npz, one array per input,
used as calibration set and as test input).

    /usr/bin/python3 tools/make_reduceops_models.py

PyTorch exports (python3-torch) at opsets 9 to 17 as the ops allow, and onnx.helper graphs for
what PyTorch does not write (the axes as an input at opset 18, keepdims, negative axes,
select_last_index, LogSoftmax's opset-11 coercion to 2-D). Tests read only the committed files,
so they never need torch. The output is deterministic (fixed seeds).
"""
import pathlib

import numpy as np
from onnx import TensorProto, helper, numpy_helper

import model_files  # tools/model_files.py

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "data" / "reduceops"
SAMPLES = 16


def save(name, model, inputs):
    model_files.save(OUT, "make_reduceops_models", name, model, inputs)


def helper_model(name, nodes, inputs, outputs, opset, data, initializers=None):
    save(name, model_files.inferred_outputs_model(name, nodes, inputs, outputs, opset, data,
                                                  initializers), data)


def torch_model(name, module, shape, opset, seed, data=None):
    save(name, *model_files.export_seeded(module, shape, opset, seed, SAMPLES, data))


def torch_models():
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Head(nn.Module):
        """A keyword-spotting style head: mean over time, a Linear, then `last`."""

        def __init__(self, classes, last):
            super().__init__()
            self.linear = nn.Linear(8, classes)
            self.last = last

        def forward(self, x):
            return self.last(self.linear(x.mean(2)))


    seq = (1, 8, 20)
    for opset in (9, 17):
        torch.manual_seed(opset)
        torch_model(f"argmax_head_{opset}", Head(12, lambda y: y.argmax(-1)), seq, opset, opset)
    torch.manual_seed(17)
    torch_model("log_softmax_head_17", Head(10, lambda y: F.log_softmax(y, dim=-1)), seq, 17, 17)
    torch.manual_seed(13)
    # ReduceMax (attribute axes until 18) and ReduceSum (axes input from 13) side by side.
    torch_model("max_sum_13",
                model_files.lambda_module(lambda m, x: x.amax(2) + 0.25 * x.sum(2, keepdim=True).squeeze(2)),
                seq, 13, 13)
    torch.manual_seed(13)
    torch_model("softplus_13", model_files.lambda_module(lambda m, x: F.softplus(3 * x)), seq, 13, 13)
    torch.manual_seed(11)
    torch_model("mish_conv_11", model_files.lambda_module(lambda m, x: F.mish(m["c"](x)), c=nn.Conv1d(8, 8, 3)), seq,
                11, 11)
    for opset in (11, 17):
        torch.manual_seed(opset)
        torch_model(f"l2_normalize_{opset}",
                    model_files.lambda_module(lambda m, x: F.normalize(m["l"](x.transpose(1, 2)), dim=-1),
                           l=nn.Linear(8, 6)), seq, opset, opset)


def helper_models():
    rng = np.random.default_rng(15)
    x = rng.standard_normal((SAMPLES, 6, 5, 4)).astype(np.float32)
    # Halves give exact ties in float too, where select_last_index decides.
    ties = (np.round(x * 2) / 2).astype(np.float32)
    helper_model("argmax_axes_13", [
        helper.make_node("ArgMax", ["x"], ["first_kept"], axis=1, keepdims=1),
        helper.make_node("ArgMax", ["x"], ["last_dropped"], axis=-1, keepdims=0,
                         select_last_index=1),
        helper.make_node("ArgMax", ["x"], ["middle"], axis=-2, keepdims=0),
    ], ["x"], ["first_kept", "last_dropped", "middle"], 13, {"x": ties})
    # ArgMax over a Conv's output, in the middle of nothing else: the int8 codes' argmax.
    helper_model("argmax_after_conv_11", [
        helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[1, 1]),
        helper.make_node("ArgMax", ["c"], ["y"], axis=1, keepdims=0),
    ], ["x"], ["y"], 11, {"x": x},
        {"w": rng.standard_normal((20, 6, 1, 1)).astype(np.float32)})

    # LogSoftmax over a middle axis (opset 13), and opset 11's coercion to 2-D at axis 1.
    helper_model("log_softmax_axes_13", [
        helper.make_node("Mul", ["x", "k"], ["s"]),
        helper.make_node("LogSoftmax", ["s"], ["middle"], axis=1),
        helper.make_node("LogSoftmax", ["s"], ["last"], axis=-1),
    ], ["x"], ["middle", "last"], 13, {"x": x}, {"k": np.array(2.0, np.float32)})
    helper_model("log_softmax_coerced_11", [
        helper.make_node("LogSoftmax", ["x"], ["y"], axis=2),
    ], ["x"], ["y"], 11, {"x": x})

    # The axes forms: attributes (ReduceSum before opset 13, ReduceMax and ReduceL2 before 18),
    # ReduceSum's input from 13, negative axes, keepdims 0 and 1.
    # (python3-onnx 1.12 knows opsets up to 17: ReduceMax's axes input of opset 18 is left to the
    # ONNX conformance cases.)
    axes = lambda *a: numpy_helper.from_array(np.array(a, np.int64), "axes")  # noqa: E731
    helper_model("reduce_attributes_11", [
        helper.make_node("ReduceSum", ["x"], ["sum"], axes=[-2, -1], keepdims=0),
        helper.make_node("ReduceMax", ["x"], ["max"], axes=[1], keepdims=1),
        helper.make_node("ReduceMax", ["x"], ["max_middle"], axes=[-3, -2], keepdims=0),
    ], ["x"], ["sum", "max", "max_middle"], 11, {"x": x})
    helper_model("reduce_inputs_13", [
        helper.make_node("Constant", [], ["axes_sum"], value=axes(1, 2)),
        helper.make_node("ReduceSum", ["x", "axes_sum"], ["sum"], keepdims=1),
        helper.make_node("ReduceMax", ["x"], ["max"], axes=[-1], keepdims=0),
        helper.make_node("Relu", ["max"], ["max_relu"]),
    ], ["x"], ["sum", "max_relu"], 13, {"x": x})
    helper_model("reduce_l2_axes_13", [
        helper.make_node("ReduceL2", ["x"], ["y"], axes=[-1], keepdims=0),
    ], ["x"], ["y"], 13, {"x": x})

    # Expand (F.normalize's, here alone): axis 2 broadcast from 1 to 3; int8 codes are copied.
    helper_model("expand_13", [
        helper.make_node("Constant", [], ["shape"], value=axes(1, 1, 3, 1)),
        helper.make_node("Expand", ["x", "shape"], ["y"]),
    ], ["x"], ["y"], 13, {"x": x[:, :, :1, :]})

    # Bad input: reduced axes that are not adjacent, and an ArgMax too long for an int8 index.
    helper_model("reduce_max_split_axes_13", [
        helper.make_node("ReduceMax", ["x"], ["y"], axes=[1, 3], keepdims=0),
    ], ["x"], ["y"], 13, {"x": x})
    long = rng.standard_normal((4, 300)).astype(np.float32)
    helper_model("argmax_long_13", [
        helper.make_node("ArgMax", ["x"], ["y"], axis=1, keepdims=0),
    ], ["x"], ["y"], 13, {"x": long})
    # An index read by another node: generated code holds float32 and int8 tensors only.
    helper_model("argmax_read_13", [
        helper.make_node("ArgMax", ["x"], ["i"], axis=1, keepdims=0),
        helper.make_node("Cast", ["i"], ["y"], to=TensorProto.FLOAT),
    ], ["x"], ["y"], 13, {"x": x})


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    helper_models()
    torch_models()
