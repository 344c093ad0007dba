#!/usr/bin/python3
"""Writes tests/data/ops/: small models of the op patterns that issue 15 found without code
generation (Selu and the other smooth activations, BatchNormalization after MatMul/Gemm or alone,
rank-5/6 Reshape/Transpose chains, Tile, NEMO/DORY-style requantisation chains with Floor and
Cast), each a few KB, and a calibration/test input for each (<name>.npz, one array per input).

    /usr/bin/python3 tools/make_op_models.py

onnx.helper graphs, plus PyTorch exports (python3-torch) at opsets 9-13 where PyTorch writes the
pattern itself. Tests read only the committed files, so they never need torch. The output is
deterministic (fixed seeds), so rerunning it leaves the committed files unchanged.
"""
import pathlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import model_files  # tools/model_files.py

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "data" / "ops"
SAMPLES = 16


def floats(rng, *shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def save(name, model, inputs):
    model_files.save(OUT, "make_op_models", name, model, inputs)


def helper_model(name, nodes, inputs, outputs, initializers, opset, data):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["n", *data[n].shape[1:]]) for n in inputs],
        [], [numpy_helper.from_array(v, k) for k, v in initializers.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    # The outputs' types and shapes as ONNX's own inference gives them.
    inferred = onnx.shape_inference.infer_shapes(model).graph.value_info
    model.graph.output.extend(next(v for v in inferred if v.name == n) for n in outputs)
    save(name, model, data)


def torch_model(name, module, shape, opset, seed):
    import torch
    torch.manual_seed(seed)
    module.eval()
    for parameter in module.modules():
        if isinstance(parameter, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            # Non-trivial running statistics, as a trained model has.
            parameter.running_mean.uniform_(-0.5, 0.5)
            parameter.running_var.uniform_(0.5, 2.0)
            parameter.weight.data.uniform_(0.5, 1.5)
            parameter.bias.data.uniform_(-0.5, 0.5)
    x = torch.randn(SAMPLES, *shape[1:])
    save(name, model_files.export_torch(module, torch.randn(*shape), opset), {"x": x.numpy()})


def torch_models():
    import torch
    import torch.nn as nn
    torch.manual_seed(0)  # the modules' initial weights
    torch_model("selu_mlp", nn.Sequential(nn.Linear(8, 16), nn.SELU(), nn.Linear(16, 4)),
                (1, 8), 9, 1)
    torch_model("linear_bn", nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(),
                                           nn.Linear(16, 4)), (1, 8), 11, 2)
    torch_model("bn1d_3d", nn.Sequential(nn.Conv1d(3, 6, 3, padding=1), nn.ReLU(),
                                         nn.BatchNorm1d(6)), (1, 3, 10), 13, 3)
    # Opset 9 writes PixelShuffle as Reshape(6-D) -> Transpose -> Reshape (11 uses DepthToSpace).
    torch_model("pixel_shuffle", nn.Sequential(nn.Conv2d(2, 8, 3, padding=1), nn.PixelShuffle(2)),
                (1, 2, 5, 5), 9, 4)
    # From opset 11 it is DepthToSpace in CRD mode.
    torch_model("pixel_shuffle_13", nn.Sequential(nn.Conv2d(2, 8, 3, padding=1), nn.PixelShuffle(2)),
                (1, 2, 5, 5), 13, 5)


def helper_models():
    rng = np.random.default_rng(15)
    # Inputs have a symbolic batch (edgesplit compiles it as 1 and runs the SAMPLES rows one by
    # one; onnxruntime runs them at once).
    # Every smooth activation docs/int8.md lists as a lookup table, each an output of one model,
    # after a layer so that int8 has a real range to tabulate.
    activations = (("Selu", {"alpha": 1.5, "gamma": 1.1}), ("Elu", {"alpha": 0.7}),
                   ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}), ("HardSwish", {}),
                   ("LeakyRelu", {"alpha": 0.2}), ("Exp", {}), ("Sigmoid", {}), ("Tanh", {}),
                   ("Floor", {}))
    helper_model("activations", [helper.make_node("MatMul", ["x", "w"], ["h"], name="fc")] +
                 [helper.make_node(op, ["h"], [op.lower()], name=op.lower(), **attributes)
                  for op, attributes in activations],
                 ["x"], [op.lower() for op, _ in activations], {"w": floats(rng, 6, 10, scale=0.5)},
                 14, {"x": floats(rng, SAMPLES, 6)})

    # BatchNormalization after MatMul (folds into a Gemm), and alone on (N, C) and (N, C, L).
    def bn(prefix, c):
        stats = {"gamma": rng.uniform(0.5, 1.5, c), "beta": rng.normal(0, 0.3, c),
                 "mean": rng.normal(0, 0.3, c), "var": rng.uniform(0.5, 2.0, c)}
        return {f"{prefix}_{k}": v.astype(np.float32) for k, v in stats.items()}

    def bn_node(prefix, x, y):
        return helper.make_node("BatchNormalization", [x] + [f"{prefix}_{k}" for k in
                                ("gamma", "beta", "mean", "var")], [y], name=prefix, epsilon=1e-3)

    helper_model("batchnorms", [helper.make_node("MatMul", ["x", "w"], ["h"], name="fc"),
                                bn_node("bn_fc", "h", "y"),
                                bn_node("bn_2d", "a", "y2"), bn_node("bn_3d", "b", "y3")],
                 ["x", "a", "b"], ["y", "y2", "y3"],
                 {"w": floats(rng, 8, 12, scale=0.4), **bn("bn_fc", 12), **bn("bn_2d", 6),
                  **bn("bn_3d", 4)}, 13,
                 {"x": floats(rng, SAMPLES, 8), "a": floats(rng, SAMPLES, 6),
                  "b": floats(rng, SAMPLES, 4, 7)})

    # A rank-6 pixel shuffle written by hand (Transpose of 6 axes, the batch of size 1), and a
    # 6-D transpose that moves every axis but the batch.
    c, r, h, w = 3, 2, 3, 4
    helper_model("transposes_6d", [
        helper.make_node("Reshape", ["x", "s6"], ["a"], name="to6d"),
        helper.make_node("Transpose", ["a"], ["b"], name="shuffle", perm=[0, 1, 4, 2, 5, 3]),
        helper.make_node("Reshape", ["b", "s4"], ["shuffled"], name="to4d"),
        helper.make_node("Transpose", ["z"], ["transposed"], name="t6", perm=[0, 5, 3, 1, 4, 2]),
        helper.make_node("DepthToSpace", ["d"], ["d2s"], name="d2s", blocksize=2, mode="DCR")],
        ["x", "z", "d"], ["shuffled", "transposed", "d2s"],
        {"s6": np.array([-1, c, r, r, h, w], np.int64),
         "s4": np.array([-1, c, h * r, w * r], np.int64)}, 13,
        {"x": floats(rng, SAMPLES, c * r * r, h, w), "z": floats(rng, SAMPLES, 2, 3, 2, 3, 2),
         # Its own generator: the models after this one keep their data.
         "d": floats(np.random.default_rng(16), SAMPLES, 8, 2, 3)})

    # Tile of a constant (folded at compile time) added to an activation, and Tile of an
    # activation.
    helper_model("tile_const", [
        helper.make_node("Tile", ["c", "reps"], ["t"], name="tile_c"),
        helper.make_node("Add", ["x", "t"], ["y"], name="add")],
        ["x"], ["y"], {"c": floats(rng, 1, 3, 2), "reps": np.array([1, 2, 3], np.int64)}, 13,
        {"x": floats(rng, SAMPLES, 6, 6)})
    helper_model("tile_act", [
        helper.make_node("Tile", ["x", "reps"], ["y"], name="tile_x")],
        ["x"], ["y"], {"reps": np.array([1, 2, 3], np.int64)}, 13,
        {"x": floats(rng, SAMPLES, 3, 2)})

    # NEMO/DORY integer-deployable layer: the requantisation between two layers is
    # Mul(M) -> Div(2^d) -> Floor -> Clip(0, 255) -> Cast(int32) -> Cast(float); exporters also
    # write Casts to the type a value already has.
    nodes = [helper.make_node("Cast", ["x"], ["x_float"], name="no_op_cast", to=TensorProto.FLOAT),
             helper.make_node("MatMul", ["x_float", "w1"], ["acc"], name="fc1"),
             helper.make_node("Mul", ["acc", "m"], ["scaled"], name="requant_mul"),
             helper.make_node("Div", ["scaled", "d"], ["shifted"], name="requant_div"),
             helper.make_node("Floor", ["shifted"], ["floored"], name="requant_floor"),
             helper.make_node("Clip", ["floored", "lo", "hi"], ["clipped"], name="requant_clip"),
             helper.make_node("Cast", ["clipped"], ["as_int"], name="to_int", to=TensorProto.INT32),
             helper.make_node("Cast", ["as_int"], ["as_float"], name="to_float",
                              to=TensorProto.FLOAT),
             helper.make_node("MatMul", ["as_float", "w2"], ["y"], name="fc2")]
    # The same chain on a model input (no layer to fold into), to signed 8 bits.
    nodes += [helper.make_node("Mul", ["v", "m"], ["v_scaled"], name="input_mul"),
              helper.make_node("Div", ["v_scaled", "d2"], ["v_shifted"], name="input_div"),
              helper.make_node("Floor", ["v_shifted"], ["v_floored"], name="input_floor"),
              helper.make_node("Clip", ["v_floored", "lo2", "hi2"], ["v_clipped"], name="input_clip"),
              helper.make_node("Cast", ["v_clipped"], ["v_int"], name="v_to_int", to=TensorProto.INT8),
              helper.make_node("Cast", ["v_int"], ["z"], name="v_to_float", to=TensorProto.FLOAT)]
    helper_model("requant_chain", nodes, ["x", "v"], ["y", "z"],
                 {"w1": rng.integers(-8, 9, (8, 12)).astype(np.float32),
                  "m": np.array(45, np.float32), "d": np.array(256, np.float32),
                  "lo": np.array(0, np.float32), "hi": np.array(255, np.float32),
                  "w2": rng.integers(-8, 9, (12, 4)).astype(np.float32),
                  "d2": np.array(16, np.float32), "lo2": np.array(-128, np.float32),
                  "hi2": np.array(127, np.float32)}, 13,
                 {"x": rng.integers(0, 64, (SAMPLES, 8)).astype(np.float32),
                  "v": rng.integers(-64, 64, (SAMPLES, 10)).astype(np.float32)})

    # tf2onnx's LayerNorm of a hand-written TensorFlow (x - mean) * rsqrt(variance + eps) * gamma +
    # beta over the last axis: SquaredDifference as Mul(d, d) on the Sub it shares with the
    # normalisation (tf2onnx merges the duplicate), rsqrt as Sqrt -> Reciprocal. It normalises into
    # the model's output; a second output takes Reciprocal alone (of Sigmoid + 0.5: in (2/3, 2)).
    rng = np.random.default_rng(17)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="dense"),
             helper.make_node("ReduceMean", ["h"], ["mean"], name="norm/mean", axes=[-1]),
             helper.make_node("Sub", ["h", "mean"], ["centred"], name="norm/sub"),
             helper.make_node("Mul", ["centred", "centred"], ["squared"], name="norm/square"),
             helper.make_node("ReduceMean", ["squared"], ["variance"], name="norm/variance",
                              axes=[-1]),
             helper.make_node("Add", ["variance", "epsilon"], ["shifted"], name="norm/add_eps"),
             helper.make_node("Sqrt", ["shifted"], ["deviation"], name="norm/sqrt"),
             helper.make_node("Reciprocal", ["deviation"], ["inverse"], name="norm/rsqrt"),
             helper.make_node("Mul", ["centred", "inverse"], ["normalised"], name="norm/normalise"),
             helper.make_node("Mul", ["normalised", "gamma"], ["scaled"], name="norm/gamma"),
             helper.make_node("Add", ["scaled", "beta"], ["y"], name="norm/beta"),
             helper.make_node("Sigmoid", ["h"], ["gate"], name="gate"),
             helper.make_node("Add", ["gate", "half"], ["positive"], name="shift"),
             helper.make_node("Reciprocal", ["positive"], ["inv"], name="inv")]
    helper_model("layer_norm_tf", nodes, ["x"], ["y", "inv"],
                 {"w": floats(rng, 12, 12, scale=0.4), "epsilon": np.array(1e-3, np.float32),
                  "gamma": rng.uniform(0.5, 1.5, 12).astype(np.float32),
                  "beta": floats(rng, 12, scale=0.3), "half": np.array(0.5, np.float32)}, 13,
                 {"x": floats(rng, SAMPLES, 6, 12)})


