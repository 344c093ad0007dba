"""PyTorch exports edgesplit was not designed around (tests/data/torch/, written by
tools/make_torch_models.py with torch.onnx.export at opsets 9 to 17, dynamic batch): each
compiles in float32, matching onnxruntime on the model, and in int8, against onnxruntime on the
emitted QDQ file and against the float result. What they exercise: the exporter's shape
arithmetic folded away (Shape, Gather, Unsqueeze, Concat, ConstantOfShape, Reshape with a
computed shape, Equal, Where, Range), chunk as Split, GELU's Erf, ReLU6 as Clip, Hardswish, SiLU, recurrent layers
with a zero initial state built at run time, a bidirectional LSTM and stacked GRUs, multi-head
self-attention, and a truncating Cast round trip."""
import unittest

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from helpers import SOURCE, run
from test_op_codegen import OpCodegenCase

TORCH_MODELS = SOURCE / "tests" / "data" / "torch"


class TorchExportTest(OpCodegenCase):
    models = TORCH_MODELS
    qdq_from_opset = 0  # --emit-qdq upgrades the opset 9 and 11 exports itself

    def check(self, name, min_exact=0.99, max_lsb=1, float_lsb=2.5):
        # float32 kernels accumulate in another order than onnxruntime: a few float32 steps.
        self.check_float32(name, tolerance=1e-6)
        self.check_int8(name, min_exact=min_exact, max_lsb=max_lsb, float_lsb=float_lsb)

    def test_models_are_the_generators(self):
        names = sorted(p.stem for p in TORCH_MODELS.glob("*.onnx"))
        self.assertEqual(len(names), 19)
        for name in names:
            model = onnx.load(TORCH_MODELS / f"{name}.onnx")
            self.assertEqual(model.producer_name, "make_torch_models", name)

    def test_conv1d_gru_with_a_zero_state_from_the_batch_size(self):
        # Shape -> Gather -> Unsqueeze -> Concat -> ConstantOfShape folds to the initial state.
        # ONNX has no integer GRU: the QDQ file spells it out as the int8 cell the C runs (hidden
        # state at 2^-7, gates in Q0.15, docs/int8.md): the bounds of the other models hold
        # (100 % exact measured); run there in float between quantisers, it was up to 4 output
        # LSB off (22 % exact), the output's scale being 0.21 / 128 here. int8 once: the opset 13
        # graph differs only in the part that folds away.
        for name in ("conv_gru_9", "conv_gru_13"):
            with self.subTest(name):
                ops = {n.op_type for n in onnx.load(TORCH_MODELS / f"{name}.onnx").graph.node}
                self.assertIn("ConstantOfShape", ops)
                self.check_float32(name, tolerance=1e-6)
        self.check_int8("conv_gru_9", float_lsb=4)

    def test_conv1d_lstm_last_state(self):
        # The QDQ file spells the LSTM out as the C's integer cell (as the GRU above) and the
        # layers around it round once, as onnxruntime does (docs/int8.md): 100 % exact measured
        # (with a float LSTM between quantisers: within 1 LSB, 83 % exact).
        self.check("conv_lstm_17")

    def test_multi_head_self_attention(self):
        # The exporter's head reshapes and transposes around two batched MatMuls and a Softmax.
        # The QDQ file holds the int8 Softmax's integer steps (docs/int8.md): with a float
        # Softmax, probabilities within float32's error of a half-step rounded the other way and
        # the output projection made that 2 LSB.
        # At opset 9 the Softmax's input has no rank shape inference can tell (a Reshape to a
        # computed shape): the upgrade wraps it in Flatten and Reshape, whose values take the
        # parameters of those they reshape, so the file holds the integer Softmax there too.
        for name in ("attention_9", "attention_13"):
            with self.subTest(name):
                self.check(name, max_lsb=0, min_exact=1.0, float_lsb=6)
                qdq = onnx.load(self.tmp / f"{name}_qdq.onnx")
                self.assertNotIn("Softmax", [n.op_type for n in qdq.graph.node])

    def test_bidirectional_lstm_and_stacked_gru(self):
        # Both directions' outputs of every step (Y with a direction axis, transposed back to
        # batch-first), and two GRU nodes in a row, the second reading the first's Y. The QDQ
        # file spells the integer cells out (docs/int8.md "LSTM and GRU") and only copies follow
        # them, so every code is onnxruntime's (with float cells in the file: 93.7 % and 81.3 %).
        self.check("bilstm_11", min_exact=1.0, max_lsb=0)
        self.check("stacked_gru_13", min_exact=1.0, max_lsb=0)

    def test_conv2d_batchnorm_relu6_adaptive_pool_linear(self):
        self.check("conv_bn_pool_11")

    def test_view_flatten_permute_chunk_cat(self):
        # Opset 9 writes chunk as Split, opset 13 as Slices with computed bounds.
        for name in ("reshapes_9", "reshapes_13"):
            with self.subTest(name):
                self.check(name)

    def test_hardswish_silu_gelu(self):
        # Opset 11 writes Hardswish as HardSigmoid * x, opset 17 as HardSwish; GELU as Erf. Four
        # Linear layers rounding once as onnxruntime does (docs/int8.md; with TFLite's double
        # rounding each was 1 LSB off on about 0.2 % of its values, 86-97 % of the 64 outputs
        # exact) and three table activations.
        for name in ("activations_11", "activations_17"):
            with self.subTest(name):
                self.check(name)

    def test_expand_and_arange_fold(self):
        # expand(-1, ...) exports ConstantOfShape, Equal and Where; arange a Range and a Cast.
        ops = {n.op_type for n in onnx.load(TORCH_MODELS / "expand_arange_13.onnx").graph.node}
        self.assertTrue({"Equal", "Where", "Range"} <= ops)
        self.check("expand_arange_13")

    def test_class_token_concat_in_both_precisions(self):
        # torch.cat([token.expand(n, -1, -1), x]): a Concat whose first input folds to a constant.
        # int8 quantises the token in the Concat's output parameters (docs/int8.md "Concat"), and
        # the QDQ file holds it so quantised.
        self.check_float32("class_token_13", tolerance=1e-6)
        self.check_int8("class_token_13", min_exact=0.99, max_lsb=1, float_lsb=2.5)

    def test_layer_norm_in_float32_and_int8(self):
        # Opset 13's ReduceMean, Sub, Pow(2), ReduceMean, Add, Sqrt, Div, Mul, Add fold into the
        # LayerNormalization opset 17 writes (passes/FoldLayerNormalization.cpp); int8 normalises
        # in integers (docs/int8.md "LayerNormalization"), the QDQ file in float between quantisers.
        # layer_norm_seq_* normalise [6, 12] (axis -2) into the model's output: there the
        # integer normalisation alone meets the QDQ file's float one; int8 on those two. The file
        # holds the LayerNormalization, so it is written at opset 17 (the opset 13 export too),
        # where the ONNX checker accepts it.
        for name in ("layer_norm_13", "layer_norm_17", "layer_norm_seq_13", "layer_norm_seq_17"):
            with self.subTest(name):
                self.check_float32(name, tolerance=1e-6)
                if "seq" in name:
                    self.check_int8(name, min_exact=0.99, max_lsb=1, float_lsb=2.5)
                    qdq = self.tmp / f"{name}_qdq.onnx"
                    onnx.checker.check_model(str(qdq), full_check=True)
                    self.assertEqual(onnx.load(qdq).opset_import[0].version, 17)

    def test_truncating_cast_in_both_precisions(self):
        # x.int().float(): int8 truncates by a table in the input's parameters and copies back
        # (docs/int8.md "Truncating Cast"), as the QDQ file does. Against the float model, an
        # input quantised across a whole number truncates one step (1/8 here) the other way,
        # which the last Linear spreads to several output LSB (5.6 measured).
        self.check_float32("truncate_13", tolerance=1e-6)
        self.check_int8("truncate_13", min_exact=0.99, max_lsb=0, float_lsb=8)


