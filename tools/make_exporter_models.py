#!/usr/bin/python3
"""Writes tests/data/exporters: small models in the exact forms that exporters edgesplit cannot
run here write them (no TensorFlow, no onnxruntime for Python): tf2onnx (Keras/SavedModel and
TFLite conversions), keras2onnx, and onnxruntime's quantiser (QDQ, QOperator, dynamic IntegerOps),
for tests/cli/test_exporter_models.py. Built with onnx.helper node for node as those tools emit
them (the patterns are those of their handlers and optimisers):

- tf2onnx keeps TensorFlow's NHWC input and wraps every convolution and pool in Transposes to
  NCHW and back (perms [0, 3, 1, 2] / [0, 2, 3, 1]) that its transpose optimiser leaves where a
  layout-sensitive op needs them; kernels are transposed (HWIO -> OIHW) and depthwise kernels
  reshaped to [C * multiplier, 1, kh, kw] as constants; BiasAdd becomes an Add of a [C] constant
  on the NHWC result (or is folded into the Conv's bias); Relu6 is Clip (attributes below opset
  11, inputs from 11); Keras' GlobalAveragePooling2D is ReduceMean over axes [1, 2]; Keras'
  Flatten a Reshape whose shape is computed at run time (Shape -> Cast(int32) -> Slice ->
  Concat(-1) -> Cast(int64)); Squeeze/Unsqueeze axes are attributes before opset 13 and inputs
  from 13; TF's conv1d is ExpandDims -> Conv2D -> Squeeze (Unsqueeze, Conv 1xk, Squeeze);
  FusedBatchNormV3 is BatchNormalization, Keras' non-fused batchnorm Mul + Add; ZeroPadding2D is
  a Pad in NHWC before a VALID Conv; SAME padding with unknown spatial sizes is auto_pad
  SAME_UPPER; Dense is MatMul + Add; tensors are named "<tf op>:0" and the output passes through
  an Identity ("Identity:0"). Keras' UpSampling2D is Upsample with a `scales` attribute at
  opsets 7 and 8 (keras2onnx), a scales input at 9, Resize-10, and Resize with roi, asymmetric
  and floor from 11; BatchNormalization carries `spatial=1` before opset 9.
- keras LSTM/GRU layers through tf2onnx's and keras2onnx's rewriters become one ONNX LSTM/GRU
  (gates in ONNX order, Keras' reset_after GRU as linear_before_reset=1) between a Transpose to
  time-major and a Squeeze of the direction axis; a zero initial state built from the batch size
  at run time.
- onnxruntime's quantize_static, QDQ format: uint8 asymmetric (or int8 symmetric) activations,
  int8 symmetric weights per channel with `axis` (0 for Conv/Gemm, 1 for MatMul), int32 bias
  behind a DequantizeLinear with scale x_scale * w_scale, Relu/Clip removed into the producer's
  output parameters for asymmetric activations and kept between two QDQ pairs for symmetric
  ones, MaxPool/Reshape/Transpose sharing one QDQ pair on both sides, Concat and Add with a
  DequantizeLinear per input, Softmax's output at 1/256, reduce_range weights in [-64, 64]
  (int8) or [0, 127] (uint8 asymmetric), QDQ per tensor at opsets 10-12 (no `axis`).
- its QOperator format: QLinearConv/QLinearMatMul with uint8 activations and per-channel int8
  weights, QLinearAdd and QLinearGlobalAveragePool of domain com.microsoft, MaxPool and Reshape
  on the uint8 tensor, and its dynamic IntegerOps format: DynamicQuantizeLinear -> MatMulInteger
  / ConvInteger -> Cast -> Mul(Mul(x_scale, w_scale)) with reduce_range uint8 or int8 weights.

    /usr/bin/python3 tools/make_exporter_models.py

The models of one opset go side by side into one file (FILES: every name prefixed with the
model's, "tf2onnx_cnn_9/input_1:0"), so that a test compiles and runs each file once; each
<file>.onnx comes with <file>.npz: SAMPLES inputs keyed by input name, used as calibration data
and as the test batch. Deterministic (fixed seeds per model and file).
"""
import pathlib
import zlib

import numpy as np
import onnx
import onnx.compose
from onnx import TensorProto, helper, numpy_helper

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "data" / "exporters"
SAMPLES = 16
MICROSOFT = "com.microsoft"
NHWC_TO_NCHW, NCHW_TO_NHWC = [0, 3, 1, 2], [0, 2, 3, 1]


