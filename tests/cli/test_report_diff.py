"""edgesplit report and diff, the report's JSON Schema, and the pictures every compile writes
(partition.svg, <device>/memory.svg)."""
import copy
import json
import os
import pathlib
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET

import jsonschema
import numpy as np
import onnx

from helpers import EXAMPLE, SOURCE, CliTestCase, run, write_keys
from test_fleet import multi_head_model, topology

HAR = SOURCE / "examples" / "har"
SCHEMA = json.loads((SOURCE / "docs" / "report.schema.json").read_text())
SVG = "{http://www.w3.org/2000/svg}"


def check_key_order(testcase, value, schema, where="report"):
    """Every object lists its keys in the order of the schema's `properties` (a map, such as a
    layer's cost_features, has none)."""
    while "$ref" in schema:
        schema = SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    if isinstance(value, dict) and "properties" in schema:
        order = list(schema["properties"])
        keys = list(value)
        testcase.assertEqual(keys, sorted(keys, key=order.index), where)
        for key, item in value.items():
            check_key_order(testcase, item, schema["properties"][key], f"{where}.{key}")
    elif isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            check_key_order(testcase, item, schema["items"], f"{where}[{i}]")


def titles(svg_path):
    """The <title> texts of an SVG, which must parse as XML."""
    root = ET.parse(svg_path).getroot()
    return [t.text or "" for t in root.iter(f"{SVG}title")]


def svg_text(svg_path):
    root = ET.parse(svg_path).getroot()
    return " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))


class Compiled:
    """The outputs every test here reads, compiled once."""
    _dir = None

    @classmethod
    def get(cls):
        if cls._dir is None:
            cls._tmp = tempfile.TemporaryDirectory(prefix="edgesplit-report-")
            cls._dir = pathlib.Path(cls._tmp.name)
            d = cls._dir
            calib = d / "two_imu_calib.npz"
            np.savez(calib, wrist_imu=np.load(EXAMPLE / "wrist_imu.npy"),
                     ankle_imu=np.load(EXAMPLE / "ankle_imu.npy"))
            multi = d / "multi.onnx"
            onnx.save(multi_head_model(), multi)
            rng = np.random.default_rng(5)
            multi_calib = d / "multi_calib.npz"
            np.savez(multi_calib, **{f"{g}_imu": rng.standard_normal((16, 3, 16)).astype(np.float32)
                                     for g in ("wrist", "ankle", "chest")})
            variants = {"auth_impute": topology(fallback="impute"),
                        "tight": topology(ram_kib=(1, 32, 32), stack=860)}
            for name, doc in variants.items():
                (d / f"{name}.json").write_text(json.dumps(doc))
            jobs = {
                "single": [EXAMPLE / "model.onnx", "--calibration", calib],
                "single_f32": [EXAMPLE / "model.onnx", "--precision", "float32", "--target", "host"],
                "har": [HAR / "model.onnx", "--topology", HAR / "topology.json",
                        "--calibration", HAR / "calibration.npz"],
                "auth_impute": [multi, "--topology", d / "auth_impute.json",
                                "--calibration", multi_calib, "--keys", write_keys(d / "keys.json")],
                "tight": [multi, "--topology", d / "tight.json", "--calibration", multi_calib],
            }
            for name, args in jobs.items():
                result = run("compile", *args, "-o", d / name)
                assert result.returncode == 0, f"{name}: {result.stderr}"
        return cls._dir


class ReportTestCase(CliTestCase):
    def setUp(self):
        super().setUp()
        self.compiled = Compiled.get()

    def out(self, name):
        return self.compiled / name

    def report(self, name):
        return json.loads((self.out(name) / "report.json").read_text())

    def write_report(self, name, report):
        path = self.tmp / name
        path.write_text(json.dumps(report, indent=2) + "\n")
        return path


