"""LSTM and GRU code generation (float32 and int8) on the recurrent models of tests/data/rnn
(written by tools/make_rnn_models.py: PyTorch exports at opsets 9 and 13, onnx.helper variants):
generated code against onnxruntime (or, for layout=1 which onnxruntime does not run, the
reference interpreter), the int8 code against float, and the refusals of what the kernels do not
support."""
import json
import pathlib
import tempfile
import unittest

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from helpers import SOURCE, CliTestCase, onnxruntime_codes, run, run_onnxruntime

DATA = SOURCE / "tests" / "data" / "rnn"
MODELS = sorted(p.stem for p in DATA.glob("*.onnx"))
# onnxruntime's CPU LSTM/GRU refuse layout = 1.
ORT_UNSUPPORTED = {"helper_layout1"}
# int8 on one export of each op and on every helper layer (each compile builds the C: a few
# seconds, so not every model twice).
INT8_MODELS = {"torch_lstm_op9", "torch_gru_bf_op13", "helper_variants", "helper_layout1"}
# Every int8 compile also writes --emit-qdq: between them, every variant the int8 cells support
# (both directions, layout 1, clip, constant and computed initial states, linear_before_reset 0
# and 1, each output), and an opset 9 export the file upgrades to 13.
QDQ_MODELS = INT8_MODELS
# float32: the kernels accumulate in float like onnxruntime, in another order.
FLOAT_TOLERANCE = 2e-5
# int8 against float (outputs within [-1, 1]): the hidden state is kept at 2^-7 and the gates in
# Q0.15, so errors stay within a few hidden-state steps (measured: at most 0.0103).
INT8_TOLERANCE = 0.02


def safe(name):
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)


def must(result):
    if result.returncode != 0:
        raise AssertionError(result.stderr)


