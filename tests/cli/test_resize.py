"""Resize and Upsample code generation (tests/data/resize/, written by
tools/make_resize_models.py): PyTorch's F.interpolate at opsets 9-13 (nearest and bilinear, with
scale factors, sizes, align_corners, and the output size computed from the input's shape) and
the older exporters' graphs (Upsample-7/9, Resize-10, every nearest_mode and coordinate
transformation they write, downscales). float32 against onnxruntime on the model; int8 against
onnxruntime on the emitted QDQ file (the opset 7-11 models upgraded by --emit-qdq) and against
the float result."""
import json
import unittest

import numpy as np
import onnx
from onnx import numpy_helper

from helpers import SOURCE, run, single_op_model
from test_op_codegen import OpCodegenCase

RESIZE_MODELS = SOURCE / "tests" / "data" / "resize"
NEAREST = ["upsample_7", "resize_10", "resize_nearest_modes_13", "torch_nearest_9",
           "torch_nearest_recompute_11"]
LINEAR = ["upsample_linear_9", "resize_linear_modes_13", "torch_bilinear_9",
          "torch_bilinear_corners_11", "torch_bilinear_size_13"]
CUBIC = ["resize_cubic_modes_13", "torch_bicubic_11"]
# int8 on the models that hold a mode or exporter spelling the others do not (each check is
# three compiles and three onnxruntime runs; float32 runs on all of them).
INT8 = {"upsample_7", "resize_nearest_modes_13", "torch_nearest_recompute_11",
        "resize_linear_modes_13", "torch_bilinear_9"}


class ResizeTest(OpCodegenCase):
    models = RESIZE_MODELS
    qdq_from_opset = 0

    def test_models_are_the_generators(self):
        names = sorted(p.stem for p in RESIZE_MODELS.glob("*.onnx"))
        self.assertEqual(names, sorted(NEAREST + LINEAR + CUBIC))
        for name in names:
            self.assertEqual(onnx.load(RESIZE_MODELS / f"{name}.onnx").producer_name,
                             "make_resize_models", name)

    def test_nearest(self):
        # Nearest copies: float32 exact but for the convolutions around it; int8 a copy in the
        # input's parameters, so the QDQ file agrees but for the convolutions' rounding.
        for name in NEAREST:
            with self.subTest(name):
                self.check_float32(name, tolerance=1e-6)
                if name in INT8:
                    self.check_int8(name, min_exact=0.97, float_lsb=3.0)

    def test_linear(self):
        # Linear blends in Q10 weights and rounds once, ties to even (docs/int8.md "Resize"). A
        # scale of 2 makes many blends exact halves, which onnxruntime's float32 DQ -> Resize -> Q
        # rounds either way: 85-95 % exact; without such ties (scales 1.5 and 3) 99.6 %. Every
        # output within 1 LSB of the file.
        for name in LINEAR:
            with self.subTest(name):
                self.check_float32(name, tolerance=1e-6)
                if name in INT8:
                    self.check_int8(name, min_exact=0.8, float_lsb=3.0)

    def test_cubic(self):
        # Sixteen taps with Q15 weights, the output in its own calibrated parameters (Keys'
        # negative lobes overshoot the input's range), rescaled by Sx / Sy (docs/int8.md
        # "Resize"): the QDQ file computes the same real blend in float32, 98-99.8 % exact. The
        # Conv before the Resize is 1 LSB off onnxruntime on ~0.2 % of its values (fixed-point
        # rescaling, docs/int8.md), and the blend passes that on; on the 3x upscale with a = -0.5
        # one such output lands 2 LSB from the file's.
        for name in CUBIC:
            with self.subTest(name):
                self.check_float32(name, tolerance=1e-6)
                self.check_int8(name, min_exact=0.97, float_lsb=3.0,
                                max_lsb={"cubic_pytorch_half_pixel": 2})

    def test_the_size_chain_folds_and_the_resize_is_one_call(self):
        ops = {n.op_type for n in onnx.load(RESIZE_MODELS / "torch_nearest_recompute_11.onnx").graph.node}
        self.assertTrue({"Shape", "Gather", "Mul", "Cast", "Floor", "Concat"} <= ops)
        result = run("compile", RESIZE_MODELS / "torch_nearest_recompute_11.onnx", "--target",
                     "host", "--precision", "float32", "-o", self.tmp / "c")
        self.assertEqual(result.returncode, 0, result.stderr)
        layers = json.loads((self.tmp / "c" / "report.json").read_text())["devices"][0]["layers"]
        self.assertEqual([layer["op"] for layer in layers], ["Conv", "Resize", "Conv"])

    def test_crops_are_refused_naming_the_node(self):
        for attributes, message in (
                ({"coordinate_transformation_mode": "tf_crop_and_resize"},
                 "coordinate_transformation_mode 'tf_crop_and_resize'"),):
            with self.subTest(message):
                model = single_op_model("Resize", (1, 2, 3, 4), **attributes)
                node = model.graph.node[0]
                node.input.extend(["roi", "scales"])
                model.graph.initializer.extend([
                    numpy_helper.from_array(np.array([0, 0, 0, 0, 1, 1, 1, 1], np.float32), "roi"),
                    numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")])
                model.graph.output[0].type.tensor_type.shape.dim[2].dim_value = 6
                model.graph.output[0].type.tensor_type.shape.dim[3].dim_value = 8
                out = self.tmp / "c"
                result = run("compile", self.save_model("r.onnx", model), "--target", "host",
                             "--precision", "float32", "-o", out)
                self.assert_fails(result, 1, "node 'the_node' (Resize)", message)
                self.assertFalse(out.exists())

    def test_resizing_the_channels_is_refused(self):
        model = single_op_model("Resize", (1, 2, 3, 4), mode="nearest")
        model.graph.node[0].input.extend(["", "scales"])
        model.graph.initializer.append(
            numpy_helper.from_array(np.array([1, 2, 1, 1], np.float32), "scales"))
        model.graph.output[0].type.tensor_type.shape.dim[1].dim_value = 4
        result = run("compile", self.save_model("c.onnx", model), "--target", "host",
                     "--precision", "float32", "-o", self.tmp / "c")
        self.assert_fails(result, 1, "code generation resizes only the last two dimensions; "
                          "dimension 1 changes from 2 to 4")


if __name__ == "__main__":
    unittest.main()
