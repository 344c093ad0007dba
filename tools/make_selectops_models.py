#!/usr/bin/python3
"""Writes tests/data/selectops/: small models of the selects PyTorch and Keras export on run-time
data (torch.where on a comparison, masked_fill, a leaky select), of CumSum and of the reductions
ReduceMin, ReduceSumSquare, ReduceL1, ReduceLogSumExp and ReduceProd, each a few KB, with an input
archive for each (<name>.npz, one array per input, used as calibration set and as test input).

    /usr/bin/python3 tools/make_selectops_models.py

PyTorch exports (python3-torch) at opsets 9, 13 and 17, and onnx.helper graphs for what PyTorch
does not write (every comparison of two activations of different parameters, Equal, CumSum's
exclusive and reverse attributes, the reductions' keepdims and axes). Tests read only the
committed files, so they never need torch. The output is deterministic (fixed seeds).
"""
import pathlib

import numpy as np
from onnx import helper, numpy_helper

import model_files  # tools/model_files.py

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "data" / "selectops"
SAMPLES = 16


def save(name, model, inputs):
    model_files.save(OUT, "make_selectops_models", name, model, inputs)


def helper_model(name, nodes, inputs, outputs, opset, data, initializers=None):
    save(name, model_files.inferred_outputs_model(name, nodes, inputs, outputs, opset, data,
                                                  initializers), data)


def torch_model(name, module, shape, opset, seed):
    save(name, *model_files.export_seeded(module, shape, opset, seed, SAMPLES))


def torch_models():
    import torch
    from torch import nn


    seq = (1, 8, 20)
    for opset in (9, 13, 17):
        torch.manual_seed(opset)
        # A leaky ReLU written as a select after a Conv: Greater of a constant 0, Mul, Where.
        torch_model(f"leaky_where_{opset}",
                    model_files.lambda_module(lambda m, x: torch.where(m["c"](x) > 0, m["c"](x), 0.1 * m["c"](x)),
                           c=nn.Conv1d(8, 8, 3)), seq, opset, opset)
        torch.manual_seed(opset)
        # torch.where(x > t, a, b): a learned per-channel threshold [8, 1] broadcast along time,
        # a Conv's output and the row mean broadcast back along time.
        threshold = torch.randn(8, 1) * 0.5
        torch_model(f"where_threshold_{opset}",
                    model_files.lambda_module(lambda m, x: torch.where(x > threshold, m["c"](x),
                                                    x.mean(2, keepdim=True)),
                           c=nn.Conv1d(8, 8, 3, padding=1)), seq, opset, opset)
    for opset in (9, 13, 17):
        torch.manual_seed(opset)
        # Masks cast to float and multiplied: y * (y > 0.1).float() + (x < -1).float().
        torch_model(f"mask_multiply_{opset}",
                    model_files.lambda_module(lambda m, x: m["c"](x) * (m["c"](x) > 0.1).float()
                           + (x[:, :, 1:-1] < -1.0).float(), c=nn.Conv1d(8, 8, 3)),
                    seq, opset, opset)
        torch.manual_seed(opset)
        # ReduceMin (x.amin) and ReduceL1 (a 1-norm) over time after a Conv.
        torch_model(f"min_l1_{opset}",
                    model_files.lambda_module(lambda m, x: m["c"](x).amin(2) + 0.1 * m["c"](x).norm(p=1, dim=2),
                           c=nn.Conv1d(8, 8, 3)), seq, opset, opset)
        # torch.logsumexp over time after a Conv.
        torch_model(f"logsumexp_{opset}",
                    model_files.lambda_module(lambda m, x: torch.logsumexp(m["c"](x), 2), c=nn.Conv1d(8, 8, 3)),
                    seq, opset, opset)
    torch.manual_seed(13)
    # float32 only: a product over time.
    torch_model("prod_13", model_files.lambda_module(lambda m, x: torch.tanh(x).prod(2)), seq, 13, 13)
    for opset in (9, 13):
        torch.manual_seed(opset)
        # x >= t and x <= t: Not(Less) and Not(Greater) before opset 12, GreaterOrEqual and
        # LessOrEqual from then on.
        torch_model(f"where_ge_{opset}",
                    model_files.lambda_module(lambda m, x: torch.where(m["c"](x) >= 0.2, m["c"](x), x[:, :, 1:-1])
                           + (x[:, :, 1:-1] <= -0.5).float(), c=nn.Conv1d(8, 8, 3)),
                    seq, opset, opset)
    for opset in (13, 17):
        torch.manual_seed(opset)
        # torch.cumsum over time (CumSum from opset 11) after a Conv, and along the channels.
        torch_model(f"cumsum_{opset}",
                    model_files.lambda_module(lambda m, x: torch.cumsum(m["c"](x), 2) * 0.25
                           + torch.cumsum(m["c"](x), 1), c=nn.Conv1d(8, 8, 3, padding=1)),
                    seq, opset, opset)
    for opset in (13, 17):
        torch.manual_seed(opset)
        # masked_fill on a comparison of two activations of different ranges (a Linear's output
        # and the input), then a fill of a constant below a threshold.
        torch_model(f"masked_fill_{opset}",
                    model_files.lambda_module(lambda m, x: m["l"](x).masked_fill(m["l"](x) <= x, 0.0)
                           .masked_fill(x < -1.0, -0.5), l=nn.Linear(20, 20)), seq, opset, opset)


