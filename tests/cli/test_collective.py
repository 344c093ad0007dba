"""Fleets that are not stars (issue 18): a relay between a sensor and the aggregator, stages pinned
to workers, a two-worker pipeline, failed workers and relays, faults on every hop, and bad pins.
Every fleet's outputs are checked against the single-device compile of the same model."""
import copy
import json
import pathlib
import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import test_fleet
import test_security
from helpers import CliTestCase, run, write_keys

GROUPS = test_fleet.GROUPS
FULL = test_fleet.head_name(GROUPS)


def link(source, target, mtu=64):
    return {"from": source, "to": target, "kbps": 1000, "latency_ms": 7.5, "mtu": mtu,
            "nj_per_byte": 80}


def worker(name):
    return {"name": name, "target": "cortex-m4", "clock_mhz": 64, "ram_kib": 32,
            "flash_kib": 256, "role": "worker"}


def relay_topology():
    """The three-band fleet of test_fleet with the wrist out of the hub's range: its frames and
    its beacons pass through a worker that runs nothing."""
    doc = test_fleet.topology()
    doc["devices"].insert(3, worker("relay"))
    doc["links"] = [link("wrist", "relay"), link("relay", "hub", mtu=80), link("ankle", "hub"),
                    link("chest", "hub")]
    # The whole wrist branch stays on the wrist (the placement might otherwise move its last,
    # free Flatten to the relay), so the relay only forwards.
    doc["placement"] = {f"wrist/{node}": "wrist"
                        for node in ("conv1", "relu1", "conv2", "relu2", "gap", "flatten")}
    return doc


def staged_topology():
    """Wrist and ankle each reach the hub through a worker that runs the end of their branch
    (pinned there); the chest is linked to the hub directly."""
    doc = test_fleet.topology()
    doc["devices"][3:3] = [worker("w1"), worker("w2")]
    doc["links"] = [link("wrist", "w1"), link("w1", "hub"), link("ankle", "w2"), link("w2", "hub"),
                    link("chest", "hub")]
    doc["placement"] = {}
    for group, stage in (("wrist", "w1"), ("ankle", "w2")):
        for node in ("conv1", "relu1"):
            doc["placement"][f"{group}/{node}"] = group
        for node in ("conv2", "relu2", "gap", "flatten"):
            doc["placement"][f"{group}/{node}"] = stage
    return doc


def random_weights(seed):
    """The initializers of a test model and a function that adds a random one and names it."""
    rng = np.random.default_rng(seed)
    inits = []

    def weight(name, shape):
        inits.append(numpy_helper.from_array((rng.standard_normal(shape) * 0.5).astype(np.float32),
                                             name))
        return name

    return inits, weight


