#!/usr/bin/python3
"""Writes tests/data/resize/: Resize and Upsample as exporters write them, for
tests/cli/test_resize.py. PyTorch exports (python3-torch) of F.interpolate between two
convolutions at opsets 9, 11 and 13 (nearest with scale_factor, which the exporter computes
through Shape -> Gather -> Mul -> Cast -> Concat at opset 9 and 11; bilinear with and without
align_corners; a size), and onnx.helper graphs for what older exporters wrote (Upsample-7 with
a scales attribute as Keras converters did, Resize-10, asymmetric + floor, half_pixel +
round_prefer_floor, a downscale and a non-integer scale).

    /usr/bin/python3 tools/make_resize_models.py

Each <name>.onnx comes with <name>.npz (key "x", SAMPLES inputs: calibration set and test batch).
Deterministic: fixed seeds, one thread.
"""
import pathlib
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import model_files  # tools/model_files.py

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "data" / "resize"
SAMPLES = 16


def save(name, model, x):
    model_files.save(OUT, "make_resize_models", name, model, {"x": x})


def torch_models():
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    class ConvResizeConv(nn.Module):
        def __init__(self, **interpolate):
            super().__init__()
            self.interpolate = interpolate
            self.conv1 = nn.Conv2d(2, 4, 3, padding=1)
            self.conv2 = nn.Conv2d(4, 3, 3, padding=1)

        def forward(self, x):
            return self.conv2(F.interpolate(torch.relu(self.conv1(x)), **self.interpolate))

    torch.set_num_threads(1)
    # name, opset, F.interpolate arguments
    cases = [
        ("torch_nearest_9", 9, {"scale_factor": 2.0, "mode": "nearest"}),
        # recompute_scale_factor: the output size computed from the input's shape (Shape ->
        # Gather -> Cast -> Mul -> Cast -> Floor -> Unsqueeze -> Concat), folded by edgesplit.
        ("torch_nearest_recompute_11", 11, {"scale_factor": 2.0, "mode": "nearest",
                                            "recompute_scale_factor": True}),
        ("torch_bilinear_9", 9, {"scale_factor": 2.0, "mode": "bilinear", "align_corners": False}),
        ("torch_bilinear_corners_11", 11, {"scale_factor": 2.0, "mode": "bilinear",
                                           "align_corners": True}),
        ("torch_bilinear_size_13", 13, {"size": (7, 11), "mode": "bilinear",
                                        "align_corners": False}),
        ("torch_bicubic_11", 11, {"scale_factor": 2.0, "mode": "bicubic", "align_corners": False}),
    ]
    for name, opset, interpolate in cases:
        torch.manual_seed(zlib.crc32(name.encode()))
        module = ConvResizeConv(**interpolate).eval()
        x = torch.randn(SAMPLES, 2, 5, 6)
        save(name, model_files.export_torch(module, torch.randn(1, 2, 5, 6), opset, batch="batch"),
             x.numpy())


