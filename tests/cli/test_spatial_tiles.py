"""Spatial tiles (docs/partition.md "Spatial tiles"): a model compiled for one device with
`--tile-rows FIRST..LAST=K` runs the chain of layers from FIRST to LAST as K bands of its output
rows (each with its halo) joined by a Concat on the row axis, as a fleet does with a chain whose
activations no device holds. Its outputs from `edgesplit run` (the generated C, built for the
host) equal those of the whole model bit for bit in int8 and exactly in float32."""
import json
import unittest

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from helpers import CliTestCase, run

RNG_SEED = 18


def inverted_residual_model(channels=4, expanded=12, outputs=6, height=15, width=12):
    """Two MobileNetV2 inverted-residual blocks and a tail:
    a: 1x1 expand -> Relu6 -> Pad 1 -> 3x3 depthwise -> Relu6 -> 1x1 project -> Add x (residual);
    b: 1x1 expand -> Relu6 -> 3x3 depthwise stride 2 (pads 1) -> Relu6 -> 1x1 project;
    then Mul by a per-channel constant and a 3x3 AveragePool (pads 1, padding not counted).
    x [1, channels, height, width] -> y [1, outputs, ceil(height / 2), ceil(width / 2)]."""
    rng = np.random.default_rng(RNG_SEED)

    def uniform(name, shape, scale=1.0):
        return numpy_helper.from_array(rng.uniform(-scale, scale, shape).astype(np.float32), name)

    inits = [
        uniform("ae_w", (expanded, channels, 1, 1)), uniform("ae_b", expanded, 0.5),
        uniform("ad_w", (expanded, 1, 3, 3)), uniform("ad_b", expanded, 0.5),
        uniform("ap_w", (channels, expanded, 1, 1), 0.5), uniform("ap_b", channels, 0.5),
        uniform("be_w", (expanded, channels, 1, 1)), uniform("be_b", expanded, 0.5),
        uniform("bd_w", (expanded, 1, 3, 3)), uniform("bd_b", expanded, 0.5),
        uniform("bp_w", (outputs, expanded, 1, 1), 0.5), uniform("bp_b", outputs, 0.5),
        uniform("scale", (1, outputs, 1, 1), 2.0),
        numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads"),
        numpy_helper.from_array(np.float32(0), "zero"), numpy_helper.from_array(np.float32(6), "six"),
    ]

    def relu6(name, x, y):
        return helper.make_node("Clip", [x, "zero", "six"], [y], name=name)

    nodes = [
        helper.make_node("Conv", ["x", "ae_w", "ae_b"], ["ae"], name="a_expand"),
        relu6("a_relu6", "ae", "aer"),
        helper.make_node("Pad", ["aer", "pads"], ["ap"], name="a_pad"),
        helper.make_node("Conv", ["ap", "ad_w", "ad_b"], ["ad"], name="a_depthwise",
                         group=expanded),
        relu6("a_relu6b", "ad", "adr"),
        helper.make_node("Conv", ["adr", "ap_w", "ap_b"], ["apj"], name="a_project"),
        helper.make_node("Add", ["apj", "x"], ["a"], name="a_add"),
        helper.make_node("Conv", ["a", "be_w", "be_b"], ["be"], name="b_expand"),
        relu6("b_relu6", "be", "ber"),
        helper.make_node("Conv", ["ber", "bd_w", "bd_b"], ["bd"], name="b_depthwise",
                         group=expanded, strides=[2, 2], pads=[1, 1, 1, 1]),
        relu6("b_relu6b", "bd", "bdr"),
        helper.make_node("Conv", ["bdr", "bp_w", "bp_b"], ["bp"], name="b_project"),
        helper.make_node("Mul", ["bp", "scale"], ["s"], name="scale_mul"),
        helper.make_node("AveragePool", ["s"], ["y"], name="pool", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
    ]
    out = [1, outputs, (height + 1) // 2, (width + 1) // 2]
    graph = helper.make_graph(
        nodes, "tiled",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, channels, height, width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


class SpatialTileEquivalenceTest(CliTestCase):
    def outputs(self, model, x, precision, *flags):
        """`edgesplit run` of `model` compiled for the host: the raw output and the folder."""
        out = self.tmp / f"{model.stem}_{precision}_{'_'.join(flags).replace('.', '')}"
        calibration = self.tmp / "calib.npz"
        np.savez(calibration, x=x)
        result = run("compile", model, "--target", "host", "--precision", precision,
                     "--calibration", calibration, *flags, "-o", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        ran = self.tmp / f"{out.name}_run"
        result = run("run", out, "--input", f"x={self.save_npy('x.npy', x)}", "-o", ran, "--raw")
        self.assertEqual(result.returncode, 0, result.stderr)
        run_json = json.loads((ran / "run.json").read_text())
        return np.load(ran / run_json["outputs"][0]["file"]), out

    def test_two_inverted_residual_blocks_in_bands_bit_exact(self):
        model = self.save_model("blocks.onnx", inverted_residual_model())
        x = np.random.default_rng(7).uniform(-1, 1, (4, 4, 15, 12)).astype(np.float32)
        wholes = {}
        for precision in ("int8", "float32"):
            whole, _ = wholes[precision] = self.outputs(model, x, precision)
            self.assertGreater(len(np.unique(whole)), 32, "the output should vary")
            for k in (2, 3, 4):
                with self.subTest(precision=precision, k=k):
                    tiled, out = self.outputs(model, x, precision, "--tile-rows",
                                              f"a_expand..pool={k}")
                    np.testing.assert_array_equal(tiled, whole)
                    report = json.loads((out / "report.json").read_text())
                    names = [layer["node"] for layer in report["devices"][0]["layers"]]
                    self.assertEqual(sorted(n for n in names if n.startswith("b_depthwise/")),
                                     [f"b_depthwise/band{i}" for i in range(k)])
                    self.assertNotIn("b_depthwise", names)
        # Two chains, the first one block alone ending in its residual Add.
        tiled, _ = self.outputs(model, x, "int8", "--tile-rows", "a_expand..a_add=3",
                                "--tile-rows", "b_expand..b_project=2")
        np.testing.assert_array_equal(tiled, wholes["int8"][0])


class SpatialTileBadInputTest(CliTestCase):
    def compile(self, *flags, target=("--target", "host")):
        model = self.save_model("blocks.onnx", inverted_residual_model())
        calibration = self.tmp / "calib.npz"
        np.savez(calibration, x=np.ones((2, 4, 15, 12), np.float32))
        return run("compile", model, *target, "--calibration", calibration, *flags,
                   "-o", self.tmp / "out")

    def test_bad_requests_name_the_chain_and_the_fix(self):
        cases = [
            (("--tile-rows", "a_expand=2"), 2, "--tile-rows 'a_expand=2': expected FIRST..LAST=K"),
            (("--tile-rows", "a_expand..pool"), 2, "expected FIRST..LAST=K"),
            (("--tile-rows", "..pool=2"), 2, "expected FIRST..LAST=K"),
            (("--tile-rows", "a_expand..nothere=2"), 1, "--tile-rows: no node 'nothere'"),
            (("--tile-rows", "b_project..a_expand=2"), 1,
             "node 'a_expand' (Conv) does not follow node 'b_project' (Conv)"),
            (("--tile-rows", "a_pad..a_add=2"), 1,
             "the chain a_pad..a_add cannot be cut into bands of rows: node 'a_add' (Add) reads "
             "a tensor that is not one of the chain's"),
            (("--tile-rows", "b_expand..pool=9"), 1,
             "the chain b_expand..pool has 8 output rows: K must be in [2, 8]"),
            (("--tile-rows", "b_expand..pool=1"), 1, "K must be in [2, 8]"),
            (("--tile-rows", "a_expand..a_add=2", "--tile-rows", "a_expand..a_add=2"), 1,
             "a chain tiled by an earlier --tile-rows is gone"),
        ]
        for flags, code, fragment in cases:
            with self.subTest(flags=flags):
                self.assert_fails(self.compile(*flags), code, fragment)
                self.assertFalse((self.tmp / "out").exists())

    def test_not_with_a_topology(self):
        result = self.compile("--tile-rows", "a_expand..pool=2", "--topology",
                              self.tmp / "none.json", target=())
        self.assert_fails(result, 2, "--tile-rows and --topology exclude each other")


if __name__ == "__main__":
    unittest.main()
