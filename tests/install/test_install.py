"""The installed edgesplit: `cmake --install` into a fresh prefix, examples/firmware-m4 configured
against it and built with CMake, Ninja and arm-none-eabi-gcc, run under QEMU (the class it
prints over the UART equals the host run's), and what a changed model rebuilds, read from
Ninja's own log; the .deb and .tar.gz that CPack makes hold what the install rule installs, and
the binary extracted from the .deb compiles the HAR fleet from another working directory.

Environment: EDGESPLIT (the built binary), EDGESPLIT_BUILD (its build folder), EDGESPLIT_SOURCE."""
import json
import os
import pathlib
import re
import shutil
import subprocess
import tarfile
import tempfile
import unittest

import numpy as np
import onnx
from onnx import numpy_helper

EDGESPLIT = pathlib.Path(os.environ.get("EDGESPLIT", "build/edgesplit")).resolve()
BUILD = pathlib.Path(os.environ.get("EDGESPLIT_BUILD", EDGESPLIT.parent)).resolve()
SOURCE = pathlib.Path(os.environ.get("EDGESPLIT_SOURCE", pathlib.Path(__file__).parents[2]))
TWO_IMU = SOURCE / "examples" / "two_imu"
HAR = SOURCE / "examples" / "har"
FIRMWARE = SOURCE / "examples" / "firmware-m4"


def sh(*args, **kwargs):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} failed ({result.returncode}):\n"
                             f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def ninja_log(build):
    """Output -> the number of times .ninja_log recorded it being built."""
    counts = {}
    for line in (build / ".ninja_log").read_text().splitlines()[1:]:
        # Custom command outputs appear under their absolute path too.
        output = line.split("\t")[3].removeprefix(f"{build}/")
        counts[output] = counts.get(output, 0) + 1
    return counts


def built_since(build, before):
    after = ninja_log(build)
    return {output for output, count in after.items() if count > before.get(output, 0)}


def install_files(root):
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink()}


