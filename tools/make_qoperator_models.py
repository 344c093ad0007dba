#!/usr/bin/python3
"""Writes tests/data/qoperator/*.onnx: small pre-quantised models in the exact forms that
onnxruntime's quantiser (QOperator and QDQ formats), tf2onnx (TFLite models) and PyTorch's
quantisation export write, for tests/cli/test_prequantised.py. Built by hand with onnx.helper
following their documented output (no onnxruntime Python quantiser is available here); every model
reads x [N, 3, 8, 8] and writes y, the DequantizeLinear of an int8/uint8 tensor, and each file
holds several models side by side as <model>_x -> <model>_y.

usage: /usr/bin/python3 tools/make_qoperator_models.py [OUTDIR]"""
import pathlib
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

SOURCE = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(SOURCE / "tests" / "cli"))
from test_qoperator import ModelBuilder  # noqa: E402  (the quantiser's parameter choices)

MICROSOFT = "com.microsoft"


class Builder(ModelBuilder):
    def node(self, op_type, inputs, output, domain=None, **attributes):
        self.nodes.append(helper.make_node(op_type, inputs, [output], name=f"{output}_node",
                                           domain=domain, **attributes))
        return output

    def quantised_input(self):
        """x quantised as the quantiser does for an input in about [-4, 4]: (name, scale, zp)."""
        xs, xz, x_scale = self.activation("x", -4, 4)
        return self.node("QuantizeLinear", ["x", xs, xz], "xq"), (xs, xz, x_scale)

    def qlinear_conv(self, source, params, name, lo, hi, channels=3, weight_bound=127):
        """A 3x3 QLinearConv (padded) of `source` to `channels` channels: its output parameters."""
        xs, xz, x_scale = params
        w, ws, wz, w_scales = self.weights(f"{name}_w", (channels, 3, 3, 3), 0, 0.5, weight_bound)
        ys, yz, y_scale = self.activation(name, lo, hi)
        self.node("QLinearConv", [source, xs, xz, w, ws, wz, ys, yz,
                                  self.int32_bias(f"{name}_b", x_scale, w_scales)],
                  f"{name}q", pads=[1, 1, 1, 1])
        return f"{name}q", (ys, yz, y_scale)

    def dequantised_weights(self, name, shape, axis, largest):
        """QDQ weights: int8 symmetric per channel along `axis` behind a DequantizeLinear, as
        onnxruntime's QDQ quantiser, tf2onnx and PyTorch store them; also the scales."""
        w, ws, wz, scales = self.weights(name, shape, axis, largest)
        attributes = {"axis": axis} if self.per_channel else {}
        return self.node("DequantizeLinear", [w, ws, wz], f"{name}_dq", **attributes), scales

    def dequantised_bias(self, name, input_scale, weight_scales):
        bias = self.int32_bias(name, input_scale, weight_scales)
        scale = self.const(f"{name}_scale", (input_scale * weight_scales).astype(np.float32))
        zero = self.const(f"{name}_zp", np.zeros(len(weight_scales), np.int32))
        return self.node("DequantizeLinear", [bias, scale, zero], f"{name}_dq", axis=0)

    def qdq(self, value, params, name):
        """QuantizeLinear -> DequantizeLinear of a float value, as QDQ formats put them."""
        scale, zero, _ = params
        self.node("QuantizeLinear", [value, scale, zero], f"{name}_q")
        return self.node("DequantizeLinear", [f"{name}_q", scale, zero], f"{name}_dq")

    def finish(self, quantised, params, output_shape, microsoft=False, opset=13):
        scale, zero, _ = params
        self.node("DequantizeLinear", [quantised, scale, zero], "y")
        graph = helper.make_graph(
            self.nodes, "prequantised",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", *output_shape])],
            self.initializers)
        imports = [helper.make_opsetid("", opset)]
        if microsoft:
            imports.append(helper.make_opsetid(MICROSOFT, 1))
        model = helper.make_model(graph, opset_imports=imports, producer_name="onnx.quantize")
        onnx.checker.check_model(model)
        return model


# onnxruntime's QOperator format (quantize_static(quant_format=QuantFormat.QOperator)): the input
# quantised, the com.microsoft op under test (a binary one also reads a QLinearConv of the input),
# then the output dequantised.

