"""The collective-inference examples (examples/mobilenet-fleet, examples/kws-fleet) over the
shared real models: no one of their boards runs the model whole (the single-device compile
refuses, as their READMEs show), and the KWS fleet compile, on 24 KiB boards only, its first
convolution in channel slices on two workers and the rest gathered on a third, and the MobileNetV2 fleet compile, with channel slices and bands of rows over ten
128 KiB boards, equal the single-device build bit for bit. Skipped with a message when ../shared
is absent."""
import json
import re
import subprocess
import unittest

import numpy as np

from helpers import SHARED, SOURCE, CliTestCase, run

MODELS = SHARED / "real-models"
MOBILENET = MODELS / "st_mobilenet_v2_0.5_128_float" / "model.onnx"
KWS = MODELS / "kws_micro_m_fp32" / "model.onnx"
EXAMPLES = SOURCE / "examples"
KWS_INPUT = "serving_default_input:0"


def needs(path):
    return unittest.skipUnless(path.exists(), f"{path} is absent (the shared real models)")


class FleetExampleCase(CliTestCase):
    def calibration(self, example, count_flags=()):
        out = self.tmp / f"{example}-calibration.npz"
        subprocess.run(["/usr/bin/python3", EXAMPLES / example / "make_calibration.py", out,
                        *count_flags, *(["--shared", SHARED] if example == "kws-fleet" else [])],
                       check=True, capture_output=True)
        return out

    def assert_refused_on_one_board(self, model, example, target, arena, calibration):
        out = self.tmp / "one"
        result = run("compile", model, "--target", EXAMPLES / example / target,
                     "--calibration", calibration, "-o", out)
        name = target.removesuffix(".json")
        self.assert_fails(result, 1, f"does not fit device 'main' ({name}): needs ",
                          f"(arena {arena} + stack ")
        needed, limit = map(int, re.search(r"needs (\d+) bytes of RAM .* it has (\d+);",
                                           result.stderr).groups())
        ram_kib = json.loads((EXAMPLES / example / target).read_text())["ram_kib"]
        self.assertEqual(limit, ram_kib * 1024)
        self.assertGreater(needed, limit)
        self.assertFalse(out.exists())
        # The README shows the message as it is (after the model's path).
        readme = (EXAMPLES / example / "README.md").read_text()
        shown = result.stderr.strip().split("model.onnx: ", 1)[1]
        self.assertTrue(shown in readme, f"README.md does not show {shown!r}")
        # The fleet's sensor and worker boards are these boards, and no board of it (the
        # aggregator included) has the RAM the model needs on one.
        topology = json.loads((EXAMPLES / example / "topology.json").read_text())
        for device in topology["devices"]:
            if device.get("role") != "aggregator":
                self.assertEqual(device["ram_kib"], ram_kib, device["name"])
            self.assertLess(device["ram_kib"] * 1024, needed, device["name"])

    def assert_fleet_equals_one_board(self, model, fleet, target, calibration, input_name,
                                      inputs, output_file):
        """Compiles `model` for one `target` board and runs it and the compiled `fleet` on the
        same inputs: their int8 outputs are equal. Returns the fleet's."""
        single = self.tmp / "single"
        result = run("compile", model, "--target", target, "--calibration", calibration,
                     "-o", single)
        self.assertEqual(result.returncode, 0, result.stderr)
        outputs = {}
        for name, folder in (("fleet", fleet), ("single", single)):
            ran = self.tmp / f"{name}-run"
            result = run("run", folder, "--input", f"{input_name}={inputs}", "-o", ran, "--raw")
            self.assertEqual(result.returncode, 0, result.stderr)
            outputs[name] = np.load(ran / output_file)
        np.testing.assert_array_equal(outputs["fleet"], outputs["single"])
        return outputs["fleet"]


class MobilenetFleetTest(FleetExampleCase):
    @needs(MOBILENET)
    def test_one_board_refuses(self):
        calibration = self.calibration("mobilenet-fleet", ("--count", "4"))
        self.assert_refused_on_one_board(MOBILENET, "mobilenet-fleet", "cortex-m4-128k.json",
                                         405696, calibration)


