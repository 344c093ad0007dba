"""Resize and Upsample code generation (tests/data/resize/, written by
tools/make_resize_models.py): PyTorch's F.interpolate at opsets 9-13 (nearest and bilinear, with
scale factors, sizes, align_corners, and the output size computed from the input's shape) and
the older exporters' graphs (Upsample-7/9, Resize-10, every nearest_mode and coordinate
transformation they write, downscales). float32 against onnxruntime on the model; int8 against
onnxruntime on the emitted QDQ file (the opset 7-11 models upgraded by --emit-qdq) and against
the float result."""
import json
import re
import unittest

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from helpers import SOURCE, run, single_op_model
from test_op_codegen import OpCodegenCase

RESIZE_MODELS = SOURCE / "tests" / "data" / "resize"
NEAREST = ["upsample_7", "resize_10", "resize_nearest_modes_13", "torch_nearest_9",
           "torch_nearest_recompute_11"]
LINEAR = ["upsample_linear_9", "resize_linear_modes_13", "torch_bilinear_9",
          "torch_bilinear_corners_11", "torch_bilinear_size_13"]
CUBIC = ["resize_cubic_modes_13", "torch_bicubic_11"]
ALIGN_CORNERS = "resize_align_corners_13"
# Nearest int8 on the models that hold a mode or exporter spelling the others do not (each check
# is three compiles and three onnxruntime runs; float32 runs on all of them). Linear and cubic
# int8 run on every model.
NEAREST_INT8 = {"upsample_7", "resize_nearest_modes_13", "torch_nearest_recompute_11"}