def helper_models():
    rng = np.random.default_rng(21)
    # Halves: exact ties between x and y in float, and on the int8 grids where their dequantised
    # values meet. Their ranges ([-2, 2] and [-3, 2.5]) put no half exactly between two codes,
    # where `run`'s quantisation of the inputs (ties away from zero) and QuantizeLinear's (to
    # even) would start from different codes.
    x = (np.round(rng.standard_normal((SAMPLES, 6, 5)) * 2) / 2).clip(-2, 2).astype(np.float32)
    y = (np.round(rng.standard_normal((SAMPLES, 6, 5)) * 3) / 2).clip(-3, 2.5).astype(np.float32)
    # Every comparison of two activations of different parameters, each picking between them.
    compares = [("Greater", "gt"), ("Less", "lt"), ("GreaterOrEqual", "ge"),
                ("LessOrEqual", "le"), ("Equal", "eq")]
    nodes = []
    for op, short in compares:
        nodes.append(helper.make_node(op, ["x", "y"], [f"{short}_mask"]))
        nodes.append(helper.make_node("Where", [f"{short}_mask", "x", "y"], [short]))
    helper_model("compare_pick_13", nodes, ["x", "y"], [s for _, s in compares], 13,
                 {"x": x, "y": y})
    # A condition broadcast along the rows ([n, 1, 5]), a scalar constant picked, and the
    # comparison's operands in the other order (the constant first).
    helper_model("where_broadcast_13", [
        helper.make_node("ReduceMean", ["x"], ["m"], axes=[1], keepdims=1),
        helper.make_node("Less", ["k", "m"], ["mask"]),
        helper.make_node("Where", ["mask", "y", "k"], ["out"]),
    ], ["x", "y"], ["out"], 13, {"x": x, "y": y}, {"k": np.array(-0.25, np.float32)})

    # CumSum's attributes: exclusive, reverse, both, the axis an int32 scalar or an int64
    # 1-element tensor, negative.
    z = rng.standard_normal((SAMPLES, 6, 5, 4)).astype(np.float32)
    axis = lambda value, dtype: numpy_helper.from_array(np.array(value, dtype))  # noqa: E731
    helper_model("cumsum_attributes_11", [
        helper.make_node("Constant", [], ["a1"], value=axis(1, np.int32)),
        helper.make_node("Constant", [], ["a2"], value=axis([-1], np.int64)),
        helper.make_node("Constant", [], ["a3"], value=axis(2, np.int64)),
        helper.make_node("CumSum", ["z", "a1"], ["exclusive"], exclusive=1),
        helper.make_node("CumSum", ["z", "a2"], ["reverse"], reverse=1),
        helper.make_node("CumSum", ["z", "a3"], ["both"], exclusive=1, reverse=1),
    ], ["z"], ["exclusive", "reverse", "both"], 11, {"z": z})
    # The reductions' attributes: axes negative or several, keepdims 0 and 1.
    helper_model("reduce_min_square_l1_11", [
        helper.make_node("ReduceMin", ["z"], ["min"], axes=[-1], keepdims=0),
        helper.make_node("ReduceMin", ["z"], ["min_kept"], axes=[1, 2], keepdims=1),
        helper.make_node("ReduceSumSquare", ["z"], ["square"], axes=[2], keepdims=0),
        helper.make_node("ReduceL1", ["z"], ["l1"], axes=[-3], keepdims=1),
    ], ["z"], ["min", "min_kept", "square", "l1"], 11, {"z": z})
    helper_model("reduce_log_sum_exp_13", [
        helper.make_node("ReduceLogSumExp", ["z"], ["lse"], axes=[1], keepdims=0),
        helper.make_node("ReduceLogSumExp", ["z"], ["lse_last"], axes=[-1], keepdims=1),
    ], ["z"], ["lse", "lse_last"], 13, {"z": z})
    helper_model("reduce_prod_13", [
        helper.make_node("ReduceProd", ["z"], ["prod"], axes=[-1], keepdims=1),
    ], ["z"], ["prod"], 13, {"z": z})

    # Bad input: a comparison as a model output (a bool tensor).
    helper_model("compare_output_13", [
        helper.make_node("Greater", ["x", "y"], ["mask"]),
    ], ["x", "y"], ["mask"], 13, {"x": x, "y": y})


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    helper_models()
    torch_models()
