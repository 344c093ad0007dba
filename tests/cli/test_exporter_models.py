"""Models as exporters edgesplit cannot run here write them (tests/data/exporters, written by
tools/make_exporter_models.py with onnx.helper node for node: tf2onnx's Keras and TFLite
conversions, keras2onnx, onnxruntime's quantiser in its QDQ, QOperator and dynamic formats; the
models of one opset side by side in one file, each name prefixed with its model's). Float files
exist at every opset from 7 to 16 but 12 and 13 (the quantised ones): Upsample with a scales
attribute (7, 8), BatchNormalization with `spatial` (7, 8), Resize-10, Relu/Add-14. Float files
compile in float32 against onnxruntime on the file and in int8 (calibrated) against onnxruntime
on the emitted QDQ file; pre-quantised files compile without calibration against onnxruntime on
the file itself. `inspect --json` on them is checked by tests/cli/test_inspect.py."""
import concurrent.futures
import re
import unittest

import numpy as np
import onnx

from helpers import SOURCE, onnxruntime_codes, run, run_onnxruntime
from test_op_codegen import OpCodegenCase
from test_qoperator import ORT

EXPORTERS = SOURCE / "tests" / "data" / "exporters"

# Per model: (share of int8 outputs equal to onnxruntime's, largest difference in LSB).
# Against the emitted QDQ file: the float models are calibrated, so their layers rescale with one
# rounding as onnxruntime does (docs/int8.md "Fixed-point rescaling"), and every output is within
# 1 LSB; with TFLite's double rounding ~0.2 % of a layer's values moved by 1 LSB and a Softmax at
# 1/256 magnified that into 2 (tf2onnx_cnn_bn_7, the conv1d models: 85 % exact). tf2onnx's NHWC
# BiasAdd, Keras' non-fused batchnorm (Mul, Add) and the Relu after them fold into the Conv once
# the Transpose between sinks below them; left in place they were int8 steps of their own, the
# Relu quantised at the Add's range and again at its own (cnn_bn: 3 LSB off the QDQ file, 5 off
# float). ONNX has no integer GRU/LSTM: the QDQ file spells each one out as the integer cell the
# C runs (docs/int8.md "LSTM and GRU"), and the recurrent models meet the others' bounds (100 %
# exact measured); run there in float between quantisers, the layers were 1 LSB off the C and the
# Dense after them made that up to 2 (54-65 % exact). The Softmax heads are written as the
# kernel's integer steps too: at opset 7 the upgrade wraps tf2onnx_cnn_bn_7's Softmax in a
# Flatten and a Reshape, which were left in float, and its float Softmax rounded 1 of the 64
# probabilities the other way (98.4 % exact; now 100 %). Against onnxruntime on
# a pre-quantised file (TFLite's double rounding, kept for them) the same holds for its QLinear
# kernels (tests/cli/test_prequantised.py): each layer within 1 LSB, the Softmax outputs up to 3.
FLOAT_EXPECTED = {
    "keras2onnx_upsample_7": (0.99, 1),
    "tf2onnx_cnn_bn_7": (0.99, 1),
    "keras2onnx_upsample_8": (0.99, 1),
    "tf2onnx_cnn_8": (0.99, 1),
    "keras2onnx_upsample_10": (0.99, 1),
    "tf2onnx_pool_keepdims_10": (0.99, 1),
    "tf2onnx_cnn_bn_14": (0.99, 1),
    "keras2onnx_upsample_14": (0.99, 1),
    "tf2onnx_conv1d_16": (0.99, 1),
    "tf2onnx_pool_keepdims_16": (0.99, 1),
    "tf2onnx_cnn_9": (0.99, 1),
    "tf2onnx_cnn_bn_9": (0.99, 1),
    "keras2onnx_conv1d_9": (0.99, 1),
    "keras2onnx_gru_9": (0.99, 1),
    "tf2onnx_cnn_bn_11": (0.99, 1),
    "tf2onnx_pool_keepdims_11": (0.99, 1),
    "tf2onnx_lstm_11": (0.99, 1),
    "tf2onnx_cnn_15": (0.99, 1),
    "tf2onnx_conv1d_15": (0.99, 1),
    "tf2onnx_gru_15": (0.99, 1),
    "tf2onnx_pool_keepdims_15": (0.99, 1),
}
# onnxruntime's quantiser's models (producer "onnx.quantize") rescale with one rounding, as
# onnxruntime's kernels do (docs/int8.md, "Which rule"): with TFLite's two roundings they were
# 85-94 % exact and up to 3 LSB off.
QUANTISED_EXPECTED = {
    "ort_qdq_u8s8_asymmetric_per_channel_13": (0.98, 1),
    "ort_qdq_s8s8_symmetric_per_tensor_13": (0.98, 1),
    "ort_qdq_mlp_u8s8_reduce_range_13": (0.98, 1),
    "tflite_int8_13": (0.98, 1),
    "ort_qdq_u8u8_asymmetric_per_tensor_reduce_range_12": (0.98, 1),
    "ort_qdq_mlp_s8s8_12": (0.98, 1),
    "ort_qoperator_cnn_12": (0.98, 1),
}
FLOAT_FILES = ("float_opset7", "float_opset8", "float_opset9", "float_opset10", "float_opset11",
               "float_opset14", "float_opset15", "float_opset16")