class ResizeTest(OpCodegenCase):
    models = RESIZE_MODELS
    qdq_from_opset = 0

    def test_models_are_the_generators(self):
        names = sorted(p.stem for p in RESIZE_MODELS.glob("*.onnx"))
        self.assertEqual(names, sorted(NEAREST + LINEAR + CUBIC + [ALIGN_CORNERS]))
        for name in names:
            self.assertEqual(onnx.load(RESIZE_MODELS / f"{name}.onnx").producer_name,
                             "make_resize_models", name)

    def test_nearest(self):
        # Nearest copies: float32 exact but for the convolutions around it; int8 a copy in the
        # input's parameters, and the convolutions round once as onnxruntime does, so the QDQ
        # file agrees.
        for name in NEAREST:
            with self.subTest(name):
                self.check_float32(name, tolerance=1e-6)
                if name in NEAREST_INT8:
                    self.check_int8(name, float_lsb=3.0)

    def test_upsample_output_keeps_its_name_through_the_opset_upgrade(self):
        # ONNX's Upsample adapter names its Resize's output anew; the importer gives the model's
        # name back, under which --emit-qdq finds the compiled graph's parameters, so the file
        # quantises it as the C does (it was left in float32).
        for name in ("torch_nearest_9", "torch_bilinear_9"):
            with self.subTest(name):
                model = RESIZE_MODELS / f"{name}.onnx"
                upsampled = next(n.output[0] for n in onnx.load(model).graph.node
                                 if n.op_type == "Upsample")
                qdq = self.tmp / f"{name}_renamed_qdq.onnx"
                result = run("compile", model, "--target", "host", "--calibration",
                             RESIZE_MODELS / f"{name}.npz", "--emit-qdq", qdq, "-o",
                             self.tmp / f"{name}_renamed")
                self.assertEqual(result.returncode, 0, result.stderr)
                nodes = onnx.load(qdq).graph.node
                self.assertIn(upsampled, [n.input[0] for n in nodes
                                          if n.op_type == "QuantizeLinear"])

    def test_linear(self):
        # Linear blends the int8 codes with Q20 weights and rounds once, ties to even
        # (docs/int8.md "Resize"), and the emitted file spells that blend out in exact double
        # arithmetic with the kernel's own weights, so onnxruntime computes the same codes. A
        # scale of 2 (quarters) or 0.75 (sixths) makes many blends exact halves, which the float32
        # DequantizeLinear -> Resize -> QuantizeLinear the file held before landed either way:
        # torch_bilinear_9 and upsample_linear_9 (scale 2) were 86.0 and 95.9 % exact,
        # linear_half_pixel_down (0.5 x 0.75) 92.2 %, torch_bilinear_size_13 97.3 %, each output
        # within 1 LSB; now every one is exact.
        for name in LINEAR:
            with self.subTest(name):
                self.check_float32(name, tolerance=1e-6)
                self.check_int8(name, float_lsb=3.0)

    def test_cubic(self):
        # Sixteen taps with Q30 weights, the output in its own calibrated parameters (Keys'
        # negative lobes overshoot the input's range), rescaled by Sx / Sy (docs/int8.md
        # "Resize"): the QDQ file computes the same real blend in float32. The Conv before the
        # Resize rounds once, as onnxruntime does (docs/int8.md "Fixed-point rescaling"). With
        # TFLite's double rounding it was 1 LSB off on ~0.2 % of its values, and the blend passed
        # that on: on the 3x upscale with a = -0.5 two neighbouring taps of weight 0.4375 were
        # both one code up (41.4988 and 17.4978 written 42 and 18), which Sx / Sy = 1.6 made 1.4
        # output steps, 2 LSB from the file's (22 against 20).
        for name in CUBIC:
            with self.subTest(name):
                self.check_float32(name, tolerance=1e-6)
                self.check_int8(name, float_lsb=3.0)

    def test_align_corners_on_lengths_scales_do_not_make_whole(self):
        # Scales 1.7 and 1.3 on 5 x 6: onnxruntime places align_corners' samples by the output's
        # lengths (8, 7), ONNX's reference by 8.5 and 7.8, which edgesplit followed (0.8-1.7 off
        # onnxruntime). Nearest, linear and cubic in float32 and in int8 against the QDQ file
        # (linear 96.9 % exact while the file blended in float32).
        self.check_float32(ALIGN_CORNERS, tolerance=1e-6)
        self.check_int8(ALIGN_CORNERS, float_lsb=3.0)

    def test_the_emitted_file_blends_the_codes_with_the_kernels_weights(self):
        # docs/int8.md "Resize": --emit-qdq writes an int8 linear Resize as the kernel's blend in
        # exact double arithmetic (Cast, a MatMul per axis with the Q20 weights the generated C
        # holds, Mul by 2^-40, Round, Cast, DequantizeLinear in the input's parameters); nearest
        # and cubic stay float Resizes between QuantizeLinear/DequantizeLinear. Valid at the
        # emitter's opset, byte for byte the same from the same inputs.
        model = RESIZE_MODELS / f"{ALIGN_CORNERS}.onnx"
        files = []
        for attempt in ("first", "second"):
            files.append(self.tmp / f"{attempt}.onnx")
            result = run("compile", model, "--target", "host", "--precision", "int8",
                         "--calibration", RESIZE_MODELS / f"{ALIGN_CORNERS}.npz", "--emit-qdq",
                         files[-1], "-o", self.tmp / attempt)
            self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(files[0].read_bytes(), files[1].read_bytes())
        onnx.checker.check_model(str(files[0]), full_check=True)
        emitted = onnx.load(files[0])
        self.assertEqual([(o.domain, o.version) for o in emitted.opset_import], [("", 13)])
        producer = {o: n for n in emitted.graph.node for o in n.output}
        self.assertEqual(sorted(helper.get_attribute_value(a).decode()
                                for n in emitted.graph.node if n.op_type == "Resize"
                                for a in n.attribute if a.name == "mode"), ["cubic", "nearest"])
        constants = {i.name: numpy_helper.to_array(i) for i in emitted.graph.initializer}
        # From the linear output back to the codes of the Conv before it.
        chain, value = [], "linear_dequantized"
        while value != "h_quantized":
            chain.append(producer[value].op_type)
            value = next(v for v in producer[value].input if v not in constants)
        self.assertEqual(chain[::-1], ["Cast", "MatMul", "MatMul", "Mul", "Round", "Cast",
                                       "DequantizeLinear", "QuantizeLinear", "DequantizeLinear"])
        weights = (self.tmp / "first" / "main" / "weights.c").read_text()

        def kernel_table(name):
            body = re.search(rf"main_linear_{name}\[\d+\] = {{([^}}]*)}}", weights).group(1)
            return np.array([int(v) for v in body.replace(",", " ").split()]).reshape(-1, 2)

        def weight_matrix(axis):
            # Named after the Resize node the blend replaced.
            [matrix] = [v for k, v in constants.items() if k.endswith(f"/{axis}_weights")]
            return matrix

        for axis, matrix in (("row", weight_matrix("row")),
                             ("col", weight_matrix("column").T)):
            with self.subTest(axis=axis):
                self.assertEqual(matrix.dtype, np.float64)
                expected = np.zeros_like(matrix)
                for output, (indices, pair) in enumerate(zip(kernel_table(f"{axis}s"),
                                                             kernel_table(f"{axis}_weights"))):
                    np.add.at(expected[output], indices, pair)
                self.assertTrue(np.array_equal(matrix, expected))
                self.assertTrue(np.all(matrix.sum(axis=1) == 2**20))
        [unit] = [v for k, v in constants.items() if k.endswith("/q40")]
        self.assertEqual(unit, 2.0**-40)

    def test_the_size_chain_folds_and_the_resize_is_one_call(self):
        ops = {n.op_type for n in onnx.load(RESIZE_MODELS / "torch_nearest_recompute_11.onnx").graph.node}
        self.assertTrue({"Shape", "Gather", "Mul", "Cast", "Floor", "Concat"} <= ops)
        result = run("compile", RESIZE_MODELS / "torch_nearest_recompute_11.onnx", "--target",
                     "host", "--precision", "float32", "-o", self.tmp / "c")
        self.assertEqual(result.returncode, 0, result.stderr)
        layers = json.loads((self.tmp / "c" / "report.json").read_text())["devices"][0]["layers"]
        self.assertEqual([layer["op"] for layer in layers], ["Conv", "Resize", "Conv"])

    def blend_model(self, mode, **attributes):
        """x [1, 2, 5, 6] resized (linear or cubic) into two outputs: 3x rows and half the
        columns (pytorch_half_pixel: fractions of thirds and halves), and align_corners by 1.7
        and 1.3 (sevenths and sixths)."""
        variants = {"thirds": ("pytorch_half_pixel", [1, 1, 3, 0.5], [15, 3]),
                    "sevenths": ("align_corners", [1, 1, 1.7, 1.3], [8, 7])}
        nodes = [helper.make_node("Resize", ["x", "", f"s_{name}"], [name], name=name,
                                  mode=mode, coordinate_transformation_mode=transformation,
                                  **attributes)
                 for name, (transformation, _, _) in variants.items()]
        graph = helper.make_graph(
            nodes, mode, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 5, 6])],
            [helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 2, *size])
             for name, (_, _, size) in variants.items()],
            [numpy_helper.from_array(np.array(scales, np.float32), f"s_{name}")
             for name, (_, scales, _) in variants.items()])
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])

    def test_int8_blends_are_the_nearest_code_of_the_real_blend(self):
        # The int8 kernels blend their own input codes, linear exactly with Q20 weights, cubic
        # with Q30 weights keeping 14 bits below an input step (docs/int8.md "Resize"): every
        # output is the int8 code nearest the real blend of the dequantised input (the reference
        # interpreter's, in double precision), but where that lies within 2^-12 of a half. With
        # linear's Q10 and cubic's Q15 weights (whose rounding moved a blend by up to ~0.03-0.04
        # of a step) some outputs of each were not (15 of linear's 1792 sevenths).
        rng = np.random.default_rng(23)
        for mode, attributes in (("linear", {}), ("cubic", {"cubic_coeff_a": -0.5})):
            model = self.save_model(f"{mode}.onnx", self.blend_model(mode, **attributes))
            np.savez(self.tmp / f"{mode}.npz",
                     x=rng.normal(0, 1, (16, 2, 5, 6)).astype(np.float32))
            out = self.tmp / f"{mode}_int8"
            qdq = self.tmp / f"{mode}_qdq.onnx"
            result = run("compile", model, "--target", "host", "--precision", "int8",
                         "--calibration", self.tmp / f"{mode}.npz", "--emit-qdq", qdq, "-o", out)
            self.assertEqual(result.returncode, 0, result.stderr)
            constants = {i.name: numpy_helper.to_array(i)
                         for i in onnx.load(qdq).graph.initializer}
            scale, zero = np.float32(constants["x_scale"]), int(constants["x_zero_point"])
            # Inputs that are int8 codes exactly, so that both sides blend the same values.
            codes = rng.integers(-128, 128, (16, 2, 5, 6))
            x = self.save_npy(f"{mode}_x.npy", ((codes - zero) * scale).astype(np.float32))
            ran, reference = self.tmp / f"{mode}_run", self.tmp / f"{mode}_reference"
            result = run("run", out, "--input", f"x={x}", "--raw", "-o", ran)
            self.assertEqual(result.returncode, 0, result.stderr)
            result = run("reference", model, "--input", f"x={x}", "-o", reference)
            self.assertEqual(result.returncode, 0, result.stderr)
            for entry in json.loads((ran / "run.json").read_text())["outputs"]:
                with self.subTest(mode=mode, output=entry["name"]):
                    ours = np.load(ran / entry["file"]).astype(np.int64)
                    real = np.load(reference / f"{entry['name']}.npy")
                    steps = real.astype(np.float64) / np.float64(np.float32(entry["scale"])) + \
                        entry["zero_point"]
                    nearest = np.clip(np.rint(steps), -128, 127)
                    clear = np.abs(np.abs(steps - np.floor(steps)) - 0.5) > 2.0 ** -12
                    self.assertTrue(np.array_equal(ours[clear], nearest[clear]),
                                    np.argwhere((ours != nearest) & clear)[:5])
                    self.assertLessEqual(np.abs(ours - np.clip(steps, -128, 127)).max(),
                                         0.5 + 2.0 ** -12)
                    # Halves of halves and sixths make many linear blends exact ties (either
                    # neighbour is within the bound above); cubic's weights rarely do.
                    self.assertGreater(clear.mean(), 0.6 if mode == "linear" else 0.99)

    def test_cubic_weights_beyond_the_kernel_are_refused(self):
        model = self.save_model("cubic_wide.onnx", self.blend_model("cubic", cubic_coeff_a=-8.0))
        np.savez(self.tmp / "wide.npz", x=np.ones((2, 2, 5, 6), np.float32))
        result = run("compile", model, "--target", "host", "--precision", "int8",
                     "--calibration", self.tmp / "wide.npz", "-o", self.tmp / "wide")
        self.assert_fails(result, 1, "node 'thirds' (Resize)", "cubic_coeff_a = -8",
                          "compile the model for float32")
        self.assertFalse((self.tmp / "wide").exists())

    def test_crops_are_refused_naming_the_node(self):
        for attributes, message in (
                ({"coordinate_transformation_mode": "tf_crop_and_resize"},
                 "coordinate_transformation_mode 'tf_crop_and_resize'"),):
            with self.subTest(message):
                model = single_op_model("Resize", (1, 2, 3, 4), **attributes)
                node = model.graph.node[0]
                node.input.extend(["roi", "scales"])
                model.graph.initializer.extend([
                    numpy_helper.from_array(np.array([0, 0, 0, 0, 1, 1, 1, 1], np.float32), "roi"),
                    numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")])
                model.graph.output[0].type.tensor_type.shape.dim[2].dim_value = 6
                model.graph.output[0].type.tensor_type.shape.dim[3].dim_value = 8
                out = self.tmp / "c"
                result = run("compile", self.save_model("r.onnx", model), "--target", "host",
                             "--precision", "float32", "-o", out)
                self.assert_fails(result, 1, "node 'the_node' (Resize)", message)
                self.assertFalse(out.exists())

    def test_resizing_the_channels_is_refused(self):
        model = single_op_model("Resize", (1, 2, 3, 4), mode="nearest")
        model.graph.node[0].input.extend(["", "scales"])
        model.graph.initializer.append(
            numpy_helper.from_array(np.array([1, 2, 1, 1], np.float32), "scales"))
        model.graph.output[0].type.tensor_type.shape.dim[1].dim_value = 4
        result = run("compile", self.save_model("c.onnx", model), "--target", "host",
                     "--precision", "float32", "-o", self.tmp / "c")
        self.assert_fails(result, 1, "code generation resizes only the last two dimensions; "
                          "dimension 1 changes from 2 to 4")


if __name__ == "__main__":
    unittest.main()
