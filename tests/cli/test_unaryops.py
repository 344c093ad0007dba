"""Code generation of the element-wise ops real exports stopped `compile` on (tests/data/unaryops,
written by tools/make_unaryops_models.py): Log, Ceil, Round, Sign, Sin, Cos and Celu after a
PyTorch Linear layer at opsets 9, 13 and 17; Softsign, ThresholdedRelu, Shrink, Celu's alpha, Log
of negative inputs, Sum and Mean of one and three broadcast inputs as onnx.helper graphs. float32
against onnxruntime on the model, int8 against onnxruntime on the emitted QDQ file (every code
equal) and against the float result; inspect's verdict against compile."""
import json
import unittest

import numpy as np
import onnx

from helpers import SOURCE, run, single_op_model
from test_op_codegen import OpCodegenCase

UNARYOPS_MODELS = SOURCE / "tests" / "data" / "unaryops"


class UnaryOpsTest(OpCodegenCase):
    models = UNARYOPS_MODELS
    qdq_from_opset = 0  # --emit-qdq upgrades the opset 8, 9 and 12 models itself

    def check_float32_exactly(self, name, tolerance):
        """float32 against onnxruntime, NaN and infinities in the same places."""
        model, inputs = self.prepare(name)
        ours = self.compile_and_run(model, inputs, "float32")
        for output, expected in self.onnxruntime(model, inputs, "float").items():
            got = ours[output][0]
            self.assertEqual(got.shape, expected.shape, output)
            np.testing.assert_array_equal(np.isnan(got), np.isnan(expected), output)
            finite = np.isfinite(expected)
            np.testing.assert_array_equal(got[~finite & ~np.isnan(expected)],
                                          expected[~finite & ~np.isnan(expected)], output)
            error = np.abs(got[finite] - expected[finite]).max()
            print(f"{name}/{output}: float32 max abs error {error:.3g} "
                  f"(values up to {np.abs(expected[finite]).max():.3g})")
            self.assertLessEqual(error, tolerance * max(1.0, np.abs(expected[finite]).max()),
                                 output)

    def check_int8_exactly(self, name, float_lsb, distinct=4):
        """int8 `run --raw` against onnxruntime on the emitted QDQ file: every code equal; against
        the float model within `float_lsb` LSB where it is finite (its NaN and -inf saturate)."""
        model, inputs = self.prepare(name)
        qdq = self.tmp / f"{name}_qdq.onnx"
        ours = self.compile_and_run(model, inputs, "int8", "--calibration",
                                    self.models / f"{name}.npz", "--emit-qdq", qdq,
                                    run_flags=("--raw",))
        exact_float = self.onnxruntime(model, inputs, "float")
        on_file = self.onnxruntime(qdq, inputs, "qdq", "--per-sample")
        for output, expected in exact_float.items():
            q, entry = ours[output]
            self.assertEqual(q.dtype, np.int8)
            lsb, zero = np.float32(entry["scale"]), entry["zero_point"]
            theirs_q = np.rint(on_file[output] / lsb).astype(np.int32) + zero
            difference = np.abs(q.astype(np.int32) - theirs_q)
            finite = np.isfinite(expected)
            vs_float = np.abs((q[finite].astype(np.float32) - zero) * lsb
                              - expected[finite]).max() / lsb
            print(f"{name}/{output}: int8 vs onnxruntime on the QDQ file "
                  f"{(difference == 0).mean():.2%} exact, max {difference.max()} LSB; "
                  f"vs float max {vs_float:.2f} LSB")
            self.assertEqual(difference.max(), 0, output)
            self.assertLessEqual(vs_float, float_lsb, output)
            self.assertGreater(len(np.unique(q)), distinct, f"{output}: the output should vary")
            self.assertTrue(np.all(q[~finite] == -128), f"{output}: NaN and -inf saturate")

    def check(self, name, tolerance=1e-6, float_lsb=1.0, distinct=4):
        self.check_float32_exactly(name, tolerance)
        self.check_int8_exactly(name, float_lsb, distinct)

    def test_models_are_the_generators(self):
        for path in UNARYOPS_MODELS.glob("*.onnx"):
            self.assertEqual(onnx.load(path).producer_name, "make_unaryops_models", path.name)

    def test_pytorch_exports(self):
        # The int8 program is one table lookup, whose float32 entries and QuantizeLinear's
        # rounding make the file's codes (docs/int8.md). Against the float model the input's own
        # int8 rounding (about 0.09 here) moves each value by the function's slope times it:
        # log's 1/x near the clamp's 0.05, a step function (Ceil, Round, Sign) a whole step
        # where the input sits near an edge (Sign: 0 against +-1, half its range).
        bounds = {"log": 24.0, "ceil": 15.0, "round": 16.0, "sign": 128.0, "sin": 6.0,
                  "cos": 6.0, "celu": 1.5}
        for path in sorted(UNARYOPS_MODELS.glob("*_[0-9]*.onnx")):
            op = path.stem.rsplit("_", 1)[0]
            if op not in bounds:
                continue
            with self.subTest(path.stem):
                self.check(path.stem, float_lsb=bounds[op], distinct=2 if op == "sign" else 4)

    def test_functions_pytorch_does_not_write(self):
        # ThresholdedRelu jumps by alpha (16 LSB) where the input's rounding crosses it.
        for name, bound in (("softsign", 3.0), ("thresholded_relu", 16.0), ("shrink", 1.0),
                            ("celu_alpha", 1.5)):
            with self.subTest(name):
                self.check(name, float_lsb=bound)

    def test_log_outside_its_domain(self):
        # float32: NaN below 0, as onnxruntime; int8: those codes saturate to -128, as
        # QuantizeLinear does with the file's NaN.
        self.check("log_domain", float_lsb=12.0)

    def test_sum_and_mean_as_chains_of_adds(self):
        # Normalisation writes them as two-input Adds (Mean: then a Mul by 1/n, as onnxruntime
        # computes it), which the QDQ file spells as the C computes them. Of inputs alone the
        # float32 result is onnxruntime's bit for bit; the others differ by its Tanh and Sigmoid.
        self.check("mean_three_broadcast", tolerance=0.0, float_lsb=1.5)
        # sum_one is Tanh(x) itself: its slope of 1 times the input's rounding, 3 output LSB.
        for name, bound in (("sum_three_broadcast", 1.5), ("mean_two_8", 1.5), ("sum_one", 3.5)):
            with self.subTest(name):
                self.check(name, tolerance=1e-6, float_lsb=bound)
        ops = [n.op_type for n in onnx.load(self.tmp / "mean_three_broadcast_qdq.onnx").graph.node
               if n.op_type not in ("QuantizeLinear", "DequantizeLinear", "Identity")]
        self.assertEqual(ops, ["Add", "Add", "Mul"])

    def test_inspect_reports_the_ops_as_compile_finds_them(self):
        for path in sorted(UNARYOPS_MODELS.glob("*.onnx")):
            result = run("inspect", "--json", path)
            self.assertEqual(result.returncode, 0, result.stderr)
            summary = json.loads(result.stdout)
            self.assertEqual(summary["unsupported_ops"], [], path.name)
            for precision in ("reference", "float32", "int8"):
                self.assertTrue(summary["support"][precision]["supported"],
                                f"{path.name} {precision}")


