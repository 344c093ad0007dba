"""Pre-quantised models as onnxruntime's quantiser (QOperator and QDQ formats), tf2onnx and
PyTorch write them (tests/data/qoperator, made by tools/make_qoperator_models.py), compiled without
calibration and compared with onnxruntime running the same file."""
import concurrent.futures
import unittest

import numpy as np
import onnx

from helpers import SOURCE, CliTestCase, output_lsb, run
from test_qoperator import ORT, SAMPLES, OnnxruntimeComparison

MODELS = SOURCE / "tests" / "data" / "qoperator"

# Per model: the share of int8 outputs equal to onnxruntime's, and the largest difference in LSB.
# onnxruntime's kernels requantise with a float multiplier (the QOperator ops, and the QDQ ops it
# fuses into them) and round once, edgesplit with docs/int8.md's fixed-point rule, which rounds
# twice: the pools' small sums scaled by factors below 1/2 round the other way often (up to 25%
# of outputs), always by 1 LSB. An op whose output LSB is finer than its input's (the multiply, a
# requantising Reshape) turns a 1-LSB difference of its input into up to 2. A table activation
# that only its output is quantised for (DQ -> Conv -> Sigmoid -> Q) reads an int8 input where
# onnxruntime reads the float sum: docs/int8.md "Values a pre-quantised model leaves without
# parameters".
EXPECTED = {
    "qlinear_add_int8": (0.99, 1),
    "qlinear_mul_int8": (0.98, 1),
    "qlinear_averagepool_pads_uint8": (0.80, 1),
    "qlinear_averagepool_int8": (0.70, 1),
    "qlinear_globalaveragepool_int8": (0.95, 1),
    "qlinear_globalaveragepool_channels_last_uint8": (0.85, 1),
    "qlinear_softmax_opset11_uint8": (0.99, 1),
    "qlinear_sigmoid_int8": (1.0, 0),
    "qlinear_leakyrelu_int8": (1.0, 0),
    "qlinear_concat_uint8": (0.99, 1),
    "qdq_conv_relu_int8": (0.99, 1),
    "qdq_conv_clip6_maxpool_uint8": (0.99, 1),
    "qdq_conv_sigmoid_int8": (0.40, 2),
    "qdq_conv_hardswish_uint8": (0.75, 1),
    "qdq_conv_leakyrelu_int8": (0.70, 1),
    "qdq_gemm_relu_int8": (0.99, 1),
    "qdq_matmul_add_relu_uint8": (0.99, 1),
    "qdq_matmul_add_relu_rows_int8": (0.99, 1),
    "qdq_maxpool_requantise_int8": (0.99, 1),
    "qdq_reshape_requantise_uint8": (0.99, 2),
    "integer_reshaped_weights_uint8": (0.99, 1),
}
# The float32 compile (the fake-quantised float graph) is checked on one model of each format.
FLOAT32_CHECKED = ("qlinear_concat_uint8", "qdq_matmul_add_relu_uint8")


@unittest.skipUnless(ORT.is_dir(), f"{ORT} is absent: run tools/setup.sh")
class PrequantisedModelsTest(OnnxruntimeComparison, CliTestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(5)
        self.x = self.save_npy("x.npy", rng.standard_normal((SAMPLES, 3, 8, 8)).astype(np.float32))

    def test_committed_models_are_all_checked(self):
        self.assertEqual(sorted(p.stem for p in MODELS.glob("*.onnx")), sorted(EXPECTED))

    def test_models_match_onnxruntime(self):
        models = {name: onnx.load(MODELS / f"{name}.onnx") for name in EXPECTED}
        # Two at a time: each compile and run mostly waits for the C compiler.
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            outputs = dict(zip(models, pool.map(
                lambda name: self.int8_outputs(MODELS / f"{name}.onnx", models[name]), models)))
        for name, (min_exact, max_lsb) in EXPECTED.items():
            with self.subTest(name):
                ours_q, theirs_q, theirs = outputs[name]
                # Softmax and sigmoid outputs crowd into few codes of their fixed 1/256 scale.
                distinct = 8 if "softmax" in name or "sigmoid" in name else 20
                self.assert_int8_agreement(name, ours_q, theirs_q, min_exact, max_lsb, distinct)
                if name.startswith("qlinear_"):
                    self.assert_reference_agreement(name, MODELS / f"{name}.onnx", models[name],
                                                    theirs)
                if name in FLOAT32_CHECKED:
                    self.assert_float32_agreement(name, MODELS / f"{name}.onnx", models[name],
                                                  theirs)

    def assert_reference_agreement(self, name, path, model, theirs):
        """The reference interpreter runs the com.microsoft ops as DequantizeLinear, the float op
        and QuantizeLinear, rounding once as onnxruntime does: within one output LSB."""
        out = self.tmp / f"{name}_reference"
        result = run("reference", path, "--input", f"x={self.x}", "-o", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        worst = np.abs(np.load(out / "y.npy") - theirs).max() / output_lsb(model)
        self.assertLessEqual(worst, 1.001, name)


class PrequantisedRefusalTest(CliTestCase):
    def edited(self, name, edit):
        model = onnx.load(MODELS / name)
        edit(model)
        return self.save_model(name, model)

    def test_softmax_without_its_opset_attribute_is_refused(self):
        def drop_opset(model):
            node = next(n for n in model.graph.node if n.op_type == "QLinearSoftmax")
            kept = [a for a in node.attribute if a.name != "opset"]
            del node.attribute[:]
            node.attribute.extend(kept)
        path = self.edited("qlinear_softmax_opset11_uint8.onnx", drop_opset)
        result = run("compile", path, "-o", self.tmp / "c")
        self.assert_fails(result, 1, "qlinear_softmax_opset11_uint8.onnx", "(QLinearSoftmax)",
                          "'opset' attribute")
        self.assertFalse((self.tmp / "c").exists())

    def test_concat_with_an_incomplete_triple_is_refused(self):
        def drop_zero_point(model):
            node = next(n for n in model.graph.node if n.op_type == "QLinearConcat")
            del node.input[-1]
        path = self.edited("qlinear_concat_uint8.onnx", drop_zero_point)
        result = run("reference", path, "--input", "x=none.npy", "-o", self.tmp / "r")
        self.assert_fails(result, 1, "qlinear_concat_uint8.onnx", "(QLinearConcat)", "has 7 inputs")

    def test_unknown_microsoft_op_is_still_refused(self):
        def rename(model):
            next(n for n in model.graph.node if n.op_type == "QLinearAdd").op_type = "QLinearPow"
        path = self.edited("qlinear_add_int8.onnx", rename)
        result = run("compile", path, "-o", self.tmp / "c")
        self.assert_fails(result, 1, "QLinearPow", "of domain com.microsoft",
                          "does not support")


if __name__ == "__main__":
    unittest.main()
