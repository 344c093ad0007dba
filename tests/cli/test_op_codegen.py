"""Code generation of the op patterns issue 15 found missing (tests/data/ops/, written by
tools/make_op_models.py): float32 against onnxruntime on the model, int8 (calibrated on the
model's .npz) against onnxruntime on the emitted QDQ file and against the float result."""
import json
import unittest

import numpy as np
import onnx
from onnx import numpy_helper

from helpers import SOURCE, CliTestCase, run, run_onnxruntime, single_op_model

MODELS = SOURCE / "tests" / "data" / "ops"


class OpCodegenCase(CliTestCase):
    """The checks, shared with the other modules of test models (`models`: their folder)."""

    models = MODELS
    # --emit-qdq upgrades older models to opset 13 through ONNX's version converter; the models
    # of tests/data/ops/ below opset 13 are held to the float result alone.
    qdq_from_opset = 13

    def prepare(self, name):
        """The model path and its input arrays saved as .npy files (name=path flags)."""
        data = np.load(self.models / f"{name}.npz")
        inputs = {key: self.save_npy(f"{name}_{key}.npy", data[key]) for key in data.files}
        return self.models / f"{name}.onnx", inputs

    def compile_and_run(self, model, inputs, precision, *flags, run_flags=()):
        out = self.tmp / f"{model.stem}_{precision}"
        if not out.exists():
            result = run("compile", model, "--target", "host", "--precision", precision, *flags,
                         "-o", out)
            self.assertEqual(result.returncode, 0, result.stderr)
        ran = self.tmp / f"{out.name}_run{'_'.join(run_flags)}"
        result = run("run", out, *[f for k, v in inputs.items() for f in ("--input", f"{k}={v}")],
                     "-o", ran, *run_flags)
        self.assertEqual(result.returncode, 0, result.stderr)
        run_json = json.loads((ran / "run.json").read_text())
        return {o["name"]: (np.load(ran / o["file"]), o) for o in run_json["outputs"]}

    def onnxruntime(self, model, inputs, tag, *flags):
        out = self.tmp / f"{model.stem}_{tag}_ort"
        run_onnxruntime(model, out, *flags, **{k: str(v) for k, v in inputs.items()})
        return {o.name: np.load(out / f"{o.name}.npy") for o in onnx.load(model).graph.output}

    def check_float32(self, name, tolerance=1e-5):
        model, inputs = self.prepare(name)
        ours = self.compile_and_run(model, inputs, "float32")
        theirs = self.onnxruntime(model, inputs, "float")
        for output, expected in theirs.items():
            got = ours[output][0]
            self.assertEqual(got.shape, expected.shape, output)
            error = np.abs(got - expected).max()
            print(f"{name}/{output}: float32 max abs error {error:.3g} "
                  f"(values up to {np.abs(expected).max():.3g})")
            self.assertLessEqual(error, tolerance * max(1.0, np.abs(expected).max()), output)
        return theirs

    def check_int8(self, name, min_exact=0.99, float_lsb=4.0, max_lsb=1):
        """int8 against onnxruntime on the emitted QDQ file (at most `max_lsb` LSB, `min_exact` of
        them exact; a dict gives either per output) and against the float model (`float_lsb` LSBs)."""
        model, inputs = self.prepare(name)
        qdq = self.tmp / f"{name}_qdq.onnx"
        with_file = onnx.load(model).opset_import[0].version >= self.qdq_from_opset
        ours = self.compile_and_run(model, inputs, "int8", "--calibration", self.models / f"{name}.npz",
                                    *(["--emit-qdq", qdq] if with_file else []),
                                    run_flags=("--raw",))
        exact_float = self.onnxruntime(model, inputs, "float")
        # The emitted file fixes the batch at 1, as edgesplit compiles it.
        on_file = self.onnxruntime(qdq, inputs, "qdq", "--per-sample") if with_file else exact_float
        for output, expected in exact_float.items():
            q, entry = ours[output]
            self.assertEqual(q.dtype, np.int8)
            lsb, zero = np.float32(entry["scale"]), entry["zero_point"]
            vs_float = np.abs((q.astype(np.float32) - zero) * lsb - expected).max() / lsb
            if with_file:
                theirs_q = np.rint(on_file[output] / lsb).astype(np.int32) + zero
                difference = np.abs(q.astype(np.int32) - theirs_q)
                exact = (difference == 0).mean()
                print(f"{name}/{output}: int8 vs onnxruntime on the QDQ file {exact:.2%} exact, "
                      f"max {difference.max()} LSB; vs float max {vs_float:.2f} LSB")
                bound = max_lsb.get(output, 1) if isinstance(max_lsb, dict) else max_lsb
                self.assertLessEqual(difference.max(), bound, output)
                wanted = min_exact.get(output, 0.99) if isinstance(min_exact, dict) else min_exact
                self.assertGreaterEqual(exact, wanted, output)
            else:
                print(f"{name}/{output}: int8 vs float max {vs_float:.2f} LSB")
            self.assertLessEqual(vs_float, float_lsb, output)
            self.assertGreater(len(np.unique(q)), 4, f"{output}: the output should vary")


