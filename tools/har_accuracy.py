#!/usr/bin/python3
"""Per-head accuracy of the examples/har model on its held-out test set (examples/har/test.npz),
through edgesplit itself:

  float: edgesplit reference examples/har/model.onnx --input wrist_imu=... -o DIR
  int8:  edgesplit compile examples/har/model.onnx --calibration examples/har/calibration.npz -o OUT
         edgesplit run OUT --input wrist_imu=... -o DIR        (dequantised outputs)

Prints a markdown table: head (output), groups, float accuracy, int8 accuracy, and how often the
float and int8 arg-max agree. Needs numpy only (no torch, no onnx). The binary is $EDGESPLIT or
build/edgesplit. Usage: /usr/bin/python3 tools/har_accuracy.py [--keep DIR]
"""
import argparse
import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "har"
GROUPS = ("wrist", "ankle", "chest")
HEADS = [("wrist",), ("ankle",), ("chest",), ("wrist", "ankle"), ("wrist", "chest"),
         ("ankle", "chest"), ("wrist", "ankle", "chest")]


def edgesplit(*args):
    binary = os.environ.get("EDGESPLIT", str(ROOT / "build" / "edgesplit"))
    result = subprocess.run([binary, *map(str, args)], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"har_accuracy: `edgesplit {' '.join(map(str, args))}` failed "
                 f"(exit {result.returncode}): {result.stderr.strip()}")
    return result.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", help="work in this folder and keep it (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="har_accuracy_") as tmp:
        work = pathlib.Path(args.keep or tmp)
        work.mkdir(parents=True, exist_ok=True)
        test = np.load(EXAMPLE / "test.npz")
        labels = test["labels"]
        inputs = []
        for g in GROUPS:
            path = work / f"{g}_imu.npy"
            np.save(path, test[f"{g}_imu"])
            inputs += ["--input", f"{g}_imu={path}"]
        model = EXAMPLE / "model.onnx"
        edgesplit("reference", model, *inputs, "-o", work / "float")
        edgesplit("compile", model, "--calibration", EXAMPLE / "calibration.npz",
                  "-o", work / "int8_c")
        edgesplit("run", work / "int8_c", *inputs, "-o", work / "int8")

        print(f"Test set: {len(labels)} held-out windows (examples/har/test.npz); float = "
              "`edgesplit reference`, int8 = `edgesplit compile` (calibrated on "
              "examples/har/calibration.npz) + `edgesplit run`.\n")
        print("| head (output) | groups | float accuracy | int8 accuracy | float/int8 agreement |")
        print("|---|---|---|---|---|")
        for subset in HEADS:
            name = "activity_" + "_".join(subset)
            ref = np.load(work / "float" / f"{name}.npy").reshape(len(labels), -1).argmax(1)
            q = np.load(work / "int8" / f"{name}.npy").reshape(len(labels), -1).argmax(1)
            print(f"| `{name}` | {' + '.join(subset)} | {(ref == labels).mean():.1%} | "
                  f"{(q == labels).mean():.1%} | {(ref == q).mean():.1%} |")


if __name__ == "__main__":
    main()
