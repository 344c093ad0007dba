"""Writes calibration.npz for examples/kws-fleet: the input of the test data set shared with
../shared/real-models/kws_micro_m_fp32 (test_data_set_0/input_0.pb, one [1, 1960] MFCC window)
as the calibration array of serving_default_input:0. Usage:
/usr/bin/python3 make_calibration.py [OUT.npz] [--shared DIR] (default: calibration.npz beside
this script, DIR ../../../shared; the file is written, not committed)."""
import argparse
import pathlib

import numpy as np
import onnx
from onnx import numpy_helper

HERE = pathlib.Path(__file__).resolve().parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=HERE / "calibration.npz")
    parser.add_argument("--shared", type=pathlib.Path, default=HERE.parents[2] / "shared")
    args = parser.parse_args()
    tensor = onnx.TensorProto()
    tensor.ParseFromString(
        (args.shared / "real-models/kws_micro_m_fp32/test_data_set_0/input_0.pb").read_bytes())
    window = numpy_helper.to_array(tensor).astype(np.float32)
    np.savez(args.out, **{"serving_default_input:0": window})
    print(f"{args.out}: {window.shape[0]} window(s) {list(window.shape[1:])}")


if __name__ == "__main__":
    main()