def keras_layer_norm_nodes(layer, h, y, scale=True, center=True):
    """Keras' LayerNormalization `layer` of h into y as tf2onnx writes it below opset 17:
    tf.nn.moments (the mean, then SquaredDifference(x, StopGradient(mean)) as Sub + Mul(d, d),
    averaged), then tf.nn.batch_normalization: inv = Rsqrt(variance + eps) [* gamma], written
    Sqrt -> Reciprocal, and y = x * inv + (beta - mean * inv), or x * inv + -(mean * inv) with
    center=False. The centred x exists only inside the variance."""
    norm = f"{layer}/batchnorm"
    inv = f"{layer}_inv"
    nodes = [helper.make_node("ReduceMean", [h], [f"{layer}_mean"], name=f"{layer}/moments/mean",
                              axes=[-1]),
             helper.make_node("Sub", [h, f"{layer}_mean"], [f"{layer}_difference"],
                              name=f"{layer}/moments/SquaredDifference"),
             helper.make_node("Mul", [f"{layer}_difference"] * 2, [f"{layer}_squared"],
                              name=f"{layer}/moments/SquaredDifference__1"),
             helper.make_node("ReduceMean", [f"{layer}_squared"], [f"{layer}_variance"],
                              name=f"{layer}/moments/variance", axes=[-1]),
             helper.make_node("Add", [f"{layer}_variance", "epsilon"], [f"{layer}_shifted"],
                              name=f"{norm}/add"),
             helper.make_node("Sqrt", [f"{layer}_shifted"], [f"{layer}_deviation"],
                              name=f"{norm}/Rsqrt"),
             helper.make_node("Reciprocal", [f"{layer}_deviation"],
                              [f"{layer}_rsqrt" if scale else inv], name=f"{norm}/Rsqrt__1")]
    if scale:
        nodes.append(helper.make_node("Mul", [f"{layer}_rsqrt", f"{layer}_gamma"], [inv],
                                      name=f"{norm}/mul"))
    nodes += [helper.make_node("Mul", [h, inv], [f"{layer}_scaled"], name=f"{norm}/mul_1"),
              helper.make_node("Mul", [f"{layer}_mean", inv], [f"{layer}_mean_scaled"],
                               name=f"{norm}/mul_2")]
    if center:
        nodes.append(helper.make_node("Sub", [f"{layer}_beta", f"{layer}_mean_scaled"],
                                      [f"{layer}_offset"], name=f"{norm}/sub"))
    else:
        nodes.append(helper.make_node("Neg", [f"{layer}_mean_scaled"], [f"{layer}_offset"],
                                      name=f"{norm}/Neg"))
    nodes.append(helper.make_node("Add", [f"{layer}_scaled", f"{layer}_offset"], [y],
                                  name=f"{norm}/add_1"))
    return nodes