class Graph:
    """Nodes and initialisers of one exported model, named as the exporter names them."""

    def __init__(self, name, opset, seed=None):
        self.name, self.opset = name, opset
        self.rng = np.random.default_rng(zlib.crc32(name.encode()) if seed is None else seed)
        self.nodes, self.initializers, self.count = [], [], 0
        self.domains = {"": opset}

    def fresh(self, stem):
        self.count += 1
        return f"{stem}__{self.count}"

    def const(self, name, array):
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op_type, inputs, name, outputs=1, domain=None, **attributes):
        """One node named `name`, its outputs `name:0`, `name:1`, ... (tf2onnx's naming)."""
        names = [f"{name}:{i}" for i in range(outputs)]
        self.nodes.append(helper.make_node(op_type, inputs, names, name=name, domain=domain,
                                           **attributes))
        if domain:
            self.domains[domain] = 1
        return names[0] if outputs == 1 else names

    # Shape-dependent spellings --------------------------------------------------------------

    def axes_op(self, op_type, x, axes, name):
        """Squeeze/Unsqueeze: axes an attribute before opset 13, an input from 13."""
        if self.opset >= 13:
            return self.node(op_type, [x, self.const(f"{name}/axes", np.array(axes, np.int64))],
                             name)
        return self.node(op_type, [x], name, axes=axes)

    def reduce_mean(self, x, axes, keepdims, name):
        return self.node("ReduceMean", [x], name, axes=axes, keepdims=keepdims)

    def relu6(self, x, name, style="clip"):
        if style == "minmax":  # Relu6 as Max(Min(x, 6), 0): old converters and TF graphs
            six = self.const(f"{name}/six", np.array(6, np.float32))
            zero = self.const(f"{name}/zero", np.array(0, np.float32))
            return self.node("Max", [self.node("Min", [x, six], f"{name}/Minimum"), zero],
                             f"{name}/Maximum")
        if self.opset < 11:
            return self.node("Clip", [x], name, min=0.0, max=6.0)
        return self.node("Clip", [x, self.const(f"{name}__min", np.array(0, np.float32)),
                                  self.const(f"{name}__max", np.array(6, np.float32))], name)

    def flatten_computed(self, x, name):
        """Keras Flatten with a dynamic batch: reshape(x, [shape(x)[0], -1]) through int32."""
        shape = self.node("Shape", [x], f"{name}/Shape")
        shape32 = self.node("Cast", [shape], f"{name}/Shape__cast", to=TensorProto.INT32)
        if self.opset >= 10:
            batch = self.node("Slice", [shape32, self.const(f"{name}/starts", np.array([0], np.int64)),
                                        self.const(f"{name}/ends", np.array([1], np.int64)),
                                        self.const(f"{name}/slice_axes", np.array([0], np.int64))],
                              f"{name}/strided_slice")
        else:
            batch = self.node("Slice", [shape32], f"{name}/strided_slice", starts=[0], ends=[1],
                              axes=[0])
        target = self.node("Concat", [batch, self.const(f"{name}/minus_one",
                                                        np.array([-1], np.int32))],
                           f"{name}/Reshape/shape", axis=0)
        target64 = self.node("Cast", [target], f"{name}/Reshape__cast", to=TensorProto.INT64)
        return self.node("Reshape", [x, target64], f"{name}/Reshape")

    # Layers ---------------------------------------------------------------------------------

    def conv_nchw(self, x, cin, cout, k, name, stride=1, pads=None, group=1, bias=True,
                  auto_pad=None, dims=2):
        """An ONNX Conv whose kernel tf2onnx transposed (and reshaped) as a constant."""
        kernel = (k,) * dims if isinstance(k, int) else tuple(k)
        fan_in = cin // group * int(np.prod(kernel))
        w = self.rng.normal(0, 1.4 / np.sqrt(fan_in), (cout, cin // group, *kernel))
        inputs = [x, self.const(f"{name}/ReadVariableOp:0", w.astype(np.float32))]
        if bias:
            inputs.append(self.const(f"{name}/BiasAdd/ReadVariableOp:0",
                                     self.rng.normal(0, 0.1, cout).astype(np.float32)))
        attributes = dict(kernel_shape=list(kernel), strides=[stride] * len(kernel),
                          dilations=[1] * len(kernel))
        if group != 1:
            attributes["group"] = group
        if auto_pad:
            attributes["auto_pad"] = auto_pad
        elif pads:
            attributes["pads"] = pads
        return self.node("Conv", inputs, name, **attributes)

    def dense(self, x, n_in, n_out, name):
        w = self.rng.normal(0, 1.2 / np.sqrt(n_in), (n_in, n_out)).astype(np.float32)
        b = self.rng.normal(0, 0.1, n_out).astype(np.float32)
        y = self.node("MatMul", [x, self.const(f"{name}/MatMul/ReadVariableOp:0", w)],
                      f"{name}/MatMul")
        return self.node("Add", [y, self.const(f"{name}/BiasAdd/ReadVariableOp:0", b)],
                         f"{name}/BiasAdd")

    def bias_add_nhwc(self, x, channels, name):
        b = self.rng.normal(0, 0.1, channels).astype(np.float32)
        return self.node("Add", [x, self.const(f"{name}/BiasAdd/ReadVariableOp:0", b)],
                         f"{name}/BiasAdd")

    def batchnorm(self, x, channels, name):
        scale = self.rng.uniform(0.6, 1.4, channels).astype(np.float32)
        shift = self.rng.uniform(-0.3, 0.3, channels).astype(np.float32)
        mean = self.rng.uniform(-0.3, 0.3, channels).astype(np.float32)
        var = self.rng.uniform(0.5, 1.5, channels).astype(np.float32)
        # Opsets 7 and 8 have the `spatial` attribute (one statistic per channel), which the
        # converters of their time wrote out.
        attributes = {"spatial": 1} if self.opset < 9 else {}
        return self.node("BatchNormalization",
                         [x, self.const(f"{name}/gamma", scale), self.const(f"{name}/beta", shift),
                          self.const(f"{name}/moving_mean", mean),
                          self.const(f"{name}/moving_variance", var)],
                         f"{name}/FusedBatchNormV3", epsilon=0.001, **attributes)

    def batchnorm_mul_add(self, x, channels, name):
        """Keras' non-fused batchnorm in NHWC: x * (gamma / sqrt(var + eps)) + (beta - mean * ..)."""
        multiplier = self.rng.uniform(0.6, 1.4, channels).astype(np.float32)
        offset = self.rng.uniform(-0.3, 0.3, channels).astype(np.float32)
        y = self.node("Mul", [x, self.const(f"{name}/batchnorm/mul", multiplier)],
                      f"{name}/batchnorm/mul_1")
        return self.node("Add", [y, self.const(f"{name}/batchnorm/sub", offset)],
                         f"{name}/batchnorm/add_1")

    def upsample_nearest(self, x, factor, name):
        """Keras' UpSampling2D on an NCHW tensor, as each opset spells it: Upsample with a
        `scales` attribute (7, 8), Upsample with a scales input (9), Resize-10 (scales input,
        asymmetric by definition), Resize-11 and later (roi, scales, asymmetric and floor)."""
        scales = [1.0, 1.0, float(factor), float(factor)]
        if self.opset < 9:
            return self.node("Upsample", [x], name, mode="nearest", scales=scales)
        given = self.const(f"{name}/scales", np.array(scales, np.float32))
        if self.opset < 11:
            return self.node("Upsample" if self.opset == 9 else "Resize", [x, given], name,
                             mode="nearest")
        roi = self.const(f"{name}/roi", np.array([], np.float32))
        return self.node("Resize", [x, roi, given], name, mode="nearest",
                         coordinate_transformation_mode="asymmetric", nearest_mode="floor")

    def transpose(self, x, perm, name):
        return self.node("Transpose", [x], name, perm=perm)

    def model(self, inputs, outputs, producer):
        graph = helper.make_graph(
            self.nodes, self.name,
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
            self.initializers)
        model = helper.make_model(
            graph, producer_name=producer,
            opset_imports=[helper.make_opsetid(d, v) for d, v in sorted(self.domains.items())])
        model.ir_version = 7 if self.opset < 15 else 8
        onnx.checker.check_model(model, full_check=True)
        return model


# tf2onnx: Keras CNNs (NHWC) --------------------------------------------------------------------

def tf2onnx_cnn(opset):
    """Conv2D(SAME) + BiasAdd folded, Relu6, DepthwiseConv2D + Relu, Conv2D 1x1 with BiasAdd as
    an NHWC Add, Relu6 as Min/Max, GlobalAveragePooling2D (ReduceMean [1, 2]), Dense, Softmax,
    Identity: a MobileNet-like Keras classifier through tf2onnx at `opset`."""
    g = Graph(f"tf2onnx_cnn_{opset}", opset)
    x = "input_1:0"
    h = g.transpose(x, NHWC_TO_NCHW, "StatefulPartitionedCall/sequential/conv2d/Conv2D__6")
    h = g.conv_nchw(h, 1, 8, 3, "StatefulPartitionedCall/sequential/conv2d/Conv2D", stride=2,
                    pads=[0, 0, 1, 1])  # SAME with stride 2 on 16: TF pads bottom/right
    h = g.relu6(h, "StatefulPartitionedCall/sequential/re_lu/Relu6")
    h = g.conv_nchw(h, 8, 8, 3, "StatefulPartitionedCall/sequential/depthwise_conv2d/depthwise",
                    pads=[1, 1, 1, 1], group=8)
    h = g.node("Relu", [h], "StatefulPartitionedCall/sequential/depthwise_conv2d/Relu")
    h = g.conv_nchw(h, 8, 16, 1, "StatefulPartitionedCall/sequential/conv2d_1/Conv2D",
                    bias=False)
    h = g.transpose(h, NCHW_TO_NHWC, "StatefulPartitionedCall/sequential/conv2d_1/Conv2D__18")
    h = g.bias_add_nhwc(h, 16, "StatefulPartitionedCall/sequential/conv2d_1")
    h = g.relu6(h, "StatefulPartitionedCall/sequential/re_lu_1", style="minmax")
    h = g.reduce_mean(h, [1, 2], 0,
                      "StatefulPartitionedCall/sequential/global_average_pooling2d/Mean")
    h = g.dense(h, 16, 5, "StatefulPartitionedCall/sequential/dense")
    h = g.node("Softmax", [h], "StatefulPartitionedCall/sequential/dense/Softmax",
               axis=1 if opset < 13 else -1)
    y = g.node("Identity", [h], "Identity")
    return g.model([(x, ["unk__20", 16, 16, 1])], [(y, ["unk__21", 5])], "tf2onnx"), \
        {x: (16, 16, 1)}


def tf2onnx_cnn_bn(opset):
    """ZeroPadding2D (Pad in NHWC) before a VALID strided Conv2D without bias, FusedBatchNorm as
    BatchNormalization, ReLU, MaxPool2D, a SAME Conv2D of unknown spatial size (auto_pad),
    Keras' non-fused batchnorm as Mul + Add in NHWC, Flatten with a shape computed at run time,
    Dense + ReLU, Dense, Softmax."""
    g = Graph(f"tf2onnx_cnn_bn_{opset}", opset)
    x = "input_1:0"
    pads = [0, 1, 1, 0, 0, 1, 1, 0]
    if opset >= 11:
        h = g.node("Pad", [x, g.const("model/zero_padding2d/Pad/paddings", np.array(pads, np.int64)),
                           g.const("model/zero_padding2d/Pad/constant", np.array(0, np.float32))],
                   "model/zero_padding2d/Pad")
    else:
        h = g.node("Pad", [x], "model/zero_padding2d/Pad", pads=pads, mode="constant", value=0.0)
    h = g.transpose(h, NHWC_TO_NCHW, "model/conv2d/Conv2D__5")
    h = g.conv_nchw(h, 2, 8, 3, "model/conv2d/Conv2D", stride=2, bias=False)
    h = g.batchnorm(h, 8, "model/batch_normalization")
    h = g.node("Relu", [h], "model/re_lu/Relu")
    h = g.node("MaxPool", [h], "model/max_pooling2d/MaxPool", kernel_shape=[2, 2],
               strides=[2, 2])
    h = g.conv_nchw(h, 8, 12, 3, "model/conv2d_1/Conv2D", auto_pad="SAME_UPPER")
    h = g.transpose(h, NCHW_TO_NHWC, "model/conv2d_1/Conv2D__12")
    h = g.batchnorm_mul_add(h, 12, "model/batch_normalization_1")
    h = g.node("Relu", [h], "model/re_lu_1/Relu")
    h = g.flatten_computed(h, "model/flatten")
    h = g.node("Relu", [g.dense(h, 4 * 4 * 12, 16, "model/dense")], "model/dense/Relu")
    h = g.dense(h, 16, 4, "model/dense_1")
    h = g.node("Softmax", [h], "model/dense_1/Softmax", axis=1 if opset < 13 else -1)
    y = g.node("Identity", [h], "Identity")
    return g.model([(x, ["unk__30", 16, 16, 2])], [(y, ["unk__31", 4])], "tf2onnx"), \
        {x: (16, 16, 2)}


def tf2onnx_global_pool_keepdims(opset):
    """GlobalAveragePooling2D(keepdims=True) + Conv 1x1 head (SqueezeNet/MobileNet tails):
    ReduceMean [1, 2] keepdims, Conv in NCHW between Transposes, Squeeze [1, 2] (attribute or
    input by opset), Softmax of a 3-D tensor at the last axis (coerced to 2-D below opset 13)."""
    g = Graph(f"tf2onnx_pool_keepdims_{opset}", opset)
    x = "input:0"
    h = g.transpose(x, NHWC_TO_NCHW, "model/conv/Conv2D__4")
    h = g.conv_nchw(h, 3, 8, 3, "model/conv/Conv2D", pads=[1, 1, 1, 1])
    h = g.transpose(h, NCHW_TO_NHWC, "model/conv/Conv2D__7")
    h = g.relu6(h, "model/conv/Relu6")
    h = g.reduce_mean(h, [1, 2], 1, "model/pool/Mean")
    h = g.transpose(h, NHWC_TO_NCHW, "model/head/Conv2D__10")
    h = g.conv_nchw(h, 8, 6, 1, "model/head/Conv2D")
    h = g.transpose(h, NCHW_TO_NHWC, "model/head/Conv2D__13")
    h = g.axes_op("Squeeze", h, [1], "model/squeeze/Squeeze")  # [N, 1, 6]
    h = g.node("Reshape", [h, g.const("model/reshape/shape", np.array([-1, 2, 3], np.int64))],
               "model/reshape/Reshape")
    h = g.node("Softmax", [h], "model/softmax/Softmax", axis=2)
    y = g.node("Identity", [h], "Identity")
    return g.model([(x, ["N", 8, 8, 3])], [(y, ["N", 2, 3])], "tf2onnx"), {x: (8, 8, 3)}


def keras_conv1d(opset, producer):
    """Conv1D (ExpandDims -> Conv2D -> Squeeze: Unsqueeze [1], NCHW Conv 1xk, Squeeze [1]),
    MaxPooling1D the same way, GlobalAveragePooling1D (ReduceMean [1]), Dense + ReLU, Dense,
    Softmax, on a [N, 32, 3] sensor window."""
    g = Graph(f"{producer}_conv1d_{opset}", opset)
    x = "input_1"
    h = g.axes_op("Unsqueeze", x, [1], "sequential/conv1d/conv1d/ExpandDims")
    h = g.transpose(h, NHWC_TO_NCHW, "sequential/conv1d/conv1d__6")
    h = g.conv_nchw(h, 3, 8, (1, 5), "sequential/conv1d/conv1d", bias=False)
    h = g.transpose(h, NCHW_TO_NHWC, "sequential/conv1d/conv1d__9")
    h = g.axes_op("Squeeze", h, [1], "sequential/conv1d/conv1d/Squeeze")
    h = g.bias_add_nhwc(h, 8, "sequential/conv1d")
    h = g.node("Relu", [h], "sequential/conv1d/Relu")
    h = g.axes_op("Unsqueeze", h, [1], "sequential/max_pooling1d/ExpandDims")
    h = g.transpose(h, NHWC_TO_NCHW, "sequential/max_pooling1d/MaxPool__14")
    h = g.node("MaxPool", [h], "sequential/max_pooling1d/MaxPool", kernel_shape=[1, 2],
               strides=[1, 2])
    h = g.transpose(h, NCHW_TO_NHWC, "sequential/max_pooling1d/MaxPool__16")
    h = g.axes_op("Squeeze", h, [1], "sequential/max_pooling1d/Squeeze")
    h = g.reduce_mean(h, [1], 0, "sequential/global_average_pooling1d/Mean")
    h = g.node("Relu", [g.dense(h, 8, 16, "sequential/dense")], "sequential/dense/Relu")
    h = g.node("Softmax", [g.dense(h, 16, 4, "sequential/dense_1")],
               "sequential/dense_1/Softmax", axis=1 if opset < 13 else -1)
    return g.model([(x, ["N", 32, 3])], [(h, ["N", 4])], producer), {x: (32, 3)}


def keras2onnx_upsample(opset):
    """A small Keras segmentation-style head through keras2onnx: Conv2D + BatchNormalization
    (spatial=1 before opset 9) + ReLU in NCHW, UpSampling2D(2) as Upsample or Resize (by opset),
    Conv2D 1x1, back to NHWC, GlobalAveragePooling2D, Dense."""
    g = Graph(f"keras2onnx_upsample_{opset}", opset)
    x = "input_1"
    h = g.transpose(x, NHWC_TO_NCHW, "adjusted_input")
    h = g.conv_nchw(h, 3, 8, 3, "conv2d", pads=[1, 1, 1, 1], bias=False)
    h = g.batchnorm(h, 8, "batch_normalization")
    h = g.node("Relu", [h], "re_lu")
    h = g.upsample_nearest(h, 2, "up_sampling2d")
    h = g.conv_nchw(h, 8, 6, 1, "conv2d_1")
    h = g.node("Relu", [h], "re_lu_1")
    h = g.transpose(h, NCHW_TO_NHWC, "conv2d_1_transpose")
    h = g.reduce_mean(h, [1, 2], 0, "global_average_pooling2d")
    y = g.dense(h, 6, 3, "dense")
    return g.model([(x, ["N", 6, 6, 3])], [(y, ["N", 3])], "keras2onnx"), {x: (6, 6, 3)}


def keras_recurrent(opset, cell, producer):
    """A Keras LSTM (return_sequences=False) or GRU (reset_after, return_sequences=True) layer:
    Transpose to time-major, one ONNX LSTM/GRU whose zero initial state is built from the batch
    size (Shape, Gather, Unsqueeze, Concat, ConstantOfShape), Squeeze of the direction axis,
    then Dense."""
    g = Graph(f"{producer}_{cell.lower()}_{opset}", opset)
    x = "input_1"
    steps, features, hidden = 8, 6, 10
    xt = g.transpose(x, [1, 0, 2], "model/rnn/transpose")
    shape = g.node("Shape", [x], "model/rnn/Shape")
    batch = g.node("Gather", [shape, g.const("model/rnn/zero", np.array(0, np.int64))],
                   "model/rnn/strided_slice", axis=0)
    batch = g.axes_op("Unsqueeze", batch, [0], "model/rnn/zeros/packed_unsq")
    state_shape = g.node("Concat", [g.const("model/rnn/one", np.array([1], np.int64)), batch,
                                    g.const("model/rnn/units", np.array([hidden], np.int64))],
                         "model/rnn/zeros/packed", axis=0)
    zeros = g.node("ConstantOfShape", [state_shape], "model/rnn/zeros",
                   value=numpy_helper.from_array(np.array([0], np.float32)))
    gates = 4 if cell == "LSTM" else 3
    w = g.rng.normal(0, 0.4, (1, gates * hidden, features)).astype(np.float32)
    r = g.rng.normal(0, 0.3, (1, gates * hidden, hidden)).astype(np.float32)
    b = g.rng.normal(0, 0.1, (1, 2 * gates * hidden)).astype(np.float32)
    inputs = [xt, g.const("model/rnn/W", w), g.const("model/rnn/R", r),
              g.const("model/rnn/B", b), "", zeros]
    if cell == "LSTM":
        inputs.append(zeros)
        y, y_h, _ = g.node("LSTM", inputs, "model/rnn/lstm", outputs=3, hidden_size=hidden,
                           direction="forward")
        h = g.axes_op("Squeeze", y_h, [0], "model/rnn/Squeeze")
        out = g.dense(h, hidden, 3, "model/dense")
        return g.model([(x, ["N", steps, features])], [(out, ["N", 3])], producer), \
            {x: (steps, features)}
    y, _ = g.node("GRU", inputs, "model/rnn/gru", outputs=2, hidden_size=hidden,
                  direction="forward", linear_before_reset=1)
    h = g.axes_op("Squeeze", y, [1], "model/rnn/Squeeze")
    h = g.transpose(h, [1, 0, 2], "model/rnn/transpose_1")  # [N, T, H]
    h = g.node("Relu", [g.dense(h, hidden, 8, "model/time_distributed")],
               "model/time_distributed/Relu")
    h = g.reduce_mean(h, [1], 0, "model/global_average_pooling1d/Mean")
    out = g.dense(h, 8, 3, "model/dense")
    return g.model([(x, ["N", steps, features])], [(out, ["N", 3])], producer), \
        {x: (steps, features)}


# onnxruntime's quantiser ---------------------------------------------------------------------

class Quantiser:
    """onnxruntime's parameter choices (quant_utils.compute_scale_zp) for one model."""

    def __init__(self, g, act_type=np.uint8, weight_type=np.int8, symmetric_act=False,
                 reduce_range=False, per_channel=True):
        self.g, self.act_type, self.weight_type = g, act_type, weight_type
        self.symmetric_act, self.reduce_range, self.per_channel = \
            symmetric_act, reduce_range, per_channel

    def activation(self, name, lo, hi):
        """(scale name, zero point name, scale) for a tensor calibrated to about [lo, hi]."""
        rng = self.g.rng
        lo, hi = min(lo * rng.uniform(0.9, 1.1), 0.0), max(hi * rng.uniform(0.9, 1.1), 0.0)
        if self.symmetric_act:
            bound = max(-lo, hi)
            scale, zero = np.float32(2 * bound / 254 if self.act_type == np.int8 else
                                     2 * bound / 255), 0 if self.act_type == np.int8 else 128
        else:
            qmin, qmax = (0, 255) if self.act_type == np.uint8 else (-128, 127)
            scale = np.float32((hi - lo) / (qmax - qmin))
            zero = int(np.clip(np.round(qmin - lo / scale), qmin, qmax))
        return (self.g.const(f"{name}_scale", scale),
                self.g.const(f"{name}_zero_point", self.act_type(zero)), scale)

    def weight_range(self):
        if self.weight_type == np.int8:
            return (-64, 64) if self.reduce_range else (-127, 127)
        return (0, 127) if self.reduce_range else (0, 255)

    def weights(self, name, real, axis):
        """Quantised initialiser + DequantizeLinear; returns (DQ output, per-channel scales)."""
        qmin, qmax = self.weight_range()
        moved = np.moveaxis(real, axis, 0).reshape(real.shape[axis], -1)
        if not self.per_channel:
            moved = moved.reshape(1, -1)
        if self.weight_type == np.int8:  # symmetric
            scale = np.abs(moved).max(1) * 2 / (qmax - qmin)
            zero = np.zeros_like(scale, np.int64)
        else:
            lo, hi = np.minimum(moved.min(1), 0), np.maximum(moved.max(1), 0)
            scale = (hi - lo) / (qmax - qmin)
            zero = np.round(qmin - lo / scale).astype(np.int64)
        scale = scale.astype(np.float32)
        shape = [1] * real.ndim
        shape[axis] = -1
        broadcast = scale.reshape(shape) if self.per_channel else scale[0]
        zero_b = zero.reshape(shape) if self.per_channel else zero[0]
        q = np.clip(np.round(real / broadcast) + zero_b, qmin, qmax).astype(self.weight_type)
        stored_scale = scale if self.per_channel else scale.reshape(())
        stored_zero = zero.astype(self.weight_type)
        stored_zero = stored_zero if self.per_channel else stored_zero.reshape(())
        attributes = {"axis": axis} if self.per_channel else {}
        g = self.g
        out = g.node("DequantizeLinear",
                     [g.const(f"{name}_quantized", q), g.const(f"{name}_scale", stored_scale),
                      g.const(f"{name}_zero_point", stored_zero)],
                     f"{name}_DequantizeLinear", **attributes)
        channels = real.shape[axis]
        return out, np.broadcast_to(scale, (channels,)) if not self.per_channel else scale

    def bias(self, name, real, input_scale, weight_scales):
        g = self.g
        scale = (np.float32(input_scale) * weight_scales).astype(np.float32)
        q = np.round(real / scale).astype(np.int32)
        per_channel = self.per_channel and len(set(scale.tolist())) > 1
        stored = scale if per_channel else scale[:1].reshape(())
        zero = np.zeros(stored.shape, np.int32)
        attributes = {"axis": 0} if per_channel and g.opset >= 13 else {}
        return g.node("DequantizeLinear",
                      [g.const(f"{name}_quantized", q), g.const(f"{name}_quantized_scale", stored),
                       g.const(f"{name}_quantized_zero_point", zero)],
                      f"{name}_quantized_DequantizeLinear", **attributes)

    def constant(self, name, real):
        """An initialiser an activation quantiser reads (QDQOperatorBase quantises every float
        input): activation-typed, asymmetric over [min(0, c), max(0, c)], behind a
        DequantizeLinear."""
        real = np.asarray(real, np.float32)
        qmin, qmax = (0, 255) if self.act_type == np.uint8 else (-128, 127)
        lo, hi = min(float(real.min()), 0.0), max(float(real.max()), 0.0)
        scale = np.float32((hi - lo) / (qmax - qmin))
        zero = int(np.clip(np.round(qmin - lo / scale), qmin, qmax))
        quantized = np.clip(np.round(real / scale) + zero, qmin, qmax).astype(self.act_type)
        g = self.g
        return g.node("DequantizeLinear",
                      [g.const(f"{name}_quantized", quantized), g.const(f"{name}_scale", scale),
                       g.const(f"{name}_zero_point", self.act_type(zero))],
                      f"{name}_DequantizeLinear")

    def qdq(self, value, params, name):
        scale, zero, _ = params
        g = self.g
        q = g.node("QuantizeLinear", [value, scale, zero], f"{name}_QuantizeLinear")
        return g.node("DequantizeLinear", [q, scale, zero], f"{name}_DequantizeLinear")

    def conv(self, x, x_scale, cin, cout, k, name, **attributes):
        real = self.g.rng.normal(0, 1.4 / np.sqrt(cin * k * k), (cout, cin, k, k))
        w, w_scales = self.weights(f"{name}.weight", real.astype(np.float32), 0)
        b = self.bias(f"{name}.bias", self.g.rng.normal(0, 0.1, cout), x_scale, w_scales)
        return self.g.node("Conv", [x, w, b], name, kernel_shape=[k, k], **attributes)


def ort_qdq_cnn(act_type, symmetric, per_channel, opset=13, reduce_range=False,
                weight_type=np.int8):
    """quantize_static(QuantFormat.QDQ) of a small PyTorch CNN: Conv+ReLU, MaxPool, Conv+ReLU,
    residual Add, Conv (3 channels), Concat with the pooled tensor, GlobalAveragePool, Flatten,
    Gemm, Softmax. Asymmetric activations: the ReLUs are removed into their Conv's output
    parameters; symmetric: kept between QDQ pairs."""
    tag = f"{'s8' if act_type == np.int8 else 'u8'}{'s8' if weight_type == np.int8 else 'u8'}"
    name = (f"ort_qdq_{tag}_{'symmetric' if symmetric else 'asymmetric'}_"
            f"{'per_channel' if per_channel else 'per_tensor'}"
            f"{'_reduce_range' if reduce_range else ''}_{opset}")
    g = Graph(name, opset)
    q = Quantiser(g, act_type, weight_type, symmetric, reduce_range, per_channel)
    x = "input"
    xp = q.activation("input", -3, 3)
    h = q.qdq(x, xp, "input")

    def conv_relu(h, hp, cin, cout, stem, lo=-4, hi=4, **attributes):
        conv = q.conv(h, hp[2], cin, cout, 3, f"/{stem}/Conv", pads=[1, 1, 1, 1], **attributes)
        if symmetric:
            cp = q.activation(f"/{stem}/Conv_output_0", lo, hi)
            conv = q.qdq(conv, cp, f"/{stem}/Conv_output_0")
            relu = g.node("Relu", [conv], f"/{stem}/Relu")
            # the Relu's output quantised like its input (one symmetric range)
            return q.qdq(relu, cp, f"/{stem}/Relu_output_0"), cp
        relu = g.node("Relu", [conv], f"/{stem}/Relu")  # removed by the quantiser: output
        rp = q.activation(f"/{stem}/Relu_output_0", 0, hi)  # params of the Relu
        g.nodes.pop()  # the Relu is gone: the Conv writes the Relu's tensor
        g.nodes[-1].output[0] = relu
        return q.qdq(relu, rp, f"/{stem}/Relu_output_0"), rp

    h1, p1 = conv_relu(h, xp, 3, 8, "conv1", hi=5)
    pool = g.node("MaxPool", [h1], "/pool/MaxPool", kernel_shape=[2, 2], strides=[2, 2])
    pool = q.qdq(pool, p1, "/pool/MaxPool_output_0")  # MaxPool shares its input's QDQ pair
    h2, p2 = conv_relu(pool, p1, 8, 8, "conv2", hi=4)
    ap = q.activation("/Add_output_0", 0, 8)
    add = q.qdq(g.node("Add", [h2, pool], "/Add"), ap, "/Add_output_0")
    c3 = q.conv(add, ap[2], 8, 3, 3, "/conv3/Conv", pads=[1, 1, 1, 1])
    c3 = q.qdq(c3, q.activation("/conv3/Conv_output_0", -4, 4), "/conv3/Conv_output_0")
    cat_p = q.activation("/Concat_output_0", -4, 8)
    cat = q.qdq(g.node("Concat", [c3, pool], "/Concat", axis=1), cat_p, "/Concat_output_0")
    gp = q.activation("/gap/GlobalAveragePool_output_0", -1, 3)
    gap = q.qdq(g.node("GlobalAveragePool", [cat], "/gap/GlobalAveragePool"), gp,
                "/gap/GlobalAveragePool_output_0")
    flat = q.qdq(g.node("Flatten", [gap], "/Flatten", axis=1), gp, "/Flatten_output_0")
    real = g.rng.normal(0, 0.5, (5, 11)).astype(np.float32)
    w, w_scales = q.weights("fc.weight", real, 0)
    b = q.bias("fc.bias", g.rng.normal(0, 0.1, 5), gp[2], w_scales)
    fc = g.node("Gemm", [flat, w, b], "/fc/Gemm", alpha=1.0, beta=1.0, transB=1)
    fc = q.qdq(fc, q.activation("/fc/Gemm_output_0", -4, 4), "/fc/Gemm_output_0")
    zero = 0 if act_type == np.uint8 else -128
    sp = (g.const("output_scale", np.float32(1 / 256)), g.const("output_zero_point",
                                                               act_type(zero)), 1 / 256)
    y = q.qdq(g.node("Softmax", [fc], "/Softmax", axis=1), sp, "output")
    return g.model([(x, ["batch", 3, 8, 8])], [(y, ["batch", 5])], "onnx.quantize"), \
        {x: (3, 8, 8)}


def ort_qdq_mlp(act_type, weight_type, reduce_range, opset=13):
    """quantize_static(QDQ) of an MLP exported with MatMul + Add (a Linear on [N, T, F] data):
    MatMul weights per channel along axis 1, the Add's bias a quantised activation-typed
    initialiser behind its own DequantizeLinear, Transpose and Reshape sharing QDQ pairs."""
    tag = f"{'s8' if act_type == np.int8 else 'u8'}{'s8' if weight_type == np.int8 else 'u8'}"
    g = Graph(f"ort_qdq_mlp_{tag}{'_reduce_range' if reduce_range else ''}_{opset}", opset)
    q = Quantiser(g, act_type, weight_type, False, reduce_range, per_channel=opset >= 13)
    x = "x"
    xp = q.activation("x", -3, 3)
    h = q.qdq(x, xp, "x")
    h = g.node("Transpose", [h], "/Transpose", perm=[0, 2, 1])  # [N, 6, 4] -> [N, 4, 6]
    h = q.qdq(h, xp, "/Transpose_output_0")
    w, _ = q.weights("onnx::MatMul_20", g.rng.normal(0, 0.5, (6, 12)).astype(np.float32), 1)
    mm = g.node("MatMul", [h, w], "/fc1/MatMul")
    mp = q.activation("/fc1/MatMul_output_0", -3, 3)
    mm = q.qdq(mm, mp, "/fc1/MatMul_output_0")
    bias_real = g.rng.normal(0, 0.2, 12).astype(np.float32)
    bq = Quantiser(g, act_type, act_type, False, False, per_channel=False)
    lo, hi = min(bias_real.min(), 0), max(bias_real.max(), 0)
    qmin = 0 if act_type == np.uint8 else -128
    b_scale = np.float32((hi - lo) / 255)
    b_zero = int(np.round(qmin - lo / b_scale))
    b_q = np.clip(np.round(bias_real / b_scale) + b_zero, qmin, qmin + 255).astype(act_type)
    bias = g.node("DequantizeLinear", [g.const("fc1.bias_quantized", b_q),
                                       g.const("fc1.bias_scale", b_scale),
                                       g.const("fc1.bias_zero_point", act_type(b_zero))],
                  "fc1.bias_DequantizeLinear")
    del bq
    ap = q.activation("/fc1/Add_output_0", 0, 3)  # the Relu removed into the Add
    add = g.node("Add", [mm, bias], "/fc1/Add")
    g.nodes[-1].output[0] = "/relu/Relu_output_0"
    add = q.qdq("/relu/Relu_output_0", ap, "/relu/Relu_output_0")
    flat = g.node("Reshape", [add, g.const("/Constant_output_0", np.array([-1, 48], np.int64))],
                  "/Reshape")
    flat = q.qdq(flat, ap, "/Reshape_output_0")
    w2, w2_scales = q.weights("onnx::MatMul_21", g.rng.normal(0, 0.3, (48, 4)).astype(np.float32),
                              1)
    out = g.node("MatMul", [flat, w2], "/fc2/MatMul")
    yp = q.activation("y", -4, 4)
    y = q.qdq(out, yp, "y")
    return g.model([(x, ["N", 6, 4])], [(y, ["N", 4])], "onnx.quantize"), {x: (6, 4)}


def ort_qoperator_cnn(opset):
    """quantize_static(QuantFormat.QOperator), uint8 activations, int8 per-channel weights:
    QuantizeLinear, QLinearConv (ReLU fused away), MaxPool on uint8, QLinearConv, QLinearAdd
    (residual), QLinearGlobalAveragePool, Reshape, QLinearMatMul, DequantizeLinear."""
    g = Graph(f"ort_qoperator_cnn_{opset}", opset)
    q = Quantiser(g, np.uint8, np.int8)
    x = "input"
    xs, xz, x_scale = q.activation("input", -3, 3)
    xq = g.node("QuantizeLinear", [x, xs, xz], "input_QuantizeLinear")

    def qlinear_conv(h, hp, cin, cout, name, lo, hi):
        real = g.rng.normal(0, 1.4 / np.sqrt(cin * 9), (cout, cin, 3, 3))
        qmin, qmax = q.weight_range()
        scales = (np.abs(real).reshape(cout, -1).max(1) * 2 / (qmax - qmin)).astype(np.float32)
        w = np.clip(np.round(real / scales[:, None, None, None]), qmin, qmax).astype(np.int8)
        bias = np.round(g.rng.normal(0, 0.1, cout) / (hp[2] * scales)).astype(np.int32)
        yp = q.activation(f"{name}_output", lo, hi)
        out = g.node("QLinearConv", [h, hp[0], hp[1], g.const(f"{name}.weight_quantized", w),
                                     g.const(f"{name}.weight_scale", scales),
                                     g.const(f"{name}.weight_zero_point",
                                             np.zeros(cout, np.int8)),
                                     yp[0], yp[1], g.const(f"{name}.bias_quantized", bias)],
                     f"{name}_quant", pads=[1, 1, 1, 1], kernel_shape=[3, 3])
        return out, yp

    c1, p1 = qlinear_conv(xq, (xs, xz, x_scale), 3, 8, "conv1", 0, 5)
    pool = g.node("MaxPool", [c1], "/pool/MaxPool", kernel_shape=[2, 2], strides=[2, 2])
    c2, p2 = qlinear_conv(pool, p1, 8, 8, "conv2", 0, 4)
    ap = q.activation("/Add_output_0", 0, 8)
    add = g.node("QLinearAdd", [c2, p2[0], p2[1], pool, p1[0], p1[1], ap[0], ap[1]],
                 "/Add_quant", domain=MICROSOFT)
    gp = q.activation("/gap_output", 0, 4)
    gap = g.node("QLinearGlobalAveragePool", [add, ap[0], ap[1], gp[0], gp[1]],
                 "/gap/GlobalAveragePool_quant", domain=MICROSOFT, channels_last=0)
    flat = g.node("Reshape", [gap, g.const("/Constant_output_0", np.array([-1, 8], np.int64))],
                  "/Reshape")
    real = g.rng.normal(0, 0.5, (8, 5))
    qmin, qmax = q.weight_range()
    scales = (np.abs(real).max(0) * 2 / (qmax - qmin)).astype(np.float32)
    yp = q.activation("output", -4, 4)
    mm = g.node("QLinearMatMul",
                [flat, gp[0], gp[1],
                 g.const("fc.weight_quantized", np.round(real / scales).astype(np.int8)),
                 g.const("fc.weight_scale", scales), g.const("fc.weight_zero_point",
                                                             np.zeros(5, np.int8)),
                 yp[0], yp[1]], "/fc/MatMul_quant")
    y = g.node("DequantizeLinear", [mm, yp[0], yp[1]], "output_DequantizeLinear")
    return g.model([(x, ["batch", 3, 8, 8])], [(y, ["batch", 5])], "onnx.quantize"), \
        {x: (3, 8, 8)}


def ort_dynamic(weight_type, conv):
    """quantize_dynamic (IntegerOps): each MatMul (or Conv) becomes DynamicQuantizeLinear of its
    input, MatMulInteger (ConvInteger) with the quantised weights and both zero points, Cast to
    float, and Mul by Mul(x_scale, w_scale); the bias Add stays float."""
    tag = "s8" if weight_type == np.int8 else "u8"
    g = Graph(f"ort_dynamic_{'conv' if conv else 'mlp'}_{tag}", 13)
    q = Quantiser(g, np.uint8, weight_type, reduce_range=True, per_channel=False)

    def integer_layer(h, real, name, op_type, **attributes):
        qmin, qmax = q.weight_range()
        if weight_type == np.int8:
            scale = np.float32(np.abs(real).max() * 2 / (qmax - qmin))
            zero = 0
        else:
            lo, hi = min(real.min(), 0), max(real.max(), 0)
            scale = np.float32((hi - lo) / (qmax - qmin))
            zero = int(np.round(qmin - lo / scale))
        wq = np.clip(np.round(real / scale) + zero, qmin, qmax).astype(weight_type)
        xq, xs, xz = g.node("DynamicQuantizeLinear", [h], f"{h}_QuantizeLinear", outputs=3)
        acc = g.node(op_type, [xq, g.const(f"{name}_quantized", wq), xz,
                               g.const(f"{name}_zero_point", weight_type(zero))],
                     f"{name}_quant", **attributes)
        accf = g.node("Cast", [acc], f"{name}_quant_output_quantized_cast", to=TensorProto.FLOAT)
        scales = g.node("Mul", [xs, g.const(f"{name}_scale", scale)], f"{name}_quant_scales_mul")
        return g.node("Mul", [accf, scales], f"{name}_quant_output_scale_mul")

    x = "input"
    if conv:
        h = integer_layer(x, g.rng.normal(0, 0.3, (6, 2, 3, 3)), "conv.weight", "ConvInteger",
                          pads=[1, 1, 1, 1], kernel_shape=[3, 3])
        h = g.node("Add", [h, g.const("conv.bias_reshaped", g.rng.normal(0, 0.1, (6, 1, 1))
                                      .astype(np.float32))], "/conv/Conv_bias_add")
        h = g.node("Relu", [h], "/relu/Relu")
        h = g.node("Flatten", [h], "/Flatten", axis=1)
        h = integer_layer(h, g.rng.normal(0, 0.1, (6 * 36, 4)), "fc.weight", "MatMulInteger")
        shape = {x: (2, 6, 6)}
    else:
        h = integer_layer(x, g.rng.normal(0, 0.4, (10, 16)), "fc1.weight", "MatMulInteger")
        h = g.node("Add", [h, g.const("fc1.bias", g.rng.normal(0, 0.1, 16).astype(np.float32))],
                   "/fc1/Add")
        h = g.node("Relu", [h], "/relu/Relu")
        h = integer_layer(h, g.rng.normal(0, 0.3, (16, 4)), "fc2.weight", "MatMulInteger")
        shape = {x: (10,)}
    y = g.node("Add", [h, g.const("fc.bias", g.rng.normal(0, 0.1, 4).astype(np.float32))],
               "/fc/Add")
    return g.model([(x, ["batch", *shape[x]])], [(y, ["batch", 4])], "onnx.quantize"), shape


# tf2onnx from a TFLite int8 model -----------------------------------------------------------

def tflite_int8(opset=13):
    """tf2onnx of a full-integer TFLite model (float input, QUANTIZE first, DEQUANTIZE last),
    after its optimisers: int8 tensors with TFLite's parameters between QuantizeLinear and
    DequantizeLinear, NHWC transposes around the convolutions, per-channel int8 kernels (depthwise
    too, along axis 0 once transposed), int32 biases, fused ReLU6 as Clip before the
    QuantizeLinear, MEAN over [1, 2] with its own output parameters, FULLY_CONNECTED as MatMul
    with transposed int8 weights + Add of the dequantised int32 bias, SOFTMAX at 1/256, -128."""
    g = Graph(f"tflite_int8_{opset}", opset)
    q = Quantiser(g, np.int8, np.int8)
    x = "serving_default_input_1:0"
    xp = q.activation("serving_default_input_1:0", -1, 1)
    h = q.qdq(x, xp, "serving_default_input_1:0")
    h = g.transpose(h, NHWC_TO_NCHW, "sequential/conv2d/Conv2D__5")

    def tfl_conv(h, hp, cin, cout, k, name, lo, hi, group=1, stride=1, pads=None):
        real = g.rng.normal(0, 1.4 / np.sqrt(cin // group * k * k), (cout, cin // group, k, k))
        w, w_scales = q.weights(f"{name};weights", real.astype(np.float32), 0)
        b = q.bias(f"{name};bias", g.rng.normal(0, 0.1, cout), hp[2], w_scales)
        attributes = dict(kernel_shape=[k, k], strides=[stride, stride])
        if group != 1:
            attributes["group"] = group
        if pads:
            attributes["pads"] = pads
        conv = g.node("Conv", [h, w, b], name, **attributes)
        act = g.node("Clip", [conv, g.const(f"{name}_min", np.float32(0)),
                              g.const(f"{name}_max", np.float32(6))], f"{name};Relu6")
        yp = q.activation(f"{name};Relu6_out", lo, hi)
        return q.qdq(act, yp, f"{name};Relu6_out"), yp

    h, p = tfl_conv(h, xp, 1, 8, 3, "sequential/conv2d/Relu6", 0, 6, stride=2, pads=[0, 0, 1, 1])
    h, p = tfl_conv(h, p, 8, 8, 3, "sequential/depthwise/Relu6", 0, 6, group=8,
                    pads=[1, 1, 1, 1])
    h, p = tfl_conv(h, p, 8, 12, 1, "sequential/conv2d_1/Relu6", 0, 6)
    h = g.transpose(h, NCHW_TO_NHWC, "sequential/conv2d_1/Relu6__20")
    mp = q.activation("sequential/global_average_pooling2d/Mean", 0, 3)
    h = q.qdq(g.reduce_mean(h, [1, 2], 0, "sequential/global_average_pooling2d/Mean"), mp,
              "sequential/global_average_pooling2d/Mean")
    real = g.rng.normal(0, 0.5, (12, 5)).astype(np.float32)
    w, w_scales = q.weights("sequential/dense/MatMul", real, 1)
    b = q.bias("sequential/dense/BiasAdd", g.rng.normal(0, 0.1, 5), mp[2], w_scales)
    fc = g.node("Add", [g.node("MatMul", [h, w], "sequential/dense/MatMul"), b],
                "sequential/dense/BiasAdd")
    fp = q.activation("sequential/dense/BiasAdd_out", -5, 5)
    fc = q.qdq(fc, fp, "sequential/dense/BiasAdd_out")
    sp = (g.const("StatefulPartitionedCall:0_scale", np.float32(1 / 256)),
          g.const("StatefulPartitionedCall:0_zero_point", np.int8(-128)), 1 / 256)
    y = q.qdq(g.node("Softmax", [fc], "sequential/dense/Softmax", axis=-1), sp,
              "StatefulPartitionedCall:0")
    return g.model([(x, [1, 16, 16, 1])], [(y, [1, 5])], "tf2onnx"), {x: (16, 16, 1)}


def ort_qdq_layer_norm(form, opset=17):
    """quantize_static(QDQ, uint8 activations, int8 weights) of a Linear + LayerNorm block on
    [N, T, 12] with every op type listed in op_types_to_quantize. `form` "primitives": PyTorch's
    decomposed LayerNorm (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add) quantised
    by QDQOperatorBase: every input and output between QDQ pairs, the constants (exponent,
    epsilon, gamma, beta) quantised as activations behind a DequantizeLinear (uint8,
    asymmetric over [min(0, c), max(0, c)]). "node": the opset 17 LayerNormalization quantised by
    QDQNormalization: X and Y between QDQ pairs, Scale an int8 weight, B an int32 bias at scale
    x_scale * scale_scale."""
    g = Graph(f"ort_qdq_layer_norm_{form}_{opset}", opset)
    q = Quantiser(g, np.uint8, np.int8, per_channel=True)
    x = "x"
    xp = q.activation("x", -3, 3)
    h = q.qdq(x, xp, "x")
    w, _ = q.weights("onnx::MatMul_30", g.rng.normal(0, 0.5, (12, 12)).astype(np.float32), 1)
    mm = q.qdq(g.node("MatMul", [h, w], "/fc/MatMul"), q.activation("/fc/MatMul_output_0", -4, 4),
               "/fc/MatMul_output_0")
    hp = q.activation("/fc/Add_output_0", -4, 4)
    h = q.qdq(g.node("Add", [mm, q.constant("fc.bias", g.rng.normal(0, 0.2, 12))], "/fc/Add"),
              hp, "/fc/Add_output_0")
    gamma = g.rng.uniform(0.5, 1.5, 12).astype(np.float32)
    beta = g.rng.normal(0, 0.3, 12).astype(np.float32)
    yp = q.activation("y", -5, 5)
    if form == "node":
        q.per_channel = False  # QDQNormalization's Scale: one scale for the tensor
        scale, scale_scales = q.weights("norm.weight", gamma, 0)
        bias = q.bias("norm.bias", beta, hp[2], scale_scales)
        norm = g.node("LayerNormalization", [h, scale, bias], "/norm/LayerNormalization",
                      axis=-1, epsilon=1e-5)
        y = q.qdq(norm, yp, "y")
        return g.model([(x, ["N", 6, 12])], [(y, ["N", 6, 12])], "onnx.quantize"), {x: (6, 12)}

    def step(op_type, inputs, stem, lo, hi, **attributes):
        out = g.node(op_type, inputs, f"/norm/{stem}", **attributes)
        return q.qdq(out, q.activation(f"/norm/{stem}_output_0", lo, hi), f"/norm/{stem}_output_0")

    mean = step("ReduceMean", [h], "ReduceMean", -1, 1, axes=[-1])
    d = step("Sub", [h, mean], "Sub", -4, 4)
    squared = step("Pow", [d, q.constant("/norm/Constant_output_0", 2.0)], "Pow", 0, 12)
    variance = step("ReduceMean", [squared], "ReduceMean_1", 0, 4, axes=[-1])
    shifted = step("Add", [variance, q.constant("/norm/Constant_1_output_0", 1e-5)], "Add", 0, 4)
    deviation = step("Sqrt", [shifted], "Sqrt", 0, 2)
    normalised = step("Div", [d, deviation], "Div", -3.5, 3.5)
    scaled = step("Mul", [normalised, q.constant("norm.weight", gamma)], "Mul", -5, 5)
    out = g.node("Add", [scaled, q.constant("norm.bias", beta)], "/norm/Add_1")
    y = q.qdq(out, yp, "y")
    return g.model([(x, ["N", 6, 12])], [(y, ["N", 6, 12])], "onnx.quantize"), {x: (6, 12)}


# name -> builder
MODELS = {
    "tf2onnx_cnn_9": lambda: tf2onnx_cnn(9),
    "tf2onnx_cnn_bn_9": lambda: tf2onnx_cnn_bn(9),
    "keras2onnx_conv1d_9": lambda: keras_conv1d(9, "keras2onnx"),
    "keras2onnx_gru_9": lambda: keras_recurrent(9, "GRU", "keras2onnx"),
    "tf2onnx_cnn_bn_11": lambda: tf2onnx_cnn_bn(11),
    "tf2onnx_pool_keepdims_11": lambda: tf2onnx_global_pool_keepdims(11),
    "tf2onnx_lstm_11": lambda: keras_recurrent(11, "LSTM", "tf2onnx"),
    "tf2onnx_cnn_15": lambda: tf2onnx_cnn(15),
    "tf2onnx_conv1d_15": lambda: keras_conv1d(15, "tf2onnx"),
    "tf2onnx_gru_15": lambda: keras_recurrent(15, "GRU", "tf2onnx"),
    "tf2onnx_pool_keepdims_15": lambda: tf2onnx_global_pool_keepdims(15),
    "keras2onnx_upsample_7": lambda: keras2onnx_upsample(7),
    "tf2onnx_cnn_bn_7": lambda: tf2onnx_cnn_bn(7),
    "keras2onnx_upsample_8": lambda: keras2onnx_upsample(8),
    "tf2onnx_cnn_8": lambda: tf2onnx_cnn(8),
    "keras2onnx_upsample_10": lambda: keras2onnx_upsample(10),
    "tf2onnx_pool_keepdims_10": lambda: tf2onnx_global_pool_keepdims(10),
    "tf2onnx_cnn_bn_14": lambda: tf2onnx_cnn_bn(14),
    "keras2onnx_upsample_14": lambda: keras2onnx_upsample(14),
    "tf2onnx_conv1d_16": lambda: keras_conv1d(16, "tf2onnx"),
    "tf2onnx_pool_keepdims_16": lambda: tf2onnx_global_pool_keepdims(16),
    "ort_qdq_u8s8_asymmetric_per_channel_13": lambda: ort_qdq_cnn(np.uint8, False, True),
    "ort_qdq_s8s8_symmetric_per_tensor_13": lambda: ort_qdq_cnn(np.int8, True, False),
    "ort_qdq_mlp_u8s8_reduce_range_13": lambda: ort_qdq_mlp(np.uint8, np.int8, True),
    "tflite_int8_13": lambda: tflite_int8(13),
    "ort_qdq_u8u8_asymmetric_per_tensor_reduce_range_12":
        lambda: ort_qdq_cnn(np.uint8, False, False, opset=12, reduce_range=True,
                            weight_type=np.uint8),
    "ort_qdq_mlp_s8s8_12": lambda: ort_qdq_mlp(np.int8, np.int8, False, opset=12),
    "ort_qoperator_cnn_12": lambda: ort_qoperator_cnn(12),
    "ort_qdq_layer_norm_primitives_17": lambda: ort_qdq_layer_norm("primitives"),
    "ort_qdq_layer_norm_node_17": lambda: ort_qdq_layer_norm("node"),
    "ort_dynamic_mlp_u8": lambda: ort_dynamic(np.uint8, conv=False),
    "ort_dynamic_conv_s8": lambda: ort_dynamic(np.int8, conv=True),
}

# The committed files: models of one opset side by side (inputs, outputs and every name prefixed
# with the model's name), so that a test compiles and runs each file once; the float ones are
# calibrated, the quantised ones are not, the dynamic ones compile as float models.
FILES = {
    "float_opset7": ["keras2onnx_upsample_7", "tf2onnx_cnn_bn_7"],
    "float_opset8": ["keras2onnx_upsample_8", "tf2onnx_cnn_8"],
    "float_opset10": ["keras2onnx_upsample_10", "tf2onnx_pool_keepdims_10"],
    "float_opset14": ["tf2onnx_cnn_bn_14", "keras2onnx_upsample_14"],
    "float_opset16": ["tf2onnx_conv1d_16", "tf2onnx_pool_keepdims_16"],
    "float_opset9": ["tf2onnx_cnn_9", "tf2onnx_cnn_bn_9", "keras2onnx_conv1d_9", "keras2onnx_gru_9"],
    "float_opset11": ["tf2onnx_cnn_bn_11", "tf2onnx_pool_keepdims_11", "tf2onnx_lstm_11"],
    "float_opset15": ["tf2onnx_cnn_15", "tf2onnx_conv1d_15", "tf2onnx_gru_15",
                      "tf2onnx_pool_keepdims_15"],
    "quantised_opset13": ["ort_qdq_u8s8_asymmetric_per_channel_13",
                          "ort_qdq_s8s8_symmetric_per_tensor_13",
                          "ort_qdq_mlp_u8s8_reduce_range_13", "tflite_int8_13"],
    "quantised_opset12": ["ort_qdq_u8u8_asymmetric_per_tensor_reduce_range_12",
                          "ort_qdq_mlp_s8s8_12", "ort_qoperator_cnn_12"],
    "quantised_opset17": ["ort_qdq_layer_norm_primitives_17", "ort_qdq_layer_norm_node_17"],
    "dynamic_opset13": ["ort_dynamic_mlp_u8", "ort_dynamic_conv_s8"],
}


def side_by_side(file, names):
    """The models of `names` in one graph, each name prefixed with its model's; and the inputs'
    per-sample shapes."""
    graphs, opsets, shapes, producers = [], {}, {}, set()
    for name in names:
        model, model_shapes = MODELS[name]()
        assert model.graph.name == name, (model.graph.name, name)
        producers.add(model.producer_name)
        if len(names) > 1:
            model = onnx.compose.add_prefix(model, f"{name}/")
            model_shapes = {f"{name}/{k}": v for k, v in model_shapes.items()}
        graphs.append(model.graph)
        shapes.update(model_shapes)
        for opset in model.opset_import:
            assert opsets.setdefault(opset.domain, opset.version) == opset.version, name
    graph = helper.make_graph(
        [node for g in graphs for node in g.node], file,
        [value for g in graphs for value in g.input], [value for g in graphs for value in g.output],
        [tensor for g in graphs for tensor in g.initializer])
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid(d, v) for d, v in sorted(opsets.items())],
        producer_name="+".join(sorted(producers)))
    model.ir_version = 7 if opsets[""] < 15 else 8
    onnx.checker.check_model(model, full_check=True)
    return model, shapes


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    assert sorted(n for names in FILES.values() for n in names) == sorted(MODELS)
    for file, names in FILES.items():
        model, shapes = side_by_side(file, names)
        (OUT / f"{file}.onnx").write_bytes(model.SerializeToString())
        rng = np.random.default_rng(zlib.crc32(file.encode()))
        arrays = {key: rng.standard_normal((SAMPLES, *shape)).astype(np.float32)
                  for key, shape in shapes.items()}
        # A TFLite model's input quantisation covers [-1, 1].
        arrays = {k: np.clip(v * 0.5, -1, 1) if k.startswith("tflite") else v
                  for k, v in arrays.items()}
        np.savez(OUT / f"{file}.npz", **arrays)
    print(f"wrote {len(MODELS)} models in {len(FILES)} files to {OUT}")


if __name__ == "__main__":
    main()