class ReportSchemaTest(ReportTestCase):
    def test_every_report_validates_against_the_schema(self):
        jsonschema.Draft202012Validator.check_schema(SCHEMA)
        validator = jsonschema.Draft202012Validator(SCHEMA)
        for name in ("single", "single_f32", "har", "auth_impute", "tight"):
            with self.subTest(name):
                report = self.report(name)
                validator.validate(report)
                check_key_order(self, report, SCHEMA)
                text = (self.out(name) / "report.json").read_text()
                self.assertNotIn(str(self.compiled), text)
                self.assertNotIn(str(SOURCE), text)
                self.assertIsNone(re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text), "a timestamp")
        # The variants exercise the optional parts: a fleet with a cut that does not fit.
        self.assertTrue(any("limit" in o for b in self.report("tight")["branches"] for o in b["options"]))
        self.assertTrue(self.report("auth_impute")["fleet"]["authenticated"])

    def test_schema_catches_violations(self):
        validator = jsonschema.Draft202012Validator(SCHEMA)
        report = self.report("single")
        for mutate in (lambda r: r["devices"][0].__setitem__("ram_bytes", 1.5),
                       lambda r: r.__setitem__("model", "/abs/model.onnx"),
                       lambda r: r["devices"][0].__setitem__("built_at", "2024-01-01"),
                       lambda r: r["devices"][0].pop("macs"),
                       lambda r: r["devices"][0].__setitem__("measured", {"board": "x"})):
            bad = copy.deepcopy(report)
            mutate(bad)
            self.assertFalse(validator.is_valid(bad))

    def test_measured_figures_are_allowed_last(self):
        report = self.report("har")
        report["devices"][0]["measured"] = {"board": "mps2-an386",
                                            "instructions_per_inference": 123456, "samples": 16}
        jsonschema.Draft202012Validator(SCHEMA).validate(report)
        check_key_order(self, report, SCHEMA)


class ReportCommandTest(ReportTestCase):
    def test_md_is_report_md(self):
        for name in ("single", "har"):
            result = run("report", self.out(name), "--format", "md")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stdout, (self.out(name) / "report.md").read_text())

    def test_md_has_the_tables_a_pr_comment_needs(self):
        md = run("report", self.out("har"), "--format", "md").stdout
        report = self.report("har")
        self.assertIn("| device | target | role | flash (of limit) | RAM (of limit) | "
                      "arena (lower bound) | MACs | latency (est.) | energy (est.) | "
                      "instructions (measured) |", md)
        for device in report["devices"]:
            row = next(line for line in md.splitlines() if line.startswith(f"| `{device['name']}` |"))
            self.assertIn(f"{device['ram_bytes']} B", row)
            self.assertIn(f"{device['arena_bytes']} B ({device['arena_lower_bound_bytes']})", row)
            self.assertTrue(row.endswith("| — |"), row)
        for link in report["links"]:
            row = next(line for line in md.splitlines()
                       if line.startswith(f"| `{link['from']}` → `{link['to']}` |"))
            self.assertIn(f"| {link['bytes_per_inference']} B |", row)
            airtime = float(re.search(r"\| ([\d.]+) ms \|", row).group(1))
            self.assertEqual(airtime, link["est_transfer_ms"])
        for head in report["heads"]:
            self.assertIn(f"| `{head['output']}` | {', '.join(head['groups'])} |", md)

    def test_text_aligns_columns_without_markdown(self):
        result = run("report", self.out("har"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("|", result.stdout)
        self.assertNotIn("`", result.stdout)
        lines = result.stdout.splitlines()
        header = next(i for i, line in enumerate(lines) if line.startswith("device "))
        rule = lines[header + 1]
        self.assertTrue(set(rule) <= {"-", " "})
        for device in self.report("har")["devices"]:
            self.assertTrue(any(line.startswith(device["name"] + " ") for line in lines))

    def test_json_is_the_report(self):
        result = run("report", self.out("single") / "report.json", "--format", "json")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout), self.report("single"))

    def test_measured_instructions_are_shown(self):
        shutil.copytree(self.out("single"), self.tmp / "m")
        report = self.report("single")
        report["devices"][0]["measured"] = {"board": "mps2-an386",
                                            "instructions_per_inference": 98765, "samples": 8}
        (self.tmp / "m" / "report.json").write_text(json.dumps(report, indent=2))
        for fmt in ("md", "text"):
            out = run("report", self.tmp / "m", "--format", fmt).stdout
            self.assertIn("98765 (mps2-an386)", out)

    def test_bad_inputs(self):
        self.assert_fails(run("report", self.tmp), 1, "report.json", "cannot read")
        (self.tmp / "report.json").write_text("{not json")
        self.assert_fails(run("report", self.tmp), 1, "report.json", "not JSON")
        report = self.report("single")
        del report["devices"][0]["ram_bytes"]
        self.assert_fails(run("report", self.write_report("r.json", report)), 1,
                          "devices[0].ram_bytes", "missing")
        self.assert_fails(run("report", self.out("single"), "--format", "html"), 2, "--format")


