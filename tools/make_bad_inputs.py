#!/usr/bin/python3
"""Writes the files of tests/bad-inputs/: broken models, arrays, archives, topologies and compiled
folders, each small. tests/bad-inputs/cases.json, written by hand, says how each must fail.

    /usr/bin/python3 tools/make_bad_inputs.py

Needs python3-onnx and python3-numpy (Debian). The output is deterministic (archives carry a fixed
timestamp), so rerunning it leaves the committed files unchanged.
"""
import copy
import io
import json
import pathlib
import struct
import zipfile

import numpy as np
from onnx import TensorProto, helper, numpy_helper

ROOT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "bad-inputs"
MODELS, ARRAYS, TOPOLOGIES = ROOT / "models", ROOT / "arrays", ROOT / "topologies"
TARGETS = ROOT / "targets"
KEYS = ROOT / "keys"
COMPILED = ROOT / "compiled"


def tensor_info(name, shape, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def model(nodes, inputs, outputs, initializers=(), opset=13):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    result = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                               producer_name="make_bad_inputs")
    result.ir_version = 8
    return result


def save_model(name, proto):
    (MODELS / name).write_bytes(proto.SerializeToString())


def relu_model(input_shape=(1, 4), output_shape=None, elem=TensorProto.FLOAT):
    node = helper.make_node("Relu", ["x"], ["y"], name="relu")
    return model([node], [tensor_info("x", list(input_shape), elem)],
                 [tensor_info("y", list(output_shape or input_shape), elem)])


def raw_initializer(name, dims, raw, data_type=TensorProto.FLOAT):
    tensor = TensorProto()
    tensor.name, tensor.data_type = name, data_type
    tensor.dims.extend(dims)
    tensor.raw_data = raw
    return tensor


def add_initializer_model(initializer):
    """y = x + w, x: [1, 4]."""
    node = helper.make_node("Add", ["x", initializer.name], ["y"], name="add")
    return model([node], [tensor_info("x", [1, 4])], [tensor_info("y", [1, 4])], [initializer])


def pool_model(**attributes):
    node = helper.make_node("MaxPool", ["x"], ["y"], name="pool", **attributes)
    return model([node], [tensor_info("x", [1, 1, 4, 4])],
                 [tensor_info("y", ["n", "c", "h", "w"])])


def shape_input_model(op, shape_values, output_rank):
    """y = op(x, s) or op(s) with a constant int64 shape-like input `s`."""
    s = numpy_helper.from_array(np.array(shape_values, dtype=np.int64), "s")
    inputs = ["s"] if op == "ConstantOfShape" else ["x", "s"]
    node = helper.make_node(op, inputs, ["y"], name=op.lower())
    graph_inputs = [] if op == "ConstantOfShape" else [tensor_info("x", [1, 4])]
    return model([node], graph_inputs,
                 [tensor_info("y", [f"d{i}" for i in range(output_rank)])], [s])


def renamed(proto, old, new):
    """The serialized model with the bytes of one name replaced (for names onnx cannot set)."""
    data = proto.SerializeToString()
    assert data.count(old) >= 1
    return data.replace(old, new)


