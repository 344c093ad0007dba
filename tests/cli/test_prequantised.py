"""Pre-quantised models as onnxruntime's quantiser (QOperator and QDQ formats), tf2onnx and
PyTorch write them (tests/data/qoperator, made by tools/make_qoperator_models.py: several models
side by side in each file), compiled without calibration and compared with onnxruntime running the
same file."""
import concurrent.futures
import unittest

import numpy as np
import onnx
from onnx import numpy_helper

from helpers import SOURCE, CliTestCase, onnxruntime_codes, run, run_onnxruntime
from test_qoperator import ORT, SAMPLES, OnnxruntimeComparison

MODELS = SOURCE / "tests" / "data" / "qoperator"

# Per model: the share of int8 outputs equal to onnxruntime's, and the largest difference in LSB.
# onnxruntime's kernels requantise with a float multiplier (the QOperator ops, and the QDQ ops it
# fuses into them) and round once; so do edgesplit's kernels for a model of onnxruntime's
# quantiser (producer "onnx.quantize", docs/int8.md "Which rule"). With TFLite's two roundings the
# pools' small sums scaled by factors below 1/2 rounded the other way on up to 30 % of outputs
# and a requantising Reshape turned such a 1-LSB difference into 2; now they are exact. A table
# activation that only its output is quantised for (DQ -> Conv -> Sigmoid -> Q) reads an int8
# input where onnxruntime reads the float sum: docs/int8.md "Values a pre-quantised model leaves
# without parameters".
EXPECTED = {
    "qlinear_add_int8": (0.99, 1),
    "qlinear_mul_int8": (0.98, 1),
    "qlinear_averagepool_pads_uint8": (0.99, 1),
    "qlinear_averagepool_int8": (0.99, 1),
    "qlinear_globalaveragepool_int8": (0.99, 1),
    "qlinear_globalaveragepool_channels_last_uint8": (0.99, 1),
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
    "qdq_reshape_requantise_uint8": (0.99, 1),
    "integer_reshaped_weights_uint8": (0.99, 1),
}
# The float32 compile (the fake-quantised float graph) is checked on one file of each format.
FLOAT32_CHECKED = ("qlinear_ops", "qdq_dense")


def output_parameters(model, output):
    """(scale, int8 zero point) of the DequantizeLinear that writes `output`."""
    dequantize = next(n for n in model.graph.node if n.output[0] == output)
    initializers = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    zero = initializers[dequantize.input[2]]
    return (float(initializers[dequantize.input[1]]),
            int(zero) - (128 if zero.dtype == np.uint8 else 0))  # docs/int8.md


