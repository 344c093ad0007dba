"""Code generation of selects on run-time data, CumSum and the remaining reductions
(tests/data/selectops/, written by tools/make_selectops_models.py): PyTorch's torch.where on a
comparison, masked_fill and a leaky select, every comparison of two activations; float32 against
onnxruntime on the model, int8 (calibrated on the model's .npz) against onnxruntime on the emitted
QDQ file, which the C equals exactly (docs/int8.md "Comparisons" and "Where"), and against the
float result; and the variants code generation refuses, with the message docs/errors.md lists."""
import unittest

import onnx

from helpers import SOURCE, run
from test_op_codegen import OpCodegenCase

MODELS = SOURCE / "tests" / "data" / "selectops"


class SelectOpsTest(OpCodegenCase):
    models = MODELS
    qdq_from_opset = 0  # --emit-qdq upgrades the opset 9 exports itself

    def check(self, name, float_lsb=4.0, min_exact=1.0, max_lsb=0):
        self.check_float32(name)
        self.check_int8(name, min_exact=min_exact, float_lsb=float_lsb, max_lsb=max_lsb)

    def refused(self, name, precision, *fragments):
        model, _ = self.prepare(name)
        out = self.tmp / f"{name}_{precision}_refused"
        flags = ["--calibration", self.models / f"{name}.npz"] if precision == "int8" else []
        result = run("compile", model, "--target", "host", "--precision", precision, *flags,
                     "-o", out)
        self.assert_fails(result, 1, *fragments)
        self.assertFalse(out.exists(), "no partial output")

    def test_models_are_the_generators(self):
        for path in MODELS.glob("*.onnx"):
            self.assertEqual(onnx.load(path).producer_name, "make_selectops_models", path.name)

    def test_leaky_select(self):
        # torch.where(y > 0, y, 0.1 * y) after a Conv: Greater of a constant 0, the Mul by 0.1
        # keeping y's codes at a tenth of its scale, the Where rescaling both to its output's.
        for opset in (9, 13, 17):
            with self.subTest(opset=opset):
                self.check(f"leaky_where_{opset}")

    def test_where_on_a_threshold_with_broadcasting(self):
        # torch.where(x > t, conv(x), x.mean(2, keepdim=True)): a per-channel threshold [8, 1]
        # and a mean [n, 8, 1] broadcast along time. The select jumps between two values, so
        # int8 and float differ by the jump where x lies within one LSB of t.
        for opset in (9, 13, 17):
            with self.subTest(opset=opset):
                self.check(f"where_threshold_{opset}", float_lsb=255)

    def test_masked_fill(self):
        # y.masked_fill(y <= x, 0.0).masked_fill(x < -1, -0.5): a comparison of two activations
        # of different parameters (through a's grid on b's), fills that are constants in the
        # output's parameters.
        for opset in (13, 17):
            with self.subTest(opset=opset):
                self.check(f"masked_fill_{opset}", float_lsb=255)

    def test_greater_or_equal_and_its_opset_9_form(self):
        # torch.where(y >= 0.2, y, x) + (x <= -0.5).float(): Not(Less) and Not(Greater) at opset
        # 9 (a Not of a mask is the Where picking 0 where it holds), GreaterOrEqual and
        # LessOrEqual at 13.
        for opset in (9, 13):
            with self.subTest(opset=opset):
                self.check(f"where_ge_{opset}", float_lsb=255)

    def test_masks_cast_to_float(self):
        # y * (y > 0.1).float() + (x < -1).float(): a Cast of a mask is a copy in float32 and
        # writes the codes of 1 and 0 in int8; the masks jump, so int8 and float differ by the
        # jump where a value lies within one LSB of its threshold.
        for opset in (9, 13, 17):
            with self.subTest(opset=opset):
                self.check(f"mask_multiply_{opset}", float_lsb=255)

    def test_every_comparison_of_two_activations(self):
        # Greater, Less, GreaterOrEqual, LessOrEqual and Equal of x and y (halves, so with exact
        # ties), each picking x or y: the int8 comparison equals the QDQ file's float one.
        self.check("compare_pick_13", float_lsb=255)
        self.check("where_broadcast_13", float_lsb=255)

    def test_cumsum(self):
        # torch.cumsum over time and over channels after a Conv; then exclusive, reverse and both,
        # the axis an int32 scalar or a negative int64 1-element tensor. int8: the exact running
        # sum of the codes rescaled once (docs/int8.md "CumSum").
        for name in ("cumsum_13", "cumsum_17", "cumsum_attributes_11"):
            with self.subTest(name):
                self.check(name)

    def test_reduce_min_sum_square_l1(self):
        # x.amin and a 1-norm after a Conv (ReduceMin, ReduceL1), and the attribute forms with
        # ReduceSumSquare. ReduceMin moves codes; the sums are exact and rescaled once. Against
        # float, min_l1's output adds the rounding of two int8 branches and a Mul (4.2 LSB).
        for name in ("min_l1_9", "min_l1_13", "min_l1_17", "reduce_min_square_l1_11"):
            with self.subTest(name):
                self.check(name, float_lsb=5.0)

    def test_reduce_log_sum_exp(self):
        # torch.logsumexp after a Conv, and over a middle and the last axis. int8: LogSoftmax's
        # sum of exponentials and logarithm plus the largest value (docs/int8.md).
        for name in ("logsumexp_9", "logsumexp_13", "logsumexp_17", "reduce_log_sum_exp_13"):
            with self.subTest(name):
                self.check(name, min_exact=0.99, max_lsb=1)

    def test_reduce_prod_is_float32_only(self):
        for name in ("prod_13", "reduce_prod_13"):
            with self.subTest(name):
                self.check_float32(name)
                self.refused(name, "int8", "(ReduceProd)",
                             "int8 code generation does not support ReduceProd")

    def test_bool_model_output_is_refused(self):
        for precision in ("float32", "int8"):
            self.refused("compare_output_13", precision, "output 'mask' is bool",
                         "Cast it to float in the model")


if __name__ == "__main__":
    unittest.main()
