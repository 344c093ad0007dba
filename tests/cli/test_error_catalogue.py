"""docs/errors.md is complete and true, in both directions.

Catalogue -> sources: each entry (a `### <id>` heading followed by a fenced block of message
templates, one a line) is worded as the sources word it, and every case of
tests/bad-inputs/cases.json names an entry whose template its run prints (`<placeholders>`
standing for any text).

Sources -> catalogue: every message the tool can print is catalogued. A message is the format
string of a `fail(...)`, `failUsage(...)`, `ctx.fail(...)` (a node's message, after the model and
node), `throw Error(...)`, or of the readers' `error(pointer, ...)` (topology and keys files) and
`invalid(...)` (the graph verifier) in compiler/, string literals split across lines joined,
and of a `message(FATAL_ERROR ...)` of the CMake package (cmake/*.cmake); its `{}` fields (and
CMake's `${...}`) match any text of a template, placeholders included. A message beginning
`internal error: ` (after its location, if any) reports a broken invariant of edgesplit, not bad
input, and is not catalogued (docs/errors.md says so).
"""
import collections
import pathlib
import re
import tempfile
import unittest

from helpers import SOURCE
from test_bad_inputs import MANIFEST, prepare_output, run_case

CATALOGUE = SOURCE / "docs" / "errors.md"
ENTRY = re.compile(r"^### (?P<id>[a-z0-9-]+)\n+```text\n(?P<templates>(?:[^\n]+\n)+?)```",
                   re.MULTILINE)
PLACEHOLDER = re.compile(r"(<[A-Za-z0-9 ,'_-]+\??>)")
PREFIX = {1: "edgesplit: error: ", 2: "edgesplit: usage error: "}
FIELD = "\0"  # a format field ({} in C++, ${...} in CMake) in a source message

SourceMessage = collections.namedtuple("SourceMessage", "path line call text")


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


def blank_comments_and_raw_strings(code):
    """C++ code with comments and raw string literals (the generated C of the drivers, whose own
    fail() calls are not edgesplit's) blanked out, line breaks kept; other literals kept."""
    out, i, n = [], 0, len(code)
    while i < n:
        c = code[i]
        if code.startswith("//", i):
            end = code.find("\n", i)
            end = n if end < 0 else end
        elif code.startswith("/*", i):
            end = code.find("*/", i + 2)
            end = n if end < 0 else end + 2
        elif code.startswith('R"', i) and not (i and (code[i - 1].isalnum() or code[i - 1] == "_")):
            delimiter = code[i + 2:code.index("(", i)]
            end = code.index(")" + delimiter + '"', i) + len(delimiter) + 2
        elif c in "\"'":
            end = i + 1
            while end < n and code[end] != c:
                end += 2 if code[end] == "\\" else 1
            out.append(code[i:end + 1])
            i = end + 1
            continue
        else:
            out.append(c)
            i += 1
            continue
        out.append(re.sub(r"[^\n]", " ", code[i:end]))
        i = end
    return "".join(out)


def fmt_text(literal):
    """A C++ fmt format string's text: escapes decoded, fields as FIELD, {{ and }} as braces."""
    text = re.sub(r'\\(["\\\'])', r"\1", literal)
    text = text.replace("{{", "\1").replace("}}", "\2")
    text = re.sub(r"\{[^{}]*\}", FIELD, text)
    return text.replace("\1", "{").replace("\2", "}")


LITERAL = re.compile(r'\s*"((?:[^"\\\n]|\\.)*)"')
CPP_CALL = re.compile(r"(?<![\w.>])(?P<call>(?:\w+(?:\.|->))?(?:fail|failUsage)"
                      r"|throw\s+(?:Error|UsageError))\s*\(\s*(?:fmt::format\s*\(\s*)?")
CMAKE_CALL = re.compile(r"message\(\s*FATAL_ERROR")


def joined_literals(code, pos):
    """The adjacent string literals from pos on, joined (as the compiler joins them)."""
    parts = []
    while match := LITERAL.match(code, pos):
        parts.append(match.group(1))
        pos = match.end()
    return "".join(parts) if parts else None


# The readers' helpers that put a location before their message: Topology's and FleetKeys'
# error(pointer, format, ...) after the file, Verifier's invalid(format, ...) after "invalid graph".
LOCATED_CALL = re.compile(r"(?<![\w.>])(?P<call>error|invalid)\s*\(")
FORMAT_CALL = re.compile(r"\s*(?:fmt::format\s*\(\s*)?")