class MobilenetFleetCompileTest(FleetExampleCase):
    @needs(MOBILENET)
    def test_the_fleet_compiles_fits_and_equals_one_board(self):
        calibration = self.calibration("mobilenet-fleet", ("--count", "4"))
        fleet = self.tmp / "fleet"
        result = run("compile", MOBILENET, "--topology",
                     EXAMPLES / "mobilenet-fleet" / "topology.json", "--calibration", calibration,
                     "-o", fleet)
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads((fleet / "report.json").read_text())
        for device in report["devices"]:
            self.assertLessEqual(device["ram_bytes"], device["ram_limit_bytes"], device["name"])
            self.assertLessEqual(device["flash_bytes"], device["flash_limit_bytes"], device["name"])
        # The placement says how it was found (111 nodes: beyond the exact search's size) and a
        # lower bound; its estimate of each board's RAM bounds the compiled board's, within the
        # difference of the target's stack_bytes and the compiled stack estimate.
        placement = report["fleet"]["placement"]
        self.assertIn(placement["method"], ("stages+local", "greedy+local"))
        self.assertLessEqual(placement["lower_bound"], placement["cost"])
        compiled = {device["name"]: device for device in report["devices"]}
        # The boards the placement gives nodes are those that run layers.
        self.assertEqual({entry["device"] for entry in placement["devices"] if entry["nodes"]},
                         {name for name, device in compiled.items() if device["layers"]})
        for entry in placement["devices"]:
            if entry["device"] in compiled:
                excess = entry["est_ram_bytes"] - compiled[entry["device"]]["ram_bytes"]
                self.assertTrue(0 <= excess < 2048, (entry["device"], excess))
        # Channel slices of LAYER_8 and LAYER_25 and two bands of LAYER_16, each group on
        # pairwise different boards.
        holders = {}
        for device in report["devices"]:
            for layer in device["layers"]:
                for part in ("LAYER_8/Conv2D/slice", "LAYER_25/Conv2D/slice",
                             "LAYER_16/Conv2D/band"):
                    if part in layer["node"]:
                        holders.setdefault(part, []).append(device["name"])
        self.assertEqual({part: len(names) for part, names in holders.items()},
                         {"LAYER_8/Conv2D/slice": 4, "LAYER_25/Conv2D/slice": 2,
                          "LAYER_16/Conv2D/band": 2})
        for part, names in holders.items():
            self.assertEqual(len(set(names)), len(names), part)
        # The worker gathering LAYER_8's four slices receives them all and reassembles each in
        # its place in the gathered tensor (docs/partition.md, "Gathering in place"): that tensor
        # is its one input, no slice is, and it runs no Concat.
        concat = "LAYER_8/Conv2D/concat"
        gatherer = next(device for device in report["devices"]
                        if any(node.endswith(concat) for node in device["nodes"]))
        self.assertEqual(gatherer["role"], "worker")
        self.assertEqual([port["shape"] for port in gatherer["inputs"]], [[1, 48, 32, 32]])
        self.assertFalse([port for port in gatherer["inputs"] if "/slice" in port["name"]])
        self.assertFalse([layer for layer in gatherer["layers"] if layer["node"].endswith(concat)])

        # The calibration images mirrored, and two others: outputs bit for bit as on one board.
        images = np.load(calibration)["input_1:0"]
        rng = np.random.default_rng(18)
        others = np.clip(images[:2] * 0.5 + rng.normal(0, 0.2, images[:2].shape), -1, 1)
        inputs = self.save_npy("images.npy", np.concatenate(
            [images[:, :, :, ::-1], others]).astype(np.float32))
        outputs = self.assert_fleet_equals_one_board(MOBILENET, fleet, "cortex-m7", calibration,
                                                     "input_1:0", inputs, "Identity_0.npy")
        self.assertEqual(outputs.shape, (6, 2))
        self.assertEqual(outputs.dtype, np.int8)


