#!/usr/bin/python3
"""Writes examples/har: a three-IMU human-activity model with exchangeable heads, trained on a
synthetic data set, plus calibration, test and demo windows and a four-device topology.

Regenerate with `/usr/bin/python3 tools/make_har_example.py [--check]` (Debian's python3-torch,
onnx, numpy); --check also runs `edgesplit inspect` on the model and compares `edgesplit reference`
with torch on the demo windows (binary: $EDGESPLIT or build/edgesplit). Deterministic: fixed seeds, deterministic torch algorithms, one thread, zip entries with
a fixed time stamp, so every run writes byte-identical files.

Data set (synthetic, 50 Hz, windows of 48 samples = 0.96 s)
-------------------------------------------------------------
Three body-worn IMUs (sensor groups) -- wrist, ankle (lateral shank), chest -- each give six
channels: accelerometer x, y, z in g (gravity reaction included) and gyroscope x, y, z in rad/s.
Six classes: sitting, standing, walking, stairs, running, cycling. Each window is built as

    acc(t)  = R_mount . R_axis(angle(t)) . g_posture + linear_acc(t) + impacts(t) + bias + noise
    gyro(t) = R_mount . (d angle/dt on the segment's rotation axis + extra rotation) + bias + noise

per device, where g_posture is the device's gravity direction for the class's posture (drawn from
a class-dependent set or range), angle(t) is the body segment's swing (a gait or pedal phase
2*pi*f*t + phase with a fundamental and a second harmonic), R_mount a random mounting/orientation
offset, and per-window random draws of phase, stride/cadence frequency (with a slow in-window
frequency wobble), harmonic content, subject gain (one per window, scaling all motion
amplitudes), impact strength, fidget/vibration level, sensor bias and white noise.

Class evidence is spread over the groups on purpose:
- chest: trunk inclination separates sitting (reclined) from standing (upright); its bounce
  separates still, gait and running, but walking and stairs differ only by a little forward lean
  and cadence, and cycling shows only a faint sway at any trunk inclination;
- ankle: the shank's swing separates walking from stairs (stairs: less swing, strong second
  harmonic, a vertical lift, soft impacts) and cycling (smooth pedal circle, no impacts); sitting
  and standing overlap (shank near vertical in both);
- wrist: still classes overlap (hand on lap, holding a phone, arm hanging, handlebar, each with a
  broad orientation spread); arm swing separates gait from stillness only partially.
So a single group reaches well under the accuracy of all three, pairs lie in between.

Model
-----
One 1-D convolution branch per group: Conv1d(6,16,5,s2,p2) -> ReLU -> Conv1d(16,24,5,s2,p2) ->
ReLU -> global average pool -> flatten = 24 features. One head per non-empty subset of groups
(7 heads): the subset's features (concatenated if more than one) -> Linear(.,32) -> ReLU ->
Linear(32,6) = logits, output `activity_<groups>`. All heads train jointly (sum of
cross-entropies); the full head sees modality dropout (a quarter of the windows get one or two
groups' features replaced by their batch mean) so that it also copes with mean-imputed features.
"""
import hashlib
import io
import itertools
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from torch import nn

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "examples" / "har"

FS, WINDOW, CHANNELS = 50.0, 48, 6
GROUPS = ("wrist", "ankle", "chest")
CLASSES = ("sitting", "standing", "walking", "stairs", "running", "cycling")
SUBSETS = [s for k in (1, 2, 3) for s in itertools.combinations(GROUPS, k)]
N_TRAIN, N_TEST, N_CALIB, N_DEMO = 6000, 300, 128, 16
SEED_TRAIN, SEED_TEST, SEED_TORCH = 20261122, 20261123, 20261124

T = np.arange(WINDOW) / FS


# ---------------------------------------------------------------------------------------------
# Synthetic data
# ---------------------------------------------------------------------------------------------