class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._tmp = tempfile.TemporaryDirectory(prefix="edgesplit-install-")
        cls.tmp = pathlib.Path(cls._tmp.name)
        cls.prefix = cls.tmp / "prefix"
        sh("cmake", "--install", BUILD, "--prefix", cls.prefix)

    @classmethod
    def tearDownClass(cls):
        cls._tmp.cleanup()

    def test_install_tree_and_version(self):
        files = install_files(self.prefix)
        for expected in ("bin/edgesplit", "lib/cmake/edgesplit/edgesplitConfig.cmake",
                         "lib/cmake/edgesplit/edgesplitConfigVersion.cmake",
                         "lib/cmake/edgesplit/edgesplitFunctions.cmake",
                         "share/doc/edgesplit/README.md", "share/doc/edgesplit/cmake.md",
                         "share/doc/edgesplit/topology.schema.json",
                         "share/doc/edgesplit/examples/firmware-m4/main.c",
                         "share/edgesplit/runtime-c/include/es_s8.h",
                         "share/edgesplit/boards/mps2-an386.ld",
                         "share/edgesplit/targets/cortex-m4.json"):
            self.assertIn(expected, files)
        version = sh(self.prefix / "bin" / "edgesplit", "--version", cwd=self.tmp).stdout
        match = re.fullmatch(r"edgesplit (\d+\.\d+\.\d+) \(commit (.+)\)\n", version)
        self.assertIsNotNone(match, version)
        if (SOURCE / ".git").exists():
            head = sh("git", "-C", SOURCE, "rev-parse", "--short=12", "HEAD").stdout.strip()
            self.assertIn(head, match.group(2), f"{version} (rebuild after committing)")
        # A build from an archive (no .git) says so instead of naming a commit.
        archive = self.tmp / "archive"
        archive.mkdir()
        sh("cmake", f"-DSOURCE_DIR={archive}", f"-DOUTPUT={archive / 'GitCommit.cpp'}", "-P",
           SOURCE / "cmake" / "GitCommit.cmake")
        self.assertIn('kGitCommit = "unknown (built from a source tree without git history)"',
                      (archive / "GitCommit.cpp").read_text())

    def configure_firmware(self, model, calibration):
        build = self.tmp / "firmware"
        sh("cmake", "-S", FIRMWARE, "-B", build, "-G", "Ninja",
           f"-DCMAKE_TOOLCHAIN_FILE={FIRMWARE / 'arm-none-eabi.cmake'}",
           f"-DCMAKE_PREFIX_PATH={self.prefix}", "-DCMAKE_BUILD_TYPE=MinSizeRel",
           f"-DMODEL={model}", f"-DCALIBRATION={calibration}")
        return build

    def firmware_class(self, elf, sample):
        result = subprocess.run(
            ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none",
             "-serial", "stdio", "-semihosting-config",
             f"enable=on,target=native,arg=firmware,arg=wrist_imu.npy,arg=ankle_imu.npy,"
             f"arg={sample}", "-kernel", elf],
            cwd=TWO_IMU, capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        match = re.search(r"class (\d+)\n", result.stdout)
        self.assertIsNotNone(match, result.stdout)
        return int(match.group(1))

    def host_classes(self, model, calibration):
        """The model compiled for the host and run by `edgesplit run` (bit-exact with the M4's
        kernels by design: the rescaling rule the firmware's EDGESPLIT_ROUNDING gives, double by
        default), one class per sample."""
        sh(EDGESPLIT, "compile", model, "--calibration", calibration, "--target", "host",
           "--rounding", "double", "-o", self.tmp / "host")
        sh(EDGESPLIT, "run", self.tmp / "host", "--input", f"wrist_imu={TWO_IMU / 'wrist_imu.npy'}",
           "--input", f"ankle_imu={TWO_IMU / 'ankle_imu.npy'}", "-o", self.tmp / "host_out")
        return np.argmax(np.load(self.tmp / "host_out" / "activity.npy"), axis=1)

    def test_firmware_builds_runs_and_rebuilds_only_the_model(self):
        model = self.tmp / "model.onnx"
        calibration = self.tmp / "calibration.npz"
        shutil.copy(TWO_IMU / "model.onnx", model)
        shutil.copy(TWO_IMU / "calibration.npz", calibration)
        build = self.configure_firmware(model, calibration)
        sh("ninja", "-C", build, "-j2")
        elf = build / "firmware.elf"

        expected = self.host_classes(model, calibration)
        samples = [0, 3, 5]
        self.assertGreater(len(set(expected[samples])), 1, "pick samples of different classes")
        for sample in samples:
            self.assertEqual(self.firmware_class(elf, sample), expected[sample], f"sample {sample}")
        self.assertIn("no work to do", sh("ninja", "-C", build).stdout)

        # Touched, unchanged: the compile reruns (the build tool's log records its outputs) and
        # writes nothing new, so nothing is rebuilt.
        before = ninja_log(build)
        os.utime(model)
        sh("ninja", "-C", build, "-j2")
        rerun = built_since(build, before)
        self.assertIn("edgesplit/activity/activity/model.c", rerun)
        self.assertTrue(all(o.startswith("edgesplit/activity/") for o in rerun), sorted(rerun))

        # A changed weight: only the model's library and the link. The runtime, the board
        # support and main.c (which includes the unchanged model.h) stay as they were.
        graph = onnx.load(model)
        weight = max(graph.graph.initializer, key=lambda t: np.prod(t.dims))
        values = numpy_helper.to_array(weight).copy()
        values.flat[0] = -values.flat[0] + 0.25
        weight.CopyFrom(numpy_helper.from_array(values, weight.name))
        onnx.save(graph, model)
        before = ninja_log(build)
        sh("ninja", "-C", build, "-j2")
        rebuilt = built_since(build, before)
        others = [o for o in rebuilt if not (o.startswith("edgesplit/activity/")
                  or o.startswith("CMakeFiles/activity.dir/")
                  or o in ("libactivity.a", "firmware.elf"))]
        self.assertEqual(others, [], f"rebuilt besides the model's library: {sorted(rebuilt)}")
        self.assertTrue({"libactivity.a", "firmware.elf"} <= rebuilt, sorted(rebuilt))
        self.assertTrue(any(o.startswith("CMakeFiles/activity.dir/") and "weights.c" in o
                            for o in rebuilt), sorted(rebuilt))

    def test_fleet_libraries_and_the_report_gate(self):
        """edgesplit_add_fleet and edgesplit_gate in a host project: a library per named device,
        a configure error for a device the topology lacks, a gate that passes against its own
        report and fails the build, every time, against a baseline with less RAM."""
        project = self.tmp / "fleet_project"
        project.mkdir()
        # Host targets: no cross-compiler measuring flash, which the firmware test covers.
        sh(EDGESPLIT, "topology-init", TWO_IMU / "model.onnx", "--sensor-target", "host",
           "--aggregator-target", "host", "-o", project / "topology.json")
        baseline = project / "baseline.json"
        (project / "CMakeLists.txt").write_text(f"""
cmake_minimum_required(VERSION 3.20)
project(fleet_project C)
find_package(edgesplit REQUIRED)
edgesplit_add_fleet(imu MODEL {TWO_IMU / 'model.onnx'} TOPOLOGY topology.json
                    CALIBRATION {TWO_IMU / 'calibration.npz'} DEVICES ${{DEVICES}})
add_executable(hub_program hub.c)
target_link_libraries(hub_program PRIVATE imu::hub)
if(EXISTS ${{CMAKE_CURRENT_SOURCE_DIR}}/baseline.json)
  edgesplit_gate(imu_gate REPORT_OF imu BASELINE baseline.json MAX_INCREASE ram=0%)
endif()
""")
        (project / "hub.c").write_text(
            '#include "fleet.h"\n#include "model.h"\nint main(void) { hub_init(); return 0; }\n')
        build = project / "build"

        def configure(devices, check=True):
            args = ["cmake", "-S", project, "-B", build, "-G", "Ninja",
                    f"-DCMAKE_PREFIX_PATH={self.prefix}", f"-DDEVICES={devices}"]
            return sh(*args) if check else subprocess.run(args, capture_output=True, text=True)

        wrong = configure("wrist_imu;knee", check=False)
        self.assertNotEqual(wrong.returncode, 0)
        self.assertIn("DEVICES names 'knee', which", wrong.stderr)
        configure("wrist_imu;hub")
        sh("ninja", "-C", build, "-j2")
        for library in ("libimu_wrist_imu.a", "libimu_hub.a", "hub_program"):
            self.assertTrue((build / library).exists(), library)
        self.assertFalse((build / "libimu_ankle_imu.a").exists())
        report = json.loads((build / "edgesplit" / "imu" / "report.json").read_text())

        baseline.write_text(json.dumps(report))
        configure("wrist_imu;hub")
        sh("ninja", "-C", build, "-j2")
        self.assertIn("no change", (build / "imu_gate.md").read_text())
        for device in report["devices"]:
            device["ram_bytes"] -= 64
        baseline.write_text(json.dumps(report))
        for _ in range(2):
            failed = subprocess.run(["ninja", "-C", build], capture_output=True, text=True)
            self.assertNotEqual(failed.returncode, 0, failed.stdout)
            self.assertRegex(failed.stdout + failed.stderr,
                             r"regressions? past the limits: device \w+ RAM \+64 B")
            self.assertFalse((build / "imu_gate.passed").exists())

    def test_packages_hold_the_install_and_run_from_anywhere(self):
        packages = self.tmp / "packages"
        sh("cpack", "--config", BUILD / "CPackConfig.cmake", "-B", packages)
        deb = next(packages.glob("edgesplit_*.deb"))
        archive = next(packages.glob("edgesplit-*.tar.gz"))

        installed = install_files(self.prefix)
        listing = sh("dpkg-deb", "--contents", deb).stdout.splitlines()
        deb_files = {line.split()[-1].removeprefix("./usr/") for line in listing
                     if not line.startswith("d")}
        self.assertEqual(deb_files, installed)
        with tarfile.open(archive) as tar:
            top = archive.name.removesuffix(".tar.gz") + "/"
            tar_files = {m.name.removeprefix(top) for m in tar.getmembers() if not m.isdir()}
        self.assertEqual(tar_files, installed)

        control = sh("dpkg-deb", "--field", deb, "Depends", "Recommends", "Suggests").stdout
        for package in ("libprotobuf", "libzip", "libfmt", "libstdc++6", "gcc-arm-none-eabi",
                        "qemu-system-arm"):
            self.assertIn(package, control)

        root = self.tmp / "deb"
        sh("dpkg-deb", "-x", deb, root)
        elsewhere = self.tmp / "elsewhere"
        elsewhere.mkdir()
        sh(root / "usr" / "bin" / "edgesplit", "compile", HAR / "model.onnx", "--topology",
           HAR / "topology.json", "--calibration", HAR / "calibration.npz", "-o", "fleet",
           cwd=elsewhere)
        report = json.loads((elsewhere / "fleet" / "report.json").read_text())
        devices = sorted(d["name"] for d in report["devices"])
        self.assertEqual(devices, ["ankle", "chest", "hub", "wrist"])
        for device in devices:
            self.assertTrue((elsewhere / "fleet" / device / "fleet.c").exists(), device)
        # topology-init points editors at the schema installed beside the binary.
        sh(root / "usr" / "bin" / "edgesplit", "topology-init", HAR / "model.onnx", "-o",
           "topology.json", cwd=elsewhere)
        schema = json.loads((elsewhere / "topology.json").read_text())["$schema"]
        self.assertEqual(schema, f"file://{root}/usr/share/doc/edgesplit/topology.schema.json")


if __name__ == "__main__":
    unittest.main()