def write_models():
    good = relu_model()
    save_model("relu.onnx", good)
    # Loads and runs in the reference, but code generation refuses it.
    save_model("or_codegen.onnx",
               model([helper.make_node("Equal", ["x", "x"], ["same"], name="equal"),
                      helper.make_node("Or", ["same", "same"], ["either"], name="or"),
                      helper.make_node("Cast", ["either"], ["y"], name="cast",
                                       to=TensorProto.FLOAT)],
                     [tensor_info("x", [1, 4])], [tensor_info("y", [1, 4])]))
    save_model("int64_add.onnx",
               model([helper.make_node("Add", ["x", "one"], ["y"], name="add")],
                     [tensor_info("x", [1, 4], TensorProto.INT64)],
                     [tensor_info("y", [1, 4], TensorProto.INT64)],
                     [numpy_helper.from_array(np.ones((1, 4), np.int64), "one")]))
    save_model("pool_3d.onnx",
               model([helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[2, 2, 2])],
                     [tensor_info("x", [1, 2, 4, 4, 4])], [tensor_info("y", [1, 2, 3, 3, 3])]))
    save_model("matmul_integer_alone.onnx",
               model([helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zero"], ["xq"],
                                       name="quantize"),
                      helper.make_node("MatMulInteger", ["xq", "w", "x_zero"], ["y"],
                                       name="matmul")],
                     [tensor_info("x", [1, 4])], [tensor_info("y", [1, 2], TensorProto.INT32)],
                     [numpy_helper.from_array(np.float32(0.05), "x_scale"),
                      numpy_helper.from_array(np.int8(0), "x_zero"),
                      numpy_helper.from_array(np.ones((4, 2), np.int8), "w")]))
    save_model("matmul_integer_runtime_weights.onnx",
               model([helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zero"], ["xq"],
                                       name="quantize"),
                      helper.make_node("MatMulInteger", ["xq", "w", "x_zero"], ["acc"],
                                       name="matmul"),
                      helper.make_node("Cast", ["acc"], ["accf"], name="cast", to=TensorProto.FLOAT),
                      helper.make_node("Mul", ["accf", "scale"], ["y"], name="rescale")],
                     [tensor_info("x", [1, 4]), tensor_info("w", [4, 2], TensorProto.INT8)],
                     [tensor_info("y", [1, 2])],
                     [numpy_helper.from_array(np.float32(0.05), "x_scale"),
                      numpy_helper.from_array(np.int8(0), "x_zero"),
                      numpy_helper.from_array(np.float32(0.01), "scale")]))
    fleet = model([helper.make_node("Relu", ["wrist"], ["rw"], name="relu_wrist"),
                   helper.make_node("Relu", ["ankle"], ["ra"], name="relu_ankle"),
                   helper.make_node("Add", ["rw", "ra"], ["activity"], name="merge")],
                  [tensor_info("wrist", [1, 4]), tensor_info("ankle", [1, 4])],
                  [tensor_info("activity", [1, 4])])
    save_model("fleet.onnx", fleet)
    # A 1x1 Conv widening a 16 KiB image to 128 KiB (float32): no device of
    # topologies/layer_fits_nowhere.json holds it, nor a channel slice of it on its one worker.
    save_model("wide_conv.onnx",
               model([helper.make_node("Conv", ["x", "w"], ["c"], name="wide"),
                      helper.make_node("Relu", ["c"], ["y"], name="relu")],
                     [tensor_info("x", [1, 1, 64, 64])], [tensor_info("y", [1, 8, 64, 64])],
                     [numpy_helper.from_array(np.ones((8, 1, 1, 1), np.float32), "w")]))
    # int8 divides one activation by another, but not by a square root outside a LayerNorm.
    save_model("div_by_root.onnx",
               model([helper.make_node("Sqrt", ["ankle"], ["deviation"], name="root"),
                      helper.make_node("Div", ["wrist", "deviation"], ["activity"],
                                       name="divide")],
                     [tensor_info("wrist", [1, 4]), tensor_info("ankle", [1, 4])],
                     [tensor_info("activity", [1, 4])]))
    serialized = good.SerializeToString()

    (MODELS / "empty.onnx").write_bytes(b"")
    (MODELS / "truncated.onnx").write_bytes(serialized[: len(serialized) // 2])
    (MODELS / "png_magic.onnx").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(64)))
    (MODELS / "text.onnx").write_bytes(b"this is a text file, not an ONNX protobuf\n")
    (MODELS / "is_a_folder.onnx").mkdir(exist_ok=True)
    (MODELS / "is_a_folder.onnx" / "README").write_text("a folder named like a model\n")

    no_opset = relu_model()
    del no_opset.opset_import[:]
    no_opset.opset_import.append(helper.make_opsetid("com.example", 1))
    save_model("no_default_opset.onnx", no_opset)
    new_opset = relu_model()
    new_opset.opset_import[0].version = 99
    save_model("opset_99.onnx", new_opset)

    save_model("unknown_op.onnx", model([helper.make_node("FooBar", ["x"], ["y"], name="foo")],
                                        [tensor_info("x", [1, 4])], [tensor_info("y", [1, 4])]))
    save_model("unsupported_op.onnx",
               model([helper.make_node("Hardmax", ["x"], ["y"], name="hardmax")],
                     [tensor_info("x", [1, 4])], [tensor_info("y", [1, 4])]))
    custom = model([helper.make_node("Gelu", ["x"], ["y"], name="gelu", domain="com.example")],
                   [tensor_info("x", [1, 4])], [tensor_info("y", [1, 4])])
    custom.opset_import.append(helper.make_opsetid("com.example", 1))
    save_model("custom_domain_op.onnx", custom)
    save_model("dynamic_quantize.onnx",
               model([helper.make_node("DynamicQuantizeLinear", ["x"], ["q", "scale", "zp"],
                                       name="dq")],
                     [tensor_info("x", [1, 4])],
                     [tensor_info("q", [1, 4], TensorProto.UINT8), tensor_info("scale", []),
                      tensor_info("zp", [], TensorProto.UINT8)]))

    save_model("cyclic.onnx",
               model([helper.make_node("Add", ["x", "b"], ["a"], name="first"),
                      helper.make_node("Relu", ["a"], ["b"], name="second")],
                     [tensor_info("x", [1, 4])], [tensor_info("b", [1, 4])]))
    save_model("output_not_produced.onnx",
               model([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                     [tensor_info("x", [1, 4])], [tensor_info("z", [1, 4])]))

    save_model("declared_output_mismatch.onnx", relu_model((1, 4), (1, 5)))
    save_model("negative_dim.onnx", relu_model((1, -3)))
    save_model("huge_dims.onnx", relu_model((1 << 40, 1 << 40)))
    save_model("input_8gib.onnx", relu_model((1, 1 << 31)))
    save_model("rank_9.onnx", relu_model((1,) * 9))
    save_model("string_input.onnx",
               model([helper.make_node("Identity", ["x"], ["y"], name="identity")],
                     [tensor_info("x", [1, 4], TensorProto.STRING)],
                     [tensor_info("y", [1, 4], TensorProto.STRING)]))

    save_model("huge_initializer.onnx",
               add_initializer_model(raw_initializer("w", [1 << 30, 1024], b"\0" * 4)))
    save_model("initializer_400mb_4_bytes.onnx",
               add_initializer_model(raw_initializer("w", [100_000_000], b"\0" * 4)))
    save_model("initializer_short_data.onnx",
               add_initializer_model(raw_initializer("w", [1, 4], b"\0" * 12)))
    overflow = raw_initializer("w", [1 << 62, 4], b"\0" * 4)
    save_model("initializer_overflow.onnx", add_initializer_model(overflow))
    save_model("initializer_string.onnx",
               model([helper.make_node("Identity", ["w"], ["y"], name="identity")], [],
                     [tensor_info("y", [1, 4], TensorProto.STRING)],
                     [helper.make_tensor("w", TensorProto.STRING, [1, 4], [b"a"] * 4)]))
    external = raw_initializer("w", [1, 4], b"")
    external.ClearField("raw_data")
    external.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "../../../../etc/passwd"), ("offset", "0"), ("length", "16")):
        entry = external.external_data.add()
        entry.key, entry.value = key, value
    save_model("external_outside_folder.onnx", add_initializer_model(external))
    external.external_data[0].value = "missing_weights.bin"
    save_model("external_missing.onnx", add_initializer_model(external))
    external.external_data[0].value = "short_weights.bin"
    save_model("external_short.onnx", add_initializer_model(external))
    (MODELS / "short_weights.bin").write_bytes(b"\0" * 8)

    save_model("zero_stride.onnx", pool_model(kernel_shape=[2, 2], strides=[0, 1]))
    save_model("huge_kernel.onnx", pool_model(kernel_shape=[1 << 40, 1 << 40]))
    save_model("huge_pads.onnx", pool_model(kernel_shape=[2, 2], pads=[1 << 62] * 4))
    save_model("negative_pads.onnx", pool_model(kernel_shape=[2, 2], pads=[-1] * 4))
    save_model("depth_to_space_blocksize.onnx",
               model([helper.make_node("DepthToSpace", ["x"], ["y"], name="d2s",
                                       blocksize=1 << 32)],
                     [tensor_info("x", [1, 4, 4, 4])], [tensor_info("y", ["n", "c", "h", "w"])]))
    # Crashed ONNX 1.12's shape inference, which narrows the axis to a negative int.
    save_model("layer_norm_huge_axis.onnx",
               model([helper.make_node("LayerNormalization", ["x", "scale"], ["y"], name="ln",
                                       axis=1 << 31)],
                     [tensor_info("x", [1, 4, 4])], [tensor_info("y", [1, 4, 4])],
                     [numpy_helper.from_array(np.ones(4, np.float32), "scale")], opset=17))
    # An axis below -rank with the Mean output asked for: ONNX 1.12's inference still crashes,
    # in the child process edgesplit runs it in.
    save_model("layer_norm_axis_below_rank.onnx",
               model([helper.make_node("LayerNormalization", ["x", "scale"], ["y", "mean"],
                                       name="ln", axis=-4)],
                     [tensor_info("x", [1, 4, 4])], [tensor_info("y", [1, 4, 4])],
                     [numpy_helper.from_array(np.ones(4, np.float32), "scale")], opset=17))
    # Both crashed ONNX 1.12's shape inference (a segfault) before the importer checked them.
    save_model("conv_transpose_rank_1_weight.onnx",
               model([helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="deconv")],
                     [tensor_info("x", [1, 4, 4, 4])], [tensor_info("y", ["n", "c", "h", "w"])],
                     [numpy_helper.from_array(np.zeros(4, np.float32), "w")]))
    save_model("conv_rank_mismatch.onnx",
               model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv")],
                     [tensor_info("x", [1, 4, 4])], [tensor_info("y", ["n", "c", "h"])],
                     [numpy_helper.from_array(np.zeros((4, 4, 1, 1), np.float32), "w")]))
    # The data's rank is known only after inference (the output of a Relu), and the weight comes
    # through a DequantizeLinear in the second: ONNX 1.14's inference of both crashed too.
    save_model("conv_rank_mismatch_after_node.onnx",
               model([helper.make_node("Relu", ["x"], ["r"], name="relu"),
                      helper.make_node("Conv", ["r", "w"], ["y"], name="conv")],
                     [tensor_info("x", [1, 3, 8])], [tensor_info("y", ["n", "c", "h", "w"])],
                     [numpy_helper.from_array(np.zeros((4, 3, 3, 3), np.float32), "w")]))
    save_model("conv_rank_mismatch_qdq_weight.onnx",
               model([helper.make_node("Relu", ["x"], ["r"], name="relu"),
                      helper.make_node("DequantizeLinear", ["wq", "ws"], ["w"], name="dq"),
                      helper.make_node("Conv", ["r", "w"], ["y"], name="conv")],
                     [tensor_info("x", [1, 3, 8])], [tensor_info("y", ["n", "c", "h", "w"])],
                     [numpy_helper.from_array(np.zeros((4, 3, 3, 3), np.int8), "wq"),
                      numpy_helper.from_array(np.array(0.5, np.float32), "ws")]))
    body = helper.make_graph([helper.make_node("Identity", ["cond_in"], ["cond_out"])], "body",
                             [tensor_info("i", [], TensorProto.INT64),
                              tensor_info("cond_in", [], TensorProto.BOOL)],
                             [tensor_info("cond_out", [], TensorProto.BOOL)])
    save_model("loop_subgraph.onnx",
               model([helper.make_node("Loop", ["n", "c"], [], name="loop", body=body),
                      helper.make_node("Relu", ["x"], ["y"], name="relu")],
                     [tensor_info("x", [1, 4]), tensor_info("n", [], TensorProto.INT64),
                      tensor_info("c", [], TensorProto.BOOL)], [tensor_info("y", [1, 4])]))
    save_model("huge_reshape.onnx", shape_input_model("Reshape", [1 << 40, 1 << 40], 2))
    save_model("expand_blowup.onnx", shape_input_model("Expand", [1 << 20, 1 << 20], 2))
    save_model("tile_overflow.onnx", shape_input_model("Tile", [1 << 62, 1 << 62], 2))
    save_model("constant_of_shape_blowup.onnx",
               shape_input_model("ConstantOfShape", [1 << 16, 1 << 16, 1 << 16], 3))
    save_model("unsqueeze_rank_12.onnx",
               model([helper.make_node("Unsqueeze", ["x", "axes"], ["y"], name="unsqueeze")],
                     [tensor_info("x", [1, 4])], [tensor_info("y", ["d"] * 12)],
                     [numpy_helper.from_array(np.arange(2, 12, dtype=np.int64), "axes")]))
    # The same tensors as relu.onnx, under names onnx's helpers would refuse.
    (MODELS / "invalid_utf8_node_name.onnx").write_bytes(renamed(good, b"relu", b"r\xff\xfeu"))
    (MODELS / "newline_in_name.onnx").write_bytes(renamed(good, b"relu", b"re\nu"))


def npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def npy_with_header(header, data=b"", version=1):
    """A .npy file with a hand-written header dict (padded like numpy's)."""
    text = header.encode("latin1")
    prefix = 10 if version == 1 else 12
    text += b" " * ((64 - (prefix + len(text) + 1) % 64) % 64) + b"\n"
    size = struct.pack("<H", len(text)) if version == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + size + text + data


def write_zip(path, entries):
    """An .npz with a fixed timestamp, so the file is the same on every run."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            archive.writestr(info, data)


def write_arrays():
    x = np.linspace(-1, 1, 4, dtype=np.float32).reshape(1, 4)
    (ARRAYS / "x.npy").write_bytes(npy_bytes(x))
    (ARRAYS / "empty.npy").write_bytes(b"")
    (ARRAYS / "text.npy").write_bytes(b"1.0 2.0 3.0 4.0\n")
    (ARRAYS / "float64.npy").write_bytes(npy_bytes(x.astype(np.float64)))
    (ARRAYS / "shape_1x5.npy").write_bytes(npy_bytes(np.zeros((1, 5), np.float32)))
    (ARRAYS / "no_samples.npy").write_bytes(npy_bytes(np.zeros((0, 4), np.float32)))
    (ARRAYS / "big_endian.npy").write_bytes(npy_bytes(x.astype(">f4")))
    (ARRAYS / "fortran_order.npy").write_bytes(
        npy_with_header("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 4), }",
                        x.tobytes()))
    (ARRAYS / "object_dtype.npy").write_bytes(
        npy_with_header("{'descr': '|O', 'fortran_order': False, 'shape': (1, 4), }"))
    (ARRAYS / "truncated_data.npy").write_bytes(npy_bytes(x)[:-6])
    (ARRAYS / "truncated_header.npy").write_bytes(npy_bytes(x)[:40])
    (ARRAYS / "version_9.npy").write_bytes(b"\x93NUMPY\x09\x00" + npy_bytes(x)[8:])
    (ARRAYS / "huge_shape.npy").write_bytes(
        npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1048576, 1048576), }"))
    (ARRAYS / "dim_overflow.npy").write_bytes(
        npy_with_header("{'descr': '<f4', 'fortran_order': False, "
                        "'shape': (99999999999999999999, 4), }"))
    (ARRAYS / "negative_dim.npy").write_bytes(
        npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1, -4), }"))
    (ARRAYS / "no_shape.npy").write_bytes(
        npy_with_header("{'descr': '<f4', 'fortran_order': False, }", x.tobytes()))
    (ARRAYS / "long_header.npy").write_bytes(
        npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4), }"
                        + " " * 20000, x.tobytes(), version=2))
    (ARRAYS / "rank_9.npy").write_bytes(npy_bytes(np.zeros((1,) * 9, np.float32)))

    wrist = np.zeros((8, 4), np.float32)
    write_zip(ARRAYS / "calibration_other_array.npz", [("other.npy", npy_bytes(wrist))])
    write_zip(ARRAYS / "calibration_no_arrays.npz", [("README.txt", b"no .npy entry here\n")])
    write_zip(ARRAYS / "calibration_wrong_shape.npz",
              [("x.npy", npy_bytes(np.zeros((8, 5), np.float32)))])
    write_zip(ARRAYS / "calibration_bad_entry.npz", [("x.npy", b"not numpy at all")])
    write_zip(ARRAYS / "calibration_wrist_ankle.npz",
              [("wrist.npy", npy_bytes(wrist - 1)), ("ankle.npy", npy_bytes(wrist + 2))])
    (ARRAYS / "not_a_zip.npz").write_bytes(npy_bytes(wrist))
    # A directory entry claiming 4 GiB for a few stored bytes (as a zip bomb would).
    good = io.BytesIO()
    write_zip(good, [("x.npy", npy_bytes(wrist))])
    data = bytearray(good.getvalue())
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 0xFFFFFFF0)  # uncompressed size
    (ARRAYS / "calibration_claims_4gib.npz").write_bytes(bytes(data))


# For models/fleet.onnx (inputs wrist and ankle, output activity): valid as it stands.
GOOD_TOPOLOGY = {
    "schema": "edgesplit-topology/1",
    "devices": [
        {"name": "wrist", "target": "cortex-m4", "clock_mhz": 64, "ram_kib": 32,
         "flash_kib": 256, "sensors": ["wrist"]},
        {"name": "hub", "target": "cortex-m7", "clock_mhz": 216, "ram_kib": 512,
         "flash_kib": 2048, "role": "aggregator", "sensors": ["ankle"]},
    ],
    "sensor_groups": {"wrist": ["wrist"], "ankle": ["ankle"]},
    "links": [{"from": "wrist", "to": "hub", "kbps": 1000, "latency_ms": 7.5, "mtu": 244,
               "nj_per_byte": 80}],
}


def write_topologies():
    def write(name, edit):
        topology = copy.deepcopy(GOOD_TOPOLOGY)
        edit(topology)
        (TOPOLOGIES / f"{name}.json").write_text(json.dumps(topology, indent=2) + "\n")

    write("good", lambda t: None)
    write("missing_key", lambda t: t.pop("sensor_groups"))
    write("unknown_key", lambda t: t["devices"][0].update(ramkib=t["devices"][0].pop("ram_kib")))
    write("duplicate_device", lambda t: t["devices"][1].update(name="wrist"))
    write("link_unknown_device", lambda t: t["links"][0].update(to="hubb"))
    write("group_names_no_input", lambda t: t["sensor_groups"].update(wrist=[]))
    write("group_unknown_input", lambda t: t["sensor_groups"].update(wrist=["chest"]))

    def drop_ankle_group(t):
        t["sensor_groups"].pop("ankle")
        t["devices"][1]["sensors"] = []
    write("input_in_no_group", drop_ankle_group)
    write("head_not_output", lambda t: t.update(heads=[{"output": "activity_wrist"}]))
    write("number_as_string", lambda t: t["devices"][0].update(ram_kib="32"))
    write("two_aggregators", lambda t: t["devices"][0].update(role="aggregator"))
    write("no_link_to_aggregator", lambda t: t.update(links=[]))
    write("key_in_topology", lambda t: t.update(auth={"key_hex": "000102030405060708090a0b0c0d0e0f"}))
    # For models/wide_conv.onnx: a camera and an aggregator of 64 KiB each.
    (TOPOLOGIES / "layer_fits_nowhere.json").write_text(json.dumps({
        "schema": "edgesplit-topology/1",
        "devices": [
            {"name": "cam", "target": "cortex-m4", "clock_mhz": 64, "ram_kib": 64,
             "flash_kib": 256, "sensors": ["cam"]},
            {"name": "hub", "target": "cortex-m4", "clock_mhz": 64, "ram_kib": 64,
             "flash_kib": 256, "role": "aggregator"},
        ],
        "sensor_groups": {"cam": ["x"]},
        "links": [{"from": "cam", "to": "hub", "kbps": 1000, "latency_ms": 1, "mtu": 244,
                   "nj_per_byte": 80}],
    }, indent=2) + "\n")

    write("pin_unknown_node", lambda t: t.update(placement={"relu_chest": "hub"}))

    # A worker between the wrist and the hub: the whole-fleet placement, every device 1 KiB.
    def tiny_fleet(stack_bytes):
        def edit(t):
            t["devices"].insert(1, {"name": "w1", "target": "cortex-m4", "clock_mhz": 64,
                                    "ram_kib": 1, "flash_kib": 256, "role": "worker"})
            for device in t["devices"]:
                device.update(ram_kib=1, costs={"stack_bytes": stack_bytes})
            t["links"] += [dict(t["links"][0], to="w1"), dict(t["links"][0], **{"from": "w1"})]
        return edit
    write("placement_layer_fits_nowhere", tiny_fleet(1010))  # no room for a Relu's 32 bytes
    write("no_placement_fits", tiny_fleet(900))    # each Relu fits, not with a frame buffer
    (TOPOLOGIES / "not_json.json").write_text(
        '{"schema": "edgesplit-topology/1", "devices": [,]}\n')


def write_targets():
    """A target too small for any model: 1 KiB of RAM, all of it the stack allowance. Without gcc
    flags nothing is cross-compiled (no flash measurement, no stack analysis), so the refusal
    stays within the corpus's CPU limit."""
    target = json.loads((ROOT.parents[1] / "targets" / "cortex-m4.json").read_text())
    target.update(name="tiny-ram", ram_kib=1, gcc_flags=[])
    (TARGETS / "tiny_ram.json").write_text(json.dumps(target, indent=2) + "\n")


