"""Code generation of Slice and Gather with constant parameters (issue 15; tests/data/ops/, written
by tools/make_slice_gather_models.py): one strided-copy kernel, float32 against onnxruntime and
int8 (values moved, the input's parameters) against onnxruntime on the emitted QDQ file."""
import unittest

import numpy as np
import onnx
from onnx import helper, numpy_helper

from helpers import run
from test_op_codegen import MODELS, OpCodegenCase


class SliceGatherTest(OpCodegenCase):
    def check(self, name):
        self.check_float32(name, tolerance=1e-6)
        # Moving values: every int8 output equals onnxruntime's on the QDQ file exactly.
        self.check_int8(name, min_exact=1.0, float_lsb=0.5)

    def test_slice_with_opset_9_attributes(self):
        # int8 runs the same kernel (below); opset 9 has no --emit-qdq file to compare with.
        self.check_float32("slice_9", tolerance=1e-6)

    def test_slice_and_gather_with_constant_inputs(self):
        # Slice: negative steps, clamped ends; Gather: scalar, vector and 2-D indices.
        self.check("slice_gather_13")

    def test_pytorch_head_on_the_last_step(self):
        # Conv -> Relu -> Transpose -> y[:, -1] (Gather) and y[:, 1::2] (Slice) -> Gemm/MatMul.
        # The copies are exact (above); the Gemm, MatMul, ReduceMean and Adds after them round
        # once, as onnxruntime does (docs/int8.md; with TFLite's double rounding half of the
        # outputs differed by 1 LSB).
        self.check_float32("conv_last_step", tolerance=1e-5)
        self.check_int8("conv_last_step")

    def compile_float32(self, model, name):
        path = self.tmp / f"{name}.onnx"
        onnx.save(model, path)
        return run("compile", path, "--target", "host", "--precision", "float32", "-o",
                   self.tmp / name)

    def test_gather_index_out_of_range_names_the_node(self):
        model = onnx.load(MODELS / "slice_gather_13.onnx")
        last = next(t for t in model.graph.initializer if t.name == "last")
        last.CopyFrom(numpy_helper.from_array(np.array(5, dtype=np.int64), "last"))
        result = self.compile_float32(model, "out_of_range")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("Gather_3", result.stderr)
        self.assertIn("index 5 is out of range for axis 1 of size 5", result.stderr)
        self.assertFalse((self.tmp / "out_of_range").exists())

    def test_gather_of_runtime_indices_is_refused_naming_the_input(self):
        model = onnx.load(MODELS / "slice_gather_13.onnx")
        picks = next(t for t in model.graph.initializer if t.name == "picks")
        model.graph.initializer.remove(picks)
        model.graph.input.append(
            helper.make_tensor_value_info("picks", onnx.TensorProto.INT64, [8]))
        result = self.compile_float32(model, "runtime_indices")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("Gather_4", result.stderr)
        self.assertIn("picks", result.stderr)
        self.assertFalse((self.tmp / "runtime_indices").exists())


if __name__ == "__main__":
    unittest.main()
