"""docs/errors.md is true: every catalogued error is reachable and worded as documented.

Each entry of the catalogue (a `### <id>` heading followed by a fenced message template) names at
least one case of tests/bad-inputs/cases.json, and every case names an entry. Running the case
must print the template's message, `<placeholders>` standing for any text. And every template's
wording is in the sources' string literals, so an entry cannot drift from a reworded message.
"""
import pathlib
import re
import tempfile
import unittest

from helpers import SOURCE
from test_bad_inputs import MANIFEST, prepare_output, run_case

CATALOGUE = SOURCE / "docs" / "errors.md"
ENTRY = re.compile(r"^### (?P<id>[a-z0-9-]+)\n+```text\n(?P<template>[^\n]+)\n```", re.MULTILINE)
PLACEHOLDER = re.compile(r"(<[A-Za-z0-9 ,'_-]+\??>)")
PREFIX = {1: "edgesplit: error: ", 2: "edgesplit: usage error: "}


def template_regex(template):
    """The template as a regex: literal text, each <placeholder> any non-empty text, each
    <placeholder?> any text, possibly none."""
    pattern = ""
    for i, part in enumerate(PLACEHOLDER.split(template)):
        if i % 2 == 0:
            pattern += re.escape(part)
        else:
            pattern += ".*" if part.endswith("?>") else ".+"
    return re.compile(pattern)


def source_messages():
    """Every string literal of compiler/ (adjacent literals joined, as C++ joins them), with
    fmt's `{}` fields as NUL and its `{{`/`}}` as braces: the text the messages are made of, one
    literal a line."""
    literals = re.compile(r'(?:"(?:[^"\\\n]|\\.)*"\s*)+')
    one = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
    texts = []
    for path in sorted((SOURCE / "compiler").rglob("*")):
        if path.suffix not in (".cpp", ".h"):
            continue
        for match in literals.finditer(path.read_text()):
            text = "".join(one.findall(match.group(0))).replace('\\"', '"')
            # fmt's escaped braces stand for themselves once the fields are cut out.
            text = text.replace("{{", "\1").replace("}}", "\2")
            text = re.sub(r"\{[^{}]*\}", "\0", text)
            texts.append(text.replace("\1", "{").replace("\2", "}"))
    return "\n".join(texts)


ARGUMENT_WORD = re.compile(r"[-/=.\d]|^\W*[A-Z][a-z]+[A-Z]")


def template_pieces(template):
    """The literal runs of a template's words, placeholders and words that sources pass as
    arguments (numbers, options, paths, op names) cut out, trimmed of punctuation: each run of
    20 characters or more should be in some message's source."""
    for i, part in enumerate(PLACEHOLDER.split(template)):
        if i % 2:
            continue
        run = []
        for word in part.split(" ") + ["-"]:
            if not ARGUMENT_WORD.search(word):
                run.append(word)
                continue
            piece = " ".join(run).strip(" '\"():;,")
            if len(piece) >= 20:
                yield piece
            run = []


def catalogue():
    entries = {}
    for match in ENTRY.finditer(CATALOGUE.read_text()):
        assert match["id"] not in entries, f"{match['id']} is catalogued twice"
        entries[match["id"]] = match["template"]
    return entries


class ErrorCatalogueTest(unittest.TestCase):
    def test_catalogue_and_cases_name_each_other(self):
        entries = catalogue()
        self.assertGreaterEqual(len(entries), 30)
        used = {case["error"] for case in MANIFEST["cases"]}
        self.assertEqual(sorted(set(entries) - used), [], "catalogued errors no case triggers")
        self.assertEqual(sorted(used - set(entries)), [], "cases of errors the catalogue lacks")

    def test_every_case_prints_its_documented_message(self):
        entries = catalogue()
        for case in MANIFEST["cases"]:
            with self.subTest(case=case["id"], error=case["error"]), \
                    tempfile.TemporaryDirectory() as tmp:
                out = pathlib.Path(tmp) / "out"
                prepare_output(case, out)
                result, _ = run_case(case, out)
                message = result.stderr.strip()
                prefix = PREFIX[case["exit"]]
                self.assertTrue(message.startswith(prefix), message)
                regex = template_regex(entries[case["error"]])
                self.assertIsNotNone(regex.fullmatch(message[len(prefix):]),
                                     f"{message!r} does not read as {entries[case['error']]!r}")

    def test_every_template_is_worded_as_in_the_sources(self):
        """A catalogued message whose wording drifted from the code that prints it (a case runs
        one path per entry; this reads every entry against every message's source)."""
        sources = source_messages()
        self.assertIn("code generation does not support \0 yet", sources)
        stale = [(entry, piece) for entry, template in catalogue().items()
                 for piece in template_pieces(template) if piece not in sources]
        self.assertEqual(stale, [], "catalogue text that no source message contains")
        self.assertEqual(list(template_pieces("<model>: node '<n>' (<op>): code generation does "
                                              "not support <op> yet; see --help")),
                         ["code generation does not support"])

    def test_template_placeholders_match_any_text_only_where_marked(self):
        regex = template_regex("<model>: the file is empty; re-export the model")
        self.assertTrue(regex.fullmatch("a/b.onnx: the file is empty; re-export the model"))
        self.assertFalse(regex.fullmatch("a/b.onnx: the file is empty"))
        self.assertFalse(regex.fullmatch(": the file is empty; re-export the model"))
        optional = template_regex("uses '<op>'<of domain D?> (opset <n>)")
        self.assertTrue(optional.fullmatch("uses 'Gelu' of domain x (opset 1)"))
        self.assertTrue(optional.fullmatch("uses 'Gelu' (opset 1)"))


if __name__ == "__main__":
    unittest.main()
