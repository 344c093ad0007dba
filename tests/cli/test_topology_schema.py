"""docs/topology.schema.json against the topology parser, over every topology of the test suite:
the bad-input corpus, the examples, the documentation's example, the fleet tests' topologies,
what topology-init writes, and every document the unit tests (tests/unit/TopologyTests.cpp)
check an error on. A topology the parser accepts validates; one it rejects fails the schema at
the same JSON pointer (among others the same fault causes, as a misspelt key is also a missing
one), unless the rule is one JSON Schema cannot state (a cross-reference: names that must exist
or be unique, a target file that must be readable), where the schema may accept the file but
must not fail anywhere else."""
import json
import os
import pathlib
import re
import subprocess
import unittest

import jsonschema

from helpers import EDGESPLIT, SOURCE, CliTestCase, run
from test_fleet import topology as fleet_topology

SCHEMA = json.loads((SOURCE / "docs" / "topology.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)

# Parser messages of rules beyond JSON Schema (cross-references between parts of the file, or
# to files and target tables outside it).
CROSS_REFERENCE_RULES = (
    "duplicate device name", "unknown sensor group", "unknown device", "is owned by both",
    "no device owns group", "links to itself", "a second link", "no path of /links from",
    "is reached by no path of /links",
    "is listed twice", "is already listed at", "more than one aggregator",
    "owns no sensor group and is not the aggregator", "unknown kernel class",
)


def unit_tests_binary():
    named = os.environ.get("EDGESPLIT_UNIT_TESTS")
    return pathlib.Path(named) if named else pathlib.Path(EDGESPLIT).parent / "unit_tests"


def escape(step):
    return str(step).replace("~", "~0").replace("/", "~1")


def schema_pointers(document):
    """The pointer of every schema error; a missing key's is where the key belongs, as the
    parser names it."""
    pointers = set()
    for error in VALIDATOR.iter_errors(document):
        pointer = "".join("/" + escape(step) for step in error.absolute_path)
        if error.validator == "required":
            missing = re.fullmatch(r"'(.*)' is a required property", error.message)
            pointer += "/" + escape(missing.group(1))
        pointers.add(pointer)
    return pointers


def is_ancestor_or_same(ancestor, pointer):
    return pointer == ancestor or pointer.startswith(ancestor + "/")


def value_at(document, pointer):
    for step in pointer.split("/")[1:]:
        step = step.replace("~1", "/").replace("~0", "~")
        document = document[int(step)] if isinstance(document, list) else document[step]
    return document


class TopologySchemaTest(CliTestCase):
    def parser_verdict(self, path):
        """None when edgesplit accepts the file, else (pointer, message)."""
        result = run("topology-check", path)
        if result.returncode == 0:
            return None
        self.assertEqual(result.returncode, 1, result.stderr)
        message = result.stderr.strip().removeprefix("edgesplit: error: ")
        self.assertTrue(message.startswith(f"{path}: "), message)
        rest = message[len(f"{path}: "):]
        pointer = rest.split(": ", 1)[0] if rest.startswith("/") else ""
        return pointer, rest

    def check(self, label, document, verdict):
        pointers = schema_pointers(document)
        if verdict is None:
            self.assertEqual(pointers, set(), f"{label}: the parser accepts it, the schema not")
            return
        pointer, message = verdict
        cross_reference = any(rule in message for rule in CROSS_REFERENCE_RULES) or (
            pointer.endswith("/target") and re.search(r"/|\.json$", value_at(document, pointer)))
        if cross_reference:
            # Beyond the schema: it may accept the file, or see the same fault from above (the
            # array of devices for a second aggregator), but nothing elsewhere.
            stray = [p for p in pointers if not is_ancestor_or_same(p, pointer)]
            self.assertEqual(stray, [], f"{label}: the parser fails at {pointer!r} ({message}); "
                                        f"the schema at {sorted(pointers)}")
        else:
            # The parser stops at its first error, the schema lists all: a misspelt key is also
            # a missing one.
            self.assertIn(pointer, pointers, f"{label}: the parser fails at {pointer!r} "
                                             f"({message}); the schema at {sorted(pointers)}")

    def check_file(self, path):
        try:
            document = json.loads(pathlib.Path(path).read_text())
        except json.JSONDecodeError:
            self.assertIsNotNone(self.parser_verdict(path), f"{path} is no JSON yet accepted")
            return
        self.check(str(path), document, self.parser_verdict(path))

    def write(self, name, document):
        path = self.tmp / name
        path.write_text(json.dumps(document))
        return path

    def test_bad_input_corpus_and_examples(self):
        files = sorted((SOURCE / "tests" / "bad-inputs" / "topologies").glob("*.json"))
        files += sorted((SOURCE / "examples").glob("*/topology.json"))
        self.assertGreater(len(files), 10)
        for path in files:
            with self.subTest(path=path.name):
                self.check_file(path)

    def test_documentation_example_and_fleet_tests(self):
        text = (SOURCE / "docs" / "topology.md").read_text()
        example = json.loads(re.search(r"```json\n(.*?)```", text, re.S).group(1))
        documents = {"docs.json": example, "fleet.json": fleet_topology(),
                     "fleet_impute.json": fleet_topology(fallback="impute"),
                     "fleet_stack.json": fleet_topology(ram_kib=(1, 32, 32), stack=860)}
        for name, document in documents.items():
            with self.subTest(name=name):
                path = self.write(name, document)
                self.assertIsNone(self.parser_verdict(path), name)
                self.check(name, document, None)

    def test_schema_key_is_allowed_and_must_be_a_string(self):
        document = fleet_topology()
        document["$schema"] = "../docs/topology.schema.json"
        self.check("with $schema", document, self.parser_verdict(self.write("s.json", document)))
        document["$schema"] = 3
        verdict = self.parser_verdict(self.write("bad_s.json", document))
        self.assertEqual(verdict[0], "/$schema")
        self.check("numeric $schema", document, verdict)

    def test_unit_test_documents(self):
        binary = unit_tests_binary()
        self.assertTrue(binary.exists(), f"{binary}: build the unit tests (ninja -C build)")
        cases = self.tmp / "cases.jsonl"
        result = subprocess.run([binary, "[topology]"], env={**os.environ,
                                "EDGESPLIT_TOPOLOGY_CASES": str(cases)},
                                cwd=SOURCE / "tests", capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout[-2000:])
        entries = [json.loads(line) for line in cases.read_text().splitlines()]
        self.assertGreater(len(entries), 50)
        structural = 0
        for i, entry in enumerate(entries):
            with self.subTest(case=i, pointer=entry["pointer"]):
                # The unit test checked the parser's pointer and message; the file written here
                # gives the message again for the cross-reference rules.
                path = self.write(f"unit{i}.json", entry["document"])
                verdict = self.parser_verdict(path)
                self.assertIsNotNone(verdict)
                self.assertEqual(verdict[0], entry["pointer"])
                self.check(f"unit case {i}", entry["document"], verdict)
                structural += entry["pointer"] in schema_pointers(entry["document"])
        # Most rules are structural: the schema names the same place.
        self.assertGreater(structural, len(entries) // 2)


if __name__ == "__main__":
    unittest.main()
