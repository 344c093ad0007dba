"""Shared plumbing for the command-line tests: running edgesplit, temp folders, tiny models."""
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


def run(*args):
    return subprocess.run([EDGESPLIT, *map(str, args)], capture_output=True, text=True)


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


def output_lsb(model):
    """The scale of the DequantizeLinear that produces the model's first output, if any."""
    producer = {o: n for n in model.graph.node for o in n.output}
    node = producer.get(model.graph.output[0].name)
    if node is None or node.op_type != "DequantizeLinear":
        return None
    scale = next(i for i in model.graph.initializer if i.name == node.input[1])
    return float(numpy_helper.to_array(scale).max())