class DiffTest(ReportTestCase):
    def grown(self, name, mutate):
        report = self.report(name)
        mutate(report)
        return self.write_report(f"{name}_new.json", report)

    def test_identical_reports_are_no_change(self):
        for fmt in ("text", "md"):
            result = run("diff", self.out("har"), self.out("har") / "report.json", "--format", fmt)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("no change", result.stdout)
        result = run("diff", self.out("har"), self.out("har"), "--format", "json")
        self.assertEqual(json.loads(result.stdout)["status"], "no_change")

    def test_ram_growth_past_the_limit_names_the_device(self):
        def grow(report):
            hub = next(d for d in report["devices"] if d["name"] == "hub")
            hub["ram_bytes"] = int(hub["ram_bytes"] * 1.03) + 1
        new = self.grown("har", grow)
        result = run("diff", self.out("har"), new)
        self.assert_fails(result, 1, "hub", "RAM", "2%")
        self.assertIn("over limit", result.stdout)
        self.assertEqual(run("diff", self.out("har"), new, "--max-increase", "ram=5%").returncode, 0)
        # Unchanged devices are named, not tabulated.
        self.assertIn("Unchanged devices: wrist, ankle, chest.", result.stdout)

    def test_a_changed_rounding_rule_is_noted(self):
        """The rescaling rule moves the last bit of int8 results, so a diff names it."""
        def flip(report):
            for device in report["devices"]:
                device["int8_rounding"] = "double" if device["int8_rounding"] == "single" \
                    else "single"
        before = self.report("har")
        self.assertEqual({d["int8_rounding"] for d in before["devices"]}, {"single"})
        result = run("diff", self.out("har"), self.grown("har", flip), "--format", "json")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("hub: int8_rounding double (was single)", json.loads(result.stdout)["notes"])

    def test_absolute_limits(self):
        base = self.report("har")
        def grow(by):
            return lambda report: report["devices"][0].__setitem__(
                "ram_bytes", base["devices"][0]["ram_bytes"] + by)
        self.assertEqual(run("diff", self.out("har"), self.grown("har", grow(1024)),
                             "--max-increase", "ram=+1KiB").returncode, 0)
        self.assert_fails(run("diff", self.out("har"), self.grown("har", grow(1025)),
                              "--max-increase", "ram=+1KiB"), 1, "wrist", "+1025 B")

        def more_bytes(by):
            return lambda report: report["links"][1].__setitem__(
                "bytes_per_inference", base["links"][1]["bytes_per_inference"] + by)
        self.assertEqual(run("diff", self.out("har"), self.grown("har", more_bytes(100)),
                             "--max-increase", "bytes=+100").returncode, 0)
        self.assert_fails(run("diff", self.out("har"), self.grown("har", more_bytes(101)),
                              "--max-increase", "bytes=+100"), 1, "ankle → hub", "bytes on air")
        # The default for bytes is 0%: any growth of a link is a regression.
        self.assert_fails(run("diff", self.out("har"), self.grown("har", more_bytes(1))), 1,
                          "ankle → hub")

    def test_a_real_recompile_with_authenticated_links(self):
        # A ChaCha20-Poly1305 tag instead of fingerprint and CRC on every frame: 8 more bytes per
        # frame on air over every link.
        result = run("compile", HAR / "model.onnx", "--topology", HAR / "topology.json",
                     "--calibration", HAR / "calibration.npz", "--keys",
                     write_keys(self.tmp / "keys.json"), "-o", self.tmp / "auth")
        self.assertEqual(result.returncode, 0, result.stderr)
        result = run("diff", self.out("har"), self.tmp / "auth", "--format", "json")
        self.assertEqual(result.returncode, 1, result.stderr)
        diff = json.loads(result.stdout)
        self.assertEqual(diff["status"], "regression")
        worse = [link["name"] for link in diff["links"]
                 if any(m["field"] == "bytes_per_inference" and m["regression"] for m in link["metrics"])]
        self.assertEqual(len(worse), 3)
        for name in worse:
            self.assertIn(name, result.stderr)

    def test_renamed_device_is_bad_input(self):
        def rename(report):
            report["devices"][0]["name"] = "left_wrist"
            report["links"][0]["from"] = "left_wrist"
        result = run("diff", self.out("har"), self.grown("har", rename))
        self.assert_fails(result, 2, "'wrist'", "'left_wrist'", "renamed")

    def test_added_and_removed_are_listed(self):
        def add(report):
            knee = copy.deepcopy(report["devices"][0])
            knee["name"] = knee["folder"] = "knee"
            report["devices"].insert(3, knee)
            report["heads"].pop()
            report["devices"][4]["layers"].pop()
        result = run("diff", self.out("har"), self.grown("har", add), "--format", "md")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("Added devices: `knee` (cortex-m4, sensor).", result.stdout)
        self.assertIn("Removed heads: `activity_chest`.", result.stdout)
        hub = self.report("har")["devices"][3]
        self.assertIn(f"Layers removed from `hub`: `{hub['layers'][-1]['node']}`.", result.stdout)

    def test_schema_mismatch_and_unreadable_files_exit_2(self):
        other = self.grown("har", lambda r: r.__setitem__("schema", "edgesplit-report/2"))
        self.assert_fails(run("diff", self.out("har"), other), 2, "edgesplit-report/2",
                          "edgesplit-report/1")
        self.assert_fails(run("diff", self.tmp / "nowhere", self.out("har")), 2, "nowhere",
                          "cannot read")
        (self.tmp / "bad.json").write_text("[1, 2")
        self.assert_fails(run("diff", self.out("har"), self.tmp / "bad.json"), 2, "bad.json")

    def test_bad_max_increase_exits_2(self):
        for spec, fragment in (("ram=2", "ram=2%"), ("speed=2%", "unknown key"),
                               ("ram=2%,ram=3%", "twice"), ("ram", "KEY=VALUE"),
                               ("ram=+2kg", "KiB")):
            with self.subTest(spec):
                self.assert_fails(run("diff", self.out("har"), self.out("har"), "--max-increase", spec),
                                  2, fragment)

    def test_md_and_json_outputs(self):
        def change(report):
            report["devices"][1]["flash_bytes"] += 10
            report["devices"][1]["est_latency_us"] = round(report["devices"][1]["est_latency_us"] * 0.5, 1)
        new = self.grown("har", change)
        old_flash = self.report("har")["devices"][1]["flash_bytes"]
        md = run("diff", self.out("har"), new, "--format", "md")
        self.assertEqual(md.returncode, 0, md.stderr)
        self.assertIn("| device | figure | old | new | change | % | limit |  |", md.stdout)
        self.assertIn(f"| `ankle` | flash | {old_flash} B | {old_flash + 10} B | +10 B |", md.stdout)
        self.assertIn("Within the limits.", md.stdout)
        result = run("diff", self.out("har"), new, "--format", "json")
        self.assertEqual(result.returncode, 0, result.stderr)
        diff = json.loads(result.stdout)
        self.assertEqual(diff["schema"], "edgesplit-diff/1")
        self.assertEqual(diff["status"], "within_limits")
        self.assertEqual(diff["limits"]["ram"], "2%")
        ankle = next(d for d in diff["devices"] if d["name"] == "ankle")
        self.assertEqual(ankle["status"], "changed")
        flash = next(m for m in ankle["metrics"] if m["field"] == "flash_bytes")
        self.assertEqual((flash["old"], flash["new"], flash["change"]), (old_flash, old_flash + 10, 10))
        self.assertAlmostEqual(flash["relative_percent"], round(1000 / old_flash, 2))
        latency = next(m for m in ankle["metrics"] if m["field"] == "est_latency_us")
        self.assertLess(latency["relative_percent"], -49)
        self.assertFalse(latency["regression"])

    def test_measured_instructions_are_compared_when_both_have_them(self):
        def measured(count):
            def mutate(report):
                report["devices"][0]["measured"] = {"board": "mps2-an386",
                                                    "instructions_per_inference": count, "samples": 4}
            return mutate
        old = self.grown("har", measured(1000))
        shutil.move(old, self.tmp / "old.json")
        new = self.grown("har", measured(1100))
        result = run("diff", self.tmp / "old.json", new)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("instructions (measured)", result.stdout)
        self.assert_fails(run("diff", self.tmp / "old.json", new, "--max-increase", "instructions=5%"),
                          1, "wrist", "instructions")


