"""edgesplit compile --topology + run of the fleet: the fleet equals the monolith, fallback heads,
fault injection, the partitioner's limits, and the report's link figures against the simulation."""
import itertools
import json
import pathlib
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from helpers import SOURCE, CliTestCase, run, write_keys

GROUPS = ["wrist", "ankle", "chest"]
STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]


def head_name(subset):
    return "head_" + "_".join(subset)


def subsets():
    for size in range(1, len(GROUPS) + 1):
        yield from itertools.combinations(GROUPS, size)


def multi_head_model():
    """One 1-D conv branch per group and a Gemm head for every non-empty subset of groups."""
    rng = np.random.default_rng(7)
    nodes, inits, inputs, outputs = [], [], [], []

    def weight(name, shape, scale=0.5):
        inits.append(numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name))
        return name

    for g in GROUPS:
        inputs.append(helper.make_tensor_value_info(f"{g}_imu", TensorProto.FLOAT, [1, 3, 16]))
        nodes += [
            helper.make_node("Conv", [f"{g}_imu", weight(f"{g}_w1", (6, 3, 3)), weight(f"{g}_b1", (6,))],
                             [f"{g}_c1"], pads=[1, 1], name=f"{g}/conv1"),
            helper.make_node("Relu", [f"{g}_c1"], [f"{g}_r1"], name=f"{g}/relu1"),
            helper.make_node("Conv", [f"{g}_r1", weight(f"{g}_w2", (4, 6, 3)), weight(f"{g}_b2", (4,))],
                             [f"{g}_c2"], pads=[1, 1], strides=[2], name=f"{g}/conv2"),
            helper.make_node("Relu", [f"{g}_c2"], [f"{g}_r2"], name=f"{g}/relu2"),
            helper.make_node("GlobalAveragePool", [f"{g}_r2"], [f"{g}_gap"], name=f"{g}/gap"),
            helper.make_node("Flatten", [f"{g}_gap"], [f"{g}_features"], name=f"{g}/flatten"),
        ]
    for subset in subsets():
        name = head_name(subset)
        features = f"{subset[0]}_features"
        if len(subset) > 1:
            features = f"{name}_concat"
            nodes.append(helper.make_node("Concat", [f"{g}_features" for g in subset], [features],
                                          axis=1, name=f"{name}/concat"))
        nodes.append(helper.make_node("Gemm", [features, weight(f"{name}_w", (5, 4 * len(subset))),
                                               weight(f"{name}_b", (5,))], [name], transB=1,
                                      name=f"{name}/gemm"))
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 5]))
    graph = helper.make_graph(nodes, "multi_head", inputs, outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def topology(ram_kib=(32, 32, 32), stack=None, fallback="heads"):
    devices = []
    for g, ram in zip(GROUPS, ram_kib):
        device = {"name": g, "target": "cortex-m4", "clock_mhz": 64, "ram_kib": ram,
                  "flash_kib": 256, "sensors": [g]}
        if stack is not None:
            device["costs"] = {"stack_bytes": stack}
        devices.append(device)
    devices.append({"name": "hub", "target": "cortex-m7", "clock_mhz": 216, "ram_kib": 512,
                    "flash_kib": 2048, "role": "aggregator"})
    doc = {
        "schema": "edgesplit-topology/1",
        "devices": devices,
        "sensor_groups": {g: [f"{g}_imu"] for g in GROUPS},
        "links": [{"from": g, "to": "hub", "kbps": 1000, "latency_ms": 7.5, "mtu": 64,
                   "nj_per_byte": 80} for g in GROUPS],
        "fallback": fallback,
    }
    return doc


class FleetTest(CliTestCase):
    """The shared fleet and monolith are compiled once for the class; tests add their own."""
    SAMPLES = 12

    @classmethod
    def setUpClass(cls):
        cls._shared = tempfile.TemporaryDirectory(prefix="edgesplit-fleet-")
        shared = pathlib.Path(cls._shared.name)
        rng = np.random.default_rng(3)
        cls.model = shared / "model.onnx"
        onnx.save(multi_head_model(), cls.model)
        cls.data = {f"{g}_imu": rng.standard_normal((cls.SAMPLES, 3, 16)).astype(np.float32)
                    for g in GROUPS}
        cls.calib = shared / "calib.npz"
        np.savez(cls.calib, **{k: rng.standard_normal((32, 3, 16)).astype(np.float32)
                               for k in cls.data})
        cls.inputs = []
        for name, array in cls.data.items():
            np.save(shared / f"{name}.npy", array)
            cls.inputs += ["--input", f"{name}={shared / (name + '.npy')}"]
        cls.shared = shared
        (shared / "fleet.json").write_text(json.dumps(topology()))
        cls.fleet = shared / "fleet"
        cls.mono = {}
        for precision in ("int8", "float32"):
            out = shared / f"mono_{precision}"
            result = run("compile", cls.model, "--calibration", cls.calib, "--precision", precision,
                         "-o", out)
            assert result.returncode == 0, result.stderr
            flags = ["--raw"] if precision == "int8" else []
            result = run("run", out, *cls.inputs, "-o", shared / f"mono_res_{precision}", *flags)
            assert result.returncode == 0, result.stderr
            cls.mono[precision] = shared / f"mono_res_{precision}"
        result = run("compile", cls.model, "--topology", shared / "fleet.json", "--calibration",
                     cls.calib, "-o", cls.fleet)
        assert result.returncode == 0, result.stderr
        # The keyed fleet too: two tests read it, and their sanitized runs share one build.
        cls.keyed = shared / "fleet_keys"
        result = run("compile", cls.model, "--topology", shared / "fleet.json", "--calibration",
                     cls.calib, "--keys", write_keys(shared / "keys.json"), "-o", cls.keyed)
        assert result.returncode == 0, result.stderr

    @classmethod
    def tearDownClass(cls):
        cls._shared.cleanup()

    def write_topology(self, name, doc):
        path = self.tmp / name
        path.write_text(json.dumps(doc))
        return path

    def compile_fleet(self, out, doc=None, *extra):
        if doc is None and not extra and out == "fleet":
            return self.fleet
        topo = self.write_topology(out + ".json", doc or topology())
        result = run("compile", self.model, "--topology", topo, "--calibration", self.calib,
                     "-o", self.tmp / out, *extra)
        self.assertEqual(result.returncode, 0, result.stderr)
        return self.tmp / out

    def run_fleet(self, compiled, out, *extra):
        result = run("run", compiled, *self.inputs, "-o", self.tmp / out, *extra)
        self.assertEqual(result.returncode, 0, result.stderr)
        return self.tmp / out, json.loads((self.tmp / out / "run.json").read_text())

    def monolith(self, precision="int8"):
        return self.mono[precision]

    def test_fleet_equals_monolith_int8_bit_exact(self):
        compiled = self.compile_fleet("fleet")
        res, run_json = self.run_fleet(compiled, "res", "--raw")
        full = head_name(GROUPS)
        self.assertEqual(run_json["heads_run"][full], self.SAMPLES)
        mono = self.monolith()
        ours, theirs = np.load(res / f"{full}.npy"), np.load(mono / f"{full}.npy")
        self.assertEqual(ours.dtype, np.int8)
        np.testing.assert_array_equal(ours, theirs)

    def test_fleet_equals_monolith_float32(self):
        compiled = self.compile_fleet("fleet32", None, "--precision", "float32")
        res, _ = self.run_fleet(compiled, "res32")
        mono = self.monolith("float32")
        full = head_name(GROUPS)
        np.testing.assert_allclose(np.load(res / f"{full}.npy"), np.load(mono / f"{full}.npy"),
                                   rtol=0, atol=1e-5)

    def test_failed_device_falls_back_to_the_head_compiled_alone(self):
        compiled = self.compile_fleet("fleet")
        for failed in GROUPS:
            remaining = tuple(g for g in GROUPS if g != failed)
            head = head_name(remaining)
            res, run_json = self.run_fleet(compiled, f"res_{failed}", "--fail", failed, "--raw")
            self.assertEqual(run_json["heads_run"][head], self.SAMPLES, failed)
            self.assertTrue(all(s["arrived_groups"] == list(remaining) for s in run_json["per_sample"]))
            # The same head as a model of its own (its inputs and output only), compiled alone.
            alone_model = self.tmp / f"alone_{failed}.onnx"
            onnx.utils.extract_model(str(self.model), str(alone_model),
                                     [f"{g}_imu" for g in remaining], [head])
            calib = self.tmp / f"calib_{failed}.npz"
            with np.load(self.calib) as arrays:
                np.savez(calib, **{k: v for k, v in arrays.items() if k != f"{failed}_imu"})
            result = run("compile", alone_model, "--calibration", calib, "-o", self.tmp / f"alone_{failed}")
            self.assertEqual(result.returncode, 0, result.stderr)
            inputs = [a for g in remaining for a in ("--input", f"{g}_imu={self.shared / (g + '_imu.npy')}")]
            result = run("run", self.tmp / f"alone_{failed}", *inputs, "-o", self.tmp / f"alone_res_{failed}", "--raw")
            self.assertEqual(result.returncode, 0, result.stderr)
            np.testing.assert_array_equal(np.load(res / f"{head}.npy"),
                                          np.load(self.tmp / f"alone_res_{failed}" / f"{head}.npy"))
            # Heads that did not run have no values.
            self.assertTrue(np.all(np.load(res / f"{head_name(GROUPS)}.npy") == 0))

    def test_every_sensor_failed_means_no_head(self):
        compiled = self.compile_fleet("fleet")
        res, run_json = self.run_fleet(compiled, "none", *[a for g in GROUPS for a in ("--fail", g)])
        self.assertEqual(run_json["heads_run"]["none"], self.SAMPLES)
        self.assertTrue(all(s["head"] is None for s in run_json["per_sample"]))
        self.assertTrue(np.all(np.isnan(np.load(res / f"{head_name(GROUPS)}.npy"))))

    def check_faults(self, compiled, rate, seed, auth):
        res, run_json = self.run_fleet(compiled, f"faults_{rate}_{auth}", "--drop-rate", str(rate),
                                       "--corrupt-rate", str(rate), "--seed", str(seed),
                                       "--sanitize", "--raw")
        report = json.loads((compiled / "report.json").read_text())
        order = [(h["output"], set(h["groups"])) for h in report["heads"]]
        mono = self.monolith()
        corrupted = sum(link["frames_corrupted"] for link in run_json["links"])
        rejected = sum(link["frames_rejected"] for link in run_json["links"])
        self.assertGreater(corrupted, 0)
        self.assertEqual(rejected, corrupted)
        self.assertEqual(run_json["receiver"]["accepted"],
                         sum(l["frames_sent"] - l["frames_dropped"] - l["frames_corrupted"]
                             for l in run_json["links"]))
        ran = set()
        for sample in run_json["per_sample"]:
            arrived = set(sample["arrived_groups"])
            expected = next((name for name, groups in order if groups <= arrived), None)
            self.assertEqual(sample["head"], expected, sample)
            if expected:
                ran.add(expected)
                i = sample["index"]
                np.testing.assert_array_equal(np.load(res / f"{expected}.npy")[i],
                                              np.load(mono / f"{expected}.npy")[i])
        self.assertGreater(len(ran), 1)

    def test_dropped_and_corrupted_frames_select_the_right_head(self):
        compiled = self.compile_fleet("fleet")
        self.check_faults(compiled, 0.1, 11, False)
        self.check_faults(compiled, 0.3, 12, False)

    def test_authenticated_fleet_rejects_corrupted_frames(self):
        compiled = self.keyed
        report = json.loads((compiled / "report.json").read_text())
        self.assertTrue(report["fleet"]["authenticated"])
        self.assertEqual({link["protection"] for link in report["links"]}, {"aead"})
        self.check_faults(compiled, 0.3, 13, True)

    def test_reboots_and_replays_keep_the_full_head(self):
        """A sensor and then the aggregator restart mid-run while an attacker re-sends recorded
        frames and beacons: every sample still runs the full head on the right inputs, and no
        replay is taken."""
        compiled = self.keyed
        res, run_json = self.run_fleet(compiled, "reboots", "--reboot", "wrist@3", "--reboot",
                                       "hub@6", "--replay", "0.5", "--seed", "5", "--sanitize",
                                       "--raw")
        full = head_name(GROUPS)
        self.assertEqual(run_json["heads_run"][full], self.SAMPLES)
        np.testing.assert_array_equal(np.load(res / f"{full}.npy"),
                                      np.load(self.monolith() / f"{full}.npy"))
        replayed = sum(link["frames_replayed"] for link in run_json["links"])
        self.assertGreater(replayed, 0)
        self.assertEqual(sum(link["frames_replayed_accepted"] for link in run_json["links"]), 0)
        # Each replayed beacon reaches the sensor on its link, which keeps the round it has (the
        # replay's or a newer one): refused, never taken.
        beacons = sum(link["beacons_replayed"] for link in run_json["links"])
        self.assertGreater(beacons, 0)
        self.assertEqual(sum(link["beacon_replays_refused"] for link in run_json["links"]),
                         beacons)
        # Each replayed frame is refused as stale (its round is closed) or a duplicate (still
        # open).
        receiver = run_json["receiver"]
        self.assertEqual(receiver["stale"] + receiver["duplicate"], replayed - beacons)
        self.assertEqual(run_json["reboots"], ["wrist@3", "hub@6"])
        for bad in (["--reboot", "wrist"], ["--reboot", "nobody@2"], ["--reboot", "wrist@-1"]):
            result = run("run", compiled, *self.inputs, "-o", self.tmp / "bad", *bad)
            self.assert_fails(result, 2, "--reboot")

    def test_report_bytes_per_link_equal_the_simulation(self):
        compiled = self.compile_fleet("fleet")
        _, run_json = self.run_fleet(compiled, "res")
        report = json.loads((compiled / "report.json").read_text())
        self.assertEqual(len(report["links"]), 3)
        for link in report["links"]:
            simulated = next(l for l in run_json["links"] if l["from"] == link["from"])
            self.assertEqual(simulated["bytes_sent"], link["bytes_per_inference"] * self.SAMPLES)
            self.assertEqual(simulated["frames_sent"], link["frames_per_inference"] * self.SAMPLES)
        # Features cross the link, not the raw sensor data.
        self.assertLess(report["fleet"]["chosen"]["bytes_per_inference"],
                        report["fleet"]["raw"]["bytes_per_inference"])
        for branch in report["branches"]:
            chosen = [o for o in branch["options"] if o["chosen"]]
            self.assertEqual(len(chosen), 1)
            self.assertTrue(chosen[0]["fits"] and chosen[0]["pareto"])
            self.assertTrue(any(o["raw"] for o in branch["options"]))

    def test_small_sensor_moves_the_cut_towards_the_aggregator(self):
        roomy = json.loads((self.fleet / "report.json").read_text())
        wrist = lambda report: next(b for b in report["branches"] if b["group"] == "wrist")
        chosen = lambda branch: next(o for o in branch["options"] if o["chosen"])
        roomy_cut = chosen(wrist(roomy))
        self.assertGreater(len(roomy_cut["sensor_nodes"]), 0)
        # RAM for the raw input and a frame, but not for the convolutions' activations.
        tight = json.loads((self.compile_fleet("tight", topology(ram_kib=(1, 32, 32), stack=860))
                            / "report.json").read_text())
        tight_cut = chosen(wrist(tight))
        self.assertLess(len(tight_cut["sensor_nodes"]), len(roomy_cut["sensor_nodes"]))
        self.assertLessEqual(tight_cut["sensor_ram_bytes"], 1024)
        self.assertTrue(any(not o["fits"] for o in wrist(tight)["options"]))
        # Still the same numbers as the monolith.
        res, _ = self.run_fleet(self.tmp / "tight", "tight_res", "--raw")
        mono = self.monolith()
        full = head_name(GROUPS)
        np.testing.assert_array_equal(np.load(res / f"{full}.npy"), np.load(mono / f"{full}.npy"))

    def test_partition_counts_the_ram_of_each_device_kernels(self):
        # On Cortex-M55 sensors the 1-D convolutions take the matrix-product kernel, whose
        # scratch area the partitioner must count as the compiled device's plan does.
        doc = topology()
        for device in doc["devices"][:3]:
            device["target"] = "cortex-m55"
        helium = self.compile_fleet("helium", doc)
        self.assertIn("es_conv2d_gemm_s8", (helium / "wrist" / "model.c").read_text())
        self.assertNotIn("es_conv2d_gemm_s8", (self.fleet / "wrist" / "model.c").read_text())
        for compiled in (self.fleet, helium):
            report = json.loads((compiled / "report.json").read_text())
            for branch in report["branches"]:
                chosen = next(o for o in branch["options"] if o["chosen"])
                device = next(d for d in report["devices"] if d["name"] == branch["group"])
                # The partitioner, choosing before any code exists, counts the target's stack
                # allowance; the report the stack computed from the device's code.
                allowance = json.loads((SOURCE / "targets" / f"{device['target']}.json")
                                       .read_text())["stack_bytes"]
                self.assertEqual(chosen["sensor_ram_bytes"] - allowance,
                                 device["ram_bytes"] - device["stack_bytes_estimate"],
                                 branch["group"])
                self.assertLess(device["stack_bytes_estimate"], allowance)
        # Other kernels, the same bytes.
        res, _ = self.run_fleet(helium, "helium_res", "--raw")
        full = head_name(GROUPS)
        np.testing.assert_array_equal(np.load(res / f"{full}.npy"),
                                      np.load(self.monolith() / f"{full}.npy"))

    def test_device_with_two_groups_and_an_aggregator_with_its_own_sensor(self):
        doc = topology()
        doc["devices"] = [d for d in doc["devices"] if d["name"] not in ("ankle", "chest")]
        doc["devices"][0]["sensors"] = ["wrist", "ankle"]
        doc["devices"][-1]["sensors"] = ["chest"]
        doc["links"] = [link for link in doc["links"] if link["from"] == "wrist"]
        compiled = self.compile_fleet("shared_groups", doc)
        for failed, head in ((None, head_name(GROUPS)), ("wrist", "head_chest")):
            res, run_json = self.run_fleet(compiled, f"shared_{failed}", "--raw",
                                           *(["--fail", failed] if failed else []))
            self.assertEqual(run_json["heads_run"][head], self.SAMPLES)
            np.testing.assert_array_equal(np.load(res / f"{head}.npy"),
                                          np.load(self.monolith() / f"{head}.npy"))

    def test_sensor_that_fits_nothing_is_a_clear_error(self):
        topo = self.write_topology("none.json", topology(ram_kib=(1, 32, 32)))
        result = run("compile", self.model, "--topology", topo, "--calibration", self.calib,
                     "-o", self.tmp / "none")
        self.assert_fails(result, 1, "none.json", "'wrist'", "bytes of RAM", "has 1024")
        self.assertFalse((self.tmp / "none").exists())

    def test_impute_mode_runs_the_full_head_with_means(self):
        compiled = self.compile_fleet("impute", topology(fallback="impute"))
        res, run_json = self.run_fleet(compiled, "imp", "--fail", "ankle")
        full = head_name(GROUPS)
        self.assertEqual(run_json["heads_run"][full], self.SAMPLES)
        self.assertTrue(all(s["imputed_groups"] == ["ankle"] for s in run_json["per_sample"]))
        imputed = np.load(res / f"{full}.npy")
        complete, _ = self.run_fleet(compiled, "imp_all")
        self.assertTrue(np.all(np.isfinite(imputed)))
        self.assertFalse(np.array_equal(imputed, np.load(complete / f"{full}.npy")))

    def test_generated_fleet_code_is_deterministic_and_strict_c99(self):
        import filecmp
        import shutil
        import subprocess
        topo = self.write_topology("same.json", topology())
        for out in ("a", "b"):
            result = run("compile", self.model, "--topology", topo, "--calibration", self.calib,
                         "-o", self.tmp / out)
            self.assertEqual(result.returncode, 0, result.stderr)
        a, b = self.tmp / "a", self.tmp / "b"
        files = [p.relative_to(a) for p in a.rglob("*") if p.is_file()]
        for path in files:
            self.assertEqual((a / path).read_bytes(), (b / path).read_bytes(), path)
        self.assertFalse(filecmp.dircmp(a, b).left_only)
        compilers = [["cc"]]
        if shutil.which("arm-none-eabi-gcc"):
            compilers.append(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard",
                              "-mfpu=fpv4-sp-d16"])
        for device in GROUPS + ["hub"]:
            folder = a / device
            sources = [str(p) for p in folder.rglob("*.c")]
            self.assertIn(str(folder / "fleet.c"), sources)
            for cc in compilers:
                result = subprocess.run(cc + STRICT + ["-I", str(folder), "-I", str(folder / "runtime/include"),
                                                       "-c", *sources], cwd=self.tmp,
                                        capture_output=True, text=True)
                self.assertEqual(result.returncode, 0, f"{cc[0]} {device}: {result.stderr}")

    def test_fault_options_need_a_fleet_and_known_devices(self):
        compiled = self.compile_fleet("fleet")
        self.assert_fails(run("run", compiled, *self.inputs, "-o", self.tmp / "x", "--fail", "knee"),
                          2, "knee", "wrist")
        self.assert_fails(run("run", compiled, *self.inputs, "-o", self.tmp / "x", "--fail", "hub"),
                          2, "aggregator")
        single = self.shared / "mono_int8"
        self.assert_fails(run("run", single, *self.inputs, "-o", self.tmp / "x", "--drop-rate", "0.1"),
                          2, "--topology")
        self.assertFalse((self.tmp / "x").exists())

    def test_topology_errors_name_the_file_and_json_path(self):
        bad = topology()
        bad["devices"][1]["ram_kib"] = "lots"
        result = run("compile", self.model, "--topology", self.write_topology("bad.json", bad),
                     "--calibration", self.calib, "-o", self.tmp / "bad")
        self.assert_fails(result, 1, "bad.json", "/devices/1/ram_kib")
        missing = topology()
        missing["sensor_groups"]["chest"] = ["thigh_imu"]
        result = run("compile", self.model, "--topology", self.write_topology("missing.json", missing),
                     "--calibration", self.calib, "-o", self.tmp / "bad")
        self.assert_fails(result, 1, "missing.json", "thigh_imu")
        result = run("compile", self.model, "--topology", self.write_topology("ok.json", topology()),
                     "--target", "cortex-m4", "--calibration", self.calib, "-o", self.tmp / "bad")
        self.assert_fails(result, 2, "--topology")
        self.assertFalse((self.tmp / "bad").exists())