class CastSemanticsTest(OpCodegenCase):
    """Cast from float32 to integer types and back in generated float32 code against the reference
    interpreter: truncation toward zero, saturation at the type's bounds, NaN to 0 (ONNX leaves
    values out of range undefined; onnxruntime agrees within the range, checked on them)."""

    def model(self):
        nodes, outputs = [], []
        for to in ("INT8", "UINT8", "INT16", "INT32", "INT64"):
            nodes += [helper.make_node("Cast", ["x"], [f"i_{to}"], to=getattr(TensorProto, to)),
                      helper.make_node("Cast", [f"i_{to}"], [f"y_{to}"], to=TensorProto.FLOAT)]
            outputs.append(helper.make_tensor_value_info(f"y_{to}", TensorProto.FLOAT, [1, 12]))
        graph = helper.make_graph(nodes, "casts",
                                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 12])],
                                  outputs)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])

    def test_round_trips_truncate_and_saturate(self):
        path = self.save_model("casts.onnx", self.model())
        x = np.array([[-1.5, -0.5, 0.7, 2.99, 127.9, 128.5, -129.5, 300.25, -4e4, 4e9, -3e19, 1e30]],
                     np.float32)
        inputs = {"x": self.save_npy("x.npy", x)}
        ours = self.compile_and_run(path, inputs, "float32")
        result = run("reference", path, "--input", f"x={inputs['x']}", "-o", self.tmp / "ref")
        self.assertEqual(result.returncode, 0, result.stderr)
        theirs = self.onnxruntime(path, inputs, "float")
        for to, dtype in (("INT8", np.int8), ("UINT8", np.uint8), ("INT16", np.int16),
                          ("INT32", np.int32), ("INT64", np.int64)):
            with self.subTest(to):
                info = np.iinfo(dtype)
                expected = np.clip(np.trunc(x.astype(np.float64)), info.min, info.max)
                expected = expected.astype(np.float32)
                got = ours[f"y_{to}"][0]
                np.testing.assert_array_equal(got, expected)
                np.testing.assert_array_equal(np.load(self.tmp / "ref" / f"y_{to}.npy"), expected)
                inside = (x >= info.min) & (x <= info.max)
                np.testing.assert_array_equal(got[inside], theirs[f"y_{to}"][inside])

    def test_an_integer_result_read_by_other_ops_is_refused(self):
        model = self.model()
        node = helper.make_node("Add", ["i_INT32", "i_INT32"], ["sum"], name="int_add")
        model.graph.node.append(node)
        model.graph.output.append(helper.make_tensor_value_info("sum", TensorProto.INT32, [1, 12]))
        result = run("compile", self.save_model("m.onnx", model), "--target", "host",
                     "--precision", "float32", "-o", self.tmp / "c")
        self.assert_fails(result, 1, "is int32 at run time")
        self.assertFalse((self.tmp / "c").exists())