@unittest.skipUnless(ORT.is_dir(), f"{ORT} is absent: run tools/setup.sh")
class PrequantisedModelsTest(OnnxruntimeComparison, CliTestCase):
    """Each file holds several models side by side (<model>_x -> <model>_y), all fed self.x."""

    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(5)
        self.x = self.save_npy("x.npy", rng.standard_normal((SAMPLES, 3, 8, 8)).astype(np.float32))

    def test_committed_models_are_all_checked(self):
        outputs = [o.name for path in MODELS.glob("*.onnx") for o in onnx.load(path).graph.output]
        self.assertEqual(sorted(outputs), sorted(f"{name}_y" for name in EXPECTED))

    def run_file(self, path, command, precision=None):
        """Runs `command` (onnxruntime, reference, or compile and run) on every input = self.x;
        the folder of <output>.npy files."""
        model = onnx.load(path)
        inputs = {i.name: self.x for i in model.graph.input}
        out = self.tmp / f"{path.stem}_{command}_{precision}"
        if command == "onnxruntime":
            run_onnxruntime(path, out, **inputs)
            return out
        flags = [arg for name, x in inputs.items() for arg in ("--input", f"{name}={x}")]
        if command == "reference":
            result = run("reference", path, *flags, "-o", out)
        else:
            compiled = self.tmp / f"{path.stem}_{precision}"
            result = run("compile", path, "--precision", precision, "--target", "host", "-o",
                         compiled)
            self.assertEqual(result.returncode, 0, result.stderr)
            result = run("run", compiled, *flags, "-o", out,
                         *(["--raw"] if precision == "int8" else []))
        self.assertEqual(result.returncode, 0, result.stderr)
        return out

    def test_models_match_onnxruntime(self):
        paths = sorted(MODELS.glob("*.onnx"))
        # Two at a time: each compile and run mostly waits for the C compiler.
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            theirs = dict(zip(paths, pool.map(lambda p: self.run_file(p, "onnxruntime"), paths)))
            ours = dict(zip(paths, pool.map(lambda p: self.run_file(p, "run", "int8"), paths)))
        for path in paths:
            model = onnx.load(path)
            for output in (o.name for o in model.graph.output):
                name = output.removesuffix("_y")
                with self.subTest(name):
                    min_exact, max_lsb = EXPECTED[name]
                    lsb, zero = output_parameters(model, output)
                    theirs_q = onnxruntime_codes(np.load(theirs[path] / f"{output}.npy"), lsb, zero)
                    self.assertTrue(((theirs_q >= -128) & (theirs_q <= 127)).all())
                    ours_q = np.load(ours[path] / f"{output}.npy")
                    self.assertEqual(ours_q.dtype, np.int8)
                    self.assertEqual(ours_q.shape, theirs_q.shape)
                    # Softmax and sigmoid outputs crowd into few codes of their 1/256 scale.
                    distinct = 8 if "softmax" in name or "sigmoid" in name else 20
                    self.assert_int8_agreement(name, ours_q, theirs_q, min_exact, max_lsb,
                                               distinct)

    def assert_float_outputs_agree(self, path, ours, theirs):
        model = onnx.load(path)
        for output in (o.name for o in model.graph.output):
            with self.subTest(output):
                lsb, _ = output_parameters(model, output)
                worst = np.abs(np.load(ours / f"{output}.npy") -
                               np.load(theirs / f"{output}.npy")).max() / lsb
                print(f"{output}: {worst:.3f} LSB from onnxruntime")
                self.assertLessEqual(worst, 1.001)

    def test_float32_compile_matches_onnxruntime(self):
        for file in FLOAT32_CHECKED:
            path = MODELS / f"{file}.onnx"
            self.assert_float_outputs_agree(path, self.run_file(path, "run", "float32"),
                                            self.run_file(path, "onnxruntime"))

    def test_reference_interpreter_runs_microsoft_ops(self):
        # DequantizeLinear, the float op and QuantizeLinear, rounding once as onnxruntime does.
        path = MODELS / "qlinear_ops.onnx"
        self.assert_float_outputs_agree(path, self.run_file(path, "reference"),
                                        self.run_file(path, "onnxruntime"))


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
        path = self.edited("qlinear_ops.onnx", drop_opset)
        result = run("compile", path, "-o", self.tmp / "c")
        self.assert_fails(result, 1, "qlinear_ops.onnx", "(QLinearSoftmax)",
                          "'opset' attribute")
        self.assertFalse((self.tmp / "c").exists())

    def test_concat_with_an_incomplete_triple_is_refused(self):
        def drop_zero_point(model):
            node = next(n for n in model.graph.node if n.op_type == "QLinearConcat")
            del node.input[-1]
        path = self.edited("qlinear_ops.onnx", drop_zero_point)
        result = run("reference", path, "--input", "x=none.npy", "-o", self.tmp / "r")
        self.assert_fails(result, 1, "qlinear_ops.onnx", "(QLinearConcat)", "has 7 inputs")

    def test_unknown_microsoft_op_is_still_refused(self):
        def rename(model):
            next(n for n in model.graph.node if n.op_type == "QLinearAdd").op_type = "QLinearPow"
        path = self.edited("qlinear_ops.onnx", rename)
        result = run("compile", path, "-o", self.tmp / "c")
        self.assert_fails(result, 1, "QLinearPow", "of domain com.microsoft",
                          "does not support")


if __name__ == "__main__":
    unittest.main()
