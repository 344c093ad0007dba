"""LSTM and GRU code generation (float32 and int8) on the recurrent models of tests/data/rnn
(written by tools/make_rnn_models.py: PyTorch exports at opsets 9 and 13, onnx.helper variants):
generated code against onnxruntime (or, for layout=1 which onnxruntime does not run, the
reference interpreter), the int8 code against float, and the refusals of what the kernels do not
support."""
import json
import unittest

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from helpers import SOURCE, CliTestCase, run, run_onnxruntime

DATA = SOURCE / "tests" / "data" / "rnn"
MODELS = sorted(p.stem for p in DATA.glob("*.onnx"))
# onnxruntime's CPU LSTM/GRU refuse layout = 1.
ORT_UNSUPPORTED = {"helper_layout1"}
# int8 on one export of each op and on every helper layer (each compile builds the C: a few
# seconds, so not every model twice).
INT8_MODELS = {"torch_lstm_op9", "torch_gru_bf_op13", "helper_variants", "helper_layout1"}
# float32: the kernels accumulate in float like onnxruntime, in another order.
FLOAT_TOLERANCE = 2e-5
# int8 against float (outputs within [-1, 1]): the hidden state is kept at 2^-7 and the gates in
# Q0.15, so errors stay within a few hidden-state steps (measured: at most 0.0103).
INT8_TOLERANCE = 0.02


def safe(name):
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)


class RecurrentCodegenTest(CliTestCase):
    def inputs(self, name):
        arrays = np.load(DATA / f"{name}_inputs.npz")
        return {key: self.save_npy(f"{name}_{key}.npy", arrays[key]) for key in arrays.files}

    def compile_and_run(self, name, precision, inputs, *extra):
        out = self.tmp / f"{name}_{precision}"
        args = ["compile", DATA / f"{name}.onnx", "--precision", precision, "-o", out, *extra]
        if precision == "int8":
            args += ["--calibration", DATA / f"{name}_calibration.npz"]
        result = run(*args)
        self.assertEqual(result.returncode, 0, result.stderr)
        ran = self.tmp / f"{name}_{precision}_run"
        flags = [a for key, path in inputs.items() for a in ("--input", f"{key}={path}")]
        result = run("run", out, *flags, "-o", ran)
        self.assertEqual(result.returncode, 0, result.stderr)
        return out, ran

    def expected(self, name, inputs):
        """onnxruntime's outputs, or the reference interpreter's where onnxruntime has no kernel."""
        folder = self.tmp / f"{name}_expected"
        if name in ORT_UNSUPPORTED:
            flags = [a for key, path in inputs.items() for a in ("--input", f"{key}={path}")]
            result = run("reference", DATA / f"{name}.onnx", *flags, "-o", folder)
            self.assertEqual(result.returncode, 0, result.stderr)
        else:
            run_onnxruntime(DATA / f"{name}.onnx", folder, **inputs)
        model = onnx.load(DATA / f"{name}.onnx")
        return {o.name: np.load(folder / f"{safe(o.name)}.npy") for o in model.graph.output}

    def test_models_in_both_precisions(self):
        self.assertGreaterEqual(len(MODELS), 6)
        figures = []
        for name in MODELS:
            with self.subTest(model=name):
                inputs = self.inputs(name)
                expected = self.expected(name, inputs)
                _, ran32 = self.compile_and_run(name, "float32", inputs)
                ran8 = self.compile_and_run(name, "int8", inputs)[1] if name in INT8_MODELS else None
                for output, reference in expected.items():
                    span = float(np.abs(reference).max())
                    ours32 = np.load(ran32 / f"{safe(output)}.npy")
                    self.assertEqual(ours32.shape, reference.shape)
                    error32 = float(np.abs(ours32 - reference).max())
                    self.assertLessEqual(error32, FLOAT_TOLERANCE * max(1.0, span), output)
                    error8 = None
                    if ran8 is not None:
                        ours8 = np.load(ran8 / f"{safe(output)}.npy")
                        self.assertEqual(ours8.shape, reference.shape)
                        error8 = float(np.abs(ours8 - reference).max())
                        self.assertLessEqual(error8, INT8_TOLERANCE * max(1.0, span), output)
                    figures.append((f"{name}:{output}", error32, error8, span))
        print("\nmodel:output  float32 max abs error  int8 max abs error  max |output|")
        for key, error32, error8, span in figures:
            print(f"{key}  {error32:.2e}  {'-' if error8 is None else f'{error8:.4f}'}  {span:.3f}")

    def test_int8_raw_runs_repeat_and_the_state_lives_in_planned_scratch(self):
        name = "torch_lstm_op9"
        inputs = self.inputs(name)
        out, _ = self.compile_and_run(name, "int8", inputs)
        runs = []
        for attempt in range(2):
            folder = self.tmp / f"raw{attempt}"
            result = run("run", out, "--input", f"x={inputs['x']}", "-o", folder, "--raw")
            self.assertEqual(result.returncode, 0, result.stderr)
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


if __name__ == "__main__":
    unittest.main()
