#!/usr/bin/env bash
# The main job on the bundled example, set-up included: describe the model, run the float
# reference, compile it to int8 C for a Cortex-M4 (calibrated on the sample windows), then build
# and run the generated code on the host and compare it with the reference.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/tools/build.sh" >/dev/null
example="$root/examples/two_imu"
edgesplit="$root/build/edgesplit"
demo="$root/build/demo"
mkdir -p "$demo"
inputs=(--input wrist_imu="$example/wrist_imu.npy" --input ankle_imu="$example/ankle_imu.npy")

echo "== edgesplit inspect examples/two_imu/model.onnx"
"$edgesplit" inspect "$example/model.onnx"
echo
echo "== edgesplit reference (8 sample windows per sensor)"
"$edgesplit" reference "$example/model.onnx" "${inputs[@]}" -o "$demo/reference"
echo
echo "== edgesplit compile --target cortex-m4 (int8, calibrated on the sample windows)"
/usr/bin/python3 - "$example" "$demo/calibration.npz" <<'PY'
import sys, numpy as np
np.savez(sys.argv[2], wrist_imu=np.load(f"{sys.argv[1]}/wrist_imu.npy"),
         ankle_imu=np.load(f"{sys.argv[1]}/ankle_imu.npy"))
PY
"$edgesplit" compile "$example/model.onnx" --target cortex-m4 \
  --calibration "$demo/calibration.npz" -o "$demo/compiled"
echo "$demo/compiled: $(cd "$demo/compiled" && find . -type f | sort | tr '\n' ' ')"
echo
echo "== edgesplit run (the generated C, built for the host)"
"$edgesplit" run "$demo/compiled" "${inputs[@]}" -o "$demo/run"
/usr/bin/python3 - "$demo" <<'PY'
import json, sys, numpy as np
demo = sys.argv[1]
device = json.load(open(f"{demo}/compiled/report.json"))["devices"][0]
print(f"device {device['name']} ({device['target']}): flash {device['flash_bytes']} B"
      f"{' (measured)' if device['flash_measured'] else ' (estimated)'}, RAM {device['ram_bytes']} B"
      f" (arena {device['arena_bytes']} B, lower bound {device['arena_lower_bound_bytes']} B),"
      f" {device['macs']} MACs, ~{device['est_latency_us']} us, ~{device['est_energy_uj']} uJ")
ref, ours = np.load(f"{demo}/reference/activity.npy"), np.load(f"{demo}/run/activity.npy")
for i, (r, o) in enumerate(zip(ref, ours)):
    print(f"  window {i}: reference class {r.argmax()} p={r.max():.3f} | int8 C class {o.argmax()} p={o.max():.3f}")
print(f"max |int8 - float| = {np.abs(ours - ref).max():.4f}")
PY