def helper_models():
    rng = np.random.default_rng(1515)

    def model(name, opset, resize_nodes, initializers=(), shape=(2, 5, 6), outputs=("y",)):
        # A 1x1 convolution first, so that int8 has a calibrated range to resample.
        w = (rng.standard_normal((shape[0], shape[0], 1, 1)) * 0.7).astype(np.float32)
        nodes = [helper.make_node("Conv", ["x", "w"], ["h"], name="conv")] + resize_nodes
        graph = helper.make_graph(
            nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", *shape])],
            [], [numpy_helper.from_array(w, "w"), *initializers])
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        m.ir_version = 7
        inferred = onnx.shape_inference.infer_shapes(m).graph.value_info
        m.graph.output.extend(next(v for v in inferred if v.name == n) for n in outputs)
        save(name, m, rng.standard_normal((SAMPLES, *shape)).astype(np.float32))

    def const(name, values, dtype=np.float32):
        return numpy_helper.from_array(np.array(values, dtype), name)

    # Keras converters (keras2onnx, opset 7/8): Upsample with a scales attribute.
    model("upsample_7", 7, [helper.make_node("Upsample", ["h"], ["y"], name="up",
                                             mode="nearest", scales=[1.0, 1.0, 2.0, 3.0])])
    model("upsample_linear_9", 9, [helper.make_node("Upsample", ["h", "s"], ["y"], name="up",
                                                    mode="linear")],
          [const("s", [1, 1, 2, 2])])
    model("resize_10", 10, [helper.make_node("Resize", ["h", "s"], ["y"], name="up",
                                             mode="nearest")],
          [const("s", [1, 1, 2, 1.5])])
    variants = [
        ("asymmetric_floor", "nearest", {"coordinate_transformation_mode": "asymmetric",
                                         "nearest_mode": "floor"}, [1, 1, 2, 2]),
        ("half_pixel_round", "nearest", {"coordinate_transformation_mode": "half_pixel",
                                         "nearest_mode": "round_prefer_floor"}, [1, 1, 1.5, 2.5]),
        ("pytorch_half_pixel", "nearest", {"coordinate_transformation_mode": "pytorch_half_pixel",
                                           "nearest_mode": "round_prefer_ceil"}, [1, 1, 0.6, 2]),
        ("linear_asymmetric", "linear", {"coordinate_transformation_mode": "asymmetric"},
         [1, 1, 1.5, 3]),
        ("linear_half_pixel_down", "linear", {"coordinate_transformation_mode": "half_pixel"},
         [1, 1, 0.5, 0.75]),
        # Cubic: Keys' kernel with the default a = -0.75 (PyTorch's bicubic) and -0.5
        # (TensorFlow's), exclude_outside renormalising at the borders, up- and downscales.
        ("cubic_half_pixel", "cubic", {"coordinate_transformation_mode": "half_pixel"},
         [1, 1, 2, 2]),
        # align_corners divides by the resized length, here whole (5 * 1.6, 6 * 2.5);
        # resize_align_corners_13 below has lengths that are not.
        ("cubic_align_exclude", "cubic", {"coordinate_transformation_mode": "align_corners",
                                          "cubic_coeff_a": -0.5, "exclude_outside": 1},
         [1, 1, 1.6, 2.5]),
        ("cubic_asymmetric_down", "cubic", {"coordinate_transformation_mode": "asymmetric",
                                            "exclude_outside": 1}, [1, 1, 0.6, 1.5]),
        ("cubic_pytorch_half_pixel", "cubic",
         {"coordinate_transformation_mode": "pytorch_half_pixel", "cubic_coeff_a": -0.5},
         [1, 1, 3, 0.5]),
    ]
    # One model per mode, an output per variant (one compile each in the tests).
    for mode in ("nearest", "linear", "cubic"):
        chosen = [v for v in variants if v[1] == mode]
        model(f"resize_{mode}_modes_13", 13,
              [helper.make_node("Resize", ["h", "", f"s_{suffix}"], [suffix], name=suffix,
                                mode=mode, **attributes)
               for suffix, _, attributes, _ in chosen],
              [const(f"s_{suffix}", scales) for suffix, _, _, scales in chosen],
              outputs=[suffix for suffix, *_ in chosen])
    # align_corners where input * scale is no whole number (5 * 1.7 = 8.5, 6 * 1.3 = 7.8):
    # onnxruntime divides by the output's length (8, 7) in every mode, ONNX's reference by 8.5
    # and 7.8.
    model("resize_align_corners_13", 13,
          [helper.make_node("Resize", ["h", "", "s"], [mode], name=mode, mode=mode,
                            coordinate_transformation_mode="align_corners")
           for mode in ("nearest", "linear", "cubic")],
          [const("s", [1, 1, 1.7, 1.3])], outputs=["nearest", "linear", "cubic"])


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    helper_models()
    torch_models()


if __name__ == "__main__":
    main()
