"""TFLite Micro parity: the MLPerf Tiny keyword-spotting DS-CNN with TFLite's own int8 parameters
(../shared/tflm-parity/kws_dscnn) compiled to int8 and run on the host gives TFLM's int8 outputs
bit for bit, for all 20 stored inputs."""
import unittest

import numpy as np

from helpers import SHARED, CliTestCase, run

PARITY = SHARED / "tflm-parity" / "kws_dscnn"


@unittest.skipUnless((PARITY / "model.onnx").is_file(),
                     f"{PARITY} is absent (a plain clone): TFLite Micro parity skipped")
class TflmParityTest(CliTestCase):
    def test_kws_dscnn_outputs_equal_tflm(self):
        out = self.tmp / "kws"
        result = run("compile", PARITY / "model.onnx", "--target", "host", "-o", out)
        self.assertEqual(result.returncode, 0, result.stderr)
        result = run("run", out, "--input", f"input={PARITY / 'input.npy'}", "--raw",
                     "-o", self.tmp / "run")
        self.assertEqual(result.returncode, 0, result.stderr)
        ours = np.load(self.tmp / "run" / "output.npy")
        expected = np.load(PARITY / "tflm_output_int8.npy")
        self.assertEqual(ours.dtype, np.int8)
        self.assertEqual(ours.shape, (20, 12))
        differing = np.argwhere(ours != expected)
        self.assertEqual(len(differing), 0,
                         f"{len(differing)} of {expected.size} outputs differ from TFLM's, first "
                         f"at {differing[:5].tolist()}: ours {ours[tuple(differing[0])]}, "
                         f"TFLM {expected[tuple(differing[0])]}" if len(differing) else "")


if __name__ == "__main__":
    unittest.main()
