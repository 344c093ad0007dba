"""The corpus of tests/bad-inputs/: each broken file fails as cases.json says.

Every case must exit with its code and print one line naming the file and holding its fragment,
within 1 s of CPU time and 200 MB of address space (a process that tries to allocate what a
broken header promises dies here instead of passing), and leave no output folder behind: a
previous output stays exactly as it was. The files come from tools/make_bad_inputs.py.
"""
import json
import pathlib
import resource
import subprocess
import tempfile
import unittest

from helpers import EDGESPLIT, SOURCE

CORPUS = SOURCE / "tests" / "bad-inputs"
MANIFEST = json.loads((CORPUS / "cases.json").read_text())
ADDRESS_SPACE_BYTES = 200 * 1024 * 1024
CPU_SECONDS = 1.0
# Wall-clock bound for a hang that burns no CPU (a blocking read); loaded CI machines are slow.
WALL_SECONDS = 10
PREVIOUS_OUTPUT = "a previous good output\n"


def limit_child():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_BYTES, ADDRESS_SPACE_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (2, 2))


def prepare_output(case, out):
    """The output path as the case needs it before the command runs."""
    if case.get("setup") == "existing-output":
        out.mkdir()
        (out / "keep.txt").write_text(PREVIOUS_OUTPUT)
    elif case.get("setup") == "output-is-file":
        out.write_text(PREVIOUS_OUTPUT)


def run_case(case, out):
    """Runs one case under the limits; returns (CompletedProcess, CPU seconds it used)."""
    args = [arg.replace("{dir}", str(CORPUS)).replace("{out}", str(out)) for arg in case["args"]]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run([EDGESPLIT, *args], capture_output=True, text=True,
                            preexec_fn=limit_child, timeout=WALL_SECONDS)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result, cpu


class BadInputsTest(unittest.TestCase):
    def test_every_case_fails_cleanly(self):
        for case in MANIFEST["cases"]:
            with self.subTest(case=case["id"]), tempfile.TemporaryDirectory() as tmp:
                out = pathlib.Path(tmp) / "out"
                prepare_output(case, out)
                result, cpu = run_case(case, out)
                message = result.stderr.strip()
                self.assertEqual(result.returncode, case["exit"], message)
                self.assertNotIn("\n", message, "not one line")
                self.assertTrue(message.startswith("edgesplit: "), message)
                self.assertNotIn("internal error", message)
                self.assertIn(case["fragment"], message)
                if case["file"]:
                    self.assertIn(pathlib.Path(case["file"]).name, message)
                self.assertLess(cpu, CPU_SECONDS)
                self.assert_output_untouched(case, out)

    def assert_output_untouched(self, case, out):
        if case.get("setup") == "existing-output":
            self.assertEqual([p.name for p in out.iterdir()], ["keep.txt"])
            self.assertEqual((out / "keep.txt").read_text(), PREVIOUS_OUTPUT)
        elif case.get("setup") == "output-is-file":
            self.assertEqual(out.read_text(), PREVIOUS_OUTPUT)
        else:
            self.assertFalse(out.exists(), "a failed command left its output folder")
        leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(".out")]
        self.assertEqual(leftovers, [], "a failed command left its staging folder")

    def test_corpus_is_large_enough_and_every_file_is_used(self):
        cases = MANIFEST["cases"]
        self.assertGreaterEqual(len(cases), 30)
        ids = [case["id"] for case in cases]
        self.assertEqual(len(ids), len(set(ids)), "duplicate case ids")
        mentioned = " ".join(" ".join(case["args"]) for case in cases)
        for folder in ("models", "arrays", "topologies", "compiled"):
            for path in sorted((CORPUS / folder).iterdir()):
                name = f"{folder}/{path.name}"
                if name in MANIFEST["support"]:
                    continue
                with self.subTest(file=name):
                    self.assertIn("{dir}/" + name, mentioned, "a corpus file no case uses")
        for name in MANIFEST["support"]:
            self.assertTrue((CORPUS / name).exists(), name)


if __name__ == "__main__":
    unittest.main()
