#!/usr/bin/env bash
# The main job on the bundled example, set-up included: describe the model, then run the float
# reference on the sample sensor windows.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/tools/build.sh" >/dev/null
example="$root/examples/two_imu"
edgesplit="$root/build/edgesplit"
out="$root/build/demo/reference"

echo "== edgesplit inspect examples/two_imu/model.onnx"
"$edgesplit" inspect "$example/model.onnx"
echo
echo "== edgesplit reference (8 sample windows per sensor)"
"$edgesplit" reference "$example/model.onnx" \
  --input wrist_imu="$example/wrist_imu.npy" --input ankle_imu="$example/ankle_imu.npy" -o "$out"
/usr/bin/python3 - "$out" <<'PY'
import sys, numpy as np
probs = np.load(f"{sys.argv[1]}/activity.npy")
print(f"{sys.argv[1]}/activity.npy: shape {probs.shape}")
for i, row in enumerate(probs):
    print(f"  window {i}: class {row.argmax()}  p={row.max():.3f}")
PY
