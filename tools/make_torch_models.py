#!/usr/bin/python3
"""Writes tests/data/torch: small networks of the kinds people deploy, exported by PyTorch's
torch.onnx.export as users run it (dynamic batch axis, constant folding on), at opsets 9, 11, 13
and 17, for tests/cli/test_torch_exports.py. These are the graphs edgesplit has not been
designed around: the exporter's own shape arithmetic (Shape, Gather, Unsqueeze, Concat,
ConstantOfShape, Reshape with a computed shape), its spellings of ReLU6, Hardswish, SiLU and
GELU at each opset, recurrent layers whose zero initial state is built at run time, and a Cast to
int32 and back that truncates, expand(-1, ...) and torch.arange (Equal, Where, Range), torch.cat with a learned token,
LayerNorm, multi-head self-attention, a bidirectional LSTM and stacked GRUs.

    /usr/bin/python3 tools/make_torch_models.py [NAME...]   (default: every model)

Each <name>.onnx comes with <name>.npz: SAMPLES inputs (key "x", [SAMPLES, ...]) used both as
calibration data and as the test batch. Deterministic: fixed seeds, one thread.
"""
import sys
import pathlib
import zlib

import torch
import torch.nn as nn

import model_files  # tools/model_files.py

OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "data" / "torch"
SAMPLES = 16


