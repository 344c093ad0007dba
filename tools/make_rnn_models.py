#!/usr/bin/python3
"""Writes tests/data/rnn: small recurrent models as real exporters write them, with test inputs
and calibration data, for the LSTM/GRU code-generation tests (tests/cli/test_recurrent.py).

Regenerate with `/usr/bin/python3 tools/make_rnn_models.py` (Debian's python3-torch, onnx,
numpy). Deterministic: fixed seeds, one thread.

- torch_lstm_op9, torch_gru_op9: nn.LSTM / nn.GRU(input 8, hidden 16) over 20 steps, sequence
  first, followed by Linear(16, 4) on every step; torch.onnx.export at opset 9, no initial states.
  Without initial states the exporter builds zero ones with Shape, Gather, Concat and Expand.
- torch_lstm_bf_op13, torch_gru_bf_op13: the same layers with batch_first=True (the exporter adds
  Transposes), the initial states as model inputs; opset 13.
- helper_variants, helper_layout1: onnx.helper graphs, several independent layers each, of what
  the exporters above do not write (bidirectional, reverse, clip, layout=1, GRU with
  linear_before_reset=0, a batch of 2, only Y_h / Y_c used, constant initial states, no bias).

Each <name>.onnx comes with <name>_inputs.npz (one test batch, one entry per model input) and
<name>_calibration.npz: 16 more samples, [16, ...], where the model's first axis is a batch of 1;
otherwise (sequence first, or a batch of 2) `compile --calibration` takes exactly one array of
the model's shape, and the file holds the test input itself: one other sequence would not cover
the test's ranges, and the int8 check is about the layer's arithmetic, not the calibration.
"""
import pathlib

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "data" / "rnn"
SEQ, INPUT, HIDDEN, CLASSES = 20, 8, 16, 4
SAMPLES = 16  # calibration samples per model


class SequenceHead(torch.nn.Module):
    """A recurrent layer then Linear on every step (the last step alone would export as Gather or
    Slice, which have no code generation)."""

    def __init__(self, cell, batch_first):
        super().__init__()
        self.rnn = cell(INPUT, HIDDEN, batch_first=batch_first)
        self.fc = torch.nn.Linear(HIDDEN, CLASSES)

    def forward(self, x, *state):
        if isinstance(self.rnn, torch.nn.LSTM) and state:
            y, _ = self.rnn(x, tuple(state))
        else:
            y, _ = self.rnn(x, *state)
        return self.fc(y)


def sequences(rng, count, batch_first):
    """Smooth random sequences (sums of sines with random phases), as sensor streams are."""
    t = np.arange(SEQ, dtype=np.float32)[:, None]
    data = []
    for _ in range(count):
        freq = rng.uniform(0.05, 0.4, INPUT)
        phase = rng.uniform(0, 2 * np.pi, INPUT)
        data.append(np.sin(freq * t + phase) * rng.uniform(0.5, 2.0, INPUT)
                    + rng.normal(0, 0.1, (SEQ, INPUT)))
    x = np.stack(data).astype(np.float32)  # [count, SEQ, INPUT]
    return x if batch_first else x.transpose(1, 0, 2).copy()


def save_data(name, inputs, calibration):
    """`calibration` holds [SAMPLES, ...] per input; models whose first axis is not 1 get one."""
    np.savez(OUT / f"{name}_inputs.npz", **inputs)
    if any(value.shape[0] != 1 for value in inputs.values()):
        calibration = inputs
    else:
        calibration = {key: value.reshape(-1, *value.shape[2:]) for key, value in calibration.items()}
    np.savez(OUT / f"{name}_calibration.npz", **calibration)


def export_torch(name, cell, opset, batch_first, with_states):
    torch.manual_seed(len(name) * 7 + opset)
    model = SequenceHead(cell, batch_first).eval()
    rng = np.random.default_rng(opset)
    x = sequences(rng, 1, batch_first)
    calibration_x = np.stack([sequences(rng, 1, batch_first) for _ in range(SAMPLES)])
    args, names = [torch.from_numpy(x)], ["x"]
    inputs, calibration = {"x": x}, {"x": calibration_x}
    if with_states:
        states = ["h0", "c0"] if cell is torch.nn.LSTM else ["h0"]
        for state in states:
            value = rng.normal(0, 0.5, (1, 1, HIDDEN)).astype(np.float32)
            args.append(torch.from_numpy(value))
            names.append(state)
            inputs[state] = value
            calibration[state] = rng.normal(0, 0.5, (SAMPLES, 1, 1, HIDDEN)).astype(np.float32)
    torch.onnx.export(model, tuple(args), OUT / f"{name}.onnx", opset_version=opset,
                      input_names=names, output_names=["y"], do_constant_folding=True)
    save_data(name, inputs, calibration)


