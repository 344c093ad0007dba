"""What the test-model generators (tools/make_*_models.py) share: writing a model with the
inputs it is tested on, and exporting a PyTorch module as users run torch.onnx.export."""
import io

import numpy as np
import onnx


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