class ConvGru(nn.Module):
    """Conv1d feature extractor over a sensor window, a GRU over its steps, a Linear on the last
    step: a keyword-spotting / activity-recognition shape. No initial state is passed, so the
    exporter builds the zero state from the batch size at run time."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 8, 5, stride=2)
        self.gru = nn.GRU(8, 12, batch_first=True)
        self.fc = nn.Linear(12, 4)

    def forward(self, x):
        h = torch.relu(self.conv(x)).permute(0, 2, 1)
        y, _ = self.gru(h)
        return self.fc(y[:, -1])


class ConvLstm(nn.Module):
    """As ConvGru with an LSTM, sequence-first (the exporter's default layout)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 8, 3)
        self.lstm = nn.LSTM(8, 10)
        self.fc = nn.Linear(10, 3)

    def forward(self, x):
        h = torch.relu(self.conv(x)).permute(2, 0, 1)
        y, (h_n, _) = self.lstm(h)
        return self.fc(h_n[-1])


class ConvBnPool(nn.Module):
    """The MobileNet-style image classifier tail: Conv2d, BatchNorm, ReLU6, AdaptiveAvgPool to
    1x1, flatten, Linear."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU6(),
            nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.BatchNorm2d(8), nn.ReLU6(),
            nn.Conv2d(8, 16, 1), nn.BatchNorm2d(16), nn.ReLU6())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


class Reshapes(nn.Module):
    """view(-1, ...), flatten, permute, chunk and cat between layers: the exporter computes the
    shapes from the input's at run time."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 8, 3, padding=1)
        self.fc1 = nn.Linear(4 * 6 * 6, 10)
        self.fc2 = nn.Linear(4 * 6 * 6, 10)
        self.out = nn.Linear(20, 4)

    def forward(self, x):
        h = torch.relu(self.conv(x))
        a, b = torch.chunk(h, 2, dim=1)
        a = a.permute(0, 2, 3, 1).reshape(x.size(0), -1)
        b = b.view(-1, 4 * 6 * 6)
        z = torch.cat([self.fc1(a), torch.sigmoid(self.fc2(b))], dim=1)
        return self.out(torch.flatten(z.unsqueeze(2), 1))


class Activations(nn.Module):
    """Hardswish, SiLU and GELU (tanh and exact) between Linear layers."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 16)
        self.fc2 = nn.Linear(16, 16)
        self.fc3 = nn.Linear(16, 16)
        self.fc4 = nn.Linear(16, 4)

    def forward(self, x):
        h = nn.functional.hardswish(self.fc1(x))
        h = nn.functional.silu(self.fc2(h))
        h = nn.functional.gelu(self.fc3(h))
        return self.fc4(h)


class Truncate(nn.Module):
    """x.int().float(): a Cast to int32 and back, on values that are not whole numbers (the
    exporter's spelling of truncation toward zero, as in hand-written quantisers)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc2((self.fc1(x) * 8).int().float() / 8)


class ExpandArange(nn.Module):
    """A learned token expanded over the batch (expand(-1, ...): Equal and Where in the exported
    shape arithmetic) and positions picked by torch.arange over the sequence (Range, Cast)."""

    def __init__(self):
        super().__init__()
        self.token = nn.Parameter(torch.randn(1, 1, 8))
        self.positions = nn.Parameter(torch.randn(1, 10, 8))
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        gate = torch.sigmoid(self.token.expand(x.size(0), x.size(1), -1))
        h = x * gate + self.positions[:, torch.arange(x.size(1))]
        return self.fc(torch.relu(h).mean(1))


class ClassToken(nn.Module):
    """A learned class token expanded over the batch and put before the sequence (torch.cat with
    a constant once the shapes fold), then positions added: a transformer's input stage."""

    def __init__(self):
        super().__init__()
        self.token = nn.Parameter(torch.randn(1, 1, 8))
        self.positions = nn.Parameter(torch.randn(1, 10, 8))
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        h = torch.cat([self.token.expand(x.size(0), -1, -1), x], 1)
        h = h + self.positions[:, torch.arange(h.size(1))]
        return self.fc(torch.relu(h).mean(1))


class LayerNorm(nn.Module):
    """Linear, LayerNorm, Linear: before opset 17 the exporter writes LayerNorm as ReduceMean,
    Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add; from 17 as LayerNormalization."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 16)
        self.norm = nn.LayerNorm(16)
        self.out = nn.Linear(16, 4)

    def forward(self, x):
        return self.out(self.norm(self.fc(x)))


class SequenceLayerNorm(nn.Module):
    """A transformer block's normalisation: Linear over a [steps, features] sequence, then
    LayerNorm over both trailing axes (axis -2), its output the model's, so the int8 check
    measures the normalisation itself."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(12, 12)
        self.norm = nn.LayerNorm([6, 12])
        with torch.no_grad():
            self.norm.weight.uniform_(-1.5, 1.5)
            self.norm.bias.uniform_(-0.5, 0.5)

    def forward(self, x):
        return self.norm(self.fc(x))


class SelfAttention(nn.Module):
    """nn.MultiheadAttention over a [steps, features] sequence (a keyword transformer's block):
    the exporter's projections, head reshapes, scaled MatMul, Softmax and output projection.
    Called through F.multi_head_attention_forward: under no_grad the module takes a fused path
    the exporter does not know."""

    def __init__(self):
        super().__init__()
        self.attention = nn.MultiheadAttention(8, 2)

    def forward(self, x):
        a = self.attention
        steps = x.transpose(0, 1)
        y = nn.functional.multi_head_attention_forward(
            steps, steps, steps, a.embed_dim, a.num_heads, a.in_proj_weight, a.in_proj_bias,
            None, None, False, 0.0, a.out_proj.weight, a.out_proj.bias, training=False,
            need_weights=False)[0]
        return y.transpose(0, 1)


class BidirectionalLstm(nn.Module):
    """A bidirectional LSTM over a sensor window, every step's output of both directions."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 6, batch_first=True, bidirectional=True)

    def forward(self, x):
        return self.lstm(x)[0]


class StackedGru(nn.Module):
    """Two stacked GRU layers (one ONNX GRU each), the last step of the second."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(8, 6, num_layers=2, batch_first=True)

    def forward(self, x):
        return self.gru(x)[0][:, -1]


# name, module, input shape (batch 1), opset
MODELS = [
    ("conv_gru_9", ConvGru, (1, 3, 32), 9),
    ("conv_gru_13", ConvGru, (1, 3, 32), 13),
    ("conv_lstm_17", ConvLstm, (1, 3, 16), 17),
    ("conv_bn_pool_11", ConvBnPool, (1, 1, 16, 16), 11),
    ("reshapes_9", Reshapes, (1, 2, 6, 6), 9),
    ("reshapes_13", Reshapes, (1, 2, 6, 6), 13),
    ("activations_11", Activations, (1, 12), 11),
    ("activations_17", Activations, (1, 12), 17),
    ("truncate_13", Truncate, (1, 8), 13),
    ("expand_arange_13", ExpandArange, (1, 6, 8), 13),
    ("class_token_13", ClassToken, (1, 5, 8), 13),
    ("layer_norm_13", LayerNorm, (1, 8), 13),
    ("layer_norm_17", LayerNorm, (1, 8), 17),
    ("layer_norm_seq_13", SequenceLayerNorm, (1, 6, 12), 13),
    ("layer_norm_seq_17", SequenceLayerNorm, (1, 6, 12), 17),
    ("attention_9", SelfAttention, (1, 20, 8), 9),
    ("attention_13", SelfAttention, (1, 20, 8), 13),
    ("bilstm_11", BidirectionalLstm, (1, 20, 8), 11),
    ("stacked_gru_13", StackedGru, (1, 20, 8), 13),
]


def trained_like(module):
    """BatchNorm statistics away from the identity, as a trained model has them."""
    for layer in module.modules():
        if isinstance(layer, nn.BatchNorm2d):
            layer.running_mean.uniform_(-0.5, 0.5)
            layer.running_var.uniform_(0.5, 2.0)
            layer.weight.data.uniform_(0.5, 1.5)
            layer.bias.data.uniform_(-0.5, 0.5)
    return module.eval()


def main(names):
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, make, shape, opset in MODELS:
        if names and name not in names:
            continue
        torch.manual_seed(zlib.crc32(name.encode()))  # a model's data do not depend on the others
        module = trained_like(make())
        x = torch.randn(SAMPLES, *shape[1:])
        model = model_files.export_torch(module, torch.randn(*shape), opset, batch="batch")
        model_files.save(OUT, "make_torch_models", name, model, {"x": x.numpy()})


if __name__ == "__main__":
    main(sys.argv[1:])
