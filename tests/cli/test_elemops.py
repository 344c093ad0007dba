"""Code generation of the PyTorch layers that stopped `compile` (tests/data/elemops, written by
tools/make_elemops_models.py): PReLU, torch.max/min/abs/neg/clamp, ConvTranspose and
InstanceNormalization (GroupNorm's export), each in float32 against onnxruntime on the model and
in int8 against onnxruntime on the emitted QDQ file and against the float result; and the
variants code generation refuses, with the message docs/errors.md lists."""
import json
import unittest

import onnx

from helpers import SOURCE, run
from test_op_codegen import OpCodegenCase

ELEMOPS_MODELS = SOURCE / "tests" / "data" / "elemops"


class ElemOpsTest(OpCodegenCase):
    models = ELEMOPS_MODELS
    qdq_from_opset = 0  # --emit-qdq upgrades the opset 9 and 11 exports itself

    def check(self, name, tolerance=1e-5, min_exact=0.99, float_lsb=4.0):
        self.check_float32(name, tolerance=tolerance)
        self.check_int8(name, min_exact=min_exact, float_lsb=float_lsb)

    def refused(self, name, precision, *fragments):
        model, _ = self.prepare(name)
        out = self.tmp / f"{name}_{precision}_refused"
        flags = ["--calibration", self.models / f"{name}.npz"] if precision == "int8" else []
        result = run("compile", model, "--target", "host", "--precision", precision, *flags,
                     "-o", out)
        self.assertNotEqual(result.returncode, 0)
        self.assertFalse(out.exists(), "no partial output")
        message = result.stderr.strip()
        self.assertEqual(len(message.splitlines()), 1, message)
        for fragment in fragments:
            self.assertIn(fragment, message)

    def test_models_are_the_generators(self):
        for path in ELEMOPS_MODELS.glob("*.onnx"):
            self.assertEqual(onnx.load(path).producer_name, "make_elemops_models", path.name)

    def test_prelu_per_channel_slope(self):
        # nn.PReLU(8) after a Conv2d: the slope [8, 1, 1], some of it negative. int8 rescales
        # the non-negative inputs by Sx / Sy and the others times the int8 slope by
        # Sx * Ss / Sy (docs/int8.md "PRelu"), what the QDQ file's float PRelu computes.
        for opset in (9, 13, 17):
            self.check(f"prelu_conv_{opset}")

    def test_prelu_single_slope_and_last_axis_slope(self):
        self.check("prelu_single_11")
        self.check("prelu_last_axis")

    def test_max_min_abs_neg_clamp(self):
        # torch.max / torch.min of two activations and of an activation and its row mean
        # (broadcast along the last axis), abs, neg and clamp(min=) at opsets 9 (Clip's
        # attributes) and 13; four element-wise layers in a row, so not a single layer.
        for opset in (9, 13):
            self.check(f"max_min_abs_{opset}", min_exact=0.97)

    def test_variadic_max_asks_for_a_chain(self):
        for precision in ("float32", "int8"):
            self.refused("max_three_inputs", precision, "(Max)",
                         "code generation supports Max of two inputs, and this one has 3")


    def test_conv_transpose(self):
        # nn.ConvTranspose2d (stride 2, padding 1, output_padding 1) after a strided Conv2d and
        # ReLU, at opsets 11 and 13; a ConvTranspose1d; an onnx.helper node with output_shape and
        # a dilation. int8 weights per output channel, W's axis 1 (docs/int8.md).
        for name in ("conv_transpose2d_11", "conv_transpose2d_13", "conv_transpose1d_13",
                     "conv_transpose_output_shape"):
            self.check(name)

    def test_grouped_conv_transpose_float32_only(self):
        self.check_float32("conv_transpose_grouped")
        self.refused("conv_transpose_grouped", "int8", "(ConvTranspose)",
                     "int8 code generation supports ConvTranspose with group 1, and this one has "
                     "group 2; compile the model for float32")

    def test_instance_norm_and_group_norm(self):
        # nn.InstanceNorm2d(affine=True) as InstanceNormalization at opsets 13 and 17, and
        # nn.GroupNorm, which the exporter writes as Reshape, InstanceNormalization (unit scale),
        # Reshape, Mul and Add. int8 is LayerNormalization's integer normalisation of each plane
        # with per-channel factors (docs/int8.md "InstanceNormalization").
        for name in ("instance_norm_13", "instance_norm_17", "group_norm_13"):
            self.check(name)

    def test_instance_norm_with_a_computed_scale_is_refused(self):
        for precision in ("float32", "int8"):
            self.refused("instance_norm_runtime_scale", precision, "(InstanceNormalization)",
                         "code generation needs InstanceNormalization's scale and B to be "
                         "constants; 'scale' is computed at run time")

    def test_inspect_reports_the_ops_as_compile_finds_them(self):
        # Every model: float32 and int8 supported, but the refused ones, each for its reason.
        refused = {"max_three_inputs": {"float32", "int8"},
                   "instance_norm_runtime_scale": {"float32", "int8"},
                   "conv_transpose_grouped": {"int8"}}
        for path in sorted(ELEMOPS_MODELS.glob("*.onnx")):
            result = run("inspect", "--json", path)
            self.assertEqual(result.returncode, 0, result.stderr)
            support = json.loads(result.stdout)["support"]
            self.assertTrue(support["reference"]["supported"], path.name)
            for precision in ("float32", "int8"):
                expected = precision not in refused.get(path.stem, set())
                self.assertEqual(support[precision]["supported"], expected,
                                 f"{path.name} {precision}")

if __name__ == "__main__":
    unittest.main()