class RecurrentCodegenTest(unittest.TestCase):
    """Each model is compiled and run once per precision (each compile builds the C) in
    setUpClass; the tests then check what those runs wrote."""

    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="edgesplit-rnn-")
        cls.tmp = pathlib.Path(cls._tmp.name)
        cls.inputs, cls.expected, cls.compiled, cls.ran = {}, {}, {}, {}
        for name in MODELS:
            arrays = np.load(DATA / f"{name}_inputs.npz")
            cls.inputs[name] = {}
            for key in arrays.files:
                np.save(cls.tmp / f"{name}_{key}.npy", arrays[key])
                cls.inputs[name][key] = cls.tmp / f"{name}_{key}.npy"
            cls.expected[name] = cls.expected_outputs(name)
            for precision in ("float32", "int8") if name in INT8_MODELS else ("float32",):
                emits = precision == "int8" and name in QDQ_MODELS
                extra = ["--emit-qdq", cls.tmp / f"{name}_qdq.onnx"] if emits else []
                cls.compile_and_run(name, precision, *extra)

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    @classmethod
    def input_flags(cls, name):
        return [a for key, path in cls.inputs[name].items() for a in ("--input", f"{key}={path}")]

    @classmethod
    def compile_and_run(cls, name, precision, *extra):
        out = cls.tmp / f"{name}_{precision}"
        args = ["compile", DATA / f"{name}.onnx", "--precision", precision, "-o", out, *extra]
        if precision == "int8":
            args += ["--calibration", DATA / f"{name}_calibration.npz"]
        must(run(*args))
        ran = cls.tmp / f"{name}_{precision}_run"
        must(run("run", out, *cls.input_flags(name), "-o", ran))
        cls.compiled[name, precision], cls.ran[name, precision] = out, ran

    @classmethod
    def expected_outputs(cls, name):
        """onnxruntime's outputs, or the reference interpreter's where onnxruntime has no kernel."""
        folder = cls.tmp / f"{name}_expected"
        if name in ORT_UNSUPPORTED:
            must(run("reference", DATA / f"{name}.onnx", *cls.input_flags(name), "-o", folder))
        else:
            run_onnxruntime(DATA / f"{name}.onnx", folder, **cls.inputs[name])
        model = onnx.load(DATA / f"{name}.onnx")
        return {o.name: np.load(folder / f"{safe(o.name)}.npy") for o in model.graph.output}

    def test_models_in_both_precisions(self):
        self.assertGreaterEqual(len(MODELS), 6)
        figures = []
        for name in MODELS:
            for output, reference in self.expected[name].items():
                with self.subTest(model=name, output=output):
                    span = float(np.abs(reference).max())
                    ours32 = np.load(self.ran[name, "float32"] / f"{safe(output)}.npy")
                    self.assertEqual(ours32.shape, reference.shape)
                    error32 = float(np.abs(ours32 - reference).max())
                    self.assertLessEqual(error32, FLOAT_TOLERANCE * max(1.0, span))
                    error8 = None
                    if name in INT8_MODELS:
                        ours8 = np.load(self.ran[name, "int8"] / f"{safe(output)}.npy")
                        self.assertEqual(ours8.shape, reference.shape)
                        error8 = float(np.abs(ours8 - reference).max())
                        self.assertLessEqual(error8, INT8_TOLERANCE * max(1.0, span))
                    figures.append((f"{name}:{output}", error32, error8, span))
        print("\nmodel:output  float32 max abs error  int8 max abs error  max |output|")
        for key, error32, error8, span in figures:
            print(f"{key}  {error32:.2e}  {'-' if error8 is None else f'{error8:.4f}'}  {span:.3f}")

    def test_int8_raw_runs_repeat_and_the_state_lives_in_planned_scratch(self):
        name = "torch_lstm_op9"
        out = self.compiled[name, "int8"]
        runs = []
        for attempt in range(2):
            folder = self.tmp / f"raw{attempt}"
            must(run("run", out, *self.input_flags(name), "-o", folder, "--raw"))
            runs.append(np.load(folder / "y.npy"))
        self.assertEqual(runs[0].dtype, np.int8)
        np.testing.assert_array_equal(runs[0], runs[1])
        code = "".join(p.read_text() for p in out.rglob("*.c"))
        self.assertIn("es_lstm_s8(", code)
        self.assertNotIn("malloc", code)
        layers = json.loads((out / "report.json").read_text())["devices"][0]["layers"]
        lstm = next(layer for layer in layers if layer["op"] == "LSTM")
        self.assertEqual(lstm["kernel"], "es_lstm_s8")
        self.assertEqual(lstm["scratch_bytes"], 12 * 16)  # ES_RECURRENT_S8_SCRATCH_BYTES
        float_layers = json.loads((self.compiled[name, "float32"] / "report.json").read_text())
        lstm = next(layer for layer in float_layers["devices"][0]["layers"] if layer["op"] == "LSTM")
        self.assertEqual(lstm["kernel"], "es_lstm_f32")
        self.assertEqual(lstm["scratch_bytes"], 6 * 16 * 4)  # ES_RECURRENT_F32_SCRATCH_BYTES

    def test_emitted_qdq_spells_out_the_integer_cells(self):
        """ONNX has no integer LSTM/GRU: the emitted file writes each layer out as the int8 cell
        of docs/int8.md in standard integer ops (compiler/quantize/EmitRecurrentQdq.cpp), which
        onnxruntime runs, layout 1 included (its own LSTM and GRU refuse that), and computes
        every output code the C computes. Kept as a float op between quantisers, the layers were
        up to 2 LSB off (62-100 % exact), and onnxruntime could not run helper_layout1."""
        for name in sorted(QDQ_MODELS):
            with self.subTest(name):
                qdq = self.tmp / f"{name}_qdq.onnx"
                onnx.checker.check_model(str(qdq), full_check=True)
                model = onnx.load(qdq)
                source = onnx.load(DATA / f"{name}.onnx")
                self.assertEqual(model.opset_import[0].version,
                                 max(13, source.opset_import[0].version))
                ops = {n.op_type for n in model.graph.node}
                self.assertFalse(ops & {"LSTM", "GRU"}, ops)
                self.assertTrue({"MatMul", "Gather", "Mod"} <= ops, ops)
                assert_emitted_file_matches(self, qdq, self.compiled[name, "int8"],
                                            self.inputs[name], self.tmp / f"{name}_ort_qdq")


def assert_emitted_file_matches(test, qdq, compiled, inputs, folder):
    """onnxruntime on the emitted file gives every output code `run --raw` gives."""
    raw = folder.with_name(folder.name + "_raw")
    must(run("run", compiled, *[a for k, p in inputs.items() for a in ("--input", f"{k}={p}")],
             "-o", raw, "--raw"))
    run_onnxruntime(qdq, folder, **inputs)
    for port in json.loads((compiled / "report.json").read_text())["devices"][0]["outputs"]:
        ours = np.load(raw / f"{safe(port['name'])}.npy")
        theirs = np.load(folder / f"{safe(port['name'])}.npy")
        codes = onnxruntime_codes(theirs, port["scale"], port["zero_point"])
        exact = (codes == ours).mean()
        print(f"\n{port['name']}: onnxruntime on the QDQ file vs int8: {exact:.1%} exact, max "
              f"{np.abs(codes - ours.astype(np.int32)).max()} LSB")
        test.assertEqual(exact, 1.0, port["name"])