def axis_rotation(axis, angle):
    """Rotation matrices [len(angle), 3, 3] about coordinate axis 0/1/2 by angle (radians)."""
    angle = np.broadcast_to(np.asarray(angle, dtype=np.float64), (WINDOW,))
    c, s = np.cos(angle), np.sin(angle)
    r = np.zeros((WINDOW, 3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    r[:, axis, axis] = 1.0
    r[:, i, i], r[:, i, j], r[:, j, i], r[:, j, j] = c, -s, s, c
    return r


def mount_rotation(rng, sigma_deg):
    """A random orientation offset: small rotations about x, y and z."""
    a = np.deg2rad(rng.normal(0.0, sigma_deg, 3))
    return axis_rotation(0, a[0])[0] @ axis_rotation(1, a[1])[0] @ axis_rotation(2, a[2])[0]


def ar1_matrix(a):
    """M with x = M e for x[k] = a x[k-1] + sqrt(1-a^2) e[k], x[0] = e[0] (unit variance)."""
    k = np.arange(WINDOW)
    m = np.where(k[:, None] >= k[None, :], a ** np.abs(k[:, None] - k[None, :]), 0.0)
    m[:, 1:] *= np.sqrt(1 - a ** 2)
    return m


AR1 = ar1_matrix(0.9)


def fidget(rng, sigma):
    """Smooth random motion [3, WINDOW]: AR(1) noise (coefficient 0.9) of deviation sigma."""
    return rng.normal(0.0, sigma, (3, WINDOW)) @ AR1.T


def impacts(rng, theta, amplitude, strike_phase=0.0):
    """Damped ringing after each crossing of strike_phase by the gait phase theta (acc, g)."""
    out = np.zeros(WINDOW)
    cycles = np.floor((theta - strike_phase) / (2 * np.pi))
    ring = amplitude * np.exp(-np.arange(6) / 1.5) * np.cos(np.arange(6) * 1.7)
    for k in np.nonzero(np.diff(cycles) > 0)[0] + 1:
        a = rng.uniform(0.8, 1.2)
        n = min(6, WINDOW - k)
        out[k:k + n] += a * ring[:n]
    return out


def imu(rng, base, axis, angle, lin_acc, extra_gyro, mount_deg, acc_noise, gyro_noise):
    """One device's window [6, WINDOW] from a segment model (see the module docstring)."""
    rot = axis_rotation(axis, angle)
    gravity = np.einsum("tij,j->it", rot, np.asarray(base, dtype=np.float64))
    gyro = np.zeros((3, WINDOW))
    gyro[axis] = np.gradient(np.broadcast_to(angle, (WINDOW,)), 1.0 / FS)
    gyro += extra_gyro
    mount = mount_rotation(rng, mount_deg)
    acc = mount @ (gravity + lin_acc)
    gyro = mount @ gyro
    acc += rng.normal(0.0, 0.02, (3, 1)) + rng.normal(0.0, acc_noise, (3, WINDOW))
    gyro += rng.normal(0.0, 0.02, (3, 1)) + rng.normal(0.0, gyro_noise, (3, WINDOW))
    return np.concatenate([acc, gyro]).astype(np.float32)


def unit(v):
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


# Wrist postures: gravity reaction in the watch frame (x along the forearm towards the hand,
# z out of the back of the hand).
HANG, LAP, PHONE = unit([-1, 0, 0.1]), unit([0.05, 0, 1]), unit([0.35, 0, -0.9])
POCKET, BAR, RAIL = unit([-0.85, 0.35, 0.3]), unit([-0.5, 0, 0.85]), unit([-0.2, 0.2, 0.95])
BENT = unit([-0.25, 0, 0.95])  # running: elbow bent, forearm about horizontal


def make_window(rng, label):
    name = CLASSES[label]
    gain = rng.uniform(0.7, 1.3)  # subject vigour: scales every motion amplitude
    freq = {"walking": (0.8, 1.05), "stairs": (0.75, 1.0), "running": (1.25, 1.6),
            "cycling": (0.9, 1.5)}.get(name, (0.5, 1.5))
    f = rng.uniform(*freq)
    theta = (2 * np.pi * f * T + rng.uniform(0, 2 * np.pi)
             + rng.uniform(0.0, 0.3) * np.sin(2 * np.pi * rng.uniform(0.2, 0.6) * T
                                              + rng.uniform(0, 2 * np.pi)))
    zero = np.zeros((3, WINDOW))
    still = name in ("sitting", "standing")

    # ---- chest: x up the trunk, y left, z forward; pitch about y (positive leans forward).
    lean = np.deg2rad(rng.uniform(*{"sitting": (-40, -14), "standing": (-7, 8),
                                    "walking": (-3, 12), "stairs": (0, 16),
                                    "running": (3, 20), "cycling": (-8, 35)}[name]))
    chest_lin, chest_gyro, pitch = zero.copy(), zero.copy(), np.full(WINDOW, lean)
    if still:
        chest_lin += fidget(rng, rng.uniform(0.005, 0.03))
        chest_gyro += fidget(rng, rng.uniform(0.01, 0.06))
    elif name in ("walking", "stairs", "running"):
        bounce = gain * (rng.uniform(0.15, 0.35) if name != "running" else rng.uniform(0.6, 1.0))
        chest_lin[0] += bounce * (np.sin(2 * theta + rng.uniform(0, 0.5))
                                  + rng.uniform(0, 0.3) * np.sin(4 * theta))
        chest_lin[1] += gain * rng.uniform(0.04, 0.12) * np.sin(theta)
        chest_gyro[0] += gain * rng.uniform(0.15, 0.45) * np.sin(theta + 0.5)
        pitch = pitch + gain * rng.uniform(0.02, 0.06) * np.sin(2 * theta)
    else:  # cycling: slight sway with the cadence, road vibration
        chest_lin[1] += gain * rng.uniform(0.003, 0.02) * np.sin(theta)
        chest_lin += fidget(rng, rng.uniform(0.005, 0.03))
        chest_gyro[0] += gain * rng.uniform(0.01, 0.06) * np.sin(theta)
        chest_gyro += fidget(rng, rng.uniform(0.01, 0.05))
    chest = imu(rng, [1, 0, 0], 1, pitch, chest_lin, chest_gyro, 6.0, 0.02, 0.03)
    # base [1,0,0] pitched by `lean` about y gives (cos, 0, -sin): the trunk's inclination.

    # ---- ankle: x up the shank, y forward, z lateral; shank angle about z (positive forward).
    ankle_lin, ankle_gyro = zero.copy(), zero.copy()
    if still:
        psi0 = rng.uniform(-0.15, 0.2)  # feet on the floor: shank about vertical in both
        psi = np.full(WINDOW, psi0)
        ankle_lin += fidget(rng, rng.uniform(0.003, 0.03))
        ankle_gyro += fidget(rng, rng.uniform(0.01, 0.08))
    elif name == "cycling":
        psi0 = rng.uniform(0.15, 0.6)
        psi = psi0 + gain * rng.uniform(0.2, 0.35) * np.sin(theta)
        radius = rng.uniform(0.15, 0.18)  # crank length: the ankle moves on a circle
        centripetal = radius * (2 * np.pi * f) ** 2 / 9.81
        ankle_lin[0] += centripetal * np.cos(theta + 0.8)
        ankle_lin[1] += centripetal * np.sin(theta + 0.8)
        ankle_lin += rng.normal(0, rng.uniform(0.0, 0.05), (3, WINDOW))
    else:
        amp, h2, lift, impact = {
            "walking": (rng.uniform(0.3, 0.5), rng.uniform(0.0, 0.3), rng.uniform(0.0, 0.2),
                        rng.uniform(0.3, 0.8)),
            "stairs": (rng.uniform(0.25, 0.45), rng.uniform(0.15, 0.45), rng.uniform(0.1, 0.35),
                       rng.uniform(0.2, 0.6)),
            "running": (rng.uniform(0.6, 0.9), rng.uniform(0.1, 0.25), rng.uniform(0.1, 0.3),
                        rng.uniform(1.5, 2.5)),
        }[name]
        psi0 = rng.uniform(-0.05, 0.15)
        psi = psi0 + gain * amp * (np.sin(theta) + h2 * np.sin(2 * theta + rng.uniform(0, 1)))
        ankle_lin[1] += 0.25 * np.gradient(np.gradient(psi, 1 / FS), 1 / FS) / 9.81
        ankle_lin[0] += gain * lift * np.sin(theta + np.pi / 3)
        ankle_lin[0] += gain * impacts(rng, theta, impact, strike_phase=np.pi / 2)
    ankle = imu(rng, [1, 0, 0], 2, psi, ankle_lin, ankle_gyro, 8.0, 0.03, 0.05)

    # ---- wrist: posture from a class-dependent set, swing about y.
    wrist_lin, wrist_gyro = zero.copy(), zero.copy()
    swing = np.zeros(WINDOW)
    if still or name == "cycling":
        if name == "cycling":
            posture = BAR
            wrist_lin += rng.normal(0, rng.uniform(0.0, 0.03), (3, WINDOW))  # handlebar
            wrist_lin += fidget(rng, rng.uniform(0.0, 0.04))
            wrist_gyro += fidget(rng, rng.uniform(0.0, 0.2))  # steering
        else:
            options = ([LAP, PHONE, HANG, BAR] if name == "sitting" else [HANG, PHONE, POCKET, LAP])
            weights = [0.45, 0.25, 0.1, 0.2] if name == "sitting" else [0.45, 0.3, 0.15, 0.1]
            posture = options[rng.choice(4, p=weights)]
            wrist_lin += fidget(rng, rng.uniform(0.0, 0.08))  # gestures, typing
            wrist_lin += rng.normal(0, rng.uniform(0.0, 0.03), (3, WINDOW))  # tremor
            wrist_gyro += fidget(rng, rng.uniform(0.0, 0.3))
    else:
        if name == "running":
            posture, amp = BENT, rng.uniform(0.45, 0.8)
        elif name == "stairs":
            posture, amp = [(HANG, rng.uniform(0.05, 0.3)), (RAIL, rng.uniform(0.0, 0.08)),
                            (PHONE, rng.uniform(0.0, 0.1))][rng.choice(3, p=[0.5, 0.3, 0.2])]
        else:
            posture, amp = [(HANG, rng.uniform(0.12, 0.45)),
                            (PHONE, rng.uniform(0.0, 0.1))][rng.choice(2, p=[0.75, 0.25])]
        swing = gain * amp * np.sin(theta + np.pi + rng.uniform(-0.3, 0.3))
        bounce = gain * (rng.uniform(0.4, 0.8) if name == "running" else rng.uniform(0.03, 0.15))
        wrist_lin[0] += bounce * np.sin(2 * theta + rng.uniform(0, 1))
        wrist_lin += fidget(rng, rng.uniform(0.0, 0.05))
    wrist = imu(rng, posture, 1, swing, wrist_lin, wrist_gyro, 20.0, 0.03, 0.05)
    return {"wrist": wrist, "ankle": ankle, "chest": chest}


def make_dataset(n, seed):
    """n windows, classes balanced and shuffled: {input name: [n,6,48] float32}, labels [n]."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(CLASSES)).astype(np.int64)
    windows = [make_window(rng, int(c)) for c in labels]
    data = {f"{g}_imu": np.stack([w[g] for w in windows]) for g in GROUPS}
    return data, labels


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------

class Branch(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(CHANNELS, 16, 5, stride=2, padding=2)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv1d(16, 24, 5, stride=2, padding=2)
        self.relu2 = nn.ReLU()

    def forward(self, x):
        x = self.relu2(self.conv2(self.relu1(self.conv1(x))))
        return torch.flatten(F.adaptive_avg_pool1d(x, 1), 1)  # GlobalAveragePool + Flatten


class Head(nn.Module):
    def __init__(self, groups):
        super().__init__()
        self.fc1 = nn.Linear(24 * len(groups), 32)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(32, len(CLASSES))

    def forward(self, features):
        x = features[0] if len(features) == 1 else torch.cat(features, dim=1)
        return self.fc2(self.relu(self.fc1(x)))


def head_name(subset):
    return "_".join(subset)


class HarModel(nn.Module):
    def __init__(self):
        super().__init__()
        for g in GROUPS:
            setattr(self, g, Branch())
        for s in SUBSETS:
            setattr(self, "head_" + head_name(s), Head(s))

    def features(self, wrist_imu, ankle_imu, chest_imu):
        x = {"wrist": wrist_imu, "ankle": ankle_imu, "chest": chest_imu}
        return {g: getattr(self, g)(x[g]) for g in GROUPS}

    def heads(self, feats):
        return tuple(getattr(self, "head_" + head_name(s))([feats[g] for g in s])
                     for s in SUBSETS)

    def forward(self, wrist_imu, ankle_imu, chest_imu):
        return self.heads(self.features(wrist_imu, ankle_imu, chest_imu))


def modality_dropout(feats, generator, p=0.25):
    """Per window with probability p, one or two groups' features -> their batch mean."""
    batch = next(iter(feats.values())).shape[0]
    drop = torch.rand(batch, generator=generator) < p
    count = torch.randint(1, 3, (batch,), generator=generator)
    order = torch.argsort(torch.rand(batch, len(GROUPS), generator=generator), dim=1)
    rank = torch.argsort(order, dim=1)  # rank[i, g] < count[i] -> group g dropped
    out = {}
    for gi, g in enumerate(GROUPS):
        mask = (drop & (rank[:, gi] < count)).unsqueeze(1)
        mean = feats[g].mean(dim=0, keepdim=True).detach().expand_as(feats[g])
        out[g] = torch.where(mask, mean, feats[g])
    return out


def train(model, data, labels, log):
    generator = torch.Generator().manual_seed(SEED_TORCH)
    x = [torch.from_numpy(data[f"{g}_imu"]) for g in GROUPS]
    y = torch.from_numpy(labels)
    epochs, batch = 40, 64
    steps = epochs * ((len(y) + batch - 1) // batch)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    full = SUBSETS.index(tuple(GROUPS))
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(y), generator=generator)
        total = 0.0
        for i in range(0, len(y), batch):
            idx = perm[i:i + batch]
            feats = model.features(*(xi[idx] for xi in x))
            logits = list(model.heads(feats))
            logits[full] = model.heads(modality_dropout(feats, generator))[full]
            loss = sum(F.cross_entropy(lg, y[idx], label_smoothing=0.1) for lg in logits)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        if epoch % 10 == 9 or epoch == epochs - 1:
            log(f"epoch {epoch + 1}: loss {total / len(y):.4f}")


def predict(model, data):
    with torch.no_grad():
        out = model(*(torch.from_numpy(data[f"{g}_imu"]) for g in GROUPS))
    return [o.numpy() for o in out]


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------

def export_onnx(model, path):
    model.eval()
    dummy = tuple(torch.zeros(1, CHANNELS, WINDOW) for _ in GROUPS)
    buffer = io.BytesIO()
    torch.onnx.export(model, dummy, buffer, opset_version=13, do_constant_folding=True,
                      input_names=[f"{g}_imu" for g in GROUPS],
                      output_names=["activity_" + head_name(s) for s in SUBSETS])
    proto = onnx.load_from_string(buffer.getvalue())
    tidy(proto)
    onnx.checker.check_model(proto)
    proto = onnx.shape_inference.infer_shapes(proto, strict_mode=True)
    onnx.checker.check_model(proto, full_check=True)
    path.write_bytes(proto.SerializeToString())


def tidy(proto):
    """Readable names: nodes wrist/conv1, values wrist_conv1, a branch's output wrist_features;
    no doc strings."""
    graph = proto.graph
    proto.doc_string = ""
    graph.doc_string = ""
    graph.name = "har"
    outputs = {o.name for o in graph.output}
    renamed = {}
    used = set()
    for node in graph.node:
        node.doc_string = ""
        parts = [p for p in node.name.split("/") if p]
        if len(parts) >= 2 and parts[-1].split("_")[0] == node.op_type and parts[-2] in (
                "conv1", "conv2", "relu1", "relu2", "fc1", "fc2", "relu"):
            parts = parts[:-1]  # /wrist/conv1/Conv -> wrist/conv1
        else:
            parts[-1] = {"GlobalAveragePool": "pool", "Flatten": "flatten",
                         "Concat": "concat"}.get(node.op_type, parts[-1].lower())
        name = "/".join(parts)
        assert name not in used, name
        used.add(name)
        node.name = name
        for i, value in enumerate(node.output):
            if value not in outputs:
                renamed[value] = (parts[0] + "_features" if node.op_type == "Flatten"
                                  else name.replace("/", "_") + (f"_{i}" if i else ""))
                node.output[i] = renamed[value]
    for node in graph.node:
        for i, value in enumerate(node.input):
            node.input[i] = renamed.get(value, value)
    for info in graph.value_info:
        info.name = renamed.get(info.name, info.name)


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------

def npy_bytes(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def save_npz(path, arrays):
    """Like numpy.savez (stored, uncompressed) but with fixed time stamps: reproducible bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        for key, array in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            z.writestr(info, npy_bytes(array))
    path.write_bytes(buffer.getvalue())


def topology():
    def device(name, target, clock, ram, flash, **extra):
        return {"name": name, "target": target, "clock_mhz": clock, "ram_kib": ram,
                "flash_kib": flash, **extra}
    link = {"kbps": 1000, "latency_ms": 7.5, "mtu": 244, "nj_per_byte": 80}
    heads = sorted(SUBSETS, key=lambda s: -len(s))
    return {
        "schema": "edgesplit-topology/1",
        "devices": [
            device("wrist", "cortex-m4", 64, 32, 256, sensors=["wrist"]),
            device("ankle", "cortex-m4", 64, 48, 256, sensors=["ankle"]),
            device("chest", "cortex-m4", 64, 64, 256, sensors=["chest"]),
            device("hub", "cortex-m7", 216, 512, 2048, role="aggregator"),
        ],
        "sensor_groups": {g: [f"{g}_imu"] for g in GROUPS},
        "links": [{"from": g, "to": "hub", **link} for g in GROUPS],
        "heads": [{"output": "activity_" + head_name(s), "priority": 0} for s in heads],
        "fallback": "heads",
        "objective": {"latency": 1.0, "energy": 1.0, "bytes": 0.0},
    }


def topology_text(topo):
    """The topology in the compact layout of the README: one line per device, link, head."""
    def one(x):
        return json.dumps(x, separators=(", ", ": "))
    lines = ["{", f'  "schema": {one(topo["schema"])},', '  "devices": [']
    lines += [f"    {one(d)}," for d in topo["devices"]]
    lines[-1] = lines[-1].rstrip(",")
    lines += ["  ],", f'  "sensor_groups": {one(topo["sensor_groups"])},', '  "links": [']
    lines += [f"    {one(x)}," for x in topo["links"]]
    lines[-1] = lines[-1].rstrip(",")
    lines += ["  ],", '  "heads": [']
    lines += [f"    {one(x)}," for x in topo["heads"]]
    lines[-1] = lines[-1].rstrip(",")
    lines += ["  ],", f'  "fallback": {one(topo["fallback"])},',
              f'  "objective": {one(topo["objective"])}', "}"]
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == topo
    return text


def check_with_edgesplit(model, demo, log):
    """`edgesplit inspect` the model and compare `edgesplit reference` with torch (rtol 1e-4)."""
    binary = os.environ.get("EDGESPLIT", str(ROOT / "build" / "edgesplit"))
    subprocess.run([binary, "inspect", str(OUT / "model.onnx")], check=True,
                   stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory(prefix="make_har_") as tmp:
        inputs = []
        for name in demo:
            inputs += ["--input", f"{name}={OUT / (name + '.npy')}"]
        subprocess.run([binary, "reference", str(OUT / "model.onnx"), *inputs, "-o", tmp],
                       check=True)
        for s, logits in zip(SUBSETS, predict(model, demo)):
            ours = np.load(pathlib.Path(tmp) / f"activity_{head_name(s)}.npy").reshape(logits.shape)
            np.testing.assert_allclose(ours, logits, rtol=1e-4, atol=1e-5)
            log(f"  edgesplit reference = torch for activity_{head_name(s)} "
                f"(max |diff| {np.abs(ours - logits).max():.2e})")


def main():
    torch.manual_seed(SEED_TORCH)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731

    train_data, train_labels = make_dataset(N_TRAIN, SEED_TRAIN)
    test_data, test_labels = make_dataset(N_TEST, SEED_TEST)
    log(f"data: {N_TRAIN} training windows, {N_TEST} test windows")

    model = HarModel()
    train(model, train_data, train_labels, log)
    model.eval()
    for s, logits in zip(SUBSETS, predict(model, test_data)):
        log(f"  torch test accuracy {head_name(s):>18}: "
            f"{(logits.argmax(1) == test_labels).mean():.3f}")

    OUT.mkdir(parents=True, exist_ok=True)
    export_onnx(model, OUT / "model.onnx")
    save_npz(OUT / "calibration.npz", {k: v[:N_CALIB] for k, v in train_data.items()})
    save_npz(OUT / "test.npz", {**test_data, "labels": test_labels})
    for k, v in test_data.items():
        (OUT / f"{k}.npy").write_bytes(npy_bytes(v[:N_DEMO]))
    (OUT / "labels.npy").write_bytes(npy_bytes(test_labels[:N_DEMO]))
    (OUT / "topology.json").write_text(topology_text(topology()))

    if "--check" in sys.argv:
        check_with_edgesplit(model, {k: v[:N_DEMO] for k, v in test_data.items()}, log)
    for path in sorted(OUT.iterdir()):
        log(f"{path.relative_to(ROOT)}: {path.stat().st_size} B "
            f"sha256 {hashlib.sha256(path.read_bytes()).hexdigest()[:16]}")


if __name__ == "__main__":
    main()
