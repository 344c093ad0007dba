#!/usr/bin/python3
"""Writes examples/two_imu: a small two-sensor activity model (one 1-D conv branch per IMU, a
shared head) and sample windows. Deterministic: same files on every run.

The weights are random (seeded), not trained: the example exists to exercise the tool chain
(symbolic batch, BatchNormalization folding, per-sensor branches that later issues partition).
"""
import pathlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = pathlib.Path(__file__).resolve().parent.parent / "examples" / "two_imu"
CHANNELS, WINDOW, FEATURES, CLASSES = 6, 64, 8, 6
rng = np.random.default_rng(20261122)


def const(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def branch(sensor, initializers, nodes):
    """conv5 -> relu -> maxpool2 -> conv3 -> batchnorm -> relu -> global avg pool -> flatten."""
    p = sensor + "_"
    initializers += [
        const(p + "conv1_w", rng.normal(0, 0.3, (FEATURES, CHANNELS, 5))),
        const(p + "conv1_b", rng.normal(0, 0.1, FEATURES)),
        const(p + "conv2_w", rng.normal(0, 0.3, (FEATURES, FEATURES, 3))),
        const(p + "bn_scale", rng.uniform(0.5, 1.5, FEATURES)),
        const(p + "bn_bias", rng.normal(0, 0.1, FEATURES)),
        const(p + "bn_mean", rng.normal(0, 0.1, FEATURES)),
        const(p + "bn_var", rng.uniform(0.5, 1.5, FEATURES)),
    ]
    nodes += [
        helper.make_node("Conv", [sensor, p + "conv1_w", p + "conv1_b"], [p + "c1"],
                         name=p + "conv1", kernel_shape=[5], pads=[2, 2]),
        helper.make_node("Relu", [p + "c1"], [p + "r1"], name=p + "relu1"),
        helper.make_node("MaxPool", [p + "r1"], [p + "p1"], name=p + "pool1",
                         kernel_shape=[2], strides=[2]),
        helper.make_node("Conv", [p + "p1", p + "conv2_w"], [p + "c2"], name=p + "conv2",
                         kernel_shape=[3], pads=[1, 1]),
        helper.make_node("BatchNormalization",
                         [p + "c2", p + "bn_scale", p + "bn_bias", p + "bn_mean", p + "bn_var"],
                         [p + "b2"], name=p + "bn2"),
        helper.make_node("Relu", [p + "b2"], [p + "r2"], name=p + "relu2"),
        helper.make_node("GlobalAveragePool", [p + "r2"], [p + "gap"], name=p + "gap"),
        helper.make_node("Flatten", [p + "gap"], [p + "features"], name=p + "flatten"),
    ]
    return p + "features"


def main():
    initializers, nodes = [], []
    sensors = ["wrist_imu", "ankle_imu"]
    features = [branch(s, initializers, nodes) for s in sensors]
    initializers += [
        const("head_w", rng.normal(0, 0.5, (CLASSES, FEATURES * len(sensors)))),
        const("head_b", rng.normal(0, 0.1, CLASSES)),
    ]
    nodes += [
        helper.make_node("Concat", features, ["fused"], name="fuse", axis=1),
        helper.make_node("Gemm", ["fused", "head_w", "head_b"], ["logits"], name="head",
                         transB=1),
        helper.make_node("Softmax", ["logits"], ["activity"], name="softmax", axis=-1),
    ]
    inputs = [helper.make_tensor_value_info(s, TensorProto.FLOAT, ["batch", CHANNELS, WINDOW])
              for s in sensors]
    outputs = [helper.make_tensor_value_info("activity", TensorProto.FLOAT, ["batch", CLASSES])]
    graph = helper.make_graph(nodes, "two_imu", inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="edgesplit-examples")
    onnx.checker.check_model(model)
    OUT.mkdir(parents=True, exist_ok=True)
    onnx.save(model, OUT / "model.onnx")

    # Eight windows per sensor: a few sinusoids at class-dependent frequencies plus noise.
    t = np.arange(WINDOW) / 32.0
    arrays = {}
    for s, sensor in enumerate(sensors):
        windows = []
        for i in range(8):
            freq = 1.0 + (i % CLASSES) * 0.5 + s
            phase = rng.uniform(0, 2 * np.pi, (CHANNELS, 1))
            signal = np.sin(2 * np.pi * freq * t + phase) + rng.normal(0, 0.1, (CHANNELS, WINDOW))
            windows.append(signal)
        arrays[sensor] = np.asarray(windows, dtype=np.float32)
        np.save(OUT / f"{sensor}.npy", arrays[sensor])
    # The windows double as the int8 calibration set (examples/firmware-m4 compiles with it).
    np.savez(OUT / "calibration.npz", **arrays)


if __name__ == "__main__":
    main()