def keras_layer_norm_model():
    rng = np.random.default_rng(18)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="dense/MatMul")]
    nodes += keras_layer_norm_nodes("layer_normalization", "h", "y")
    helper_model("layer_norm_keras", nodes, ["x"], ["y"],
                 {"w": floats(rng, 12, 12, scale=0.4), "epsilon": np.array(1e-3, np.float32),
                  "layer_normalization_gamma": rng.uniform(0.5, 1.5, 12).astype(np.float32),
                  "layer_normalization_beta": floats(rng, 12, scale=0.3)}, 13,
                 {"x": floats(rng, SAMPLES, 6, 12)})
    # Keras' options, each normalising the model's input (features of [6, 12] frames) into an
    # output: center=False (no beta: -(mean * inv)), and scale=False with center=False. On the
    # input, the int8 codes both normalise are onnxruntime's own (after a Dense they may not be:
    # docs/int8.md "LayerNormalization").
    rng = np.random.default_rng(19)
    nodes = keras_layer_norm_nodes("layer_normalization", "x", "uncentred", center=False)
    nodes += keras_layer_norm_nodes("layer_normalization_1", "x", "plain", scale=False,
                                    center=False)
    helper_model("layer_norm_keras_options", nodes, ["x"], ["uncentred", "plain"],
                 {"epsilon": np.array(1e-3, np.float32),
                  "layer_normalization_gamma": rng.uniform(0.5, 1.5, 12).astype(np.float32)}, 13,
                 {"x": rng.normal(0.5, 1.5, (SAMPLES, 6, 12)).astype(np.float32)})


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    helper_models()
    keras_layer_norm_model()
    torch_models()


if __name__ == "__main__":
    main()