def chain_model():
    """One microphone, a chain of two convolutions, pooling and a Gemm head."""
    inits, weight = random_weights(5)

    nodes = [
        helper.make_node("Conv", ["mic", weight("w1", (8, 2, 5)), weight("b1", (8,))], ["c1"],
                         pads=[2, 2], name="conv1"),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", weight("w2", (8, 8, 3)), weight("b2", (8,))], ["c2"],
                         pads=[1, 1], strides=[2], name="conv2"),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("Conv", ["r2", weight("w3", (6, 8, 3)), weight("b3", (6,))], ["c3"],
                         pads=[1, 1], name="conv3"),
        helper.make_node("Relu", ["c3"], ["r3"], name="relu3"),
        helper.make_node("GlobalAveragePool", ["r3"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["features"], name="flatten"),
        helper.make_node("Gemm", ["features", weight("wh", (4, 6)), weight("bh", (4,))],
                         ["keyword"], transB=1, name="head"),
    ]
    graph = helper.make_graph(
        nodes, "chain", [helper.make_tensor_value_info("mic", TensorProto.FLOAT, [1, 2, 32])],
        [helper.make_tensor_value_info("keyword", TensorProto.FLOAT, [1, 4])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def pipeline_topology():
    """mic -> w1 -> w2 -> hub: each worker runs one stage of the chain."""
    devices = [{"name": "mic", "target": "cortex-m4", "clock_mhz": 64, "ram_kib": 32,
                "flash_kib": 256, "sensors": ["mic"]}, worker("w1"), worker("w2"),
               {"name": "hub", "target": "cortex-m7", "clock_mhz": 216, "ram_kib": 512,
                "flash_kib": 2048, "role": "aggregator"}]
    placement = {"conv1": "mic", "relu1": "mic", "conv2": "w1", "relu2": "w1", "conv3": "w2",
                 "relu3": "w2", "gap": "w2", "flatten": "w2"}
    return {"schema": "edgesplit-topology/1", "devices": devices,
            "sensor_groups": {"mic": ["mic"]},
            "links": [link("mic", "w1"), link("w1", "w2"), link("w2", "hub")],
            "placement": placement}


class CollectiveTest(CliTestCase):
    SAMPLES = 6

    @classmethod
    def setUpClass(cls):
        cls._shared = tempfile.TemporaryDirectory(prefix="edgesplit-collective-")
        shared = cls.shared = pathlib.Path(cls._shared.name)
        rng = np.random.default_rng(3)
        cls.model = shared / "model.onnx"
        onnx.save(test_fleet.multi_head_model(), cls.model)
        cls.calib = shared / "calib.npz"
        np.savez(cls.calib, **{f"{g}_imu": rng.standard_normal((32, 3, 16)).astype(np.float32)
                               for g in GROUPS})
        cls.inputs = []
        for g in GROUPS:
            samples = rng.standard_normal((cls.SAMPLES, 3, 16)).astype(np.float32)
            np.save(shared / f"{g}.npy", samples)
            cls.inputs += ["--input", f"{g}_imu={shared / (g + '.npy')}"]
        cls.mono = {}
        for precision in ("int8", "float32"):
            out = shared / f"mono_{precision}"
            result = run("compile", cls.model, "--calibration", cls.calib, "--precision", precision,
                         "-o", out)
            assert result.returncode == 0, result.stderr
            result = run("run", out, *cls.inputs, "-o", shared / f"mono_res_{precision}",
                         *(["--raw"] if precision == "int8" else []))
            assert result.returncode == 0, result.stderr
            cls.mono[precision] = shared / f"mono_res_{precision}"
        # The keyed staged and relay fleets serve several tests each: compiled once (with one
        # keys file), only read by the tests, so the runs of each share one simulator build.
        cls.keys = write_keys(shared / "keys.json")
        cls.staged = cls.compile_in(shared, "staged", staged_topology(), "--keys", cls.keys)
        cls.relay = cls.compile_in(shared, "relay", relay_topology(), "--keys", cls.keys)

    @classmethod
    def tearDownClass(cls):
        cls._shared.cleanup()

    @classmethod
    def compile_in(cls, folder, name, doc, *extra, model=None, calib=None):
        """Compiles the fleet of topology `doc` into folder/name: (folder, its report)."""
        topo = folder / f"{name}.json"
        topo.write_text(json.dumps(doc))
        result = run("compile", model or cls.model, "--topology", topo, "--calibration",
                     calib or cls.calib, "-o", folder / name, *extra)
        assert result.returncode == 0, result.stderr
        return folder / name, json.loads((folder / name / "report.json").read_text())

    def compile(self, name, doc, *extra, model=None, calib=None):
        return self.compile_in(self.tmp, name, doc, *extra, model=model, calib=calib)

    def run_fleet(self, compiled, out, *extra, inputs=None):
        result = run("run", compiled, *(inputs or self.inputs), "-o", self.tmp / out, *extra)
        self.assertEqual(result.returncode, 0, result.stderr)
        return self.tmp / out, json.loads((self.tmp / out / "run.json").read_text())

    def assert_hops_counted(self, report, run_json, samples):
        """The report's bytes and frames per hop are what the simulator sent on each link."""
        simulated = {(l["from"], l["to"]): l for l in run_json["links"]}
        self.assertEqual(set(simulated), {(l["from"], l["to"]) for l in report["links"]})
        for entry in report["links"]:
            sim = simulated[(entry["from"], entry["to"])]
            self.assertEqual(sim["bytes_sent"], entry["bytes_per_inference"] * samples, entry)
            self.assertEqual(sim["frames_sent"], entry["frames_per_inference"] * samples, entry)
            self.assertEqual(sim["beacon_bytes_sent"],
                             entry["beacon_bytes_per_inference"] * samples)

    def test_relay_int8_bit_exact_keyed_end_to_end(self):
        compiled, report = self.relay
        self.assertTrue(report["fleet"]["routed"])
        roles = {d["name"]: d["role"] for d in report["devices"]}
        self.assertEqual(roles["relay"], "worker")
        relay = next(d for d in report["devices"] if d["name"] == "relay")
        self.assertEqual(relay["nodes"], [])
        self.assertEqual(relay["relay"]["buffer_bytes"], 64)  # the route's smallest mtu
        self.assertGreaterEqual(relay["static_buffers_bytes"], 64)
        # The wrist's tensor crosses both hops, cut once to the route's smallest mtu.
        hops = {(l["from"], l["to"]): l for l in report["links"]}
        self.assertEqual([t["hop"] for t in hops[("wrist", "relay")]["tensors"]], [1])
        self.assertEqual([t["hop"] for t in hops[("relay", "hub")]["tensors"]], [2])
        self.assertEqual(hops[("wrist", "relay")]["bytes_per_inference"],
                         hops[("relay", "hub")]["bytes_per_inference"])
        # End to end: the relay holds no key; the wrist and the hub share the pair's.
        relay_code = (compiled / "relay" / "fleet.c").read_text()
        self.assertNotIn("key", relay_code.replace("es_route", ""))
        # partition.svg draws the wrist's tensor along its route: each hop named, through a node
        # in the box of the relay (which runs nothing, and so had no box before).
        texts = [e.text.strip() for e in ET.parse(compiled / "partition.svg").iter() if e.text]
        self.assertIn("hop 1: wrist \u2192 relay", texts)
        self.assertIn("hop 2: relay \u2192 hub", texts)
        self.assertIn("relays wrist_features", texts)
        self.assertIn("relay", texts)  # the relay's box
        self.assertIn("wrist_key_to_0[32]", (compiled / "wrist" / "fleet.c").read_text())
        res, run_json = self.run_fleet(compiled, "relay_res", "--raw")
        self.assertEqual(run_json["heads_run"][FULL], self.SAMPLES)
        np.testing.assert_array_equal(np.load(res / f"{FULL}.npy"),
                                      np.load(self.mono["int8"] / f"{FULL}.npy"))
        self.assert_hops_counted(report, run_json, self.SAMPLES)
        self.assertGreater(report["fleet"]["est_latency_ms"], 0)
        self.assertGreater(report["fleet"]["est_throughput_per_s"], 0)
        # A failed relay cuts the wrist off: the best head without it, never a stale one.
        res, run_json = self.run_fleet(compiled, "relay_fail", "--raw", "--fail", "relay")
        head = test_fleet.head_name(["ankle", "chest"])
        self.assertEqual(run_json["heads_run"][head], self.SAMPLES)
        np.testing.assert_array_equal(np.load(res / f"{head}.npy"),
                                      np.load(self.mono["int8"] / f"{head}.npy"))

    def test_relay_float32_within_tolerance(self):
        compiled, report = self.compile("relay32", relay_topology(), "--precision", "float32")
        res, run_json = self.run_fleet(compiled, "relay32_res")
        np.testing.assert_allclose(np.load(res / f"{FULL}.npy"),
                                   np.load(self.mono["float32"] / f"{FULL}.npy"), rtol=0, atol=1e-5)
        self.assert_hops_counted(report, run_json, self.SAMPLES)

    def test_stages_pinned_to_workers_failed_workers_and_faults(self):
        compiled, report = self.staged
        nodes = {d["name"]: d["nodes"] for d in report["devices"]}
        # Each Relu fused into its convolution runs with it (and is pinned with it).
        self.assertEqual(nodes["w1"], ["wrist/conv2", "wrist/gap", "wrist/flatten"])
        self.assertEqual(nodes["wrist"], ["wrist/conv1"])
        # Every run of this fleet under ASan and UBSan (one build of the simulator).
        # The generated fleet code of every role is strict C99.
        for device in ("wrist", "w1", "hub"):
            folder = compiled / device
            result = subprocess.run(["cc", *test_fleet.STRICT, "-I", str(folder), "-I",
                                     str(folder / "runtime/include"), "-fsyntax-only",
                                     str(folder / "fleet.c"),
                                     str(folder / "runtime/src/wire_route.c")],
                                    capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, f"{device}: {result.stderr}")
        res, run_json = self.run_fleet(compiled, "staged_res", "--raw", "--sanitize")
        self.assertEqual(run_json["heads_run"][FULL], self.SAMPLES)
        mono = self.mono["int8"]
        np.testing.assert_array_equal(np.load(res / f"{FULL}.npy"), np.load(mono / f"{FULL}.npy"))
        self.assert_hops_counted(report, run_json, self.SAMPLES)
        # A failed worker: the heads that read its tensors cannot run; the first head that does
        # not (docs/partition.md) runs on every sample, on the monolith's numbers.
        for failed, lost in (("w1", "wrist"), ("w2", "ankle")):
            res, run_json = self.run_fleet(compiled, f"staged_{failed}", "--raw", "--sanitize",
                                           "--fail", failed)
            expected = test_fleet.head_name([g for g in GROUPS if g != lost])
            for sample in run_json["per_sample"]:
                self.assertEqual(sample["head"], expected, (failed, sample))
                i = sample["index"]
                np.testing.assert_array_equal(np.load(res / f"{expected}.npy")[i],
                                              np.load(mono / f"{expected}.npy")[i])
                for other in report["heads"]:
                    if other["output"] != expected:
                        self.assertTrue(np.all(np.load(res / f"{other['output']}.npy")[i] == 0))
        # Every device but the hub failed: no head, on every sample.
        _, run_json = self.run_fleet(compiled, "staged_none", "--raw", "--sanitize",
                                     *[a for d in ("w1", "w2", "chest") for a in ("--fail", d)])
        self.assertEqual(run_json["heads_run"]["none"], self.SAMPLES)
        # Drops and corruption on every hop (relayed frames too): nothing crashes, and whatever
        # head runs, runs on its own sample's data.
        res, run_json = self.run_fleet(compiled, "faulty_res", "--raw", "--sanitize", "--drop-rate",
                                       "0.3", "--corrupt-rate", "0.3", "--seed", "21")
        self.assertGreater(sum(l["frames_corrupted"] for l in run_json["links"]), 0)
        self.assertGreater(sum(l["frames_dropped"] for l in run_json["links"]), 0)
        mono = self.mono["int8"]
        for sample in run_json["per_sample"]:
            if sample["head"] is not None:  # whatever ran, ran on this sample's data
                i = sample["index"]
                np.testing.assert_array_equal(np.load(res / f"{sample['head']}.npy")[i],
                                              np.load(mono / f"{sample['head']}.npy")[i])

    def test_restarts_and_replays_across_relays_are_harmless(self):
        """A worker, the aggregator and a sensor restart mid-run while an attacker re-sends
        recorded frames and beacons on every hop (to workers, sensors and the aggregator, through
        relays): every sample runs the full head on the monolith's numbers, no replay is taken,
        every replayed beacon is refused where it arrives, and the hops count only the genuine
        frames."""
        compiled, report = self.staged
        res, run_json = self.run_fleet(compiled, "restarts", "--raw", "--sanitize", "--reboot",
                                       "w1@2", "--reboot", "hub@3", "--reboot", "wrist@4",
                                       "--replay", "0.5", "--seed", "7")
        self.assertEqual(run_json["reboots"], ["w1@2", "hub@3", "wrist@4"])
        self.assertEqual(run_json["heads_run"][FULL], self.SAMPLES)
        np.testing.assert_array_equal(np.load(res / f"{FULL}.npy"),
                                      np.load(self.mono["int8"] / f"{FULL}.npy"))
        self.assert_hops_counted(report, run_json, self.SAMPLES)
        replayed = {(l["from"], l["to"]): l["frames_replayed"] for l in run_json["links"]}
        self.assertGreater(replayed[("wrist", "w1")], 0)  # into a worker's receiver
        self.assertGreater(replayed[("w1", "hub")], 0)    # a worker's frames, recorded
        self.assertEqual(sum(l["frames_replayed_accepted"] for l in run_json["links"]), 0)
        # The hub's beacons to w1, recorded on the w1-hub hop: w1 keeps its round.
        beacons = {(l["from"], l["to"]): l["beacons_replayed"] for l in run_json["links"]}
        self.assertGreater(beacons[("w1", "hub")], 0)
        self.assert_beacon_replays_refused(run_json)
        # The aggregator refuses each replayed frame that reaches it as stale or a duplicate.
        receiver = run_json["receiver"]
        self.assertEqual(receiver["stale"] + receiver["duplicate"],
                         sum(n - beacons[hop] for hop, n in replayed.items() if hop[1] == "hub"))
        # Through a relay: the replays of the wrist's first hop are forwarded to the hub, which
        # refuses them; a restarted relay forwards again from the sample it restarts at.
        compiled, report = self.relay
        res, run_json = self.run_fleet(compiled, "relayed_replays", "--raw", "--reboot",
                                       "relay@2", "--reboot", "hub@4", "--replay", "0.6",
                                       "--seed", "3")
        self.assertEqual(run_json["heads_run"][FULL], self.SAMPLES)
        self.assert_hops_counted(report, run_json, self.SAMPLES)
        replayed = {(l["from"], l["to"]): l["frames_replayed"] for l in run_json["links"]}
        self.assertGreater(replayed[("wrist", "relay")], 0)
        self.assertEqual(sum(l["frames_replayed_accepted"] for l in run_json["links"]), 0)
        # The hub's beacons to the wrist, recorded on either hop, are forwarded by the relay to
        # the wrist, which keeps its round.
        beacons = sum(l["beacons_replayed"] for l in run_json["links"])
        self.assertGreater(beacons, 0)
        self.assert_beacon_replays_refused(run_json)
        self.assertEqual(run_json["receiver"]["stale"] + run_json["receiver"]["duplicate"],
                         sum(replayed.values()) - beacons)

    def assert_beacon_replays_refused(self, run_json):
        """Every replayed beacon reached the device it was recorded going to (no device failed),
        which refused it: an old round never replaces the one it has."""
        for entry in run_json["links"]:
            self.assertEqual(entry["beacon_replays_refused"], entry["beacons_replayed"], entry)

    def test_hooked_keys_by_device_pair(self):
        """With --key-provisioning hook every device calls <dev>_load_key(sender, receiver, key)
        for exactly the pairs whose keys the embedded build holds (HKDF of the master key and the
        pair, end to end); a device that only relays loads none and declares no hook."""
        keys = self.keys
        master = bytes.fromhex(json.loads(keys.read_text())["master_key_hex"])
        embedded, report = self.staged
        hooked, _ = self.compile("staged_hook", staged_topology(), "--keys", keys,
                                 "--key-provisioning", "hook")
        relayed, _ = self.compile("relay_hook", relay_topology(), "--keys", keys,
                                  "--key-provisioning", "hook")
        ids = {d["name"]: i for i, d in enumerate(staged_topology()["devices"])}
        by_key = {test_security.hkdf_link_key(master, a, b): (a, b)
                  for a in ids.values() for b in ids.values() if a != b}
        for device in ids:
            held = {by_key[bytes(int(b, 16) for b in re.findall(r"0x([0-9a-f]{2})", body))]
                    for body in re.findall(r"static const uint8_t \w*key\w*\[32\] = \{([^}]*)\}",
                                           (embedded / device / "fleet.c").read_text())}
            source = (hooked / device / "fleet.c").read_text()
            loaded = {(int(a), int(b))
                      for a, b in re.findall(rf"{device}_load_key\((\d+)u, (\d+)u, ", source)}
            self.assertTrue(held, device)
            self.assertEqual(loaded, held, device)
            self.assertNotIn("static const uint8_t", re.sub(r"static const uint8_t \w*(slot|head|"
                                                            r"frame_hops|beacon_hops)\w*", "",
                                                            source))
            self.assertIn(f"void {device}_load_key(uint8_t sender, uint8_t receiver, uint8_t key[32]);",
                          (hooked / device / "fleet.h").read_text())
        relay_code = (relayed / "relay" / "fleet.c").read_text() + (relayed / "relay" / "fleet.h").read_text()
        self.assertNotIn("load_key", relay_code)
        self.assertIn("wrist_load_key(0u, 4u, ", (relayed / "wrist" / "fleet.c").read_text())
        # The hooked fleet is strict C99, and `run` cannot simulate it (its keys are not in it).
        for device in ("wrist", "w1", "hub"):
            folder = hooked / device
            result = subprocess.run(["cc", *test_fleet.STRICT, "-I", str(folder), "-I",
                                     str(folder / "runtime/include"), "-fsyntax-only",
                                     str(folder / "fleet.c")], capture_output=True, text=True)
            self.assertEqual(result.returncode, 0, f"{device}: {result.stderr}")
        result = run("run", hooked, *self.inputs, "-o", self.tmp / "hooked_run")
        self.assert_fails(result, 2, "--key-provisioning hook", "cannot be simulated")

    def test_impute_fills_in_what_a_failed_worker_did_not_send(self):
        """"fallback": "impute" on a routed fleet: the full head runs on every sample; with w1
        failed, the wrist's features (w1's output) are their calibration mean, and the outputs
        equal those of the star fleet whose wrist failed (the same tensor, the same mean)."""
        doc = staged_topology()
        doc["fallback"] = "impute"
        compiled, _ = self.compile("staged_impute", doc)
        res, run_json = self.run_fleet(compiled, "impute_all", "--raw")
        self.assertTrue(all(s["imputed_groups"] == [] for s in run_json["per_sample"]))
        np.testing.assert_array_equal(np.load(res / f"{FULL}.npy"),
                                      np.load(self.mono["int8"] / f"{FULL}.npy"))
        res, run_json = self.run_fleet(compiled, "impute_w1", "--raw", "--fail", "w1",
                                       "--sanitize")
        for sample in run_json["per_sample"]:
            self.assertEqual((sample["head"], sample["arrived_groups"], sample["imputed_groups"]),
                             (FULL, ["ankle", "chest"], ["wrist"]), sample)
        star, _ = self.compile("star_impute", test_fleet.topology(fallback="impute"))
        star_res, _ = self.run_fleet(star, "star_impute_wrist", "--raw", "--fail", "wrist")
        imputed = np.load(res / f"{FULL}.npy")
        np.testing.assert_array_equal(imputed, np.load(star_res / f"{FULL}.npy"))
        self.assertFalse(np.array_equal(imputed, np.load(self.mono["int8"] / f"{FULL}.npy")))

    def test_two_worker_pipeline_bit_exact(self):
        model = self.tmp / "chain.onnx"
        onnx.save(chain_model(), model)
        rng = np.random.default_rng(9)
        calib = self.tmp / "chain_calib.npz"
        np.savez(calib, mic=rng.standard_normal((16, 2, 32)).astype(np.float32))
        np.save(self.tmp / "mic.npy", rng.standard_normal((self.SAMPLES, 2, 32)).astype(np.float32))
        inputs = ["--input", f"mic={self.tmp / 'mic.npy'}"]
        result = run("compile", model, "--calibration", calib, "-o", self.tmp / "chain_mono")
        self.assertEqual(result.returncode, 0, result.stderr)
        result = run("run", self.tmp / "chain_mono", *inputs, "-o", self.tmp / "chain_mono_res",
                     "--raw")
        self.assertEqual(result.returncode, 0, result.stderr)
        compiled, report = self.compile("pipeline", pipeline_topology(), model=model, calib=calib)
        self.assertEqual({d["name"]: d["nodes"] for d in report["devices"]},
                         {"mic": ["conv1"], "w1": ["conv2"], "w2": ["conv3", "gap", "flatten"],
                          "hub": ["head"]})
        stages = {s["device"]: s["est_compute_ms"] for s in report["fleet"]["stages"]}
        # Stages overlap: the pipeline's rate is set by its slowest stage or link, not the sum.
        self.assertGreater(report["fleet"]["est_latency_ms"], sum(stages.values()))
        self.assertGreater(report["fleet"]["est_throughput_per_s"],
                           1000.0 / report["fleet"]["est_latency_ms"])
        res, run_json = self.run_fleet(compiled, "pipeline_res", "--raw", inputs=inputs)
        self.assertEqual(run_json["heads_run"]["keyword"], self.SAMPLES)
        np.testing.assert_array_equal(np.load(res / "keyword.npy"),
                                      np.load(self.tmp / "chain_mono_res" / "keyword.npy"))
        self.assert_hops_counted(report, run_json, self.SAMPLES)

    def test_bad_placements_are_one_line_errors(self):
        cases = []
        doc = staged_topology()
        doc["placement"]["wrist/conv9"] = "w1"
        cases.append((doc, ["/placement/wrist~1conv9", "no node", "wrist/conv1",
                            "edgesplit inspect"]))
        doc = staged_topology()
        doc["placement"][f"{FULL}/gemm"] = "w1"
        cases.append((doc, ["/placement/head_wrist_ankle_chest~1gemm",
                            "heads run on the aggregator"]))
        doc = staged_topology()
        doc["placement"]["wrist/conv1"] = "hub"
        cases.append((doc, ["/placement/wrist~1relu1",
                            "fused into 'wrist/conv1' (pinned to 'hub')"]))
        doc = copy.deepcopy(doc)
        del doc["placement"]["wrist/relu1"]
        # Pins that leave the placement no way to run (the hub would have to send the wrist's
        # tensor on): the search finds no placement and says the pins are what to change.
        unrunnable = ["model.onnx: no placement of the model's", "change or remove the pins"]
        cases.append((doc, unrunnable))
        doc = copy.deepcopy(doc)
        doc["placement"]["wrist/conv2"] = doc["placement"]["wrist/relu2"] = "wrist"
        cases.append((doc, unrunnable))
        doc = staged_topology()
        for entry in doc["links"]:
            if entry["from"] == "w1":
                entry["duplex"] = False
        cases.append((doc, ["/devices/3: worker 'w1' runs a stage", "duplex"]))
        for i, (doc, fragments) in enumerate(cases):
            topo = self.tmp / f"bad{i}.json"
            topo.write_text(json.dumps(doc))
            result = run("compile", self.model, "--topology", topo, "--calibration", self.calib,
                         "-o", self.tmp / f"bad{i}")
            named = [] if fragments is unrunnable else [f"bad{i}.json"]
            self.assert_fails(result, 1, *named, *fragments)
            self.assertFalse((self.tmp / f"bad{i}").exists())


def sliced_model(batch, length):
    """A convolution no board holds whole (its input and output beside each other), so the fleet
    slices it by channels; its max-pool follows it into the slices, and a 1x1 convolution over
    every channel (pinned to w3) reads the gathered tensor."""
    inits, weight = random_weights(11)

    nodes = [
        helper.make_node("Conv", ["mic", weight("w1", (8, 4, 3)), weight("b1", (8,))], ["c1"],
                         pads=[1, 1], name="conv1"),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2], strides=[2], name="pool1"),
        helper.make_node("Conv", ["p1", weight("w2", (2, 8, 1)), weight("b2", (2,))], ["c2"],
                         name="conv2"),
        helper.make_node("GlobalAveragePool", ["c2"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["features"], name="flatten"),
        helper.make_node("Gemm", ["features", weight("wh", (4, 2)), weight("bh", (4,))],
                         ["keyword"], transB=1, name="head"),
    ]
    graph = helper.make_graph(
        nodes, "sliced", [helper.make_tensor_value_info("mic", TensorProto.FLOAT, [batch, 4, length])],
        [helper.make_tensor_value_info("keyword", TensorProto.FLOAT, [batch, 4])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def sliced_topology():
    """12 KiB boards: none holds conv1's input and output (4 + 8 KiB) whole, w3 (10 KiB) not even
    a slice of it beside its input; the workers linked both ways and to the hub."""
    workers = ("w1", "w3")
    devices = [{"name": "mic", "target": "cortex-m4", "clock_mhz": 64, "ram_kib": 12,
                "flash_kib": 256, "sensors": ["mic"]}]
    devices += [dict(worker(name), ram_kib=10 if name == "w3" else 12) for name in workers]
    devices.append({"name": "hub", "target": "cortex-m4", "clock_mhz": 64, "ram_kib": 12,
                    "flash_kib": 256, "role": "aggregator"})
    links = [link("mic", w, mtu=244) for w in workers]
    links += [link(a, b, mtu=244) for a in workers for b in workers if a != b]
    links += [link(w, "hub", mtu=244) for w in workers]
    return {"schema": "edgesplit-topology/1", "devices": devices,
            "sensor_groups": {"mic": ["mic"]}, "links": links, "placement": {"conv2": "w3"}}


class GatherInPlaceTest(CliTestCase):
    """A worker that receives every channel slice of a layer reassembles each straight into its
    place in the gathered tensor (docs/partition.md, "Gathering in place"): with a batch of one
    the slices are contiguous ranges of it, so w3 holds the gathered tensor only; with a batch of
    two they are not, and w3 holds the slices beside the gathered copy. Both equal the
    single-device build bit for bit (the simulator under ASan and UBSan)."""

    def compile_and_run(self, batch, length):
        model = self.tmp / f"sliced{batch}.onnx"
        onnx.save(sliced_model(batch, length), model)
        rng = np.random.default_rng(batch)
        calib = self.tmp / f"calib{batch}.npz"
        samples = 8 if batch == 1 else batch
        np.savez(calib, mic=rng.standard_normal((samples, 4, length)).astype(np.float32))
        x = self.save_npy(f"mic{batch}.npy",
                          rng.standard_normal((samples, 4, length)).astype(np.float32))
        topo = self.tmp / "sliced.json"
        topo.write_text(json.dumps(sliced_topology()))
        fleet, single = self.tmp / f"fleet{batch}", self.tmp / f"single{batch}"
        for out, extra in ((fleet, ["--topology", topo]), (single, [])):
            result = run("compile", model, "--calibration", calib, *extra, "-o", out)
            self.assertEqual(result.returncode, 0, result.stderr)
        outputs = []
        for folder, sanitize in ((fleet, ["--sanitize"] if batch == 1 else []), (single, [])):
            result = run("run", folder, "--input", f"mic={x}", "-o", self.tmp / f"{folder.name}-res",
                         "--raw", *sanitize)
            self.assertEqual(result.returncode, 0, result.stderr)
            outputs.append(np.load(self.tmp / f"{folder.name}-res" / "keyword.npy"))
        np.testing.assert_array_equal(outputs[0], outputs[1])
        report = json.loads((fleet / "report.json").read_text())
        devices = {device["name"]: device for device in report["devices"]}
        estimates = {e["device"]: e["est_ram_bytes"] for e in report["fleet"]["placement"]["devices"]}
        for name, device in devices.items():
            self.assertLessEqual(device["ram_bytes"], device["ram_limit_bytes"], name)
            self.assertTrue(0 <= estimates[name] - device["ram_bytes"] < 1024, name)
        return devices["w3"], fleet

    def test_contiguous_slices_land_in_place_and_a_batch_of_two_is_copied(self):
        in_place, fleet = self.compile_and_run(1, 1024)
        copied, _ = self.compile_and_run(2, 512)
        gathered = 8 * 512  # p1, [1, 8, 512] or [2, 8, 256], int8
        self.assertEqual([port["name"] for port in in_place["inputs"]], ["p1"])
        self.assertNotIn("conv1/concat", [layer["node"] for layer in in_place["layers"]])
        self.assertEqual([port["name"] for port in copied["inputs"]], ["p1/slice0", "p1/slice1"])
        concat = [layer for layer in copied["layers"] if layer["node"] == "conv1/concat"]
        self.assertEqual([layer["kernel"] for layer in concat], ["es_concat_s8"])
        # w3's peak: the slices beside the gathered copy, or the gathered tensor alone beside
        # conv2's output ([1, 2, 512]).
        self.assertEqual(copied["arena_lower_bound_bytes"], 2 * gathered)
        self.assertEqual(in_place["arena_lower_bound_bytes"], gathered + 2 * 512)
        # Its frames land at each slice's offset: the second slice half-way into the tensor.
        fleet_c = (fleet / "w3" / "fleet.c").read_text()
        self.assertIn(f"w3_slot_offset[2] = {{0u, {gathered // 2}u}}", fleet_c.replace("\n", ""))