def qlinear_unary(seed, act_type, op_type, output_range, output_shape=(3, 8, 8), **attributes):
    b = Builder(seed, act_type)
    xq, xp = b.quantised_input()
    if output_range is None:  # fixed by the op: softmax and sigmoid outputs in [0, 1]
        zero = 0 if act_type == np.uint8 else -128
        yp = (b.const("y_scale", np.float32(1 / 256)), b.const("y_zp", act_type(zero)), 1 / 256)
    else:
        yp = b.activation("y", *output_range)
    source = xq
    if attributes.get("channels_last"):
        source = b.node("Transpose", [xq], "x_nhwc", perm=[0, 2, 3, 1])
    b.node(op_type, [source, xp[0], xp[1], yp[0], yp[1]], "yq", domain=MICROSOFT, **attributes)
    return b.finish("yq", yp, output_shape, microsoft=True)


def qlinear_binary(seed, act_type, op_type, output_range):
    b = Builder(seed, act_type)
    xq, xp = b.quantised_input()
    cq, cp = b.qlinear_conv(xq, xp, "c", -5, 5)
    yp = b.activation("y", *output_range)
    b.node(op_type, [xq, xp[0], xp[1], cq, cp[0], cp[1], yp[0], yp[1]], "yq", domain=MICROSOFT)
    return b.finish("yq", yp, (3, 8, 8), microsoft=True)


def qlinear_concat(seed, act_type):
    b = Builder(seed, act_type)
    xq, xp = b.quantised_input()
    # uint8 activations take 7-bit weights, as onnxruntime's quantiser's reduce_range gives them
    # for x86 without VNNI: there onnxruntime's U8S8 products of full-range weights saturate, and
    # its exact path has no kernel for the int8 QLinearConvs sharing the file.
    cq, cp = b.qlinear_conv(xq, xp, "c", -5, 5, channels=4,
                            weight_bound=63 if act_type == np.uint8 else 127)
    yp = b.activation("y", -5, 5)
    b.node("QLinearConcat", [yp[0], yp[1], xq, xp[0], xp[1], cq, cp[0], cp[1]], "yq",
           domain=MICROSOFT, axis=1)
    return b.finish("yq", yp, (7, 8, 8), microsoft=True)


# QDQ with an activation between the op and its QuantizeLinear: tf2onnx writes a TFLite conv's
# fused Relu/Relu6 this way, PyTorch's quantisation export its ConvReLU/LinearReLU modules.

def qdq_conv_activation(seed, act_type, activation, output_range=(0, 6), pool=False,
                        **attributes):
    """Q -> DQ -> Conv -> activation [-> MaxPool] -> Q: the model quantises only the end."""
    b = Builder(seed, act_type)
    xp = b.activation("x", -4, 4)
    x = b.qdq("x", xp, "x")
    w, w_scales = b.dequantised_weights("w", (4, 3, 3, 3), 0, 0.5)
    bias = b.dequantised_bias("b", xp[2], w_scales)
    conv = b.node("Conv", [x, w, bias], "c", pads=[1, 1, 1, 1])
    if activation == "Clip":  # Relu6
        act = b.node("Clip", [conv, b.const("lo", np.float32(0)), b.const("hi", np.float32(6))],
                     "a")
    else:
        act = b.node(activation, [conv], "a", **attributes)
    if output_range is None:  # TFLite's fixed parameters for the logistic function
        yp = (b.const("a_scale", np.float32(1 / 256)), b.const("a_zp", act_type(-128)), 1 / 256)
    else:
        yp = b.activation("a", *output_range)
    shape = (4, 8, 8)
    if pool:
        act, shape = b.node("MaxPool", [act], "p", kernel_shape=[2, 2], strides=[2, 2]), (4, 4, 4)
    b.node("QuantizeLinear", [act, yp[0], yp[1]], "aq")
    return b.finish("aq", yp, shape, opset=14 if activation == "HardSwish" else 13)