def after_first_argument(code, pos):
    """The position after the first argument of a call whose arguments start at pos, or None
    when it has just one."""
    depth = 0
    while pos < len(code):
        c = code[pos]
        if c == '"':
            pos = LITERAL.match(code, pos).end() - 1
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                return None
            depth -= 1
        elif c == "," and depth == 0:
            return pos + 1
        pos += 1
    return None


def cpp_messages(path, code):
    code = blank_comments_and_raw_strings(code)
    calls = [(match, match.end()) for match in CPP_CALL.finditer(code)]
    for match in LOCATED_CALL.finditer(code):
        start = (match.end() if match["call"] == "invalid"
                 else after_first_argument(code, match.end()))
        if start is not None:
            calls.append((match, FORMAT_CALL.match(code, start).end()))
    for match, start in sorted(calls, key=lambda call: call[0].start()):
        literal = joined_literals(code, start)
        if literal is not None:  # not fail(message) forwarding a built message
            yield SourceMessage(path, code.count("\n", 0, match.start()) + 1, match["call"],
                                fmt_text(literal))


def cmake_messages(path, code):
    for match in CMAKE_CALL.finditer(code):
        literal = joined_literals(code, match.end())
        if literal is not None:
            text = re.sub(r"\$\{[^}]*\}", FIELD, literal.replace('\\"', '"'))
            yield SourceMessage(path, code.count("\n", 0, match.start()) + 1, "message", text)


def source_messages():
    """Every message format of compiler/ and of the CMake package."""
    messages = []
    for path in sorted((SOURCE / "compiler").rglob("*")):
        if path.suffix in (".cpp", ".h"):
            messages += cpp_messages(path.relative_to(SOURCE), path.read_text())
    for path in sorted((SOURCE / "cmake").glob("*.cmake")):
        messages += cmake_messages(path.relative_to(SOURCE), path.read_text())
    return messages


def is_internal(message):
    return re.match(r"(?:\0: )?internal error: ", message.text) is not None


def message_regex(message):
    """The message as a regex over template text: its fields match any text (placeholders
    included). A node's message (ctx.fail) follows the model and node, a reader's (error,
    invalid) its file and location; a plain fail() may be a
    node context's own (NodeContext and LowerContext prefix the node) or be wrapped in the file
    it concerns, so it may follow some location too."""
    pattern = ".+".join(re.escape(piece) for piece in message.text.split(FIELD))
    located = message.call.endswith(".fail") or message.call in ("error", "invalid")
    location = ".+: " if located else "(?:.+: )?"
    return re.compile(location + pattern)


def uncatalogued(messages, templates):
    return [m for m in messages if not is_internal(m)
            and not any(message_regex(m).fullmatch(t) for t in templates)]


def source_text():
    """Every string literal of the sources (adjacent literals joined, fields as FIELD), one a
    line: the text the messages are made of."""
    literals = re.compile(r'(?:"(?:[^"\\\n]|\\.)*"\s*)+')
    texts = []
    for path in sorted((SOURCE / "compiler").rglob("*")):
        if path.suffix in (".cpp", ".h"):
            for match in literals.finditer(path.read_text()):
                texts.append(fmt_text(joined_literals(match.group(0), 0)))
    texts += [m.text for m in source_messages() if m.call == "message"]
    return "\n".join(texts)


ARGUMENT_WORD = re.compile(r"[-/=.\d]|^\W*[A-Z][a-z]+[A-Z]")


def template_pieces(template):
    """The literal runs of a template's words, placeholders and words that sources pass as
    arguments (numbers, options, paths, op names) cut out, trimmed of punctuation, and split
    after a colon (where a wrapper's words end and the message it wraps begins): each run of 20
    characters or more should be in some message's source."""
    for i, part in enumerate(PLACEHOLDER.split(template)):
        if i % 2:
            continue
        run = []
        for word in part.split(" ") + ["-"]:
            argument = ARGUMENT_WORD.search(word)
            if not argument:
                run.append(word)
            if argument or word.endswith(":"):
                piece = " ".join(run).strip(" '\"():;,")
                if len(piece) >= 20:
                    yield piece
                run = []


def catalogue():
    """{id: [template, ...]} in the document's order."""
    entries = {}
    for match in ENTRY.finditer(CATALOGUE.read_text()):
        assert match["id"] not in entries, f"{match['id']} is catalogued twice"
        entries[match["id"]] = match["templates"].splitlines()
    return entries


