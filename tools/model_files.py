"""What the test-model generators (tools/make_*_models.py) share: writing a model with the
inputs it is tested on, and exporting a PyTorch module as users run torch.onnx.export."""
import io

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def save(folder, producer, name, model, inputs):
    """<folder>/<name>.onnx, checked, named after its generator, and <name>.npz holding `inputs`
    (name -> array), which the tests use as calibration data and as the test batch."""
    model.producer_name = producer
    onnx.checker.check_model(model)
    (folder / f"{name}.onnx").write_bytes(model.SerializeToString())
    np.savez(folder / f"{name}.npz", **inputs)


def export_torch(module, example, opset, batch="n"):
    """torch.onnx.export of `module` on `example` (batch 1) with input x and output y whose first
    axis is the dynamic batch `batch`, constant folding on, as users export."""
    import torch

    buffer = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(module, example, buffer, opset_version=opset, input_names=["x"],
                          output_names=["y"], dynamic_axes={"x": {0: batch}, "y": {0: batch}})
    return onnx.load_from_string(buffer.getvalue())


def inferred_outputs_model(name, nodes, inputs, outputs, opset, data, initializers=None):
    """An onnx.helper graph of float `inputs` (shaped as `data`'s arrays with a dynamic batch
    "n"), whose `outputs` are declared as ONNX shape inference finds them."""
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["n", *data[n].shape[1:]])
         for n in inputs],
        [], [numpy_helper.from_array(v, k) for k, v in (initializers or {}).items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    inferred = onnx.shape_inference.infer_shapes(model).graph.value_info
    model.graph.output.extend(next(v for v in inferred if v.name == n) for n in outputs)
    return model


def export_seeded(module, shape, opset, seed, samples, data=None):
    """`module` in eval mode exported on a random example of `shape` after seeding torch with
    `seed`, and its test batch x: `data`, or `samples` random samples drawn before the example."""
    import torch

    torch.manual_seed(seed)
    module.eval()
    x = torch.randn(samples, *shape[1:]) if data is None else torch.from_numpy(data)
    return export_torch(module, torch.randn(*shape), opset), {"x": x.numpy()}


def lambda_module(f, **modules):
    """A torch module computing f(modules, x), for layer patterns written as one expression."""
    from torch import nn

    class Lambda(nn.Module):
        def __init__(self):
            super().__init__()
            self.m = nn.ModuleDict(modules)

        def forward(self, x):
            return f(self.m, x)

    return Lambda()
