#!/usr/bin/env bash
# The main job on the bundled example, set-up included: the HAR model (three IMU branches, a head
# for every subset of sensors) compiled to int8 C for its fleet (three Cortex-M4 sensor nodes and
# a Cortex-M7 hub, examples/har/topology.json) with encrypted per-link keys from a fresh master
# key, then the fleet simulated on the host: all devices up, then with the ankle node down, then
# with lossy and corrupting links, then with the wrist and the hub rebooting while an attacker
# replays recorded frames.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/tools/build.sh" >/dev/null
har="$root/examples/har"
edgesplit="$root/build/edgesplit"
demo="$root/build/demo"
rm -rf "$demo"
mkdir -p "$demo"
inputs=(--input wrist_imu="$har/wrist_imu.npy" --input ankle_imu="$har/ankle_imu.npy"
        --input chest_imu="$har/chest_imu.npy")

echo "== edgesplit inspect examples/har/model.onnx"
"$edgesplit" inspect "$har/model.onnx" | sed -n '1,20p'
echo
echo "== edgesplit compile --topology examples/har/topology.json --keys (int8, calibrated)"
# A master key of its own: never commit one (docs/security.md).
printf '{"schema": "edgesplit-keys/1", "master_key_hex": "%s"}\n' "$(openssl rand -hex 32)" \
  > "$demo/keys.json"
"$edgesplit" compile "$har/model.onnx" --topology "$har/topology.json" \
  --calibration "$har/calibration.npz" --keys "$demo/keys.json" -o "$demo/fleet"
echo "$demo/fleet: $(cd "$demo/fleet" && ls -d */ | tr '\n' ' ')report.json report.md"
echo
echo "== edgesplit run: the fleet on the host (all devices; ankle failed; 20% lossy links;"
echo "   wrist and hub rebooting under 30% replayed frames)"
"$edgesplit" run "$demo/fleet" "${inputs[@]}" -o "$demo/all"
"$edgesplit" run "$demo/fleet" "${inputs[@]}" -o "$demo/no-ankle" --fail ankle
"$edgesplit" run "$demo/fleet" "${inputs[@]}" -o "$demo/lossy" --drop-rate 0.2 --corrupt-rate 0.2
"$edgesplit" run "$demo/fleet" "${inputs[@]}" -o "$demo/reboots" --reboot wrist@5 --reboot hub@9 \
  --replay 0.3
"$edgesplit" reference "$har/model.onnx" "${inputs[@]}" -o "$demo/reference"
/usr/bin/python3 - "$demo" "$har" <<'PY'
import json, sys, numpy as np
demo, har = sys.argv[1], sys.argv[2]
report = json.load(open(f"{demo}/fleet/report.json"))
for d in report["devices"]:
    print(f"{d['name']:6} {d['role']:10} {d['target']:9} flash {d['flash_bytes']:6} B  RAM {d['ram_bytes']:5} B"
          f"  {d['macs']:6} MACs  ~{d['est_latency_us'] / 1000:.2f} ms compute")
for link in report["links"]:
    print(f"link {link['from']} -> {link['to']}: {link['bytes_per_inference']} B/inference "
          f"({', '.join(t['name'] for t in link['tensors'])}), ~{link['est_transfer_ms']} ms")
fleet = report["fleet"]
print(f"bytes on air per inference: {fleet['chosen']['bytes_per_inference']} "
      f"(raw sensor data would be {fleet['raw']['bytes_per_inference']})")
labels = np.load(f"{har}/labels.npy")
for run in ("all", "no-ankle", "lossy", "reboots"):
    info = json.load(open(f"{demo}/{run}/run.json"))
    correct, ran = 0, 0
    for sample in info["per_sample"]:
        if sample["head"] is None:
            continue
        out = np.load(f"{demo}/{run}/{sample['head']}.npy")[sample["index"]]
        correct += int(out.argmax() == labels[sample["index"]])
        ran += 1
    used = {k: v for k, v in info["heads_run"].items() if v}
    rejected = sum(l["frames_rejected"] for l in info["links"])
    replays = sum(l.get("frames_replayed", 0) for l in info["links"])
    taken = sum(l.get("frames_replayed_accepted", 0) for l in info["links"])
    print(f"{run:8}: heads run {used}; {correct}/{ran} windows classified correctly; "
          f"{rejected} corrupted frames rejected" +
          (f"; {replays} replayed frames, {taken} taken" if replays else ""))
full = "activity_wrist_ankle_chest"
ref, ours = np.load(f"{demo}/reference/{full}.npy"), np.load(f"{demo}/all/{full}.npy")
print(f"full head, int8 fleet vs float reference: same class on {(ref.argmax(1) == ours.argmax(1)).sum()}/{len(ref)} windows")
PY