def lstm_model(name, **attributes):
    """A one-node LSTM (input 3, hidden 2, 4 steps) with the given attributes and inputs."""
    rng = np.random.default_rng(0)
    extra_inputs = attributes.pop("extra_inputs", [])
    initializers = [numpy_helper.from_array(rng.normal(size=(1, 8, 3)).astype(np.float32), "W"),
                    numpy_helper.from_array(rng.normal(size=(1, 8, 2)).astype(np.float32), "R")]
    graph_inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 1, 3])]
    node_inputs = ["x", "W", "R"]
    for input_name, value in extra_inputs:
        node_inputs.append(input_name)
        if input_name == "":
            continue
        if value is None:
            graph_inputs.append(helper.make_tensor_value_info(input_name, TensorProto.INT32, [1]))
        else:
            initializers.append(numpy_helper.from_array(value, input_name))
    graph = helper.make_graph(
        [helper.make_node("LSTM", node_inputs, ["Y"], name=name, hidden_size=2, **attributes)],
        name, graph_inputs, [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [4, 1, 1, 2])],
        initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


class RecurrentRefusalTest(CliTestCase):
    def refuse(self, model, *fragments):
        path = self.save_model("m.onnx", model)
        result = run("compile", path, "--precision", "float32", "-o", self.tmp / "out")
        self.assert_fails(result, 1, *fragments)
        self.assertFalse((self.tmp / "out").exists())

    def test_other_activations_are_refused(self):
        self.refuse(lstm_model("relu_lstm", activations=["Relu", "Tanh", "Tanh"]),
                    "relu_lstm", "default activations")

    def test_peepholes_are_refused(self):
        peepholes = np.ones((1, 6), np.float32)
        self.refuse(lstm_model("peephole_lstm", extra_inputs=[("", None), ("", None), ("", None),
                                                              ("", None), ("P", peepholes)]),
                    "peephole_lstm", "peepholes")

    def test_input_forget_is_refused(self):
        self.refuse(lstm_model("coupled_lstm", input_forget=1), "coupled_lstm", "input_forget")

    def test_short_sequence_lengths_are_refused(self):
        lengths = np.array([3], np.int32)
        self.refuse(lstm_model("short_lstm", extra_inputs=[("", None), ("lens", lengths)]),
                    "short_lstm", "sequence_lens", "full length")
        self.refuse(lstm_model("dynamic_lstm", extra_inputs=[("", None), ("lens", None)]),
                    "dynamic_lstm", "constant sequence_lens")

    def test_full_sequence_lengths_compile(self):
        lengths = np.array([4], np.int32)
        path = self.save_model("m.onnx", lstm_model("full_lstm",
                                                    extra_inputs=[("", None), ("lens", lengths)]))
        result = run("compile", path, "--precision", "float32", "-o", self.tmp / "out")
        self.assertEqual(result.returncode, 0, result.stderr)


