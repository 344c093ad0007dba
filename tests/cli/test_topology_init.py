"""edgesplit topology-init: a starting topology from a model, which compiles as written, every key
of it described by docs/topology.schema.json; and topology-check."""
import json

import jsonschema
import numpy as np

from helpers import EXAMPLE, SOURCE, CliTestCase, run

SCHEMA = json.loads((SOURCE / "docs" / "topology.schema.json").read_text())
HAR = SOURCE / "examples" / "har"


def resolve(schema):
    while "$ref" in schema:
        schema = SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def undocumented(document, schema, pointer=""):
    """Pointers of the keys of `document` whose schema has no description."""
    schema = resolve(schema)
    missing = []
    if isinstance(document, dict):
        for key, value in document.items():
            child = schema.get("properties", {}).get(key)
            if child is None:
                child = next((s for p, s in schema.get("patternProperties", {}).items()), None)
            if child is None or "description" not in resolve(child):
                missing.append(f"{pointer}/{key}")
            else:
                missing += undocumented(value, child, f"{pointer}/{key}")
    elif isinstance(document, list) and "items" in schema:
        for i, value in enumerate(document):
            missing += undocumented(value, schema["items"], f"{pointer}/{i}")
    return missing


class TopologyInitTest(CliTestCase):
    def init(self, model, *flags, name="topology.json"):
        out = self.tmp / name
        result = run("topology-init", model, *flags, "-o", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        return out, json.loads(out.read_text())

    def test_one_group_and_device_per_input_compiles_as_written(self):
        path, doc = self.init(EXAMPLE / "model.onnx")
        jsonschema.Draft202012Validator(SCHEMA).validate(doc)
        self.assertEqual(undocumented(doc, SCHEMA), [])
        self.assertTrue(doc["$schema"].endswith("topology.schema.json"))
        self.assertEqual(doc["sensor_groups"], {"wrist_imu": ["wrist_imu"],
                                                "ankle_imu": ["ankle_imu"]})
        self.assertEqual([(d["name"], d.get("sensors"), d.get("role")) for d in doc["devices"]],
                         [("wrist_imu", ["wrist_imu"], None), ("ankle_imu", ["ankle_imu"], None),
                          ("hub", None, "aggregator")])
        self.assertEqual([(l["from"], l["to"]) for l in doc["links"]],
                         [("wrist_imu", "hub"), ("ankle_imu", "hub")])
        self.assertEqual(doc["heads"], [{"output": "activity", "priority": 0}])
        self.assertEqual(doc["devices"][0]["ram_kib"], 256)  # the cortex-m4 target's figure
        calib = self.tmp / "calib.npz"
        np.savez(calib, wrist_imu=np.load(EXAMPLE / "wrist_imu.npy"),
                 ankle_imu=np.load(EXAMPLE / "ankle_imu.npy"))
        result = run("compile", EXAMPLE / "model.onnx", "--topology", path, "--calibration",
                     calib, "-o", self.tmp / "fleet")
        self.assertEqual(result.returncode, 0, result.stderr)
        for device in ("wrist_imu", "ankle_imu", "hub"):
            self.assertTrue((self.tmp / "fleet" / device / "fleet.c").exists(), device)

    def test_devices_spreads_the_groups(self):
        path, doc = self.init(HAR / "model.onnx", "--devices", "2", "--sensor-target",
                              "cortex-m33", "--schema-uri", "../docs/topology.schema.json")
        self.assertEqual(doc["$schema"], "../docs/topology.schema.json")
        self.assertEqual([(d["name"], d.get("sensors", []), d["target"]) for d in doc["devices"]],
                         [("sensors0", ["wrist_imu", "ankle_imu"], "cortex-m33"),
                          ("chest_imu", ["chest_imu"], "cortex-m33"), ("hub", [], "cortex-m7")])
        self.assertEqual(run("topology-check", path, "--model", HAR / "model.onnx").returncode, 0)
        # Every group on the aggregator: a one-device fleet without links.
        path, doc = self.init(HAR / "model.onnx", "--devices", "0", name="one.json")
        self.assertEqual(len(doc["devices"]), 1)
        self.assertEqual(doc["devices"][0]["sensors"], ["wrist_imu", "ankle_imu", "chest_imu"])
        self.assertEqual(doc["links"], [])
        result = run("topology-check", path, "--model", HAR / "model.onnx")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("ok (1 devices, 3 sensor groups, 0 links", result.stdout)

    def test_bad_usage_writes_nothing(self):
        out = self.tmp / "t.json"
        self.assert_fails(run("topology-init", EXAMPLE / "model.onnx", "--devices", "3", "-o", out),
                          2, "--devices 3", "at most 2 sensor devices")
        self.assertFalse(out.exists())
        out.write_text("{}")
        self.assert_fails(run("topology-init", EXAMPLE / "model.onnx", "-o", out), 2,
                          "the file exists; pass --force")
        self.assertEqual(out.read_text(), "{}")
        self.assertEqual(run("topology-init", EXAMPLE / "model.onnx", "-o", out, "--force")
                         .returncode, 0)

    def test_check_names_a_model_mismatch(self):
        path, _ = self.init(EXAMPLE / "model.onnx")
        self.assert_fails(run("topology-check", path, "--model", HAR / "model.onnx"), 1,
                          "/sensor_groups", "model input 'chest_imu' is in no sensor group")