class SharedBiasTest(OpCodegenCase):
    """One bias initialiser read by a Gemm (an int32 bias at its input's scale times the
    weights') and by the Add after a 3-D MatMul (an int8 operand): each gets its own
    parameters. It stopped int8 with "'b' is quantised per channel, which this op supports only
    for weights"."""

    def test_gemm_and_matmul_add_share_a_bias(self):
        rng = np.random.default_rng(3)
        constants = {"w": rng.normal(0, 0.5, (6, 8)), "b": rng.normal(0, 0.3, (8,))}
        nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["g"], name="gemm"),
                 helper.make_node("MatMul", ["seq", "w"], ["m"], name="matmul"),
                 helper.make_node("Add", ["m", "b"], ["a"], name="add"),
                 helper.make_node("ReduceMean", ["a"], ["r"], axes=[1], keepdims=0),
                 helper.make_node("Add", ["g", "r"], ["y"], name="sum")]
        graph = helper.make_graph(
            nodes, "shared_bias",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 6]),
             helper.make_tensor_value_info("seq", TensorProto.FLOAT, ["n", 3, 6])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 8])],
            [numpy_helper.from_array(v.astype(np.float32), k) for k, v in constants.items()])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = 7
        self.models = self.tmp
        self.save_model("shared_bias.onnx", model)
        np.savez(self.tmp / "shared_bias.npz", x=rng.normal(0, 1, (16, 6)).astype(np.float32),
                 seq=rng.normal(0, 1, (16, 3, 6)).astype(np.float32))
        self.check_float32("shared_bias", tolerance=1e-6)
        self.check_int8("shared_bias", min_exact=0.99, float_lsb=2.0)