QUANTISED_FILES = ("quantised_opset13", "quantised_opset12")
DYNAMIC_FILE = "dynamic_opset13"
# onnxruntime's QDQ quantiser on a Linear + LayerNorm block: PyTorch's primitives with a QDQ pair
# on every step, and the opset 17 LayerNormalization between one. Per model, the nodes that read
# gamma and beta (and epsilon for the primitives).
LAYER_NORM_FILE = "quantised_opset17"
LAYER_NORM_FORMS = {"ort_qdq_layer_norm_primitives_17": ("/norm/Mul", "/norm/Add_1", "/norm/Add"),
                    "ort_qdq_layer_norm_node_17": ("/norm/LayerNormalization",) * 2}
LAYER_NORM_INPUT = "/fc/Add_output_0_DequantizeLinear:0"  # the Dense output it normalises


def model_of(output):
    return output.split("/", 1)[0]


def file_name(name):
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


@unittest.skipUnless(ORT.is_dir(), f"{ORT} is absent: run tools/setup.sh")
class ExporterModelsTest(OpCodegenCase):
    models = EXPORTERS
    qdq_from_opset = 0  # --emit-qdq converts the opset 9 and 11 files itself

    def prepare(self, name):
        data = np.load(self.models / f"{name}.npz")
        return self.models / f"{name}.onnx", {
            key: self.save_npy(f"{name}_{file_name(key)}.npy", data[key]) for key in data.files}

    def onnxruntime(self, model, inputs, tag, *flags):
        # Output names hold ':' and '/', which ort_run.js writes as '_'; a TFLite conversion's
        # input has a fixed batch of 1.
        out = self.tmp / f"{model.stem}_{tag}_ort"
        fixed = any(i.type.tensor_type.shape.dim[0].dim_value == 1
                    for i in onnx.load(model).graph.input)
        if fixed and "--per-sample" not in flags:
            flags = (*flags, "--per-sample")
        run_onnxruntime(model, out, *flags, **{k: str(v) for k, v in inputs.items()})
        return {o.name: np.load(out / f"{file_name(o.name)}.npy")
                for o in onnx.load(model).graph.output}

    def test_committed_models_are_all_checked(self):
        outputs = {model_of(o.name) for f in FLOAT_FILES + QUANTISED_FILES + (LAYER_NORM_FILE,)
                   for o in onnx.load(EXPORTERS / f"{f}.onnx").graph.output}
        self.assertEqual(outputs, set(FLOAT_EXPECTED) | set(QUANTISED_EXPECTED) |
                         set(LAYER_NORM_FORMS))

    def test_float_exports_in_float32_and_int8(self):
        # Two files at a time: compiling and running mostly waits for the C compiler.
        def check(file):
            self.check_float32(file, tolerance=1e-6)
            expected = {o: FLOAT_EXPECTED[model_of(o)]
                        for o in (v.name for v in onnx.load(EXPORTERS / f"{file}.onnx").graph.output)}
            self.check_int8(file, min_exact={o: e[0] for o, e in expected.items()},
                            max_lsb={o: e[1] for o, e in expected.items()}, float_lsb=6.0)
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            for future in [pool.submit(check, f) for f in FLOAT_FILES]:
                future.result()

    def check_prequantised(self, file):
        model, inputs = self.prepare(file)
        theirs = self.onnxruntime(model, inputs, "model")
        ours = self.compile_and_run(model, inputs, "int8", run_flags=("--raw",))
        ours_f = self.compile_and_run(model, inputs, "float32")
        for output, expected in theirs.items():
            with self.subTest(output):
                min_exact, max_lsb = QUANTISED_EXPECTED[model_of(output)]
                q, entry = ours[output]
                self.assertEqual(q.dtype, np.int8)
                lsb, zero = np.float32(entry["scale"]), entry["zero_point"]
                theirs_q = onnxruntime_codes(expected, lsb, zero)
                difference = np.abs(q.astype(np.int32) - theirs_q)
                exact = (difference == 0).mean()
                float_error = np.abs(ours_f[output][0] - expected).max() / lsb
                print(f"{output}: int8 {exact:.2%} exact, max {difference.max()} LSB; "
                      f"float32 max {float_error:.3f} LSB")
                self.assertLessEqual(difference.max(), max_lsb)
                self.assertGreaterEqual(exact, min_exact)
                self.assertGreater(len(np.unique(q)), 8, "the output should vary")
                # The float32 compile runs the fake-quantised graph as onnxruntime does.
                self.assertLessEqual(float_error, 1.001)

    def test_quantised_exports_without_calibration(self):
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            for future in [pool.submit(self.check_prequantised, f) for f in QUANTISED_FILES]:
                future.result()

    def with_hidden_outputs(self):
        """The LayerNorm file with each model's normalised input as an output too."""
        model = onnx.load(EXPORTERS / f"{LAYER_NORM_FILE}.onnx")
        for form in LAYER_NORM_FORMS:
            model.graph.output.append(onnx.helper.make_tensor_value_info(
                f"{form}/{LAYER_NORM_INPUT}", onnx.TensorProto.FLOAT, ["N", 6, 12]))
        return self.save_model(f"{LAYER_NORM_FILE}_hidden.onnx", model), model

    def test_quantised_layer_norm_folds_into_one_int8_layer_normalization(self):
        # The int8 compile folds either form into es_layer_norm_s8 with the output parameters
        # the model gives; the float32 compile runs the steps fake-quantised as onnxruntime does.
        model_path, inputs = self.prepare(LAYER_NORM_FILE)
        hidden_path, model = self.with_hidden_outputs()
        theirs = self.onnxruntime(hidden_path, inputs, "hidden")
        ours = self.compile_and_run(model_path, inputs, "int8", run_flags=("--raw",))
        ours_f = self.compile_and_run(model_path, inputs, "float32")
        program = (self.tmp / f"{LAYER_NORM_FILE}_int8" / "main" / "model.c").read_text()
        self.assertEqual(program.count("es_layer_norm_s8("), len(LAYER_NORM_FORMS))
        self.assertNotIn("es_lut_s8", program)  # no Pow, Sqrt or Div step left as a table
        for form, (scale_node, shift_node, *epsilon_node) in LAYER_NORM_FORMS.items():
            with self.subTest(form):
                nodes = {n.name: n for n in model.graph.node}
                if epsilon_node:
                    gamma = dequantised(model, nodes[f"{form}/{scale_node}"].input[1])
                    beta = dequantised(model, nodes[f"{form}/{shift_node}"].input[1])
                    epsilon = dequantised(model, nodes[f"{form}/{epsilon_node[0]}"].input[1])
                else:
                    node = nodes[f"{form}/{scale_node}"]
                    gamma, beta = (dequantised(model, node.input[i]) for i in (1, 2))
                    epsilon = next(onnx.helper.get_attribute_value(a) for a in node.attribute
                                   if a.name == "epsilon")
                output = f"{form}/y_DequantizeLinear:0"
                q, entry = ours[output]
                lsb, zero = np.float32(entry["scale"]), entry["zero_point"]
                exact_real = layer_norm(theirs[f"{form}/{LAYER_NORM_INPUT}"], gamma, beta, epsilon)
                exact_q = np.clip(np.rint(exact_real / lsb) + zero, -128, 127).astype(np.int32)
                theirs_q = onnxruntime_codes(theirs[output], lsb, zero)
                vs_exact = np.abs(q.astype(np.int32) - exact_q)
                vs_model = np.abs(q.astype(np.int32) - theirs_q)
                model_vs_exact = np.abs(theirs_q - exact_q)
                float_error = np.abs(ours_f[output][0] - theirs[output]).max() / lsb
                print(f"{output}: int8 vs onnxruntime on the model {(vs_model == 0).mean():.2%} "
                      f"exact, max {vs_model.max()} LSB; vs the exact normalisation of its "
                      f"Dense output {(vs_exact == 0).mean():.2%} exact, max {vs_exact.max()} "
                      f"(onnxruntime's max {model_vs_exact.max()}); float32 max "
                      f"{float_error:.3f} LSB")
                self.assertLessEqual(float_error, 1.001)
                # One rounding of the real normalisation: within 1 LSB of it (the Dense output
                # onnxruntime's kernels and the C both compute is the same but for ties).
                self.assertLessEqual(vs_exact.max(), 1)
                self.assertGreaterEqual((vs_exact == 0).mean(), 0.99)
                if epsilon_node:
                    # onnxruntime runs the steps in their own int8 parameters (the variance in
                    # steps of ~4/255, the deviation of ~2/255): rows of a small spread land
                    # many LSB from the normalisation, which the fold computes as one op.
                    self.assertGreater(model_vs_exact.max(), 4)
                else:
                    self.assertLessEqual(vs_model.max(), 1)
                    self.assertGreaterEqual((vs_model == 0).mean(), 0.99)

    def test_unfoldable_quantised_layer_norm_is_refused_naming_the_division(self):
        # The centred x read by a second output: the steps no longer form the LayerNorm.
        model = onnx.load(EXPORTERS / f"{LAYER_NORM_FILE}.onnx")
        form = "ort_qdq_layer_norm_primitives_17"
        model.graph.output.append(onnx.helper.make_tensor_value_info(
            f"{form}//norm/Sub_output_0_DequantizeLinear:0", onnx.TensorProto.FLOAT, ["N", 6, 12]))
        path = self.save_model("unfoldable_layer_norm.onnx", model)
        result = run("compile", path, "--target", "host", "--precision", "int8",
                     "-o", self.tmp / "unfoldable")
        self.assert_fails(result, 1, f"node '{form}//norm/Div' (Div)",
                          f"divides by '{form}//norm/Sqrt'",
                          "compile the model for float32")
        self.assertFalse((self.tmp / "unfoldable").exists())
        result = run("compile", path, "--target", "host", "--precision", "float32",
                     "-o", self.tmp / "unfoldable_float32")
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_dynamic_quantisation_compiles_as_the_float_model(self):
        # Each integer layer becomes the float MatMul/Conv of x with the dequantised weights
        # (docs/int8.md): float32 differs from onnxruntime only by onnxruntime's run-time rounding
        # of x to its range / 255 (measured 0.021-0.022 on outputs up to 2.6, about 1 %).
        model = onnx.load(EXPORTERS / f"{DYNAMIC_FILE}.onnx")
        self.assertEqual({model_of(o.name) for o in model.graph.output},
                         {"ort_dynamic_mlp_u8", "ort_dynamic_conv_s8"})
        self.assertEqual(sum(n.op_type == "DynamicQuantizeLinear" for n in model.graph.node), 4)
        self.check_float32(DYNAMIC_FILE, tolerance=0.015)
        # int8 calibrates the activations like a float model's.
        result = run("compile", EXPORTERS / f"{DYNAMIC_FILE}.onnx", "--target", "host",
                     "-o", self.tmp / "uncalibrated")
        self.assert_fails(result, 1, "--calibration")
        self.check_int8(DYNAMIC_FILE, min_exact=0.99, float_lsb=3.0)


def dequantised(model, value):
    """The float32 values of `value`, the output of a DequantizeLinear of initialisers."""
    initialisers = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    node = next(n for n in model.graph.node if value in n.output)
    q, scale, zero = (initialisers[name] for name in node.input)
    return ((q.astype(np.int32) - zero.astype(np.int32)) * scale).astype(np.float32)


def layer_norm(h, gamma, beta, epsilon):
    h = h.astype(np.float64)
    d = h - h.mean(-1, keepdims=True)
    return d / np.sqrt((d * d).mean(-1, keepdims=True) + epsilon) * gamma + beta


if __name__ == "__main__":
    unittest.main()
