"""edgesplit compile + run: generated C against the reference, onnxruntime and the stored outputs
of the real models; determinism; strict builds; errors that leave no output folder."""
import filecmp
import json
import os
import re
import shutil
import subprocess
import unittest

import numpy as np
import onnx

from helpers import (SHARED, SOURCE, CliTestCase, load_tensor_proto, output_lsb, run,
                     run_onnxruntime)

REAL = SHARED / "real-models"
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]


def model_io(model_dir):
    model = onnx.load(model_dir / "model.onnx")
    initializers = {i.name for i in model.graph.initializer}
    input_name = [i.name for i in model.graph.input if i.name not in initializers][0]
    output = model.graph.output[0].name
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in output)
    return model, input_name, safe


def conv_relu_model():
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(0)
    weights = numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w")
    bias = numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
         helper.make_node("Relu", ["c"], ["y:0"])], "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y:0", TensorProto.FLOAT, [1, 4, 8, 8])], [weights, bias])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


class CompileTest(CliTestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(1)
        self.model = self.save_model("conv.onnx", conv_relu_model())
        self.x = self.save_npy("x.npy", rng.standard_normal((3, 3, 8, 8)).astype(np.float32))
        self.calib = self.tmp / "calib.npz"
        np.savez(self.calib, x=np.load(self.x))

    def compile(self, out, *extra):
        return run("compile", self.model, "--calibration", self.calib, "-o", out, *extra)

    def test_int8_run_follows_reference_and_writes_run_json(self):
        self.assertEqual(self.compile(self.tmp / "c").returncode, 0)
        result = run("run", self.tmp / "c", "--input", f"x={self.x}", "-o", self.tmp / "r")
        self.assertEqual(result.returncode, 0, result.stderr)
        run("reference", self.model, "--input", f"x={self.x}", "-o", self.tmp / "ref")
        ours, ref = np.load(self.tmp / "r" / "y_0.npy"), np.load(self.tmp / "ref" / "y_0.npy")
        self.assertEqual(ours.shape, (3, 4, 8, 8))
        run_json = json.loads((self.tmp / "r" / "run.json").read_text())
        scale = run_json["outputs"][0]["scale"]
        self.assertLessEqual(np.abs(ours - ref).max(), 4 * scale)
        raw = run("run", self.tmp / "c", "--input", f"x={self.x}", "-o", self.tmp / "raw", "--raw")
        self.assertEqual(raw.returncode, 0, raw.stderr)
        q = np.load(self.tmp / "raw" / "y_0.npy")
        self.assertEqual(q.dtype, np.int8)
        zp = run_json["outputs"][0]["zero_point"]
        np.testing.assert_array_equal((q.astype(np.int32) - zp).astype(np.float32) * np.float32(scale), ours)

    def test_same_command_twice_gives_identical_folders(self):
        for out in ("a", "b"):
            self.assertEqual(self.compile(self.tmp / out).returncode, 0)
        comparison = filecmp.dircmp(self.tmp / "a", self.tmp / "b")
        files = [p.relative_to(self.tmp / "a") for p in (self.tmp / "a").rglob("*") if p.is_file()]
        self.assertGreater(len(files), 6)
        for path in files:
            self.assertEqual((self.tmp / "a" / path).read_bytes(), (self.tmp / "b" / path).read_bytes(), path)
        self.assertFalse(comparison.left_only or comparison.right_only)

    def test_folder_holds_only_the_runtime_files_its_code_calls(self):
        """Each runtime source in the folder defines a function that model.c, or a source the
        folder holds, calls (docs/performance.md): not every kernel its precision's header
        declares."""
        calls = lambda text: set(re.findall(r"\b(es_\w+)\(", text))
        defines = lambda text: set(re.findall(r"^\w[^;{(]*\b(es_\w+)\([^;]*?\)\s*\{", text,
                                              re.M))
        for precision, other in (("int8", "f32_"), ("float32", "s8_")):
            out = self.tmp / precision
            self.assertEqual(self.compile(out, "--precision", precision).returncode, 0)
            sources = {p.name: p.read_text() for p in (out / "main" / "runtime" / "src").glob("*.c")}
            used = {"common.c"}
            called = calls((out / "main" / "model.c").read_text() + sources["common.c"])
            while more := {n for n, text in sources.items() if defines(text) & called} - used:
                used |= more
                called |= set().union(*(calls(sources[n]) for n in more))
            self.assertEqual(set(sources), used, precision)
            self.assertFalse([n for n in sources if n.startswith(other)], precision)

    def test_report_has_the_documented_fields(self):
        self.assertEqual(self.compile(self.tmp / "c", "--target", "cortex-m4").returncode, 0)
        report = json.loads((self.tmp / "c" / "report.json").read_text())
        self.assertEqual(report["schema"], "edgesplit-report/1")
        device = report["devices"][0]
        for key in ("flash_bytes", "ram_bytes", "arena_bytes", "arena_lower_bound_bytes", "macs",
                    "est_latency_us", "est_energy_uj", "layers"):
            self.assertIn(key, device)
        self.assertEqual(device["macs"], 4 * 8 * 8 * 27)
        self.assertLessEqual(device["arena_bytes"], 1.05 * device["arena_lower_bound_bytes"])
        self.assertEqual(device["ram_bytes"], device["arena_bytes"] + device["stack_bytes_estimate"])
        layer = device["layers"][0]
        self.assertEqual((layer["op"], layer["kernel"], layer["output_shape"]),
                         ("Conv", "es_conv2d_gemm_s8", [1, 4, 8, 8]))
        # The kernel's gathered windows: 16 bytes per weight-row tap (3 * 3 * 3 taps -> 32) and
        # the DSP body's end marker.
        self.assertEqual(layer["scratch_bytes"], 16 * 32 + 4)
        self.assertLessEqual(layer["scratch_offset"] + layer["scratch_bytes"], device["arena_bytes"])
        if shutil.which("arm-none-eabi-gcc"):
            self.assertTrue(device["flash_measured"])
            self.assertGreater(device["flash_bytes"], device["weights_bytes"])
        self.assertIn("es_conv2d_gemm_s8", (self.tmp / "c" / "report.md").read_text())

    def test_float32_estimates_without_an_fpu_follow_the_samples_zeros(self):
        """A float32 compile prices its layers on riscv32 (software float: a zero operand takes a
        short path) by the zeros of the activations over its --calibration samples; its code does
        not change, nor do the estimates on a core with an FPU."""
        half_zero = np.load(self.x)
        half_zero[..., ::2] = 0.0
        sparse = self.tmp / "sparse.npz"
        np.savez(sparse, x=half_zero)

        def conv_layer(out, target, *extra):
            result = run("compile", self.model, "--precision", "float32", "--target", target,
                         *extra, "-o", out)
            self.assertEqual(result.returncode, 0, result.stderr)
            layers = json.loads((out / "report.json").read_text())["devices"][0]["layers"]
            return next(layer for layer in layers if layer["op"] == "Conv")

        macs = 4 * 8 * 8 * 27
        dense = conv_layer(self.tmp / "dense", "riscv32")
        self.assertEqual(dense["cost_features"]["nonzero_macs"], macs)  # no samples: all nonzero
        given = conv_layer(self.tmp / "given", "riscv32", "--calibration", self.calib)
        self.assertEqual(given["cost_features"]["nonzero_macs"], macs)
        self.assertEqual(given["est_cycles"], dense["est_cycles"])
        half = conv_layer(self.tmp / "half", "riscv32", "--calibration", sparse)
        self.assertEqual(half["cost_features"]["nonzero_macs"], macs / 2)
        self.assertLess(half["est_cycles"], 0.9 * dense["est_cycles"])
        comparison = filecmp.dircmp(self.tmp / "dense" / "main", self.tmp / "half" / "main")
        self.assertFalse(comparison.diff_files or comparison.left_only or comparison.right_only)
        self.assertEqual(conv_layer(self.tmp / "m4_dense", "cortex-m4")["est_cycles"],
                         conv_layer(self.tmp / "m4_half", "cortex-m4", "--calibration",
                                    sparse)["est_cycles"])

    def test_fleet_float32_estimates_without_an_fpu_follow_the_samples_zeros(self):
        """A float32 fleet of riscv32 devices prices its float layers by the samples' zeros too
        (the second convolution of each sensor reads a ReLU's output)."""
        example = SOURCE / "examples" / "two_imu"
        topology = self.tmp / "topology.json"
        result = run("topology-init", example / "model.onnx", "--sensor-target", "riscv32",
                     "--aggregator-target", "riscv32", "-o", topology)
        self.assertEqual(result.returncode, 0, result.stderr)
        samples = self.tmp / "two_imu.npz"
        np.savez(samples, **{g: np.load(example / f"{g}.npy")[:4]
                             for g in ("wrist_imu", "ankle_imu")})

        def conv2(out, *extra):
            result = run("compile", example / "model.onnx", "--topology", topology,
                         "--precision", "float32", *extra, "-o", out)
            self.assertEqual(result.returncode, 0, result.stderr)
            report = json.loads((out / "report.json").read_text())
            return next(layer for device in report["devices"] for layer in device["layers"]
                        if layer["node"] == "wrist_imu_conv2")

        dense = conv2(self.tmp / "dense")
        given = conv2(self.tmp / "given", "--calibration", samples)
        self.assertEqual(dense["cost_features"]["nonzero_macs"], dense["macs"])
        self.assertLess(given["cost_features"]["nonzero_macs"], 0.8 * given["macs"])
        self.assertLess(given["est_cycles"], dense["est_cycles"])

    def test_generated_code_builds_strictly_with_every_compiler(self):
        for precision in ("int8", "float32"):
            out = self.tmp / precision
            self.assertEqual(self.compile(out, "--precision", precision).returncode, 0)
            sources = sorted(str(p) for p in (out / "main").rglob("*.c"))
            includes = ["-I", out / "main", "-I", out / "main" / "runtime" / "include"]
            compilers = [["gcc"], ["clang"], ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb"]]
            built = 0
            for compiler in compilers:
                if not shutil.which(compiler[0]):
                    continue
                with self.subTest(precision=precision, compiler=compiler[0]):
                    for source in sources:
                        result = subprocess.run([*compiler, *STRICT, "-O2", *includes, "-c", source,
                                                 "-o", os.devnull], capture_output=True, text=True)
                        self.assertEqual(result.returncode, 0, result.stderr)
                    built += 1
            self.assertGreaterEqual(built, 1)

    def test_sanitized_host_build_runs_clean(self):
        self.assertEqual(self.compile(self.tmp / "c").returncode, 0)
        result = run("run", self.tmp / "c", "--sanitize", "--input", f"x={self.x}", "-o", self.tmp / "r")
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_float_model_without_calibration_is_refused(self):
        result = run("compile", self.model, "-o", self.tmp / "c")
        self.assert_fails(result, 1, "conv.onnx", "--calibration")
        self.assertFalse((self.tmp / "c").exists())

    def test_unknown_target_is_a_usage_error(self):
        result = self.compile(self.tmp / "c", "--target", "pdp11")
        self.assert_fails(result, 2, "pdp11", "cortex-m4")
        self.assertFalse((self.tmp / "c").exists())

    def test_bad_target_file_names_the_json_path(self):
        bad = self.tmp / "bad.json"
        bad.write_text(json.dumps({"schema": "edgesplit-target/1", "name": "x"}))
        result = self.compile(self.tmp / "c", "--target", bad)
        self.assert_fails(result, 1, "bad.json", "/core")
        self.assertFalse((self.tmp / "c").exists())

    def test_model_too_large_for_the_device_is_refused(self):
        target = json.loads((SOURCE / "targets" / "cortex-m4.json").read_text())
        target["ram_kib"] = 1
        small = self.tmp / "tiny.json"
        small.write_text(json.dumps(target))
        result = self.compile(self.tmp / "c", "--target", small)
        self.assert_fails(result, 1, "does not fit", "RAM", "a larger target")
        self.assertNotIn("--precision int8", result.stderr)  # it is int8 already
        self.assertFalse((self.tmp / "c").exists())

    def test_emit_qdq_is_written_only_by_a_successful_compile(self):
        target = json.loads((SOURCE / "targets" / "cortex-m4.json").read_text())
        target["ram_kib"] = 1
        small = self.tmp / "tiny.json"
        small.write_text(json.dumps(target))
        qdq = self.tmp / "q.onnx"
        result = self.compile(self.tmp / "c", "--target", small, "--emit-qdq", qdq)
        self.assert_fails(result, 1, "does not fit")
        self.assertFalse(qdq.exists())
        self.assertEqual(self.compile(self.tmp / "c", "--emit-qdq", qdq).returncode, 0)
        onnx.checker.check_model(onnx.load(qdq))
        self.assertEqual([f.name for f in self.tmp.iterdir() if f.name.startswith(".q.onnx")], [])

    def test_emit_qdq_keeps_an_existing_file_unless_forced(self):
        qdq = self.tmp / "q.onnx"
        qdq.write_bytes(b"precious")
        result = self.compile(self.tmp / "c", "--emit-qdq", qdq)
        self.assert_fails(result, 2, "q.onnx", "--force")
        self.assertEqual(qdq.read_bytes(), b"precious")
        self.assertFalse((self.tmp / "c").exists())
        self.assertEqual(self.compile(self.tmp / "c", "--emit-qdq", qdq, "--force").returncode, 0)
        self.assertIn("QuantizeLinear", {n.op_type for n in onnx.load(qdq).graph.node})

    def test_op_without_code_generation_is_refused(self):
        from onnx import TensorProto, helper
        graph = helper.make_graph(
            [helper.make_node("Equal", ["x", "x"], ["e"], name="equal"),
             helper.make_node("Or", ["e", "e"], ["n"], name="or"),
             helper.make_node("Where", ["n", "x", "x"], ["y"], name="where")], "equal",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
        model = self.save_model("equal.onnx", helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", 13)]))
        result = run("compile", model, "--precision", "float32", "-o", self.tmp / "c")
        self.assert_fails(result, 1, "equal.onnx", "node 'or' (Or)", "code generation")
        self.assertFalse((self.tmp / "c").exists())

    def test_model_that_cannot_be_generated_is_refused_before_calibration(self):
        """The code-generation check runs before the calibration archive is even read: a broken
        archive is not reported, the node code generation cannot take is, as float32 says."""
        from onnx import TensorProto, helper
        graph = helper.make_graph(
            [helper.make_node("ArgMax", ["x"], ["i"], name="argmax", axis=1),
             helper.make_node("Cast", ["i"], ["y"], name="cast", to=TensorProto.FLOAT)], "argmax",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])])
        model = self.save_model("argmax.onnx", helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", 13)]))
        float32 = run("compile", model, "--precision", "float32", "-o", self.tmp / "f")
        self.assert_fails(float32, 1, "argmax.onnx", "node 'argmax' (ArgMax)")
        broken = self.tmp / "broken.npz"
        broken.write_bytes(b"not a zip archive")
        valid = self.tmp / "valid.npz"
        np.savez(valid, x=np.ones((4, 8), np.float32))
        for calibration in (broken, valid):
            result = run("compile", model, "--calibration", calibration, "-o", self.tmp / "c")
            self.assert_fails(result, 1)
            self.assertEqual(result.stderr, float32.stderr)
            self.assertFalse((self.tmp / "c").exists())

    def test_default_domain_spelt_ai_onnx_is_accepted(self):
        model = conv_relu_model()
        model.opset_import[0].domain = "ai.onnx"
        for node in model.graph.node:
            node.domain = "ai.onnx"
        path = self.save_model("ai_onnx.onnx", model)
        result = run("compile", path, "--precision", "float32", "-o", self.tmp / "c")
        self.assertEqual(result.returncode, 0, result.stderr)
        result = run("reference", path, "--input", f"x={self.x}", "-o", self.tmp / "r")
        self.assertEqual(result.returncode, 0, result.stderr)
        run("reference", self.model, "--input", f"x={self.x}", "-o", self.tmp / "plain")
        np.testing.assert_array_equal(np.load(self.tmp / "r" / "y_0.npy"),
                                      np.load(self.tmp / "plain" / "y_0.npy"))

    def test_run_rejects_a_folder_that_was_not_compiled(self):
        (self.tmp / "empty").mkdir()
        result = run("run", self.tmp / "empty", "--input", f"x={self.x}", "-o", self.tmp / "r")
        self.assert_fails(result, 1, "report.json")
        self.assertFalse((self.tmp / "r").exists())


@unittest.skipUnless(REAL.is_dir(), f"{REAL} is absent (a plain clone): real-model checks skipped")
class RealModelsCompileTest(CliTestCase):
    def compile_and_run(self, model_dir, data_set, precision, *extra, target="host"):
        _, input_name, safe = model_io(model_dir)
        x = self.save_npy(f"{model_dir.name}_x.npy", load_tensor_proto(data_set / "input_0.pb"))
        out = self.tmp / f"{model_dir.name}_{precision}"
        if not out.exists():
            result = run("compile", model_dir / "model.onnx", "--target", target, "--precision",
                         precision, *extra, "-o", out)
            self.assertEqual(result.returncode, 0, result.stderr)
        ran = self.tmp / f"{out.name}_{data_set.name}_run"
        result = run("run", out, "--input", f"{input_name}={x}", "-o", ran)
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads((out / "report.json").read_text())["devices"][0]
        self.assertLessEqual(report["arena_bytes"], 1.05 * report["arena_lower_bound_bytes"])
        return np.load(ran / f"{safe}.npy"), x, report

    def test_float32_reproduces_stored_outputs(self):
        for name in ("mnist-8", "kws_micro_m_fp32", "st_mobilenet_v2_0.5_128_float"):
            for data_set in sorted((REAL / name).glob("test_data_set_*")):
                with self.subTest(model=name, data=data_set.name):
                    ours, _, _ = self.compile_and_run(REAL / name, data_set, "float32")
                    expected = load_tensor_proto(data_set / "output_0.pb")
                    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-5)
        # The QDQ model's float semantics include its fake quantisation; the stored output comes
        # from onnxruntime's integer kernels, one output LSB apart at most (see test_reference).
        model_dir = REAL / "kws_micro_m_qdq"
        model, _, _ = model_io(model_dir)
        data_set = model_dir / "test_data_set_0"
        ours, _, _ = self.compile_and_run(model_dir, data_set, "float32")
        np.testing.assert_allclose(ours, load_tensor_proto(data_set / "output_0.pb"), rtol=0,
                                   atol=output_lsb(model) * 1.001)

    def test_int8_calibrated_matches_onnxruntime_on_the_emitted_qdq_model(self):
        for name in ("kws_micro_m_fp32", "st_mobilenet_v2_0.5_128_float"):
            with self.subTest(model=name):
                model_dir = REAL / name
                _, input_name, safe = model_io(model_dir)
                data_set = model_dir / "test_data_set_0"
                x = load_tensor_proto(data_set / "input_0.pb")
                rng = np.random.default_rng(7)
                copies = [x + rng.normal(0, 0.05 * x.std(), x.shape).astype(np.float32) for _ in range(8)]
                calib = self.tmp / f"{name}.npz"
                np.savez(calib, **{input_name: np.concatenate(copies)})
                qdq = self.tmp / f"{name}_qdq.onnx"
                ours, x_path, report = self.compile_and_run(
                    model_dir, data_set, "int8", "--calibration", calib, "--emit-qdq", qdq)
                run_onnxruntime(qdq, self.tmp / f"{name}_ort", **{input_name: x_path})
                theirs = np.load(self.tmp / f"{name}_ort" / f"{safe}.npy")
                lsb = report["outputs"][0]["scale"]
                within = np.abs(ours - theirs) <= lsb * 1.001
                self.assertTrue(within.all(), f"{name}: {np.abs(ours - theirs).max() / lsb} LSB")
                expected = load_tensor_proto(data_set / "output_0.pb").ravel()
                cosine = ours.ravel() @ expected / (np.linalg.norm(ours) * np.linalg.norm(expected))
                self.assertGreaterEqual(cosine, 0.99, name)

    def test_prequantised_qdq_model_compiles_without_calibration(self):
        model_dir = REAL / "kws_micro_m_qdq"
        model, _, _ = model_io(model_dir)
        data_set = model_dir / "test_data_set_0"
        ours, _, _ = self.compile_and_run(model_dir, data_set, "int8", target="cortex-m4")
        expected = load_tensor_proto(data_set / "output_0.pb")
        np.testing.assert_allclose(ours, expected, rtol=0, atol=output_lsb(model) * 1.001)


if __name__ == "__main__":
    unittest.main()
