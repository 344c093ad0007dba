"""Code generation of the classifier heads and normalisations PyTorch exports with ArgMax,
LogSoftmax, ReduceMax, ReduceSum, Softplus (Mish) and ReduceL2 (tests/data/reduceops/, written by
tools/make_reduceops_models.py): float32 against onnxruntime on the model, int8 (calibrated on the
model's .npz) against onnxruntime on the emitted QDQ file and against the float result."""
import re
import unittest

import numpy as np
import onnx

from helpers import SOURCE, run, run_onnxruntime
from test_op_codegen import OpCodegenCase

MODELS = SOURCE / "tests" / "data" / "reduceops"


class ReduceOpsTest(OpCodegenCase):
    models = MODELS
    # --emit-qdq converts the opset 9 and 11 models to opset 13 itself.
    qdq_from_opset = 9

    def argmax_inputs(self, name):
        """Each ArgMax output of the float model with the values it picks from, by onnxruntime:
        {output: (indices, values, axis)}."""
        model = onnx.load(self.models / f"{name}.onnx")
        argmaxes = {n.output[0]: n for n in model.graph.node if n.op_type == "ArgMax"}
        for node in argmaxes.values():
            if node.input[0] not in [o.name for o in model.graph.output]:
                model.graph.output.append(onnx.helper.make_empty_tensor_value_info(node.input[0]))
        path = self.save_model(f"{name}_with_values.onnx", model)
        _, inputs = self.prepare(name)
        out = self.tmp / f"{name}_values_ort"
        run_onnxruntime(path, out, **{k: str(v) for k, v in inputs.items()})
        result = {}
        for output, node in argmaxes.items():
            axis = next((a.i for a in node.attribute if a.name == "axis"), 0)
            keep = next((a.i for a in node.attribute if a.name == "keepdims"), 1)
            values = np.load(out / (re.sub(r"[^A-Za-z0-9._-]", "_", node.input[0]) + ".npy"))
            indices = np.load(out / (re.sub(r"[^A-Za-z0-9._-]", "_", output) + ".npy"))
            result[output] = (indices if keep else np.expand_dims(indices, axis), values, axis)
        return result

    def check_argmax(self, name):
        """float32 picks onnxruntime's indices, which `run` writes as int64 as the model types
        them; int8 the QDQ file's, and the float model's except where the two values lie within
        one LSB of the int8 input (they tie as int8 codes)."""
        model, inputs = self.prepare(name)
        ours = self.compile_and_run(model, inputs, "float32")
        for output, expected in self.onnxruntime(model, inputs, "float").items():
            got, entry = ours[output]
            self.assertEqual((got.dtype, entry["dtype"]), (np.dtype(np.int64), "int64"), output)
            np.testing.assert_array_equal(got, expected, output)
        qdq = self.tmp / f"{name}_qdq.onnx"
        ours = self.compile_and_run(model, inputs, "int8", "--calibration",
                                    self.models / f"{name}.npz", "--emit-qdq", qdq,
                                    run_flags=("--raw",))
        on_file = self.onnxruntime(qdq, inputs, "qdq", "--per-sample")
        for output, (indices, values, axis) in self.argmax_inputs(name).items():
            q, entry = ours[output]
            self.assertEqual((entry["scale"], entry["zero_point"]), (1.0, -128), output)
            got = q.astype(np.int64) + 128
            np.testing.assert_array_equal(got, on_file[output], output)
            got = got.reshape(indices.shape)
            # The int8 step of the ArgMax input: its calibrated range (the same samples) / 255.
            lsb = (max(values.max(), 0) - min(values.min(), 0)) / 255
            picked = np.take_along_axis(values, got, axis)
            best = np.take_along_axis(values, indices, axis)
            differ = got != indices
            print(f"{name}/{output}: int8 index = onnxruntime's on the QDQ file everywhere, = the "
                  f"float model's on {1 - differ.mean():.2%}, the others within "
                  f"{(best - picked)[differ].max() / lsb if differ.any() else 0:.2f} LSB")
            self.assertTrue(np.all(best - picked <= lsb), output)

    def test_argmax_heads(self):
        # PyTorch's y.argmax(-1) after a Linear (keepdims 0), at opset 9 (--emit-qdq converts it
        # to 13) and 17.
        for opset in (9, 17):
            with self.subTest(opset=opset):
                self.check_argmax(f"argmax_head_{opset}")

    def test_argmax_axes_keepdims_and_last_index(self):
        # Three ArgMax of one input: axis 1 with keepdims, axis -1 with select_last_index on
        # values with exact ties, axis -2 without keepdims; and an ArgMax over 20 Conv channels.
        self.check_argmax("argmax_axes_13")
        self.check_argmax("argmax_after_conv_11")

    def test_log_softmax(self):
        for name in ("log_softmax_head_17",
                     "log_softmax_axes_13", "log_softmax_coerced_11"):
            with self.subTest(name):
                self.check_float32(name)
                self.check_int8(name, min_exact=0.99)

    def test_reduce_max_and_sum(self):
        for name in ("max_sum_13", "reduce_attributes_11",
                     "reduce_inputs_13"):
            with self.subTest(name):
                self.check_float32(name)
                self.check_int8(name, min_exact=0.99)

    def test_softplus_and_mish(self):
        for name in ("softplus_13", "mish_conv_11"):
            with self.subTest(name):
                self.check_float32(name)
                self.check_int8(name, min_exact=0.99)

    def test_reduce_l2_normalize_and_expand(self):
        # F.normalize: ReduceL2 -> Clip (fused) -> Expand (a strided copy) -> Div (its int8
        # division of two activations: tests/cli/test_div.py).
        for name in ("l2_normalize_11", "l2_normalize_17", "reduce_l2_axes_13"):
            with self.subTest(name):
                self.check_float32(name)
        # Expand alone moves int8 codes unchanged.
        self.check_float32("expand_13", tolerance=0)
        self.check_int8("expand_13", min_exact=1.0, max_lsb=0)
        # int8: an integer square root of the sum of squares, rescaled once.
        self.check_int8("reduce_l2_axes_13", min_exact=0.99)
        # Longer lines could overflow the kernel's exact sum of squares.
        model = onnx.helper.make_model(onnx.helper.make_graph(
            [onnx.helper.make_node("ReduceL2", ["x"], ["y"], name="norm", axes=[1])], "long",
            [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 16385])],
            [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 1])]),
            opset_imports=[onnx.helper.make_opsetid("", 13)])
        calibration = self.tmp / "long.npz"
        np.savez(calibration, x=np.linspace(-1, 1, 16385, dtype=np.float32)[None])
        out = self.tmp / "long_int8"
        result = run("compile", self.save_model("long.onnx", model), "--target", "host",
                     "--precision", "int8", "--calibration", calibration, "-o", out)
        self.assert_fails(result, 1, "node 'norm' (ReduceL2)",
                          "int8 ReduceL2 reduces at most 16384 elements, got 16385")
        self.assertFalse(out.exists(), "no partial output")

    def compile_fails(self, name, precision, *fragments):
        flags = ["--calibration", self.models / f"{name}.npz"] if precision == "int8" else []
        out = self.tmp / f"{name}_{precision}_refused"
        result = run("compile", self.models / f"{name}.onnx", "--target", "host", "--precision",
                     precision, *flags, "-o", out)
        self.assert_fails(result, 1, *fragments)
        self.assertFalse(out.exists(), "no partial output")

    def test_bad_inputs(self):
        for precision in ("float32", "int8"):
            self.compile_fails("reduce_max_split_axes_13", precision, "(ReduceMax)",
                               "code generation needs the reduced axes to be adjacent")
            # An index read by another node is an int64 tensor computed at run time.
            self.compile_fails("argmax_read_13", precision, "(ArgMax)", "output 'i' is int64",
                               "generated code computes float32 tensors")
        self.compile_fails("argmax_long_13", "int8", "(ArgMax)",
                           "the axis may have at most 256 elements, got 300")
        self.check_float32("argmax_long_13", tolerance=0)


if __name__ == "__main__":
    unittest.main()