class LayerNormRefusalTest(OpCodegenCase):
    """What code generation of LayerNormalization refuses, naming the node, before any output."""

    def model(self, statistics_read, scale_is_input):
        # One sample [1, 3, 4]; a Scale given at run time is a second input reshaped to [4].
        nodes = [helper.make_node("LayerNormalization", ["x", "scale", "bias"],
                                  ["y", "mean"] if statistics_read else ["y"], name="norm")]
        outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4])]
        if statistics_read:
            outputs.append(helper.make_tensor_value_info("mean", TensorProto.FLOAT, [1, 3, 1]))
        inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4])]
        constants = [numpy_helper.from_array(np.linspace(-0.5, 0.5, 4).astype(np.float32), "bias")]
        if scale_is_input:
            inputs.append(helper.make_tensor_value_info("s", TensorProto.FLOAT, [1, 4]))
            constants.append(numpy_helper.from_array(np.array([4], np.int64), "vector"))
            nodes.insert(0, helper.make_node("Reshape", ["s", "vector"], ["scale"]))
        else:
            constants.append(numpy_helper.from_array(np.ones(4, np.float32), "scale"))
        graph = helper.make_graph(nodes, "ln", inputs, outputs, constants)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])

    def onnxruntime(self, model, inputs, tag, *flags):
        # The model holds one sample, as edgesplit compiles it: onnxruntime runs each alone.
        return super().onnxruntime(model, inputs, tag, *{*flags, "--per-sample"})

    def test_statistics_read_are_refused(self):
        path = self.save_model("ln.onnx", self.model(True, False))
        result = run("compile", path, "--target", "host", "--precision", "float32",
                     "-o", self.tmp / "c")
        self.assert_fails(result, 1, "node 'norm' (LayerNormalization)",
                          "reads its Mean or InvStdDev output")
        self.assertFalse((self.tmp / "c").exists())

    def test_scale_computed_at_run_time_is_applied_after_the_normalisation(self):
        # A Scale given at run time (ONNX allows any tensor) was refused: fold-layer-normalization
        # now normalises with ones and multiplies by it (and adds B) after the node, as Mul and
        # Add of both precisions.
        self.models = self.tmp
        self.save_model("ln_scale_input.onnx", self.model(False, True))
        rng = np.random.default_rng(5)
        np.savez(self.tmp / "ln_scale_input.npz", x=rng.normal(0, 2, (16, 3, 4)).astype(np.float32),
                 s=rng.uniform(-1.5, 1.5, (16, 4)).astype(np.float32))
        self.check_float32("ln_scale_input", tolerance=1e-6)
        self.check_int8("ln_scale_input", min_exact=0.99, float_lsb=3.0)


class ConstantOfShapeTest(OpCodegenCase):
    def model(self, value):
        nodes = [helper.make_node("Shape", ["x"], ["s"]),
                 helper.make_node("ConstantOfShape", ["s"], ["fill"], name="fill", value=value),
                 helper.make_node("Add", ["x", "fill"], ["y"])]
        graph = helper.make_graph(nodes, "cos",
                                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])

    def test_folds_with_its_value(self):
        path = self.save_model("cos.onnx", self.model(
            numpy_helper.from_array(np.array([2.5], np.float32))))
        x = np.arange(6, dtype=np.float32).reshape(2, 3)
        ours = self.compile_and_run(path, {"x": self.save_npy("x.npy", x)}, "float32")
        np.testing.assert_array_equal(ours["y"][0], x + 2.5)

    def test_a_value_of_two_elements_is_refused(self):
        path = self.save_model("bad.onnx", self.model(
            numpy_helper.from_array(np.array([1, 2], np.float32))))
        result = run("compile", path, "--target", "host", "--precision", "float32", "-o",
                     self.tmp / "c")
        self.assert_fails(result, 1, "node 'fill' (ConstantOfShape)",
                          "attribute 'value' must hold one element, got shape [2]")
        self.assertFalse((self.tmp / "c").exists())


if __name__ == "__main__":
    unittest.main()