class OpCodegenTest(OpCodegenCase):
    def test_smooth_activations_as_kernels_and_tables(self):
        # Selu, Exp and Floor had no lowering; the others are checked alongside.
        self.check_float32("activations")
        # Floor's outputs are whole numbers, which with S = range / 255 (10 / 255 here) fall
        # exactly halfway between two int8 steps for every odd one: onnxruntime's QuantizeLinear
        # rounds such ties to even in float32, and so does the table of a calibrated build, which
        # rounds once (docs/int8.md; with TFLite's half-away-from-zero tables 51 % were exact).
        # Exp (slope up to 60 here) magnifies the int8 rounding of the MatMul before it, hence the
        # wider float bound.
        self.check_int8("activations", float_lsb=6.0)

    def test_tf2onnx_layer_norm_folds_and_reciprocal(self):
        # tf2onnx's Sub, Mul(d, d), ReduceMean, Add, Sqrt, Reciprocal, Mul, Mul, Add fold into one
        # LayerNormalization (passes/FoldLayerNormalization.cpp), which the QDQ file holds at
        # opset 17; `inv` is Reciprocal alone, a table in int8. The normalised output meets the
        # file's float normalisation as layer_norm_seq_* do (tests/cli/test_torch_exports.py).
        # Against the float model, the int8 rounding of the Dense output is divided by each row's
        # deviation and multiplied by gamma (up to 1.5): 3.7 output LSB measured. 1 / x has a
        # slope of up to 2.25 on inv's input, (2/3, 2) in steps of about 1/255 against inv's of
        # about 1.33/255: an input 1 LSB apart from the file's would be up to 2 apart; with the
        # Dense before it rounding once, as onnxruntime does, none is.
        self.check_float32("layer_norm_tf", tolerance=1e-6)
        self.check_int8("layer_norm_tf", min_exact=0.99, float_lsb=4)
        qdq = self.tmp / "layer_norm_tf_qdq.onnx"
        onnx.checker.check_model(str(qdq), full_check=True)
        ops = [n.op_type for n in onnx.load(qdq).graph.node]
        self.assertEqual(ops.count("LayerNormalization"), 1)
        self.assertEqual(ops.count("Reciprocal"), 1)

    def test_keras_layer_norm_as_tensorflow_batch_normalization_folds(self):
        # tf2onnx's Keras LayerNormalization, x * inv + (beta - mean * inv) with
        # inv = Reciprocal(Sqrt(variance + eps)) * gamma: the centred x is never written, yet the
        # thirteen steps after the Dense fold into one LayerNormalization. One Dense output of
        # the 1152 (sample 6, row 2, element 3) is 14.49963 steps above its zero point, which
        # onnxruntime rounds once, to 14, and so does the fully connected kernel of a calibrated
        # model (docs/int8.md "Fixed-point rescaling"). TFLite's double rounding wrote 15 (the
        # factor 0.00315 has shift -8, so the high multiply keeps 8 bits below the step, giving
        # 14.5 exactly, which the shift rounds away), and that row's deviation (0.74) and gamma
        # (0.63) give y a slope of 1.26 LSB per input LSB there: y was 2 LSB from the file's.
        self.check_float32("layer_norm_keras", tolerance=1e-6)
        self.check_int8("layer_norm_keras", min_exact=0.99, float_lsb=4)
        qdq = self.tmp / "layer_norm_keras_qdq.onnx"
        onnx.checker.check_model(str(qdq), full_check=True)
        ops = [n.op_type for n in onnx.load(qdq).graph.node]
        self.assertEqual(ops.count("LayerNormalization"), 1)
        self.assertNotIn("Reciprocal", ops)

    def test_keras_layer_norm_without_center_or_scale_folds(self):
        # Keras' center=False writes -(mean * inv) for the offset (a Neg, no beta), scale=False
        # no gamma Mul: each of the two normalisations folds into one LayerNormalization, so no
        # Reciprocal table is left and the QDQ file holds two LayerNormalizations.
        self.check_float32("layer_norm_keras_options", tolerance=1e-6)
        self.check_int8("layer_norm_keras_options", min_exact=0.99, float_lsb=4)
        qdq = self.tmp / "layer_norm_keras_options_qdq.onnx"
        onnx.checker.check_model(str(qdq), full_check=True)
        ops = [n.op_type for n in onnx.load(qdq).graph.node]
        self.assertEqual(ops.count("LayerNormalization"), 2)
        self.assertNotIn("Reciprocal", ops)
        self.assertNotIn("Neg", ops)

    def test_pytorch_selu(self):
        self.check_float32("selu_mlp")
        self.check_int8("selu_mlp", min_exact=0.9)

    def test_batchnorm_after_matmul_and_alone(self):
        for name in ("batchnorms", "bn1d_3d"):
            with self.subTest(name):
                self.check_float32(name)
                # Alone, BatchNormalization is two int8 steps (Mul, Add), each rounding once.
                self.check_int8(name, min_exact=0.99)
        # PyTorch's Linear -> BatchNorm1d (folded into the Gemm before this work too).
        self.check_float32("linear_bn")

    def test_batchnorm_folds_into_the_matmul_or_becomes_a_depthwise_conv(self):
        result = run("compile", MODELS / "batchnorms.onnx", "--target", "host", "--precision",
                     "float32", "-o", self.tmp / "c")
        self.assertEqual(result.returncode, 0, result.stderr)
        layers = json.loads((self.tmp / "c" / "report.json").read_text())["devices"][0]["layers"]
        self.assertEqual(sorted(layer["op"] for layer in layers if layer["op"] != "Reshape"),
                         ["Conv", "Conv", "Gemm"])

    def test_rank_5_and_6_transposes_and_depth_to_space(self):
        for name in ("pixel_shuffle", "pixel_shuffle_13", "transposes_6d"):
            with self.subTest(name):
                # Pure data movement by hand is exact; PyTorch's has a Conv first.
                self.check_float32(name, tolerance=0 if name == "transposes_6d" else 1e-5)
                self.check_int8(name)

    def test_tile_of_a_constant_folds(self):
        self.check_float32("tile_const")
        self.check_int8("tile_const")

    def test_tile_of_an_activation_becomes_concats(self):
        self.check_float32("tile_act", tolerance=0)
        self.check_int8("tile_act")

    def test_tile_of_an_activation_with_many_copies_is_refused_naming_the_node(self):
        model = single_op_model("Tile", (1, 2, 3))
        model.graph.node[0].input.append("reps")
        model.graph.initializer.append(numpy_helper.from_array(np.array([1, 65, 1], np.int64), "reps"))
        model.graph.output[0].type.tensor_type.shape.dim[1].dim_value = 130
        result = run("compile", self.save_model("tile65.onnx", model), "--target", "host",
                     "--precision", "float32", "-o", self.tmp / "c")
        self.assert_fails(result, 1, "node 'the_node' (Tile)", "code generation does not support")
        self.assertFalse((self.tmp / "c").exists())

    def test_integer_requantisation_chain(self):
        # Whole numbers throughout: float32 is exact.
        theirs = self.check_float32("requant_chain", tolerance=0)
        self.assertTrue(all(np.array_equal(v, np.round(v)) for v in theirs.values()))
        # int8 folds Mul -> Div -> Floor -> Clip into the first layer on the integer grid; its
        # int32 bias (-0.5 for the floor) is quantised in steps of the accumulator's scale, so
        # results near a whole number may floor the other way (docs/int8.md); the emitted file
        # holds the same folded layer, so onnxruntime floors them alike.
        self.check_int8("requant_chain")


if __name__ == "__main__":
    unittest.main()