if __name__ == "__main__":
    unittest.main()


class PiecewiseFunctionsAsOnnxruntimeTest(OpCodegenCase):
    """The reference interpreter computes HardSigmoid, HardSwish and Softsign in float32 steps as
    onnxruntime and the runtime's kernels do, so the 256 entries of an int8 table are the values
    of the emitted QDQ file: in double, about 1 float32 result in 6 (HardSwish) to 1 in 3
    (Softsign) rounds the other way."""

    def test_reference_and_float32_code_equal_onnxruntime_bit_for_bit(self):
        rng = np.random.default_rng(7)
        x = np.concatenate([rng.uniform(-8, 8, 20000), rng.uniform(-0.01, 0.01, 5000)])
        path = self.save_npy("x.npy", x.astype(np.float32).reshape(1, -1))
        for op, attributes, opset in (("HardSigmoid", {}, 13),
                                      ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}, 13),
                                      ("HardSwish", {}, 14), ("Softsign", {}, 13)):
            with self.subTest(op=op, **attributes):
                model = single_op_model(op, (1, x.size), opset=opset, **attributes)
                name = f"{op}_{len(attributes)}"
                onnx.save(model, self.tmp / f"{name}.onnx")
                theirs = self.onnxruntime(self.tmp / f"{name}.onnx", {"x": path}, "float")["y"]
                out = self.tmp / f"{name}_reference"
                result = run("reference", self.tmp / f"{name}.onnx", "--input", f"x={path}",
                             "-o", out)
                self.assertEqual(result.returncode, 0, result.stderr)
                np.testing.assert_array_equal(np.load(out / "y.npy"), theirs)
                ours = self.compile_and_run(self.tmp / f"{name}.onnx", {"x": path}, "float32")
                np.testing.assert_array_equal(ours["y"][0], theirs)
