"""compile --emit-qdq writes what the generated C computes: onnxruntime on the written file against
`run --raw` on the compiled folder, for the examples, real models and models of older opsets (the
file is written at opset 13, converted by the compile)."""
import json
import unittest

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from helpers import SHARED, SOURCE, CliTestCase, load_tensor_proto, run, run_onnxruntime

ORT = SOURCE / "build" / "ort" / "node_modules" / "onnxruntime-node"
REAL = SHARED / "real-models"
EXAMPLES = SOURCE / "examples"


class Builder:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.initializers = [], []

    def const(self, name, array):
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def weights(self, name, *shape, gain=0.3):
        return self.const(name, (self.rng.standard_normal(shape) * gain).astype(np.float32))

    def node(self, op_type, inputs, output, **attributes):
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=f"{output}_node",
                                           **attributes))
        return output

    def model(self, opset, input_shape, output_shape, more_outputs=()):
        outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)
                   for name, shape in (("y", output_shape), *more_outputs)]
        graph = helper.make_graph(
            self.nodes, f"opset{opset}",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, input_shape)], outputs,
            self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = 6
        return model


def legacy_model(opset):
    """Ops whose form changed between opset 7 and 13: Clip and Pad (attributes, inputs from 11),
    Squeeze/Unsqueeze (axes input from 13), Dropout (ratio input from 12), Softmax (2-D
    coercion before 13), BatchNormalization, MaxPool, Flatten, Gemm."""
    b = Builder(opset)
    b.node("Conv", ["x", b.weights("w", 4, 3, 3, 3), b.weights("b", 4, gain=0.1)], "c",
           pads=[1, 1, 1, 1])
    b.node("BatchNormalization",
           ["c", b.const("gamma", np.linspace(0.8, 1.2, 4, dtype=np.float32)),
            b.weights("beta", 4, gain=0.1), b.weights("mean", 4, gain=0.1),
            b.const("var", np.linspace(0.5, 1.5, 4, dtype=np.float32))], "bn")
    if opset < 11:
        b.node("Clip", ["bn"], "clip", min=0.0, max=6.0)
        b.node("Pad", ["clip"], "pad", pads=[0, 0, 1, 1, 0, 0, 1, 1])
    else:
        b.node("Clip", ["bn", b.const("lo", np.float32(0)), b.const("hi", np.float32(6))], "clip")
        b.node("Pad", ["clip", b.const("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64))],
               "pad")
    b.node("MaxPool", ["pad"], "pool", kernel_shape=[2, 2], strides=[2, 2])
    b.node("MaxPool", ["pool"], "column", kernel_shape=[1, 5])
    b.node("Squeeze", ["column"], "squeezed", axes=[3])
    b.node("Unsqueeze", ["squeezed"], "unsqueezed", axes=[3])
    b.node("Dropout", ["unsqueezed"], "dropped")
    b.node("Flatten", ["dropped"], "flat", axis=1)
    b.node("Gemm", ["flat", b.weights("gw", 20, 6), b.weights("gb", 6, gain=0.1)], "logits")
    b.node("Softmax", ["logits"], "y", axis=1)
    return b.model(opset, [1, 3, 8, 8], [1, 6], [("logits", [1, 6])])


def matmul_add_model():
    b = Builder(1)
    b.node("MatMul", ["x", b.weights("w", 16, 8)], "m")
    b.node("Add", ["m", b.weights("b", 8, gain=1.0)], "y")
    return b.model(13, [1, 16], [1, 8])


def conv_add_model():
    b = Builder(2)
    b.node("Conv", ["x", b.weights("w", 4, 3, 3, 3)], "c", pads=[1, 1, 1, 1])
    b.node("Add", ["c", b.weights("b", 1, 4, 1, 1, gain=1.0)], "y")
    return b.model(11, [1, 3, 8, 8], [1, 4, 8, 8])


def mean_model(mean_op):
    """A mean over the whole 6x6 map of the input: GlobalAveragePool or ReduceMean, and an
    AveragePool whose output parameters are its own (3x3 windows, padded ones averaging 4 or 6)."""
    b = Builder(3)
    if mean_op == "ReduceMean":
        b.node("ReduceMean", ["x"], "y", axes=[2, 3])
    elif mean_op == "AveragePool":
        b.node("AveragePool", ["x"], "y", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
        return b.model(13, [1, 8, 6, 6], [1, 8, 3, 3])
    else:
        b.node("GlobalAveragePool", ["x"], "y")
    return b.model(13, [1, 8, 6, 6], [1, 8, 1, 1])


def conv1_accumulators(constant, sensor, x):
    """The HAR example's first layer (Conv1d, kernel 5, stride 2, padding 2) from the emitted
    file's integers: int32 accumulators [N, O, L'] and the real factors Sx * Sw[c] / Sy."""
    scale, zero = constant[f"{sensor}_imu_scale"], constant[f"{sensor}_imu_zero_point"]
    q = np.clip(np.rint(x / scale) + zero, -128, 127).astype(np.int64) - zero
    weights = constant[f"{sensor}.conv1.weight_quantized"].astype(np.int64)
    bias = constant[f"{sensor}.conv1.bias_quantized"].astype(np.int64)
    padded = np.pad(q, ((0, 0), (0, 0), (2, 2)))
    kernel = weights.shape[2]
    steps = (padded.shape[2] - kernel) // 2 + 1
    acc = np.stack([np.einsum("nck,ock->no", padded[:, :, 2 * t:2 * t + kernel], weights)
                    for t in range(steps)], axis=2) + bias[None, :, None]
    factor = (np.float64(scale) * constant[f"{sensor}.conv1.weight_scale"].astype(np.float64) /
              np.float64(constant[f"{sensor}_conv1_scale"]))[None, :, None]
    return acc, np.broadcast_to(factor, acc.shape)


def fixed_point(factor):
    """docs/int8.md's (multiplier, exponent) of each real factor, in numpy int64."""
    mantissa, exponent = np.frexp(factor)
    multiplier = np.floor(mantissa * 2.0**31 + 0.5).astype(np.int64)
    exponent = np.where(multiplier == 2**31, exponent + 1, exponent).astype(np.int64)
    return np.where(multiplier == 2**31, 2**30, multiplier), exponent


def requantize_twice(acc, factor):
    """docs/int8.md "Fixed-point rescaling", double rounding (TFLite's), in numpy int64."""
    multiplier, exponent = fixed_point(factor)
    left, right = np.maximum(exponent, 0), np.maximum(-exponent, 0)
    product = np.clip(acc << left, -2**31, 2**31 - 1) * multiplier
    nudged = product + np.where(product >= 0, 2**30, 1 - 2**30)
    high = np.where(nudged >= 0, nudged // 2**31, -((-nudged) // 2**31))  # toward zero
    mask = (np.int64(1) << right) - 1
    return (high >> right) + ((high & mask) > (mask >> 1) + (high < 0))


def requantize_once(acc, factor):
    """docs/int8.md "Fixed-point rescaling", single rounding: acc * multiplier / 2^(31 - shift)
    rounded once, halves up (the factors here are below 1/2: no saturation)."""
    multiplier, exponent = fixed_point(factor)
    right = 31 - exponent
    return (acc * multiplier + (np.int64(1) << (right - 1))) >> right


@unittest.skipUnless(ORT.is_dir(), f"{ORT} is absent: run tools/setup.sh")
class EmitQdqTest(CliTestCase):
    def compare(self, name, model, inputs, calibration=None, single_layer=False, check=True):
        """Compiles `model` to int8 with --emit-qdq, runs both on `inputs` (name -> [N, ...]) and
        checks the stored int8 outputs against onnxruntime's, requantised to the same grid: all
        within 1 LSB, and on single layers at least 99 % exact. Returns the LSB differences by
        output name."""
        paths = {k: self.save_npy(f"{name}_{k}.npy", v) for k, v in inputs.items()}
        flags = []
        if calibration is not None:
            flags = ["--calibration", self.tmp / f"{name}_calib.npz"]
            np.savez(flags[1], **calibration)
        qdq, out = self.tmp / f"{name}_qdq.onnx", self.tmp / f"{name}_int8"
        result = run("compile", model, "--target", "host", *flags, "--emit-qdq", qdq, "-o", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertGreaterEqual(
            next(o.version for o in onnx.load(qdq).opset_import if o.domain == ""), 13)
        raw = self.tmp / f"{name}_raw"
        feeds = [a for k, p in paths.items() for a in ("--input", f"{k}={p}")]
        result = run("run", out, *feeds, "--raw", "-o", raw)
        self.assertEqual(result.returncode, 0, result.stderr)
        ort = self.tmp / f"{name}_ort"
        run_onnxruntime(qdq, ort, "--per-sample", **paths)
        ports = json.loads((out / "report.json").read_text())["devices"][0]["outputs"]
        worst, least_exact, messages, differences = 0, 1.0, [], {}
        for port in ports:
            safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in port["name"])
            ours = np.load(raw / f"{safe}.npy").astype(np.int32)
            theirs = np.load(ort / f"{safe}.npy")
            self.assertEqual(ours.shape, theirs.shape)
            grid = np.clip(np.round(theirs / port["scale"]) + port["zero_point"], -128, 127)
            lsb = np.abs(ours - grid.astype(np.int32))
            differences[port["name"]] = lsb
            worst, least_exact = max(worst, lsb.max()), min(least_exact, (lsb == 0).mean())
            messages.append(f"{port['name']}: {lsb.max()} LSB, {(lsb == 0).mean():.1%} exact")
        print(f"\n{name}: {'; '.join(messages)}")
        if check:
            self.assertLessEqual(worst, 1, f"{name}: {'; '.join(messages)}")
        if single_layer:
            self.assertGreaterEqual(least_exact, 0.99, f"{name}: {'; '.join(messages)}")
        return differences

    def test_single_layers_with_a_constant_addend_are_exact(self):
        rng = np.random.default_rng(0)
        x = rng.standard_normal((64, 16)).astype(np.float32)
        self.compare("matmul_add", self.save_model("matmul_add.onnx", matmul_add_model()),
                     {"x": x}, {"x": x[:16]}, single_layer=True)
        x = rng.standard_normal((16, 3, 8, 8)).astype(np.float32)
        self.compare("conv_add", self.save_model("conv_add.onnx", conv_add_model()),
                     {"x": x}, {"x": x[:8]}, single_layer=True)

    def test_softmax_is_written_as_its_integer_steps(self):
        """The int8 Softmax sums a table of 2^16 exp(Sx d) and divides in integers (docs/int8.md);
        a float Softmax in the file rounds a probability within float32's error of a half-step
        either way (the attention probe: 1 of 12,800, then 2 LSB after the Gemm). The file holds
        the kernel's steps, on the last axis and on an inner one, so every output is exact."""
        rng = np.random.default_rng(3)
        for axis in (-1, 1):
            with self.subTest(axis=axis):
                b = Builder(11)
                b.node("MatMul", ["x", b.weights("w", 20, 20, gain=1.5)], "logits")
                b.node("Softmax", ["logits"], "y", axis=axis)
                name = f"softmax_axis{axis}"
                model = self.save_model(f"{name}.onnx", b.model(13, [1, 6, 20], [1, 6, 20]))
                x = rng.standard_normal((64, 6, 20)).astype(np.float32)
                differences = self.compare(name, model, {"x": x}, {"x": x[:16]},
                                           single_layer=True)
                self.assertEqual(differences["y"].max(), 0)
                ops = [n.op_type for n in onnx.load(self.tmp / f"{name}_qdq.onnx").graph.node]
                self.assertNotIn("Softmax", ops)
                self.assertIn("ReduceSum", ops)

    def test_means_round_once_as_onnxruntime_does(self):
        """The int8 means rescale their sum with one rounding, as DQ -> float mean -> Q does; a
        fixed-point multiply then a shift (two roundings) left 11-23 % of these 1 LSB off."""
        x = np.random.default_rng(3).standard_normal((64, 8, 6, 6)).astype(np.float32)
        for op in ("GlobalAveragePool", "ReduceMean", "AveragePool"):
            with self.subTest(op=op):
                self.compare(op, self.save_model(f"{op}.onnx", mean_model(op)), {"x": x},
                             {"x": x[:16]}, single_layer=True)

    def test_models_of_older_opsets_are_written_at_opset_13(self):
        x = np.random.default_rng(1).standard_normal((8, 3, 8, 8)).astype(np.float32)
        # Opset 8 goes through every adapter (Pad and Clip 10 -> 11, Dropout 11 -> 12, Squeeze,
        # Unsqueeze and Softmax 12 -> 13), opset 11 through those of its inputs-form ops.
        for opset in (8, 11):
            with self.subTest(opset=opset):
                model = legacy_model(opset)
                onnx.checker.check_model(model)
                # Every output within 1 LSB, the Softmax's too: a logit 1 LSB off (TFLite's
                # double rounding left some) moved it by more than its 1/256 step.
                self.compare(f"legacy{opset}", self.save_model(f"legacy{opset}.onnx", model),
                             {"x": x}, {"x": x})

    def test_reflect_and_edge_pads_of_opset_2_are_upgraded(self):
        """Pad-2's reflect and edge modes, one with the value attribute it ignores: the upgrade
        to opset 13 drops that value (Pad-11 has no such attribute, and ONNX's adapter left it
        there), and the file pads as the C does."""
        x = np.random.default_rng(2).standard_normal((8, 3, 6, 6)).astype(np.float32)
        b = Builder(9)
        b.node("Pad", ["x"], "reflected", mode="reflect", pads=[0, 0, 1, 1, 0, 0, 1, 1])
        b.node("Pad", ["reflected"], "y", mode="edge", value=0.0, pads=[0, 0, 2, 0, 0, 0, 0, 1])
        model = self.save_model("pads9.onnx", b.model(9, [1, 3, 6, 6], [1, 3, 10, 9]))
        self.compare("pads9", model, {"x": x}, {"x": x}, single_layer=True)

    def test_two_imu_example(self):
        two_imu = EXAMPLES / "two_imu"
        inputs = {k: np.load(two_imu / f"{k}.npy")[:8] for k in ("wrist_imu", "ankle_imu")}
        self.compare("two_imu", two_imu / "model.onnx", inputs, inputs)

    def test_har_example(self):
        """The compiler chose the HAR example's parameters, so its convolutions and Gemms round
        once, as onnxruntime's QLinearConv/QLinearGemm do (docs/int8.md, "Fixed-point
        rescaling"): every output within 1 LSB of the file (all 336 exact when written). The
        first layer shows the rule: the file's int8 values of each sensor's conv1 (fused Relu)
        from onnxruntime equal the single rounding of the file's own accumulators, all 9216, and
        differ from TFLite's double rounding (the rule pre-quantised models keep) on a few (13),
        each within 2^-right of a half."""
        har = EXAMPLES / "har"
        sensors = ("wrist", "ankle", "chest")
        inputs = {f"{k}_imu": np.load(har / f"{k}_imu.npy")[:8] for k in sensors}
        lsb = self.compare("har", har / "model.onnx", inputs, dict(np.load(har / "calibration.npz")))
        everything = np.concatenate([d.ravel() for d in lsb.values()])
        print(f"\nhar: {(everything == 0).mean():.1%} exact, max {everything.max()} LSB over "
              f"{everything.size} outputs")
        for name, d in lsb.items():
            self.assertGreaterEqual((d == 0).mean(), 0.9, name)

        model = onnx.load(self.tmp / "har_qdq.onnx")
        constant = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
        for sensor in sensors:
            model.graph.output.append(helper.make_tensor_value_info(
                f"{sensor}_relu1_quantized", TensorProto.INT8, None))
        onnx.save(model, self.tmp / "har_layer1.onnx")
        run_onnxruntime(self.tmp / "har_layer1.onnx", self.tmp / "har_layer1", "--per-sample",
                        **{k: self.tmp / f"har_{k}.npy" for k in inputs})
        twice_differ = 0
        for sensor in sensors:
            acc, factor = conv1_accumulators(constant, sensor, inputs[f"{sensor}_imu"])
            zero = int(constant[f"{sensor}_conv1_zero_point"])
            theirs = np.load(self.tmp / "har_layer1" / f"{sensor}_relu1_quantized.npy")
            real = acc * factor
            from_half = np.abs(real - np.floor(real) - 0.5)
            once = np.clip(requantize_once(acc, factor) + zero, zero, 127)
            np.testing.assert_array_equal(once, theirs, sensor)
            twice = np.clip(requantize_twice(acc, factor) + zero, zero, 127)
            twice_differ += (twice != once).sum()
            window = np.broadcast_to(2.0 ** np.minimum(np.frexp(factor)[1], 0), real.shape)
            self.assertTrue((from_half[twice != once] <= window[twice != once]).all(), sensor)
        # The two rules part on this layer: the equality above tells them apart.
        self.assertGreater(twice_differ, 0)

    def test_the_rounding_rule_follows_where_the_parameters_came_from(self):
        """Calibrated models round once, pre-quantised ones as the kernels they were quantised for
        (onnxruntime's quantiser's once, TFLite's twice); --rounding overrides, for int8 only. The rule is fixed in the generated
        runtime/src/s8_rounding.h."""
        x = np.random.default_rng(0).standard_normal((16, 16)).astype(np.float32)
        model = self.save_model("rule.onnx", matmul_add_model())
        np.savez(self.tmp / "rule_calib.npz", x=x)
        # onnxruntime's quantiser names itself "onnx.quantize"; the same graph as a TFLite
        # conversion names its converter.
        quantised = SOURCE / "tests" / "data" / "exporters" / "quantised_opset17.onnx"
        self.assertEqual(onnx.load(quantised).producer_name, "onnx.quantize")
        tflite = onnx.load(quantised)
        tflite.producer_name = "tflite2onnx_qdq"
        tflite = self.save_model("rule_tflite.onnx", tflite)
        cases = [("calibrated", model, ["--calibration", self.tmp / "rule_calib.npz"], 1),
                 ("forced", model, ["--calibration", self.tmp / "rule_calib.npz", "--rounding",
                                    "double"], 0),
                 ("onnxruntime_quantised", quantised, [], 1),
                 ("tflite_quantised", tflite, [], 0),
                 ("tflite_forced", tflite, ["--rounding", "single"], 1)]
        for name, path, flags, single in cases:
            with self.subTest(name):
                out = self.tmp / f"rule_{name}"
                result = run("compile", path, "--target", "host", *flags, "-o", out)
                self.assertEqual(result.returncode, 0, result.stderr)
                header = (out / "main" / "runtime" / "src" / "s8_rounding.h").read_text()
                self.assertIn(f"#define ES_S8_SINGLE_ROUNDING {single}\n", header)
                device = json.loads((out / "report.json").read_text())["devices"][0]
                self.assertEqual(device["int8_rounding"], "single" if single else "double")
        for flags, message in ((["--precision", "float32", "--rounding", "single"],
                                "--rounding needs --precision int8"),
                               (["--rounding", "half"], "--rounding")):
            with self.subTest(flags=flags):
                out = self.tmp / "rule_refused"
                result = run("compile", model, "--target", "host", "--calibration",
                             self.tmp / "rule_calib.npz", *flags, "-o", out)
                self.assertNotEqual(result.returncode, 0)
                self.assertIn(message, result.stderr)
                self.assertFalse(out.exists())

    @unittest.skipUnless(REAL.is_dir(), f"{REAL} is absent (a plain clone)")
    def test_real_models(self):
        """mnist-8 (opset 8) and the pre-quantised kws; test_compile checks the calibrated kws and
        mobilenet exports the same way."""
        for model_dir in (REAL / "mnist-8", REAL / "kws_micro_m_qdq"):
            with self.subTest(model=model_dir.name):
                model = onnx.load(model_dir / "model.onnx")
                initializers = {i.name for i in model.graph.initializer}
                name = next(i.name for i in model.graph.input if i.name not in initializers)
                x = load_tensor_proto(model_dir / "test_data_set_0" / "input_0.pb")
                rng = np.random.default_rng(7)
                samples = np.concatenate(
                    [x] + [x + rng.normal(0, 0.05 * x.std(), x.shape).astype(np.float32)
                           for _ in range(3)])
                quantised = any(n.op_type == "QuantizeLinear" for n in model.graph.node)
                self.compare(model_dir.name, model_dir / "model.onnx", {name: samples},
                             None if quantised else {name: samples})


if __name__ == "__main__":
    unittest.main()
