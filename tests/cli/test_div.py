"""Code generation of Div of two activations (tests/data/div/, written by tools/make_div_models.py):
PyTorch's F.normalize and Softsign exports and a broadcasting single layer. float32 against
onnxruntime on the model, int8 (es_binary_s8's division, docs/int8.md "Div") against onnxruntime
on the emitted QDQ file and against the float result, and the defined result of a division by a
divisor at its zero point."""
import unittest

import numpy as np
import onnx
from onnx import numpy_helper

from helpers import SOURCE
from test_op_codegen import OpCodegenCase

MODELS = SOURCE / "tests" / "data" / "div"


def quantize_linear_parameters(model, tensor):
    """(scale, zero point) of the QuantizeLinear that reads `tensor` in an emitted QDQ file."""
    constants = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    node = next(n for n in model.graph.node
                if n.op_type == "QuantizeLinear" and n.input[0] == tensor)
    return np.float32(constants[node.input[1]]), int(constants[node.input[2]])


class DivTest(OpCodegenCase):
    models = MODELS
    # --emit-qdq converts the opset 11 models to opset 13 itself.
    qdq_from_opset = 11

    def test_torch_exports(self):
        # F.normalize: ReduceL2 -> Clip -> Expand -> Div; Softsign: Abs -> Add(1) -> Div.
        # Against the float model the int8 chain is off by up to 7.6 steps: the numerator's int8
        # step is about 5 of the quotient's (softsign_11: 0.032 against 0.0063, the quotient
        # within ±1), and the numerator is the last of three rounded tensors (MatMul, Add, Mul
        # by 2), so near 0, where Softsign's slope is 1, the quotient moves by several of its
        # steps; the divisor's rounding adds the rest. The emitted file, which quantises the
        # same tensors, agrees exactly.
        for name in ("normalize_11", "normalize_13", "normalize_17",
                     "softsign_11", "softsign_13", "softsign_17"):
            with self.subTest(name):
                self.check_float32(name)
                self.check_int8(name, min_exact=0.99, max_lsb=1, float_lsb=8)

    def test_broadcast_single_layer(self):
        # The divisor [n, 1, 6, 1] broadcasts over a [n, 4, 6, 5]; its range crosses zero.
        self.check_float32("div_broadcast_13")
        self.check_int8("div_broadcast_13", min_exact=0.99, max_lsb=1)

    def test_division_by_the_zero_point(self):
        """Divisors that quantise to their zero point: the C saturates by the numerator's sign and
        gives the output's zero point for 0 / 0; every other element agrees with onnxruntime on the
        emitted file as the single layer does."""
        name = "div_broadcast_13"
        model = self.models / f"{name}.onnx"
        qdq = self.tmp / f"{name}_qdq.onnx"
        data = np.load(self.models / "div_broadcast_zero_13.npz")
        inputs = {k: self.save_npy(f"zero_{k}.npy", data[k]) for k in data.files}
        ours = self.compile_and_run(model, inputs, "int8", "--calibration",
                                    self.models / f"{name}.npz", "--emit-qdq", qdq,
                                    run_flags=("--raw",))
        q, entry = ours["y"]
        zero_y = entry["zero_point"]
        emitted = onnx.load(qdq)
        codes = {}
        for key in ("a", "b"):
            scale, zero = quantize_linear_parameters(emitted, key)
            codes[key] = np.clip(np.rint(data[key] / scale) + zero, -128, 127).astype(np.int32)
            codes[key] -= zero
        numerator = np.broadcast_to(codes["a"], q.shape)
        by_zero = np.broadcast_to(codes["b"] == 0, q.shape)
        self.assertGreater(by_zero.sum(), 100)
        self.assertGreater((by_zero & (numerator == 0)).sum(), 10)
        self.assertGreater((by_zero & (numerator != 0)).sum(), 50)
        expected = np.where(numerator > 0, 127, np.where(numerator < 0, -128, zero_y))
        np.testing.assert_array_equal(q[by_zero], expected[by_zero])

        # onnxruntime divides the dequantised values in float: by zero it gets an infinity or
        # (0 / 0) a NaN, not a real quotient; those elements are the ones checked above and are
        # left out of the 1-LSB comparison. Its QuantizeLinear saturates the infinities as the C
        # does; the NaN becomes -128 where the C gives the zero point (docs/int8.md "Div").
        on_file = self.onnxruntime(qdq, inputs, "zero_qdq", "--per-sample")["y"]
        lsb = np.float32(entry["scale"])
        theirs = np.rint(on_file / lsb).astype(np.int64) + zero_y
        infinite = by_zero & (numerator != 0)
        np.testing.assert_array_equal(q[infinite], theirs[infinite])
        difference = np.abs(q.astype(np.int64) - theirs)[~by_zero]
        exact = (difference == 0).mean()
        print(f"{name} with zero divisors: int8 vs onnxruntime on the QDQ file {exact:.2%} exact "
              f"on the {difference.size} elements with a non-zero divisor, max "
              f"{difference.max()} LSB")
        self.assertLessEqual(difference.max(), 1)
        self.assertGreaterEqual(exact, 0.99)


if __name__ == "__main__":
    unittest.main()