def write_keys():
    """Keys files `compile --keys` must refuse before writing anything (docs/security.md)."""
    def write(name, text):
        (KEYS / f"{name}.json").write_text(text)

    write("weak_all_zero", json.dumps({"schema": "edgesplit-keys/1", "master_key_hex": "00" * 32}) + "\n")
    write("weak_documented", json.dumps({"schema": "edgesplit-keys/1", "master_key_hex":
                                         bytes(range(32)).hex()}) + "\n")
    write("short_key", json.dumps({"schema": "edgesplit-keys/1", "master_key_hex": "ab12" * 8}) + "\n")
    write("wrong_schema", json.dumps({"schema": "edgesplit-keys/2", "master_key_hex": "ab" * 32}) + "\n")
    write("not_json", '{"schema": "edgesplit-keys/1", "master_key_hex": 7f3a\n')


def write_compiled():
    """Folders that `edgesplit run` must refuse before building anything."""
    for name in ("no_report", "bad_report", "old_schema"):
        (COMPILED / name).mkdir(parents=True, exist_ok=True)
    (COMPILED / "no_report" / "README").write_text("not a compiled folder: run must refuse it\n")
    (COMPILED / "bad_report" / "report.json").write_text('{"schema": "edgesplit-report/1", "dev')
    (COMPILED / "old_schema" / "report.json").write_text(
        '{"schema": "edgesplit-report/0", "devices": []}\n')


def main():
    for folder in (MODELS, ARRAYS, TOPOLOGIES, TARGETS, KEYS, COMPILED):
        folder.mkdir(parents=True, exist_ok=True)
    write_models()
    write_arrays()
    write_topologies()
    write_targets()
    write_keys()
    write_compiled()


if __name__ == "__main__":
    main()