class KwsFleetTest(FleetExampleCase):
    @needs(KWS)
    def test_one_board_refuses_and_the_fleet_equals_it(self):
        calibration = self.calibration("kws-fleet")
        self.assert_refused_on_one_board(KWS, "kws-fleet", "cortex-m4-24k.json", 39040,
                                         calibration)
        # The test window and variations of it around its own scale.
        window = np.load(calibration)[KWS_INPUT]
        rng = np.random.default_rng(18)
        windows = np.concatenate([window, window * rng.uniform(0.5, 1.5, (5, 1)) +
                                  rng.normal(0, window.std() / 4, (5, window.shape[1]))])
        inputs = self.save_npy("windows.npy", windows.astype(np.float32))

        fleet = self.tmp / "fleet"
        result = run("compile", KWS, "--topology", EXAMPLES / "kws-fleet" / "topology.json",
                     "--calibration", calibration, "-o", fleet)
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads((fleet / "report.json").read_text())
        slices = sorted(layer["node"].rsplit("/", 1)[1] for device in report["devices"]
                        for layer in device["layers"] if layer["op"] == "Conv" and
                        "/slice" in layer["node"])
        self.assertEqual(slices, ["slice0", "slice1"])
        # Every board, the aggregator too, is a 24 KiB board and fits; the placement's estimate
        # of each board's RAM bounds the compiled figure.
        compiled = {device["name"]: device for device in report["devices"]}
        for device in report["devices"]:
            self.assertEqual(device["ram_limit_bytes"], 24 * 1024, device["name"])
            self.assertLessEqual(device["ram_bytes"], device["ram_limit_bytes"], device["name"])
            self.assertLessEqual(device["flash_bytes"], device["flash_limit_bytes"], device["name"])
        for entry in report["fleet"]["placement"]["devices"]:
            if entry["device"] in compiled:
                self.assertGreaterEqual(entry["est_ram_bytes"],
                                        compiled[entry["device"]]["ram_bytes"], entry["device"])
        # Every worker runs layers: the slices on two of them (pairwise different boards), the
        # gather and the rest of the network on the third.
        topology = json.loads((EXAMPLES / "kws-fleet" / "topology.json").read_text())
        workers = {device["name"] for device in topology["devices"]
                   if device.get("role") == "worker"}
        self.assertEqual(len(workers), 3)
        for name in workers:
            self.assertIn(name, compiled)
            self.assertTrue(compiled[name]["layers"], name)
        holders = [device["name"] for device in report["devices"] for layer in device["layers"]
                   if layer["op"] == "Conv" and "/slice" in layer["node"]]
        self.assertEqual(len(set(holders)), 2, holders)
        self.assertLessEqual(set(holders), workers)
        # The third gathers the two slices in place (docs/partition.md, "Gathering in place"):
        # it holds the Concat but runs no code for it, its one input being the gathered tensor.
        gatherer = [device for device in report["devices"]
                    if any(node.endswith("/concat") for node in device["nodes"])]
        self.assertEqual(len(gatherer), 1)
        self.assertIn(gatherer[0]["name"], workers - set(holders))
        self.assertEqual(len(gatherer[0]["inputs"]), 1)
        self.assertFalse([layer for layer in gatherer[0]["layers"] if layer["op"] == "Concat"])
        # No board of the fleet could run the model alone (39472 bytes of RAM).
        self.assertTrue(all(device["ram_limit_bytes"] < 39472 for device in report["devices"]))

        # The model puts about 0.997 on class 0 for all of these windows (the float reference
        # too), so equal outputs say little about the slices here: their every value is compared
        # in test_channel_slices.py and tests/unit/ChannelSlicingTests.cpp.
        outputs = self.assert_fleet_equals_one_board(KWS, fleet, "cortex-m4", calibration,
                                                     KWS_INPUT, inputs,
                                                     "StatefulPartitionedCall_0.npy")
        self.assertEqual(outputs.shape, (6, 10))


if __name__ == "__main__":
    unittest.main()