def qdq_dense_relu(seed, act_type, as_gemm, rows=False):
    """Flatten -> Q -> DQ -> Gemm (or MatMul + Add) -> Relu -> Q; with `rows`, the MatMul reads
    [N, 3, 64] as PyTorch's Linear on a sequence does."""
    b = Builder(seed, act_type)
    if rows:
        flat = b.node("Reshape", ["x", b.const("rows", np.array([0, 3, 64], np.int64))], "flat")
        inner, shape = 64, (3, 16)
    else:
        flat, inner, shape = b.node("Flatten", ["x"], "flat", axis=1), 192, (16,)
    xp = b.activation("x", -4, 4)
    x = b.qdq(flat, xp, "x")
    w, w_scales = b.dequantised_weights("w", (inner, 16), 1, 0.1)
    bias = b.dequantised_bias("b", xp[2], w_scales)
    if as_gemm:
        dense = b.node("Gemm", [x, w, bias], "d")
    else:
        dense = b.node("Add", [b.node("MatMul", [x, w], "mm"), bias], "d")
    act = b.node("Relu", [dense], "a")
    yp = b.activation("a", 0, 4)
    b.node("QuantizeLinear", [act, yp[0], yp[1]], "aq")
    return b.finish("aq", yp, shape)


def qdq_requantised_move(seed, act_type, op_type):
    """Q -> DQ -> Conv -> Q -> DQ -> MaxPool / Reshape -> Q (other parameters) -> DQ: the value
    moving op's input and output parameters differ, as a per-tensor quantiser may leave them."""
    b = Builder(seed, act_type)
    xp = b.activation("x", -4, 4)
    x = b.qdq("x", xp, "x")
    w, w_scales = b.dequantised_weights("w", (4, 3, 3, 3), 0, 0.5)
    conv = b.node("Conv", [x, w, b.dequantised_bias("b", xp[2], w_scales)], "c", pads=[1, 1, 1, 1])
    c = b.qdq(conv, b.activation("c", -5, 5), "c")
    if op_type == "MaxPool":
        moved, shape = b.node("MaxPool", [c], "m", kernel_shape=[2, 2], strides=[2, 2]), (4, 4, 4)
    else:
        moved = b.node("Reshape", [c, b.const("shape", np.array([-1, 256], np.int64))], "m")
        shape = (256,)
    yp = b.activation("y", -2, 6)
    b.node("QuantizeLinear", [moved, yp[0], yp[1]], "yq")
    return b.finish("yq", yp, shape)


def integer_reshaped_weights(seed, act_type):
    """onnxruntime's IntegerOps pattern with weights a quantiser left behind
    QuantizeLinear(Reshape(float initialiser)): Q -> ConvInteger -> Cast -> Mul -> Add -> MaxPool
    -> Q -> DQ."""
    b = Builder(seed, act_type)
    xs, xz, x_scale = b.activation("x", -4, 4)
    xq = b.node("QuantizeLinear", ["x", xs, xz], "xq")
    w_scale = np.float32(0.5 / 127)
    real = (b.rng.integers(-127, 128, 4 * 27) * w_scale).astype(np.float32)
    shaped = b.node("Reshape", [b.const("w_flat", real),
                                b.const("w_shape", np.array([4, 3, 3, 3], np.int64))], "w_real")
    wq = b.node("QuantizeLinear", [shaped, b.const("w_scale", w_scale),
                                   b.const("w_zp", np.int8(0))], "wq")
    b.node("ConvInteger", [xq, wq, xz, "w_zp"], "acc", pads=[1, 1, 1, 1])
    b.node("Cast", ["acc"], "accf", to=TensorProto.FLOAT)
    b.node("Mul", ["accf", b.const("rescale", np.float32(x_scale * w_scale))], "scaled")
    bias = b.const("bias", b.rng.uniform(-0.5, 0.5, (4, 1, 1)).astype(np.float32))
    b.node("Add", ["scaled", bias], "c")
    b.node("MaxPool", ["c"], "m", kernel_shape=[2, 2], strides=[2, 2])
    yp = b.activation("y", -6, 6)
    b.node("QuantizeLinear", ["m", yp[0], yp[1]], "yq")
    return b.finish("yq", yp, (4, 4, 4))


