"""Every bad input gives one line naming what is wrong, the right exit code, and no output."""
import numpy as np
from onnx import TensorProto, helper

from helpers import EXAMPLE, CliTestCase, run, single_op_model


class ErrorTest(CliTestCase):
    def setUp(self):
        super().setUp()
        self.out = self.tmp / "out"
        self.model = self.save_model("relu.onnx", single_op_model("Relu"))
        self.x = self.save_npy("x.npy", np.ones((1, 4), dtype=np.float32))

    def reference(self, model, *inputs):
        args = ["reference", model, "-o", self.out]
        for spec in inputs:
            args += ["--input", spec]
        return run(*args)

    def assert_no_output(self):
        self.assertFalse(self.out.exists(), "a failed command left its output folder")
        self.assertEqual([p.name for p in self.tmp.iterdir() if p.name.startswith(".out")], [])

    def test_missing_model_file(self):
        self.assert_fails(self.reference(self.tmp / "absent.onnx", f"x={self.x}"), 1,
                          "absent.onnx", "no such file")
        self.assert_no_output()

    def test_corrupt_model(self):
        path = self.tmp / "corrupt.onnx"
        path.write_bytes(b"\x08\x07garbage that is not protobuf\xff\xff")
        self.assert_fails(self.reference(path, f"x={self.x}"), 1, "corrupt.onnx",
                          "not a valid ONNX model")
        self.assert_no_output()

    def test_truncated_model(self):
        path = self.tmp / "truncated.onnx"
        path.write_bytes((EXAMPLE / "model.onnx").read_bytes()[:1000])
        self.assert_fails(self.reference(path, f"x={self.x}"), 1, "truncated.onnx")
        self.assert_no_output()

    def test_model_the_checker_rejects(self):
        node = helper.make_node("Relu", ["undefined"], ["y"])
        graph = helper.make_graph(
            [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        path = self.save_model("bad.onnx", model)
        self.assert_fails(self.reference(path, f"x={self.x}"), 1, "bad.onnx", "ONNX checker")
        self.assert_no_output()

    def test_unsupported_op(self):
        path = self.save_model("hardmax.onnx", single_op_model("Hardmax"))
        self.assert_fails(self.reference(path, f"x={self.x}"), 1, "hardmax.onnx",
                          "node 'the_node' (Hardmax)", "opset 13", "edgesplit inspect")
        self.assert_no_output()

    def test_zero_stride_is_rejected_before_onnx_shape_inference(self):
        path = self.save_model("pool.onnx", single_op_model("MaxPool", input_shape=(1, 1, 4, 4),
                                                            kernel_shape=[2, 2], strides=[0, 1]))
        self.assert_fails(self.reference(path, f"x={self.x}"), 1, "pool.onnx",
                          "node 'the_node' (MaxPool)", "'strides' holds 0")
        self.assert_no_output()

    def test_input_shape_mismatch(self):
        x = self.save_npy("wrong.npy", np.ones((1, 5), dtype=np.float32))
        self.assert_fails(self.reference(self.model, f"x={x}"), 1, "input 'x'", "[1, 5]",
                          "[1, 4]")
        self.assert_no_output()

    def test_input_dtype_mismatch(self):
        x = self.save_npy("f64.npy", np.ones((1, 4), dtype=np.float64))
        self.assert_fails(self.reference(self.model, f"x={x}"), 1, "input 'x'", "float32",
                          "float64", "astype")
        self.assert_no_output()

    def test_missing_input(self):
        self.assert_fails(self.reference(self.model), 2, "--input")
        wrist = EXAMPLE / "wrist_imu.npy"
        self.assert_fails(self.reference(EXAMPLE / "model.onnx", f"wrist_imu={wrist}"), 1,
                          "'ankle_imu'", "--input ankle_imu=FILE.npy")
        self.assert_no_output()

    def test_unknown_input_name(self):
        self.assert_fails(self.reference(self.model, f"x={self.x}", f"z={self.x}"), 1,
                          "'z' is not an input of the model", "inputs: x")
        self.assert_no_output()

    def test_missing_and_corrupt_npy(self):
        self.assert_fails(self.reference(self.model, f"x={self.tmp / 'none.npy'}"), 1, "none.npy")
        bad = self.tmp / "bad.npy"
        bad.write_bytes(b"not numpy")
        self.assert_fails(self.reference(self.model, f"x={bad}"), 1, "bad.npy", "not a .npy file")
        self.assert_no_output()

    def test_malformed_input_option_is_usage_error(self):
        self.assert_fails(self.reference(self.model, "x"), 2, "NAME=VALUE")
        self.assert_fails(self.reference(self.model, f"x={self.x}", f"x={self.x}"), 2, "twice")
        self.assert_no_output()

    def test_usage_errors(self):
        self.assert_fails(run(), 2)
        self.assert_fails(run("frobnicate"), 2)
        self.assert_fails(run("inspect"), 2, "model")
        self.assert_fails(run("reference", self.model, "--input", f"x={self.x}"), 2, "--output")


class OutputFolderTest(CliTestCase):
    """An output folder is written whole or not at all, and replaced only with --force."""

    def setUp(self):
        super().setUp()
        self.model = self.save_model("relu.onnx", single_op_model("Relu"))
        self.x = self.save_npy("x.npy", np.array([[-1, 2, -3, 4]], dtype=np.float32))
        self.out = self.tmp / "out"

    def previous_output(self):
        self.out.mkdir()
        (self.out / "old.txt").write_text("previous good output")

    def assert_no_staging_left(self):
        self.assertEqual([p.name for p in self.tmp.iterdir() if p.name.startswith(".out")], [])

    def reference(self, *extra):
        return run("reference", self.model, "--input", f"x={self.x}", "-o", self.out, *extra)

    def test_existing_folder_is_kept_without_force_and_replaced_with_it(self):
        self.previous_output()
        self.assert_fails(self.reference(), 2, str(self.out), "pass --force to replace it")
        self.assertEqual(sorted(p.name for p in self.out.iterdir()), ["old.txt"])
        result = self.reference("--force")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(sorted(p.name for p in self.out.iterdir()), ["y.npy"])
        np.testing.assert_array_equal(np.load(self.out / "y.npy"), [[0, 2, 0, 4]])
        self.assert_no_staging_left()

    def test_an_empty_folder_needs_no_force(self):
        self.out.mkdir()
        result = self.reference()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue((self.out / "y.npy").exists())

    def test_a_failing_forced_command_keeps_the_previous_folder(self):
        self.previous_output()
        bad = self.save_npy("wrong.npy", np.ones((1, 5), dtype=np.float32))
        result = run("reference", self.model, "--input", f"x={bad}", "-o", self.out, "--force")
        self.assert_fails(result, 1, "[1, 5]")
        self.assertEqual((self.out / "old.txt").read_text(), "previous good output")
        self.assert_no_staging_left()

    def test_a_file_is_never_replaced(self):
        self.out.write_text("not a folder")
        self.assert_fails(self.reference("--force"), 2, "exists and is not a folder")
        self.assertEqual(self.out.read_text(), "not a folder")

    def test_compile_and_run_refuse_then_replace(self):
        compiled = self.tmp / "compiled"
        compile_args = ["compile", self.model, "--precision", "float32", "--target", "host",
                        "-o", compiled]
        self.assertEqual(run(*compile_args).returncode, 0)
        self.assert_fails(run(*compile_args), 2, "compiled", "pass --force to replace it")
        result = run(*compile_args, "--force")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue((compiled / "report.json").exists())
        run_args = ["run", compiled, "--input", f"x={self.x}", "-o", self.out]
        self.assertEqual(run(*run_args).returncode, 0)
        self.assert_fails(run(*run_args), 2, "pass --force to replace it")
        result = run(*run_args, "--force")
        self.assertEqual(result.returncode, 0, result.stderr)
        np.testing.assert_array_equal(np.load(self.out / "y.npy"), [[0, 2, 0, 4]])
        self.assert_no_staging_left()


class ResourceLimitTest(CliTestCase):
    def test_max_tensor_bytes_bounds_inputs_and_accepts_sizes(self):
        model = self.save_model("relu.onnx", single_op_model("Relu", input_shape=(1, 256)))
        self.assert_fails(run("inspect", model, "--max-tensor-bytes", "1kB"), 1, "relu.onnx",
                          "input 'x'", "float32 [1, 256] needs 1024 bytes",
                          "more than the limit of 1000")
        self.assertEqual(run("inspect", model, "--max-tensor-bytes", "1KiB").returncode, 0)
        self.assertEqual(run("inspect", model, "--max-tensor-bytes", "1024").returncode, 0)
        self.assert_fails(run("inspect", model, "--max-tensor-bytes", "3GiB"), 2,
                          "--max-tensor-bytes")
