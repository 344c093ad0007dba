"""Prints the unittest classes of a test module that define tests of their own, one per line:
tests/CMakeLists.txt makes one ctest of each, so that ctest -j runs a long module's classes side
by side."""
import ast
import sys

tree = ast.parse(open(sys.argv[1], encoding="utf-8").read())
for node in tree.body:
    if isinstance(node, ast.ClassDef) and any(
            isinstance(item, ast.FunctionDef) and item.name.startswith("test")
            for item in node.body):
        print(node.name)
