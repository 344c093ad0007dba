"""The specialised int8 kernels and the fast float32 kernels on Cortex-M boards under QEMU:
tests/runtime/fast_kernel_cases.c, cross-compiled with each target's flags, runs randomised cases
through the reference kernels and the specialised ones (the ARMv7E-M DSP bodies on M4 and M55, and
the plain bodies forced by ES_REFERENCE_KERNELS on M4) and compares them bit for bit;
tests/runtime/f32_fast_kernel_cases.c does the same for the float32 kernels on the M4's and the
M55's FPU (VMLA). The host runs the same cases in runtime_tests (FastKernelTests.cpp,
F32FastKernelTests.cpp)."""
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import unittest

SOURCE = pathlib.Path(os.environ.get("EDGESPLIT_SOURCE", pathlib.Path(__file__).resolve().parents[2]))
BOARDS = SOURCE / "targets" / "boards"
RUNTIME = SOURCE / "runtime-c"
KERNELS = ["common.c", "s8_conv.c", "s8_fully_connected.c", "s8_conv1d.c",
           "s8_depthwise_conv3x3.c", "s8_fully_connected_folded.c", "s8_conv2d_gemm.c",
           "s8_elementwise.c", "s8_add.c", "s8_pool.c", "s8_reduce_mean.c"]
F32_KERNELS = ["f32_conv.c", "f32_conv_blocked.c", "f32_fully_connected.c",
               "f32_fully_connected_blocked.c", "f32_pool.c", "f32_elementwise.c", "f32_softmax.c"]
MAIN = """#include "fast_kernel_cases.c"
int main(void) {
  const int failures = fk_run_cases(20240607u, 1500);
  printf("%d failures\\n", failures);
  return failures != 0;
}
"""
# The fast float32 kernels (tests/runtime/f32_fast_kernel_cases.c) with the FPU's code.
F32_MAIN = """#include "f32_fast_kernel_cases.c"
int main(void) {
  const int failures = ff_run_cases(20240607u, 700);
  printf("%d failures\\n", failures);
  return failures != 0;
}
"""


def have_tools():
    return all(shutil.which(t) for t in ("arm-none-eabi-gcc", "qemu-system-arm"))


@unittest.skipUnless(have_tools(), "arm-none-eabi-gcc or qemu-system-arm is missing")
class KernelsOnBoards(unittest.TestCase):
    def run_on(self, target, *defines, main=MAIN, kernels=KERNELS):
        config = json.loads((SOURCE / "targets" / f"{target}.json").read_text())
        qemu = config["qemu"]
        with tempfile.TemporaryDirectory(prefix="edgesplit-kernels-") as tmp_name:
            tmp = pathlib.Path(tmp_name)
            (tmp / "main.c").write_text(main)
            cc = ["arm-none-eabi-gcc", *config["gcc_flags"], "-O2", "-ffunction-sections",
                  "-fdata-sections", "--specs=picolibc.specs", f"-I{BOARDS}"]
            board = [BOARDS / "board-startup.c", BOARDS / qemu["startup"]]
            objects = []
            for source in board:
                objects.append(tmp / f"board_{source.stem}.o")
                subprocess.run([*cc, "-std=gnu99", "-c", source, "-o", objects[-1]], check=True)
            elf = tmp / "kernels.elf"
            subprocess.run([*cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic",
                            *defines, f"-I{RUNTIME / 'include'}",
                            f"-I{SOURCE / 'tests' / 'runtime'}", tmp / "main.c",
                            *[RUNTIME / "src" / k for k in kernels], *objects,
                            "--oslib=semihost", "-nostartfiles", f"-L{BOARDS}",
                            f"-T{qemu['linker_script']}", "-Wl,--gc-sections", "-o", elf],
                           check=True)
            result = subprocess.run(
                ["qemu-system-arm", "-M", qemu["machine"], "-nographic", "-monitor", "none",
                 "-semihosting-config", "enable=on,target=native", "-serial", "null",
                 "-kernel", elf], capture_output=True, text=True, timeout=60)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertIn("0 failures", result.stdout + result.stderr)

    def test_fast_kernels_build_at_every_optimisation_level(self):
        """The DSP and MVE bodies' inline assembly needs registers: a debug build (-O0, or a
        frame pointer kept) must still find them, with gcc and with clang."""
        sources = [RUNTIME / "src" / k for k in KERNELS
                   if "s8_fast_internal.h" in (RUNTIME / "src" / k).read_text()]
        self.assertGreaterEqual(len(sources), 4)
        picolibc = pathlib.Path("/usr/lib/picolibc/arm-none-eabi/include")
        compilers = [["arm-none-eabi-gcc"]]
        if shutil.which("clang") and picolibc.is_dir():
            compilers.append(["clang", "--target=arm-none-eabi", "-isystem", str(picolibc)])
        with tempfile.TemporaryDirectory(prefix="edgesplit-kernel-builds-") as tmp:
            for target in ("cortex-m4", "cortex-m55"):
                flags = json.loads((SOURCE / "targets" / f"{target}.json").read_text())["gcc_flags"]
                for compiler in compilers:
                    for level in (["-O0"], ["-Og"], ["-O2", "-fno-omit-frame-pointer"], ["-Os"]):
                        for source in sources:
                            result = subprocess.run(
                                [*compiler, *flags, *level, "-std=c99", "-Wall", "-Wextra",
                                 "-Werror", "-pedantic", f"-I{RUNTIME / 'include'}", "-c", source,
                                 "-o", pathlib.Path(tmp) / "kernel.o"],
                                capture_output=True, text=True)
                            self.assertEqual(result.returncode, 0,
                                             f"{compiler[0]} {target} {level}: {result.stderr}")

    def test_cortex_m4_dsp(self):
        self.run_on("cortex-m4")

    def test_cortex_m4_plain(self):
        self.run_on("cortex-m4", "-DES_REFERENCE_KERNELS")

    def test_cortex_m4_dsp_single_rounding(self):
        """The builds of calibrated models (runtime/src/s8_rounding.h): SMMUL and a half-up shift
        against the plain reference kernels' one rounding of the exact product."""
        self.run_on("cortex-m4", "-DES_S8_SINGLE_ROUNDING=1")

    def test_cortex_m7_dsp(self):
        self.run_on("cortex-m7")

    def test_cortex_m55(self):
        self.run_on("cortex-m55")

    def test_cortex_m55_single_rounding(self):
        """VQDMULH and VRSHL (single rounding) against the reference kernels."""
        self.run_on("cortex-m55", "-DES_S8_SINGLE_ROUNDING=1")

    def test_cortex_m55_four_tap_gathers(self):
        """es_conv2d_gemm_s8 gathers eight taps at a time when every tap lies within 2^16 bytes
        of a window's first, as in every small case: the four-tap gathers of larger layers, on
        the same cases."""
        self.run_on("cortex-m55", "-DES_GEMM_SHORT_OFFSETS_BELOW=1")

    def test_cortex_m4_float32(self):
        self.run_on("cortex-m4", main=F32_MAIN, kernels=["common.c", *F32_KERNELS])

    def test_cortex_m55_float32(self):
        self.run_on("cortex-m55", main=F32_MAIN, kernels=["common.c", *F32_KERNELS])


if __name__ == "__main__":
    unittest.main()
