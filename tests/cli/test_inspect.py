import json

import numpy as np
from onnx import TensorProto, helper

from helpers import EXAMPLE, SHARED, SOURCE, CliTestCase, run, single_op_model
from test_qoperator import ModelBuilder, integer_model, qlinear_model

REAL = SHARED / "real-models"


class InspectTest(CliTestCase):
    def test_text_summary_of_the_example(self):
        result = run("inspect", EXAMPLE / "model.onnx")
        self.assertEqual(result.returncode, 0, result.stderr)
        out = result.stdout
        self.assertIn("(opset 13, produced by edgesplit-examples)", out)
        self.assertRegex(out, r"wrist_imu\s+float32\s+\[1, 6, 64\]")
        self.assertRegex(out, r"activity\s+float32\s+\[1, 6\]")
        self.assertRegex(out, r"Conv\s+4")
        self.assertIn("unsupported ops: none", out)

    def test_json_counts_are_consistent(self):
        result = run("inspect", EXAMPLE / "model.onnx", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        summary = json.loads(result.stdout)
        self.assertEqual([i["name"] for i in summary["inputs"]], ["wrist_imu", "ankle_imu"])
        self.assertEqual(summary["macs"], sum(n["macs"] for n in summary["nodes"]))
        # conv1: 8 out ch x 64 positions x 6 in ch x 5 taps; conv2: 8 x 32 x 8 x 3; Gemm 16 x 6.
        self.assertEqual(summary["macs"], 2 * (8 * 64 * 6 * 5 + 8 * 32 * 8 * 3) + 16 * 6)
        # BatchNormalization was folded into the convolutions by the normalisation passes.
        self.assertNotIn("BatchNormalization", summary["op_histogram"])
        self.assertGreater(summary["parameters"], 0)
        self.assertEqual(summary["parameter_bytes"], 4 * summary["parameters"])
        self.assertEqual(summary["unsupported_ops"], [])

    def test_input_shape_override(self):
        result = run("inspect", EXAMPLE / "model.onnx", "--json",
                     "--input-shape", "wrist_imu=1x6x128", "--input-shape", "ankle_imu=1x6x128")
        self.assertEqual(result.returncode, 0, result.stderr)
        summary = json.loads(result.stdout)
        self.assertEqual(summary["inputs"][0]["shape"], [1, 6, 128])

    def test_lists_unsupported_ops_with_node_and_opset(self):
        model = self.save_model("hardmax.onnx", single_op_model("Hardmax", opset=13))
        result = run("inspect", model)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("node 'the_node': Hardmax (opset 13)", result.stdout)
        summary = json.loads(run("inspect", model, "--json").stdout)
        self.assertEqual(summary["unsupported_ops"],
                         [{"node": "the_node", "op": "Hardmax", "domain": "", "opset": 13}])

    def test_bad_input_shape_is_a_usage_error(self):
        self.assert_fails(run("inspect", EXAMPLE / "model.onnx", "--input-shape", "wrist_imu=1xfoo"),
                          2, "1xfoo")
        self.assert_fails(run("inspect", EXAMPLE / "model.onnx", "--input-shape", "nope=1x2"),
                          1, "'nope', which is not a model input")


def argmax_model():
    """x -> Relu -> ArgMax -> Cast: the reference runs it; code generation refuses the int64
    index another node reads in either precision, whichever kernels exist (an index that is a
    graph output is generated)."""
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["r"], name="relu"),
         helper.make_node("ArgMax", ["r"], ["i"], name="argmax", axis=1, keepdims=0),
         helper.make_node("Cast", ["i"], ["y"], name="cast", to=TensorProto.FLOAT)], "argmax",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def unknown_qoperator_model():
    """onnxruntime's QOperator form with a com.microsoft QLinearReduceMean (over the batch axis, so
    shapes stay) that edgesplit does not have, feeding a QLinearConv: the reference cannot load it,
    inspect must still describe it."""
    b = ModelBuilder(5, np.int8)
    xs, xz, _ = b.activation("x", -4, 4)
    b.node("QuantizeLinear", ["x", xs, xz], "xq")
    b.nodes.append(helper.make_node("QLinearReduceMean", ["xq", xs, xz, xs, xz], ["aq"],
                                    name="qlinear_reduce", domain="com.microsoft", axes=[0],
                                    keepdims=1))
    w, ws, wz, _ = b.weights("w", (4, 3, 3, 3), 0, 0.5)
    cs, cz, _ = b.activation("c", -6, 6)
    b.node("QLinearConv", ["aq", xs, xz, w, ws, wz, cs, cz], "cq", pads=[1, 1, 1, 1])
    b.node("DequantizeLinear", ["cq", cs, cz], "y")
    model = b.model((3, 8, 8), "y", (4, 8, 8))
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model


