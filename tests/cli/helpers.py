"""Shared plumbing for the command-line tests: running edgesplit, temp folders, tiny models."""
import json
import os
import pathlib
import subprocess
import tempfile
import unittest

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

EDGESPLIT = os.environ.get("EDGESPLIT", "build/edgesplit")
SOURCE = pathlib.Path(os.environ.get("EDGESPLIT_SOURCE", pathlib.Path(__file__).parents[2]))
SHARED = pathlib.Path(os.environ.get("EDGESPLIT_SHARED", SOURCE.parent / "shared"))
EXAMPLE = SOURCE / "examples" / "two_imu"


_REPORT_VALIDATOR = None


def validate_report(report_json):
    """Checks a report.json against docs/report.schema.json (raises jsonschema's error)."""
    global _REPORT_VALIDATOR
    if _REPORT_VALIDATOR is None:
        import jsonschema
        schema = json.loads((SOURCE / "docs" / "report.schema.json").read_text())
        _REPORT_VALIDATOR = jsonschema.Draft202012Validator(schema)
    _REPORT_VALIDATOR.validate(json.loads(pathlib.Path(report_json).read_text()))


def run(*args):
    """Runs edgesplit. Every report a successful `compile` (or `run --qemu`, which adds measured
    figures) leaves behind is validated against the schema, so the whole suite checks it."""
    result = subprocess.run([EDGESPLIT, *map(str, args)], capture_output=True, text=True)
    words = list(map(str, args))
    if result.returncode == 0 and words and (words[0] == "compile" or "--qemu" in words):
        folder = None
        if words[0] != "compile":
            folder = words[1]
        for flag in ("-o", "--output"):
            if flag in words[:-1]:
                folder = words[words.index(flag) + 1]
        if folder is not None and (pathlib.Path(folder) / "report.json").exists():
            validate_report(pathlib.Path(folder) / "report.json")
    return result


def build_fleet_program(fleet, devices, driver, build, flags):
    """Links a C driver with a compiled fleet's device folders, as the fleet simulator does: each
    device's own sources compiled on their own, the runtime files they share once. Returns the
    program's path; raises CalledProcessError with the compiler's message."""
    build.mkdir(parents=True, exist_ok=True)
    (build / "driver.c").write_text(driver)

    def cc(args):
        result = subprocess.run(["cc", *flags, *map(str, args)], capture_output=True, text=True)
        if result.returncode != 0:
            raise AssertionError(result.stderr)

    objects, seen = [], set()
    for device in devices:
        folder = fleet / device
        for c_file in sorted(folder.rglob("*.c")):
            runtime = c_file.parent.name == "src"
            if runtime and c_file.name in seen:
                continue
            seen.add(c_file.name)
            obj = build / (("runtime_" if runtime else device + "_") + c_file.stem + ".o")
            cc(["-I", folder, "-I", folder / "runtime/include", "-c", c_file, "-o", obj])
            objects.append(obj)
    cc(["-I", fleet, "-I", fleet / devices[-1] / "runtime/include", build / "driver.c", *objects,
        "-o", build / "driver", "-lm"])
    return build / "driver"


def write_keys(path):
    """A keys file holding a fresh random master key (docs/security.md); returns its path."""
    path = pathlib.Path(path)
    path.write_text(json.dumps({"schema": "edgesplit-keys/1", "master_key_hex": os.urandom(32).hex()}))
    return path


class CliTestCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="edgesplit-cli-")
        self.tmp = pathlib.Path(self._tmp.name)

    def tearDown(self):
        self._tmp.cleanup()

    def save_npy(self, name, array):
        path = self.tmp / name
        np.save(path, array)
        return path

    def save_model(self, name, model):
        path = self.tmp / name
        onnx.save(model, path)
        return path

    def assert_fails(self, result, code, *fragments):
        """A clean failure: the exit code, one line on stderr containing every fragment."""
        self.assertEqual(result.returncode, code, result.stderr)
        message = result.stderr.strip()
        self.assertEqual(message.count("\n"), 0, f"not one line: {message!r}")
        for fragment in fragments:
            self.assertIn(fragment, message)


def single_op_model(op_type, input_shape=(1, 4), output_name="y", opset=13, **attributes):
    """y = op(x) with a float input of `input_shape`."""
    node = helper.make_node(op_type, ["x"], [output_name], name="the_node", **attributes)
    graph = helper.make_graph(
        [node], "single",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, list(input_shape))])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def load_tensor_proto(path):
    tensor = onnx.TensorProto()
    tensor.ParseFromString(pathlib.Path(path).read_bytes())
    return numpy_helper.to_array(tensor)


def run_onnxruntime(model, out_dir, *flags, **inputs):
    subprocess.run(["node", SOURCE / "tools" / "ort_run.js", *flags, model, out_dir,
                    *[f"{name}={path}" for name, path in inputs.items()]],
                   check=True, capture_output=True, text=True)


def onnxruntime_codes(values, lsb, zero):
    """The int8 codes of onnxruntime's dequantised output `values`: each is exactly
    lsb * (q - zero)."""
    return np.rint(values / np.float32(lsb)).astype(np.int32) + zero


def output_lsb(model):
    """The scale of the DequantizeLinear that produces the model's first output, if any."""
    producer = {o: n for n in model.graph.node for o in n.output}
    node = producer.get(model.graph.output[0].name)
    if node is None or node.op_type != "DequantizeLinear":
        return None
    scale = next(i for i in model.graph.initializer if i.name == node.input[1])
    return float(numpy_helper.to_array(scale).max())