class HarExampleTest(CliTestCase):
    """The bundled example (examples/har) as the README's main command runs it."""

    def test_har_fleet_equals_its_monolith_with_and_without_each_device(self):
        har = SOURCE / "examples" / "har"
        inputs = [a for g in GROUPS for a in ("--input", f"{g}_imu={har / (g + '_imu.npy')}")]
        result = run("compile", har / "model.onnx", "--topology", har / "topology.json",
                     "--calibration", har / "calibration.npz", "-o", self.tmp / "fleet")
        self.assertEqual(result.returncode, 0, result.stderr)
        result = run("compile", har / "model.onnx", "--calibration", har / "calibration.npz",
                     "-o", self.tmp / "mono")
        self.assertEqual(result.returncode, 0, result.stderr)
        result = run("run", self.tmp / "mono", *inputs, "-o", self.tmp / "mono_res", "--raw")
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads((self.tmp / "fleet" / "report.json").read_text())
        self.assertEqual([d["name"] for d in report["devices"]], ["wrist", "ankle", "chest", "hub"])
        for failed in [None] + GROUPS:
            remaining = [g for g in GROUPS if g != failed]
            head = "activity_" + "_".join(remaining)
            extra = ["--fail", failed] if failed else []
            out = self.tmp / f"res_{failed}"
            result = run("run", self.tmp / "fleet", *inputs, "-o", out, "--raw", *extra)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(json.loads((out / "run.json").read_text())["heads_run"][head], 16)
            np.testing.assert_array_equal(np.load(out / f"{head}.npy"),
                                          np.load(self.tmp / "mono_res" / f"{head}.npy"))
        self.assert_star_placement(report)

    def assert_star_placement(self, report):
        """A star topology keeps the placement it had before workers and routes existed: the
        sensor-group cut, each group's branch cut at its cheapest fitting option (all options
        tried) and run on the group's own device, everything else on the aggregator."""
        self.assertEqual(report["fleet"]["placement"]["method"], "sensor-group cut")
        layers = {d["name"]: [layer["node"] for layer in d["layers"]] for d in report["devices"]}
        on_sensors = set()
        for branch in report["branches"]:
            self.assertTrue(branch["exhaustive"], branch["group"])
            fitting = [o for o in branch["options"] if o["fits"]]
            chosen = [o for o in branch["options"] if o["chosen"]]
            self.assertEqual(len(chosen), 1, branch["group"])
            self.assertEqual(chosen[0]["cost"], min(o["cost"] for o in fitting), branch["group"])
            self.assertEqual(layers[branch["device"]], chosen[0]["sensor_nodes"], branch["group"])
            on_sensors.update(chosen[0]["sensor_nodes"])
        self.assertTrue(on_sensors)
        self.assertFalse(on_sensors & set(layers["hub"]))