class InspectPredictsCompileTest(CliTestCase):
    """inspect --json says, per precision, whether compile succeeds and with which message, and
    blames the node the message names; checked by compiling every model both ways."""

    def models(self):
        yield "two_imu", EXAMPLE / "model.onnx", []
        yield "har", SOURCE / "examples" / "har" / "model.onnx", []
        if REAL.is_dir():
            for model_dir in sorted(p for p in REAL.iterdir() if (p / "model.onnx").exists()):
                yield model_dir.name, model_dir / "model.onnx", []
        yield "argmax", self.save_model("argmax.onnx", argmax_model()), []
        yield "hardmax", self.save_model("hardmax.onnx", single_op_model("Hardmax")), []
        qlinear = self.save_model("qlinear.onnx", qlinear_model(1, np.uint8, np.int8, True, True))
        yield "qlinear_dynamic_batch", qlinear, []
        yield "qlinear", qlinear, ["--input-shape", "x=1x3x8x8"]
        integer = self.save_model("integer.onnx", integer_model(2, np.uint8))
        yield "integer", integer, ["--input-shape", "x=1x3x8x8"]
        yield "unknown_qoperator", self.save_model("unknown_qoperator.onnx",
                                                   unknown_qoperator_model()), \
            ["--input-shape", "x=1x3x8x8"]
        for path in sorted((SOURCE / "tests" / "data" / "resize").glob("*.onnx")):
            yield f"resize_{path.stem}", path, []
        # The op and exporter test models of issue 15 and after, each folder whole.
        for folder in ("ops", "torch", "reduceops", "div", "elemops", "unaryops", "selectops"):
            for path in sorted((SOURCE / "tests" / "data" / folder).glob("*.onnx")):
                yield f"{folder}_{path.stem}", path, []
        # Exporter-style files (tools/make_exporter_models.py): calibrated, pre-quantised and
        # dynamically quantised (refused) ones.
        for path in sorted((SOURCE / "tests" / "data" / "exporters").glob("*.onnx")):
            yield f"exporters_{path.stem}", path, []
        for folder in ("bad-inputs/models", "fuzz/seeds/onnx"):
            for path in sorted((SOURCE / "tests" / folder).glob("*.onnx")):
                yield f"{folder.split('/')[0]}_{path.stem}", path, []

    def calibration(self, name, summary):
        path = self.tmp / f"{name}_calib.npz"
        rng = np.random.default_rng(0)
        arrays = {}
        for value in summary["inputs"]:
            shape = [d if isinstance(d, int) and d > 0 else 1 for d in value["shape"] or [1]]
            dtype = np.float32 if value["dtype"] == "float32" else np.int64
            arrays[value["name"]] = rng.standard_normal([2, *shape[1:]]).astype(dtype)
        np.savez(path, **arrays)
        return path

    def test_inspect_predicts_what_compile_does(self):
        verdicts = set()
        for name, model, extra in self.models():
            result = run("inspect", model, "--json", "--target", "host", *extra)
            if result.returncode != 0:
                # Only a model that cannot even be parsed (the broken files of bad-inputs and
                # fuzz seeds): the reference refuses it alike, with the same message.
                self.assertTrue(name.startswith(("bad-inputs", "fuzz")), result.stderr)
                reference = run("reference", model, "-o", self.tmp / "never")
                self.assertEqual(reference.returncode, result.returncode, name)
                self.assertEqual(reference.stderr, result.stderr, name)
                continue
            summary = json.loads(result.stdout)
            support = summary["support"]
            for precision in ("float32", "int8"):
                with self.subTest(model=name, precision=precision):
                    flags = []
                    if precision == "int8" and support["int8"]["needs_calibration"]:
                        flags = ["--calibration", self.calibration(name, summary)]
                    out = self.tmp / f"{name}_{precision}"
                    compiled = run("compile", model, "--target", "host", "--precision", precision,
                                   *flags, *extra, "-o", out)
                    predicted = support[precision]
                    verdicts.add(predicted["supported"])
                    if predicted["supported"]:
                        self.assertEqual(compiled.returncode, 0, compiled.stderr)
                        self.assertTrue(all(n[precision]["supported"] is True
                                            for n in summary["nodes"]))
                        continue
                    self.assertEqual(compiled.returncode, 1, compiled.stderr)
                    self.assertEqual(compiled.stderr.strip(),
                                     "edgesplit: error: " + predicted["error"])
                    # The node the message names is the one inspect marks.
                    blamed = [n for n in summary["nodes"] if not n[precision]["supported"]]
                    named = [n for n in blamed if f"'{n['name']}'" in predicted["error"]]
                    if "node '" in predicted["error"]:
                        self.assertTrue(named, f"{predicted['error']} blames none of {blamed}")
        self.assertEqual(verdicts, {True, False}, "the models must cover both verdicts")

    def test_per_node_verdicts_and_text(self):
        model = self.save_model("argmax.onnx", argmax_model())
        summary = json.loads(run("inspect", model, "--json").stdout)
        nodes = {n["name"]: n for n in summary["nodes"]}
        self.assertEqual(nodes["relu"]["float32"], {"supported": True})
        self.assertTrue(nodes["argmax"]["reference"]["supported"])
        for precision in ("float32", "int8"):
            self.assertFalse(nodes["argmax"][precision]["supported"])
            self.assertIn("node 'argmax' (ArgMax)", nodes["argmax"][precision]["error"])
        self.assertTrue(summary["support"]["reference"]["supported"])
        self.assertTrue(summary["support"]["int8"]["needs_calibration"])
        text = run("inspect", model).stdout
        self.assertRegex(text, r"argmax\s+ArgMax.*yes\s+NO\s+NO")
        self.assertIn("float32 code generation: no: ", text)
        self.assertIn("  reference interpreter: yes", text)

    def test_qoperator_model_with_an_unknown_op_is_described(self):
        model = self.save_model("unknown_qoperator.onnx", unknown_qoperator_model())
        result = run("inspect", model, "--json", "--input-shape", "x=1x3x8x8")
        self.assertEqual(result.returncode, 0, result.stderr)
        summary = json.loads(result.stdout)
        nodes = {n["name"]: n for n in summary["nodes"]}
        self.assertFalse(nodes["qlinear_reduce"]["reference"]["supported"])
        self.assertIn("QLinearReduceMean' of domain com.microsoft",
                      nodes["qlinear_reduce"]["int8"]["error"])
        self.assertTrue(nodes["cq_node"]["reference"]["supported"])
        # Refused as a whole before its nodes: the QLinearConv was not checked, so not "yes".
        self.assertIsNone(nodes["cq_node"]["int8"]["supported"])
        self.assertFalse(summary["support"]["reference"]["supported"])
        self.assertEqual(summary["support"]["int8"]["error"], summary["support"]["reference"]["error"])
        self.assertFalse(summary["support"]["int8"]["needs_calibration"])

    def test_absorbed_and_fused_nodes_count_as_supported(self):
        model = self.save_model("qlinear.onnx", qlinear_model(1, np.uint8, np.int8, True, True))
        summary = json.loads(run("inspect", model, "--json", "--input-shape", "x=1x3x8x8").stdout)
        self.assertTrue(summary["support"]["int8"]["supported"], summary["support"])
        self.assertFalse(summary["support"]["int8"]["needs_calibration"])
        quantize = [n for n in summary["nodes"] if n["op"] == "QuantizeLinear"]
        self.assertTrue(quantize)
        for node in quantize:
            self.assertTrue(node["int8"]["supported"])
            self.assertIn("absorbed", node["int8"]["note"])