class HelperGraph:
    """Recurrent layers side by side in one graph (one compile covers them all), each with its own
    input x and outputs, names prefixed by the layer's."""

    def __init__(self):
        self.nodes, self.graph_inputs, self.graph_outputs, self.initializers = [], [], [], []
        self.inputs, self.calibration = {}, {}

    def add(self, prefix, op_type, x_shape, outputs, attributes, initial_h=None, initial_c=None,
            bias=True, seed=0):
        """initial states are 'input' (model inputs), 'constant' or None."""
        rng = np.random.default_rng(seed)
        gates = 4 if op_type == "LSTM" else 3
        directions = 2 if attributes.get("direction") == "bidirectional" else 1
        hidden = attributes["hidden_size"]
        batch_major = attributes.get("layout", 0) == 1
        seq, batch, input_size = (x_shape[1], x_shape[0], x_shape[2]) if batch_major else x_shape
        state_shape = [batch, directions, hidden] if batch_major else [directions, batch, hidden]
        scale = 1 / np.sqrt(hidden)

        def constant(name, value):
            self.initializers.append(numpy_helper.from_array(value.astype(np.float32),
                                                             f"{prefix}_{name}"))
            return f"{prefix}_{name}"

        def graph_input(name, shape, spread):
            full = f"{prefix}_{name}"
            self.graph_inputs.append(helper.make_tensor_value_info(full, TensorProto.FLOAT, shape))
            self.inputs[full] = rng.normal(0, spread, shape).astype(np.float32)
            self.calibration[full] = rng.normal(0, spread, [SAMPLES, *shape]).astype(np.float32)
            return full

        node_inputs = [
            graph_input("x", list(x_shape), 1.0),
            constant("W", rng.uniform(-scale, scale, (directions, gates * hidden, input_size))),
            constant("R", rng.uniform(-scale, scale, (directions, gates * hidden, hidden))),
            constant("B", rng.uniform(-scale, scale, (directions, 2 * gates * hidden))) if bias else "",
            ""]  # sequence_lens
        for state, kind in (("initial_h", initial_h), ("initial_c", initial_c)):
            if op_type == "GRU" and state == "initial_c":
                continue
            if kind == "input":
                node_inputs.append(graph_input(state, state_shape, 0.5))
            elif kind == "constant":
                node_inputs.append(constant(state, rng.normal(0, 0.5, state_shape)))
            else:
                node_inputs.append("")
        while node_inputs[-1] == "":
            node_inputs.pop()
        y_shape = ([batch, seq, directions, hidden] if batch_major
                   else [seq, directions, batch, hidden])
        shapes = {"Y": y_shape, "Y_h": state_shape, "Y_c": state_shape}
        names = ("Y", "Y_h", "Y_c") if op_type == "LSTM" else ("Y", "Y_h")
        node_outputs = [f"{prefix}_{o}" if o in outputs else "" for o in names]
        while node_outputs[-1] == "":
            node_outputs.pop()
        self.nodes.append(helper.make_node(op_type, node_inputs, node_outputs, name=prefix,
                                           **attributes))
        self.graph_outputs += [helper.make_tensor_value_info(f"{prefix}_{o}", TensorProto.FLOAT,
                                                             shapes[o]) for o in outputs]

    def save(self, name, opset):
        graph = helper.make_graph(self.nodes, name, self.graph_inputs, self.graph_outputs,
                                  self.initializers)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        onnx.checker.check_model(model, full_check=True)
        onnx.save(model, OUT / f"{name}.onnx")
        save_data(name, self.inputs, self.calibration)


def main():
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    export_torch("torch_lstm_op9", torch.nn.LSTM, 9, batch_first=False, with_states=False)
    export_torch("torch_gru_op9", torch.nn.GRU, 9, batch_first=False, with_states=False)
    export_torch("torch_lstm_bf_op13", torch.nn.LSTM, 13, batch_first=True, with_states=True)
    export_torch("torch_gru_bf_op13", torch.nn.GRU, 13, batch_first=True, with_states=True)
    # onnxruntime runs these (opset 13): bidirectional with clip, a reverse layer without bias
    # keeping only the final states, GRU with the reset gate applied before R_h.
    variants = HelperGraph()
    variants.add("lstm_bidirectional_clip", "LSTM", [6, 2, 5], ["Y", "Y_h", "Y_c"],
                 {"hidden_size": 7, "direction": "bidirectional", "clip": 2.5},
                 initial_h="constant", initial_c="input", seed=1)
    variants.add("lstm_reverse_states_only", "LSTM", [5, 1, 4], ["Y_h", "Y_c"],
                 {"hidden_size": 6, "direction": "reverse"}, bias=False, seed=2)
    variants.add("gru_bidirectional_reset_first", "GRU", [6, 2, 5], ["Y", "Y_h"],
                 {"hidden_size": 7, "direction": "bidirectional", "linear_before_reset": 0},
                 initial_h="input", seed=4)
    variants.save("helper_variants", 13)
    # layout = 1 (opset 14), which onnxruntime's CPU kernels refuse.
    layout1 = HelperGraph()
    layout1.add("lstm", "LSTM", [2, 5, 3], ["Y", "Y_c"], {"hidden_size": 4, "layout": 1},
                initial_h="input", seed=3)
    layout1.add("gru_clip", "GRU", [2, 5, 3], ["Y_h"],
                {"hidden_size": 4, "layout": 1, "clip": 1.5, "linear_before_reset": 1},
                initial_h="constant", seed=5)
    layout1.save("helper_layout1", 14)

if __name__ == "__main__":
    main()