def all_templates():
    return [t for templates in catalogue().values() for t in templates]


class ErrorCatalogueTest(unittest.TestCase):
    def test_every_case_names_an_entry(self):
        entries = catalogue()
        self.assertGreaterEqual(len(entries), 100)
        used = {case["error"] for case in MANIFEST["cases"]}
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
                templates = entries[case["error"]]
                self.assertTrue(any(template_regex(t).fullmatch(message[len(prefix):])
                                    for t in templates),
                                f"{message!r} reads as none of {templates!r}")

    def test_every_template_is_worded_as_in_the_sources(self):
        """A catalogued message whose wording drifted from the code that prints it (a case runs
        one path per entry; this reads every entry against every message's source)."""
        sources = source_text()
        self.assertIn("code generation does not support \0 yet", sources)
        stale = [(entry, piece) for entry, templates in catalogue().items()
                 for template in templates
                 for piece in template_pieces(template) if piece not in sources]
        self.assertEqual(stale, [], "catalogue text that no source message contains")
        self.assertEqual(list(template_pieces("<model>: node '<n>' (<op>): code generation does "
                                              "not support <op> yet; see --help")),
                         ["code generation does not support"])

    def test_every_source_message_is_catalogued(self):
        messages = source_messages()
        self.assertGreaterEqual(len(messages), 400)
        missing = [f"{m.path}:{m.line}: {m.text!r}".replace("\\x00", "{}")
                   for m in uncatalogued(messages, all_templates())]
        self.assertEqual(missing, [], "messages docs/errors.md does not list")

    def test_internal_errors_are_only_those_so_worded(self):
        internal = [m for m in source_messages() if is_internal(m)]
        self.assertGreaterEqual(len(internal), 10)
        stray = [f"{m.path}:{m.line}: {m.text!r}" for m in source_messages()
                 if not is_internal(m) and re.search(r"\binternal\b", m.text)]
        self.assertEqual(stray, [], "say 'internal error: ' at the start, or catalogue it")

    def test_a_new_message_without_an_entry_is_found(self):
        code = '''
            // fail("a commented-out call is no message");
            fail("{}: the widget is {} long; "
                 "shorten it to {}", path, n, m);
            ctx.fail("attribute '{}' must be {}", name, what);
            ctx.fail("a message no entry lists: {{x}}");
            fail("internal error: {} has no slot", name);
            code += fmt::format(R"(return fail("usage", argv[0]);)");
            throw UsageError(fmt::format("--frob {}: expected a number", text));
            error(pointer + pointerStep(f(a, b)), "unknown key; expected one of {}", keys);
            error("/x", fmt::format("expected \\"{}\\"", kSchema));
        '''
        messages = list(cpp_messages(pathlib.Path("x.cpp"), code))
        self.assertEqual([m.line for m in messages], [3, 5, 6, 7, 9, 10, 11])
        self.assertEqual([m.text for m in messages[-2:]],
                         ["unknown key; expected one of \0", 'expected "\0"'])
        self.assertEqual(messages[0].text, "\0: the widget is \0 long; shorten it to \0")
        self.assertEqual(messages[2].text, "a message no entry lists: {x}")
        templates = ["<file>: the widget is <n> long; shorten it to <m>",
                     "<model>: node '<n>' (<op>): attribute '<name>' must be <kind>",
                     "--frob 12: expected a number"]
        templates += ["<topology>: /devices/0/x: unknown key; expected one of <keys>",
                      '<keys>: /schema: expected "edgesplit-keys/1"']
        self.assertEqual([m.line for m in uncatalogued(messages, templates)], [6])
        self.assertEqual([m.line for m in uncatalogued(messages, templates[1:])], [3, 6])
        self.assertEqual([m.line for m in uncatalogued(messages, templates[:-1])], [6, 11])
        # A node's message is not covered by the same words without the node before them.
        self.assertEqual([m.line for m in uncatalogued(messages[1:2], ["attribute 'a' must be "
                                                                       "an int"])], [5])
        cmake = 'message(FATAL_ERROR "f(${name}): MODEL is required "\n  "(the .onnx file)")'
        self.assertEqual([m.text for m in cmake_messages(pathlib.Path("f.cmake"), cmake)],
                         ["f(\0): MODEL is required (the .onnx file)"])

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