MODELS = {
    "qlinear_add_int8": lambda: qlinear_binary(40, np.int8, "QLinearAdd", (-8, 8)),
    "qlinear_mul_int8": lambda: qlinear_binary(42, np.int8, "QLinearMul", (-10, 10)),
    "qlinear_averagepool_int8":
        lambda: qlinear_unary(43, np.int8, "QLinearAveragePool", (-3, 3), (3, 4, 4),
                              kernel_shape=[2, 2], strides=[2, 2]),
    "qlinear_averagepool_pads_uint8":
        lambda: qlinear_unary(44, np.uint8, "QLinearAveragePool", (-3, 3), (3, 4, 4),
                              kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                              count_include_pad=0),
    "qlinear_globalaveragepool_int8":
        lambda: qlinear_unary(45, np.int8, "QLinearGlobalAveragePool", (-1, 1), (3, 1, 1)),
    "qlinear_globalaveragepool_channels_last_uint8":
        lambda: qlinear_unary(46, np.uint8, "QLinearGlobalAveragePool", (-1, 1), (1, 1, 3),
                              channels_last=1),
    "qlinear_softmax_opset11_uint8":
        lambda: qlinear_unary(48, np.uint8, "QLinearSoftmax", None, axis=-1, opset=11),
    "qlinear_sigmoid_int8": lambda: qlinear_unary(49, np.int8, "QLinearSigmoid", None),
    "qlinear_leakyrelu_int8":
        lambda: qlinear_unary(50, np.int8, "QLinearLeakyRelu", (-0.5, 4), alpha=0.1),
    "qlinear_concat_uint8": lambda: qlinear_concat(52, np.uint8),
    "qdq_conv_relu_int8": lambda: qdq_conv_activation(60, np.int8, "Relu"),
    "qdq_conv_clip6_maxpool_uint8": lambda: qdq_conv_activation(61, np.uint8, "Clip", pool=True),
    "qdq_conv_sigmoid_int8": lambda: qdq_conv_activation(67, np.int8, "Sigmoid", None),
    "qdq_conv_hardswish_uint8": lambda: qdq_conv_activation(69, np.uint8, "HardSwish", (-0.4, 5)),
    "qdq_conv_leakyrelu_int8":
        lambda: qdq_conv_activation(70, np.int8, "LeakyRelu", (-0.6, 5), alpha=0.1),
    "qdq_gemm_relu_int8": lambda: qdq_dense_relu(62, np.int8, as_gemm=True),
    "qdq_matmul_add_relu_uint8": lambda: qdq_dense_relu(63, np.uint8, as_gemm=False),
    "qdq_matmul_add_relu_rows_int8": lambda: qdq_dense_relu(71, np.int8, False, rows=True),
    "qdq_maxpool_requantise_int8": lambda: qdq_requantised_move(64, np.int8, "MaxPool"),
    "qdq_reshape_requantise_uint8": lambda: qdq_requantised_move(65, np.uint8, "Reshape"),
    "integer_reshaped_weights_uint8": lambda: integer_reshaped_weights(66, np.uint8),
}


# The committed files: each joins its models side by side (inputs and outputs prefixed with the
# model's name) so that a test compiles and runs each file once.
FILES = {
    "qlinear_ops": [name for name in MODELS if name.startswith("qlinear_")],
    "qdq_activations": [name for name in MODELS if name.startswith("qdq_conv_")],
    "qdq_dense": [name for name in MODELS if name.startswith(("qdq_gemm", "qdq_matmul"))],
    "requantise_and_integer": [name for name in MODELS
                               if name.endswith("requantise_int8") or
                               name.endswith("requantise_uint8") or name.startswith("integer_")],
}


def side_by_side(names):
    graphs, opsets = [], {}
    for name in names:
        model = onnx.compose.add_prefix(MODELS[name](), f"{name}_")
        graphs.append(model.graph)
        for opset in model.opset_import:
            opsets[opset.domain] = max(opsets.get(opset.domain, 0), opset.version)
    graph = helper.make_graph(
        [node for g in graphs for node in g.node], "prequantised",
        [value for g in graphs for value in g.input], [value for g in graphs for value in g.output],
        [tensor for g in graphs for tensor in g.initializer])
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid(d, v) for d, v in sorted(opsets.items())],
        producer_name="onnx.quantize")
    onnx.checker.check_model(model)
    return model


def main():
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE / "tests/data/qoperator"
    out.mkdir(parents=True, exist_ok=True)
    assert sorted(n for names in FILES.values() for n in names) == sorted(MODELS)
    for file, names in FILES.items():
        onnx.save(side_by_side(names), out / f"{file}.onnx")
    print(f"wrote {len(MODELS)} models in {len(FILES)} files to {out}")


if __name__ == "__main__":
    main()
