#!/usr/bin/python3
"""Writes tests/data/div/: small models that divide one activation by another, the int8 Div of
es_binary_s8 (docs/int8.md "Div"), each a few KB, with an input archive for each (<name>.npz, one
array per input, used as calibration set and as test input).

    /usr/bin/python3 tools/make_div_models.py

PyTorch exports (python3-torch) of F.normalize (x / clamp(ReduceL2(x)).expand_as(x)) and Softsign
(x / (1 + |x|)) at opsets 11, 13 and 17 with a dynamic batch axis, and an onnx.helper Div of two
activations that broadcasts the divisor, whose range crosses zero: div_broadcast_zero_13.npz holds
divisors that quantise to its zero point (division by zero, and 0 / 0), which the calibration
set div_broadcast_13.npz leaves out (its float quotients would be infinite). Tests read only the
committed files, so they never need torch. The output is deterministic (fixed seeds).
"""
import pathlib

import numpy as np
from onnx import TensorProto, helper

import model_files  # tools/model_files.py

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "data" / "div"
SAMPLES = 16


def save(name, model, inputs):
    model_files.save(OUT, "make_div_models", name, model, inputs)


def torch_models():
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Normalize(nn.Module):
        """Embeddings of a sequence, each L2-normalised (metric-learning heads)."""

        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(8, 6)

        def forward(self, x):
            return F.normalize(self.linear(x.transpose(1, 2)), dim=-1)

    class Softsign(nn.Module):
        """A Linear layer with a Softsign activation."""

        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(8, 12)

        def forward(self, x):
            return F.softsign(2 * self.linear(x.transpose(1, 2)))

    for opset in (11, 13, 17):
        for name, module in (("normalize", Normalize), ("softsign", Softsign)):
            torch.manual_seed(opset)
            net = module().eval()
            x = torch.randn(SAMPLES, 8, 10)
            save(f"{name}_{opset}", model_files.export_torch(net, torch.randn(1, 8, 10), opset),
                 {"x": x.numpy()})


def helper_models():
    rng = np.random.default_rng(8)
    a = rng.uniform(-1, 1, (SAMPLES, 4, 6, 5)).astype(np.float32)
    # The divisor, one per row of a (broadcast over axes 1 and 3), from -2 to 2 but at least 1/4
    # away from zero in the calibration set.
    magnitude = rng.uniform(0.25, 2, (SAMPLES, 1, 6, 1))
    b = (magnitude * rng.choice([-1.0, 1.0], magnitude.shape)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Div", ["a", "b"], ["y"], name="divide")], "div_broadcast",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["n", 4, 6, 5]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, ["n", 1, 6, 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4, 6, 5])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    save("div_broadcast_13", model, {"a": a, "b": b})
    # Test input with divisors that quantise to b's zero point (exact zeros and values within
    # half a step of it), and numerators at a's zero point among them (0 / 0).
    b_zero = b.copy()
    b_zero[::3, :, ::2, :] = 0.0
    b_zero[1::3, :, 1, :] = 1e-4
    a_zero = a.copy()
    a_zero[:, 0, :, :] = 0.0
    np.savez(OUT / "div_broadcast_zero_13.npz", a=a_zero, b=b_zero)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    helper_models()
    torch_models()
