"""edgesplit compile --topology beyond stars: a model whose weights no single device holds is
placed over a worker (pipeline stages along the path to the aggregator), and a fleet where nothing
fits is one clear line. The fleet's run needs every device's generated code for workers and
relays (issue 18, developer route); the tests here assert on the compile and its report."""
import json
import unittest

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from helpers import CliTestCase, run


def trunk_model():
    """audio [1,64] -> MatMul 64x128 -> Relu -> MatMul 128x64 -> Relu -> MatMul 64x10: two
    layers of 32 KiB of float32 weights each."""
    rng = np.random.default_rng(18)
    nodes, inits, x = [], [], "audio"
    widths = (64, 128, 64, 10)
    for layer in range(3):
        name = f"mm{layer + 1}"
        weight = rng.standard_normal((widths[layer], widths[layer + 1])).astype(np.float32) * 0.1
        inits.append(numpy_helper.from_array(weight, f"{name}_w"))
        nodes.append(helper.make_node("MatMul", [x, f"{name}_w"], [name], name=name))
        x = name
        if layer < 2:
            nodes.append(helper.make_node("Relu", [x], [f"{name}_relu"], name=f"{name}_relu"))
            x = f"{name}_relu"
    graph = helper.make_graph(nodes, "trunk",
                              [helper.make_tensor_value_info("audio", TensorProto.FLOAT, [1, 64])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 10])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def device(name, flash_kib, **extra):
    return {"name": name, "target": "cortex-m4", "clock_mhz": 64, "ram_kib": 16,
            "flash_kib": flash_kib, **extra}


def link(source, destination):
    return {"from": source, "to": destination, "kbps": 1000, "latency_ms": 2, "mtu": 244,
            "nj_per_byte": 50}


def fleet(flash_kib=48, worker=True):
    devices = [device("mic", 16, sensors=["mic"]), device("hub", flash_kib, role="aggregator")]
    links = [link("mic", "hub")]
    if worker:
        devices.insert(1, device("w1", flash_kib, role="worker"))
        links += [link("mic", "w1"), link("w1", "hub")]
    return {"schema": "edgesplit-topology/1", "devices": devices,
            "sensor_groups": {"mic": ["audio"]}, "links": links}


class PlacementTest(CliTestCase):
    def compile(self, name, doc):
        model = self.save_model("trunk.onnx", trunk_model())
        topology = self.tmp / f"{name}.json"
        topology.write_text(json.dumps(doc))
        return run("compile", model, "--topology", topology, "--precision", "float32",
                   "-o", self.tmp / name)

    def test_the_aggregator_alone_cannot_hold_the_trunk(self):
        result = self.compile("alone", fleet(worker=False))
        self.assert_fails(result, 1, "trunk.onnx", "does not fit device 'hub'", "bytes of flash")
        self.assertFalse((self.tmp / "alone").exists())

    def test_a_worker_takes_a_trunk_stage_and_every_device_fits(self):
        result = self.compile("worker", fleet())
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads((self.tmp / "worker" / "report.json").read_text())
        placement = report["fleet"]["placement"]
        self.assertEqual(placement["method"], "exact")
        nodes = {entry["device"]: entry["nodes"] for entry in placement["devices"]}
        self.assertGreater(nodes["w1"], 0)
        self.assertGreater(nodes["hub"], 0)
        for entry in report["devices"]:
            self.assertLessEqual(entry["ram_bytes"], entry["ram_limit_bytes"], entry["name"])
            self.assertLessEqual(entry["flash_bytes"], entry["flash_limit_bytes"], entry["name"])

    def test_a_layer_that_fits_no_device_is_named(self):
        result = self.compile("none", fleet(flash_kib=32))
        # A MatMul can be split by output channels, so the channel slicing (which runs before the
        # placement) is what names it: no number of slices fits this fleet either.
        self.assert_fails(result, 1, "trunk.onnx: layer 'mm1' (MatMul) fits no device",
                          "32768 bytes of weights", "no k works", "add workers")
        self.assertFalse((self.tmp / "none").exists())


if __name__ == "__main__":
    unittest.main()
