#include "GraphBuilder.h"
#include "ir/Verifier.h"

#include <catch.hpp>

using namespace edgesplit;
using namespace edgesplit::testing;
using Catch::Matchers::Contains;

TEST_CASE("verifier accepts a well-formed graph", "[verifier]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 4});
  b.node("Relu", {x}, {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();
  REQUIRE_NOTHROW(verifyGraph(*graph));
}

TEST_CASE("verifier rejects a read before the producer runs", "[verifier]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {4});
  Node *first = b.node("Relu", {x}, {"y"});
  Node *second = b.node("Relu", {x}, {"z"});
  b.output(b.value("y"));
  auto graph = b.finish();
  first->inputs[0] = second->outputs[0]; // y = Relu(z) now runs before z = Relu(x)
  REQUIRE_THROWS_WITH(verifyGraph(*graph), Contains("reads 'z' before anything produces it"));
}

TEST_CASE("verifier rejects a recorded shape the op's rule disagrees with", "[verifier]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {2, 3});
  b.node("Relu", {x}, {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();
  graph->findValue("y")->shape = Shape{3, 2};
  REQUIRE_THROWS_WITH(verifyGraph(*graph, {}, "some-pass"),
                      Contains("after pass some-pass") && Contains("recorded as float32 [3, 2]") &&
                          Contains("op gives float32 [2, 3]"));
}

TEST_CASE("verifier accepts an output whose shape the importer left open", "[verifier]") {
  // ONNX's inference may leave dimensions open that infer-shapes fills later (an opset 9 Slice
  // on a batch-symbolic input): nothing recorded, nothing wrong; the type is still checked.
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {2, 3});
  b.node("Relu", {x}, {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();
  graph->findValue("y")->shape.reset();
  REQUIRE_NOTHROW(verifyGraph(*graph, {}, "some-pass"));
  graph->findValue("y")->dtype = DType::Int8;
  REQUIRE_THROWS_WITH(verifyGraph(*graph, {}, "some-pass"), Contains("recorded as int8 [?]"));
}

TEST_CASE("verifier rejects unsupported ops only when asked to", "[verifier]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {2});
  b.node("NoSuchOp", {x}, {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();
  REQUIRE_THROWS_WITH(verifyGraph(*graph), Contains("node 'NoSuchOp_0' (NoSuchOp)") &&
                                               Contains("does not support"));
  REQUIRE_NOTHROW(verifyGraph(*graph, VerifyOptions{.requireSupportedOps = false}));
}

TEST_CASE("verifier rejects a graph output nothing computes", "[verifier]") {
  GraphBuilder b;
  b.input("x", DType::Float32, {2});
  auto graph = b.finish();
  Value *orphan = graph->createValue("orphan", DType::Float32);
  graph->outputs.push_back({"orphan", orphan});
  REQUIRE_THROWS_WITH(verifyGraph(*graph), Contains("graph output 'orphan' is never computed"));
}

TEST_CASE("verifier rejects a constant whose declared shape differs from its data", "[verifier]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {2});
  Value *c = b.constant("c", floats({2}, {1, 2}));
  b.node("Add", {x, c}, {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();
  graph->findValue("c")->shape = Shape{1, 2};
  REQUIRE_THROWS_WITH(verifyGraph(*graph), Contains("constant 'c' is declared float32 [1, 2]"));
}

TEST_CASE("verifier rejects a value produced twice", "[verifier]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {2});
  Node *first = b.node("Relu", {x}, {"y"});
  Node *second = b.node("Relu", {x}, {"z"});
  second->outputs[0] = first->outputs[0];
  b.output(first->outputs[0]);
  auto graph = b.finish();
  REQUIRE_THROWS_WITH(verifyGraph(*graph), Contains("'y'"));
}