class PictureTest(ReportTestCase):
    def test_partition_svg_of_the_fleet(self):
        svg = self.out("har") / "partition.svg"
        report = self.report("har")
        text = svg_text(svg)
        for device in report["devices"]:
            self.assertIn(device["name"], text)
        for link in report["links"]:
            for tensor in link["tensors"]:
                self.assertIn(f"{tensor['name']}", text)
                self.assertIn(f"{tensor['bytes']} B ({link['bytes_per_inference']} on air)", text)
        for head in report["heads"]:
            self.assertIn(head["output"], text)
            self.assertIn("needs " + ", ".join(head["groups"]), text)
        for device in report["devices"]:
            for layer in device["layers"]:
                self.assertIn(layer["node"], text)
        self.assertFalse((self.out("har") / "partition.dot").exists())

    def test_partition_svg_of_one_device(self):
        svg = self.out("single") / "partition.svg"
        text = svg_text(svg)
        report = self.report("single")
        self.assertIn("main", text)
        for layer in report["devices"][0]["layers"]:
            self.assertIn(layer["node"], text)
        self.assertIn("activity", text)

    def test_memory_svg_of_every_device(self):
        for name in ("single", "har", "tight"):
            report = self.report(name)
            for device in report["devices"]:
                with self.subTest(f"{name}/{device['name']}"):
                    svg = self.out(name) / device["folder"] / "memory.svg"
                    tensor_titles = [t for t in titles(svg) if " B at offset " in t]
                    named = {t.split(":")[0] for t in tensor_titles}
                    for port in device["inputs"] + device["outputs"]:
                        self.assertIn(port["name"], named)
                    # One rectangle per tensor: the inputs and each layer's output.
                    self.assertEqual(len(tensor_titles), len(device["inputs"]) + len(device["layers"]))
                    text = svg_text(svg)
                    self.assertIn(f"lower bound {device['arena_lower_bound_bytes']} B", text)
                    self.assertIn(f"arena {device['arena_bytes']} B", text)
                    for title in tensor_titles:
                        offset = int(re.search(r"at offset (\d+)", title).group(1))
                        size = int(re.search(r": (\d+) B", title).group(1))
                        self.assertLessEqual(offset + size, device["arena_bytes"])

    def test_pictures_are_deterministic(self):
        result = run("compile", HAR / "model.onnx", "--topology", HAR / "topology.json",
                     "--calibration", HAR / "calibration.npz", "-o", self.tmp / "again")
        self.assertEqual(result.returncode, 0, result.stderr)
        pictures = ["partition.svg"] + [f"{d['folder']}/memory.svg" for d in self.report("har")["devices"]]
        for picture in pictures:
            self.assertEqual((self.tmp / "again" / picture).read_bytes(),
                             (self.out("har") / picture).read_bytes(), picture)

    def test_without_graphviz_the_dot_source_is_written(self):
        empty = self.tmp / "nothing-on-path"
        empty.mkdir()
        result = run_with_path(str(empty), "compile", EXAMPLE / "model.onnx", "--precision", "float32",
                               "--target", "host", "-o", self.tmp / "nodot")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr.count("\n"), 1, result.stderr)
        self.assertIn("partition.dot", result.stderr)
        self.assertIn("graphviz", result.stderr)
        self.assertFalse((self.tmp / "nodot" / "partition.svg").exists())
        dot = (self.tmp / "nodot" / "partition.dot").read_text()
        self.assertTrue(dot.startswith("digraph partition {"))
        self.assertTrue((self.tmp / "nodot" / "main" / "memory.svg").exists())


def run_with_path(path, *args):
    import subprocess
    from helpers import EDGESPLIT
    env = dict(os.environ, PATH=path)
    return subprocess.run([EDGESPLIT, *map(str, args)], capture_output=True, text=True, env=env)
