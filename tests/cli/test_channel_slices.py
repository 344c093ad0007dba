"""Channel slices (docs/partition.md "Channel slices"): a model compiled for one device with
`--slice-channels LAYER=K` runs its layer as K slices of output channels joined by a Concat, as a
fleet does with a layer no device holds. Its outputs from `edgesplit run` (the generated C, built
for the host) equal those of the whole model bit for bit, in int8 and float32, with per-channel
weights (calibrated) and per-tensor ones (a QDQ model). (Every layer kind, k and weight-parameter
form is checked in-process, tests/unit/ChannelSlicingTests.cpp.)"""
import json
import unittest

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from helpers import CliTestCase, run

RNG_SEED = 18


def chain_model(channels=10, features=9, outputs=7):
    """x [1, 3, 12, 12] -> Conv 3x3 'conv' (`channels` out, bias) -> Relu -> Pad -> depthwise Conv
    (stride 2, bias) -> Relu -> GlobalAveragePool -> Flatten -> Gemm 'fc' (transB, bias,
    `features` out) -> Relu -> MatMul 'mm' (B [features, outputs]) -> y [1, outputs]."""
    rng = np.random.default_rng(RNG_SEED)

    def uniform(name, shape, scale=1.0):
        return numpy_helper.from_array(rng.uniform(-scale, scale, shape).astype(np.float32), name)

    inits = [
        uniform("w", (channels, 3, 3, 3)), uniform("b", channels, 0.5),
        numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads"),
        uniform("dw", (channels, 1, 3, 3)), uniform("dwb", channels, 0.5),
        uniform("fw", (features, channels)), uniform("fb", features, 0.5),
        uniform("mw", (features, outputs)),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Pad", ["r", "pads"], ["p"], name="pad"),
        helper.make_node("Conv", ["p", "dw", "dwb"], ["d"], name="depthwise", group=channels,
                         strides=[2, 2]),
        helper.make_node("Relu", ["d"], ["dr"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["dr"], ["g"], name="pool"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["h"], name="fc", transB=1),
        helper.make_node("Relu", ["h"], ["hr"], name="relu3"),
        helper.make_node("MatMul", ["hr", "mw"], ["y"], name="mm"),
    ]
    graph = helper.make_graph(
        nodes, "sliced", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 12, 12])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, outputs])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def qdq_conv_model(channels=8):
    """A pre-quantised (QDQ) x [1, 3, 8, 8] -> Conv 3x3 'layer' -> y with one weight scale for
    the whole tensor (per-tensor weights, as some quantisers write them) and an int32 bias."""
    rng = np.random.default_rng(RNG_SEED)
    sx, sw, sy = 0.02, 0.01, 0.05
    inits = [
        numpy_helper.from_array(np.float32(sx), "sx"), numpy_helper.from_array(np.int8(0), "zx"),
        numpy_helper.from_array(np.float32(sw), "sw"), numpy_helper.from_array(np.int8(0), "zw"),
        numpy_helper.from_array(np.float32(sx * sw), "sb"),
        numpy_helper.from_array(np.int32(0), "zb"),
        numpy_helper.from_array(np.float32(sy), "sy"), numpy_helper.from_array(np.int8(3), "zy"),
        numpy_helper.from_array(rng.integers(-127, 128, (channels, 3, 3, 3)).astype(np.int8), "wq"),
        numpy_helper.from_array(rng.integers(-2000, 2000, channels).astype(np.int32), "bq"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "sx", "zx"], ["xq"], name="qx"),
        helper.make_node("DequantizeLinear", ["xq", "sx", "zx"], ["xd"], name="dqx"),
        helper.make_node("DequantizeLinear", ["wq", "sw", "zw"], ["wd"], name="dqw"),
        helper.make_node("DequantizeLinear", ["bq", "sb", "zb"], ["bd"], name="dqb"),
        helper.make_node("Conv", ["xd", "wd", "bd"], ["c"], name="layer", pads=[1, 1, 1, 1]),
        helper.make_node("QuantizeLinear", ["c", "sy", "zy"], ["cq"], name="qc"),
        helper.make_node("DequantizeLinear", ["cq", "sy", "zy"], ["y"], name="dqc"),
    ]
    graph = helper.make_graph(
        nodes, "qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, channels, 8, 8])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


class ChannelSliceEquivalenceTest(CliTestCase):
    def outputs(self, model, x, precision, *flags, calibrate=True):
        """`edgesplit run` of `model` compiled for the host: the raw output array and the
        compiled folder."""
        out = self.tmp / f"{model.stem}_{precision}_{len(flags)}"
        calibration = self.tmp / "calib.npz"
        np.savez(calibration, x=x)
        result = run("compile", model, "--target", "host", "--precision", precision,
                     *(["--calibration", calibration] if calibrate else []), *flags, "-o", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        ran = self.tmp / f"{out.name}_run"
        result = run("run", out, "--input", f"x={self.save_npy('x.npy', x)}", "-o", ran, "--raw")
        self.assertEqual(result.returncode, 0, result.stderr)
        run_json = json.loads((ran / "run.json").read_text())
        return np.load(ran / run_json["outputs"][0]["file"]), out

    def test_sliced_conv_depthwise_gemm_matmul_bit_exact(self):
        # 10 and 9 channels: k = 3 and k = 4 do not divide them.
        slices = {"conv": 3, "fc": 4, "mm": 2}
        flags = [f for layer, k in slices.items() for f in ("--slice-channels", f"{layer}={k}")]
        model = self.save_model("chain.onnx", chain_model())
        x = np.random.default_rng(7).uniform(-1, 1, (6, 3, 12, 12)).astype(np.float32)
        for precision in ("int8", "float32"):
            with self.subTest(precision=precision):
                whole, _ = self.outputs(model, x, precision)
                self.assertGreater(len(np.unique(whole)), 8, "the output should vary")
                parts, out = self.outputs(model, x, precision, *flags)
                np.testing.assert_array_equal(parts, whole)
                # The slices are what the device's program runs.
                report = json.loads((out / "report.json").read_text())
                names = [layer["node"] for layer in report["devices"][0]["layers"]]
                for layer, k in slices.items():
                    self.assertEqual(
                        sorted(n for n in names if n.startswith(f"{layer}/slice")),
                        [f"{layer}/slice{i}" for i in range(k)], layer)
                # The depthwise convolution (and its Relu, fused) run in slices too.
                self.assertEqual(len([n for n in names if n.startswith("depthwise/slice")]), 3)
                print(f"{precision}: {parts.size} outputs bit-exact with slices {slices}")

    def test_per_tensor_weights_of_a_quantised_model(self):
        model = self.save_model("qdq.onnx", qdq_conv_model(channels=8))
        x = np.random.default_rng(9).uniform(-2, 2, (3, 3, 8, 8)).astype(np.float32)
        whole, _ = self.outputs(model, x, "int8", calibrate=False)
        self.assertGreater(len(np.unique(whole)), 32, "the output should vary")
        parts, _ = self.outputs(model, x, "int8", "--slice-channels", "layer=3", calibrate=False)
        np.testing.assert_array_equal(parts, whole)


class ChannelSliceBadInputTest(CliTestCase):
    def compile(self, *flags, target=("--target", "host")):
        model = self.save_model("chain.onnx", chain_model(features=6))
        calibration = self.tmp / "calib.npz"
        np.savez(calibration, x=np.ones((2, 3, 12, 12), np.float32))
        return run("compile", model, *target, "--calibration", calibration, *flags,
                   "-o", self.tmp / "out")

    def test_bad_requests_name_the_layer_and_the_fix(self):
        cases = [
            (("--slice-channels", "fc"), 2, "--slice-channels 'fc': expected LAYER=K"),
            (("--slice-channels", "fc=two"), 2, "expected LAYER=K"),
            (("--slice-channels", "nothere=2"), 1, "--slice-channels: no node 'nothere'"),
            (("--slice-channels", "relu=2"), 1,
             "node 'relu' (Relu) cannot be sliced by output channels"),
            (("--slice-channels", "depthwise=2"), 1,
             "node 'depthwise' (Conv) cannot be sliced by output channels"),
            (("--slice-channels", "fc=7"), 1,
             "node 'fc' (Gemm) has 6 output channels: K must be in [2, 6]"),
            (("--slice-channels", "fc=1"), 1, "K must be in [2, 6]"),
            (("--slice-channels", "fc=2", "--slice-channels", "fc=2"), 1,
             "a layer sliced by an earlier --slice-channels is gone"),
        ]
        for flags, code, fragment in cases:
            with self.subTest(flags=flags):
                self.assert_fails(self.compile(*flags), code, fragment)
                self.assertFalse((self.tmp / "out").exists())

    def test_not_with_a_topology(self):
        # Refused before the topology is read.
        result = self.compile("--slice-channels", "fc=2", "--topology", self.tmp / "none.json",
                              target=())
        self.assert_fails(result, 2, "--slice-channels and --topology exclude each other")


if __name__ == "__main__":
    unittest.main()
