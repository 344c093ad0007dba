#include "GraphBuilder.h"
#include "codegen/CodegenCheck.h"

#include <catch.hpp>

using namespace edgesplit;
using namespace edgesplit::testing;

namespace {
// x -> Relu -> Add(constant) -> y, and x -> Equal(x, x) -> Or -> Cast to float -> same (no kernel
// computes Or, and a Cast to float reads a comparison's mask only).
std::unique_ptr<Graph> twoBranches(bool withEqual) {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 4});
  Node *relu = b.node("Relu", {x}, {"r"});
  Value *addend = b.constant("addend", floats({1, 4}, {-0.5f, 0.25f, 1.0f, 2.0f}));
  b.node("Add", {relu->outputs[0], addend}, {"y"});
  b.output(b.value("y"));
  if (withEqual) {
    Node *equal = b.node("Equal", {x, x}, {"mask"});
    Node *either = b.node("Or", {equal->outputs[0], equal->outputs[0]}, {"either"});
    b.node("Cast", {either->outputs[0]}, {"same"}, attrs({{"to", int64_t{1}}}));
    b.output(b.value("same"));
  }
  return b.finish();
}
} // namespace

TEST_CASE("the codegen check passes a graph every node of which lowers", "[codegen]") {
  for (Precision precision : {Precision::Float32, Precision::Int8}) {
    auto graph = twoBranches(false);
    const CodegenCheck check = checkCodegen(*graph, precision, KernelIsa::Plain, true);
    CHECK(check.ok());
    CHECK(check.reachedNodes);
    CHECK(check.nodeErrors.empty());
  }
}

TEST_CASE("the codegen check records each failing node and goes on", "[codegen]") {
  auto graph = twoBranches(true);
  const CodegenCheck check = checkCodegen(*graph, Precision::Float32, KernelIsa::Plain, false);
  REQUIRE(check.errors.size() == 2);
  CHECK(check.errors[0].find("node 'Or_3' (Or)") == 0);
  CHECK(check.errors[1].find("node 'Cast_4' (Cast)") == 0);
  CHECK(check.nodeErrors.size() == 2);
  CHECK(check.nodeErrors.count("Or_3") == 1);
  CHECK(check.nodeErrors.count("Cast_4") == 1);
  CHECK(check.reachedNodes);
}

TEST_CASE("the int8 codegen check stands in for calibration only when asked", "[codegen]") {
  auto calibrated = twoBranches(false);
  CHECK(checkCodegen(*calibrated, Precision::Int8, KernelIsa::Plain, true).ok());
  // The Add's constant operand carries the parameters its kernel reads (--emit-qdq writes them).
  const Value *addend = calibrated->findValue("addend");
  REQUIRE(addend->quant);
  CHECK(addend->quant->scales.size() == 1);
  CHECK(addend->quant->scales[0] == Approx(2.5 / 255).epsilon(1e-6));

  // Without calibration a float model has no ranges: the compile's own message, first.
  auto uncalibrated = twoBranches(false);
  const CodegenCheck check = checkCodegen(*uncalibrated, Precision::Int8, KernelIsa::Plain, false);
  REQUIRE_FALSE(check.ok());
  CHECK(check.errors[0].find("input 'x' has no int8 parameters") != std::string::npos);
}
