import json

from helpers import EXAMPLE, CliTestCase, run, single_op_model


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
        model = self.save_model("softplus.onnx", single_op_model("Softplus", opset=13))
        result = run("inspect", model)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("node 'the_node': Softplus (opset 13)", result.stdout)
        summary = json.loads(run("inspect", model, "--json").stdout)
        self.assertEqual(summary["unsupported_ops"],
                         [{"node": "the_node", "op": "Softplus", "domain": "", "opset": 13}])

    def test_bad_input_shape_is_a_usage_error(self):
        self.assert_fails(run("inspect", EXAMPLE / "model.onnx", "--input-shape", "wrist_imu=1xfoo"),
                          2, "1xfoo")
        self.assert_fails(run("inspect", EXAMPLE / "model.onnx", "--input-shape", "nope=1x2"),
                          1, "'nope', which is not a model input")