class PrequantisedRecurrentTest(CliTestCase):
    def test_qdq_lstm_with_its_own_output_parameters(self):
        """A QDQ model gives Y parameters other than the hidden state's: the kernel rescales."""
        rng = np.random.default_rng(3)
        hidden, steps = 5, 6
        initializers = [
            numpy_helper.from_array(rng.uniform(-0.5, 0.5, (1, 4 * hidden, 3)).astype(np.float32), "W"),
            numpy_helper.from_array(rng.uniform(-0.5, 0.5, (1, 4 * hidden, hidden)).astype(np.float32), "R"),
            numpy_helper.from_array(np.float32(0.02), "sx"), numpy_helper.from_array(np.int8(3), "zx"),
            numpy_helper.from_array(np.float32(0.006), "sy"), numpy_helper.from_array(np.int8(-5), "zy")]
        nodes = [helper.make_node("QuantizeLinear", ["x", "sx", "zx"], ["xq"]),
                 helper.make_node("DequantizeLinear", ["xq", "sx", "zx"], ["xd"]),
                 helper.make_node("LSTM", ["xd", "W", "R"], ["h"], name="qdq_lstm", hidden_size=hidden),
                 helper.make_node("QuantizeLinear", ["h", "sy", "zy"], ["hq"]),
                 helper.make_node("DequantizeLinear", ["hq", "sy", "zy"], ["y"])]
        graph = helper.make_graph(
            nodes, "qdq_lstm", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [steps, 1, 3])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [steps, 1, 1, hidden])], initializers)
        model = self.save_model("qdq_lstm.onnx", helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", 13)]))
        x = self.save_npy("x.npy", rng.normal(0, 1, (steps, 1, 3)).astype(np.float32))
        result = run("compile", model, "--precision", "int8", "-o", self.tmp / "c")
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads((self.tmp / "c" / "report.json").read_text())["devices"][0]
        self.assertEqual((report["outputs"][0]["scale"], report["outputs"][0]["zero_point"]),
                         (np.float32(0.006), -5))
        result = run("run", self.tmp / "c", "--input", f"x={x}", "-o", self.tmp / "r")
        self.assertEqual(result.returncode, 0, result.stderr)
        run_onnxruntime(model, self.tmp / "ort", x=x)
        ours, theirs = np.load(self.tmp / "r" / "y.npy"), np.load(self.tmp / "ort" / "y.npy")
        # The hidden state (2^-7) rescaled to 0.006: within two output steps of float.
        self.assertLessEqual(np.abs(ours - theirs).max(), 2 * 0.006 + 1e-6)

    def test_emitted_qdq_follows_the_rounding_rule(self):
        """A pre-quantised model of an unknown producer rescales with TFLite's double rounding
        (docs/int8.md, "Which rule"); --rounding single overrides it. Its output scale, 2.6 times
        the hidden state's, makes the rules give other codes, and the emitted file follows the
        one the C was built with, to the last code."""
        rng = np.random.default_rng(5)
        hidden, steps = 6, 8
        initializers = [
            numpy_helper.from_array(rng.uniform(-0.8, 0.8, (2, 3 * hidden, 3)).astype(np.float32), "W"),
            numpy_helper.from_array(rng.uniform(-0.8, 0.8, (2, 3 * hidden, hidden)).astype(np.float32), "R"),
            numpy_helper.from_array(rng.uniform(-0.3, 0.3, (2, 6 * hidden)).astype(np.float32), "B"),
            numpy_helper.from_array(np.float32(0.02), "sx"), numpy_helper.from_array(np.int8(3), "zx"),
            numpy_helper.from_array(np.float32(0.0203), "sy"), numpy_helper.from_array(np.int8(2), "zy")]
        nodes = [helper.make_node("QuantizeLinear", ["x", "sx", "zx"], ["xq"]),
                 helper.make_node("DequantizeLinear", ["xq", "sx", "zx"], ["xd"]),
                 helper.make_node("GRU", ["xd", "W", "R", "B"], ["h"], name="qdq_gru",
                                  hidden_size=hidden, direction="bidirectional"),
                 helper.make_node("QuantizeLinear", ["h", "sy", "zy"], ["hq"]),
                 helper.make_node("DequantizeLinear", ["hq", "sy", "zy"], ["y"])]
        graph = helper.make_graph(
            nodes, "qdq_gru", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [steps, 1, 3])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [steps, 2, 1, hidden])], initializers)
        model = self.save_model("qdq_gru.onnx", helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", 13)]))
        x = self.save_npy("x.npy", rng.normal(0, 1, (steps, 1, 3)).astype(np.float32))
        codes = {}
        for rule in ("auto", "single"):
            out, qdq = self.tmp / rule, self.tmp / f"{rule}.onnx"
            result = run("compile", model, "--precision", "int8", "--rounding", rule, "-o", out,
                         "--emit-qdq", qdq)
            self.assertEqual(result.returncode, 0, result.stderr)
            report = json.loads((out / "report.json").read_text())["devices"][0]
            self.assertEqual(report["int8_rounding"], "double" if rule == "auto" else "single")
            assert_emitted_file_matches(self, qdq, out, {"x": x}, self.tmp / f"{rule}_ort")
            codes[rule] = np.load(self.tmp / f"{rule}_ort_raw" / "y.npy")
        differing = int((codes["auto"] != codes["single"]).sum())
        print(f"{differing} of {codes['auto'].size} output codes differ between the rules")
        self.assertGreater(differing, 0)


if __name__ == "__main__":
    unittest.main()
