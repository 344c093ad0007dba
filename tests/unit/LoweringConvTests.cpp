#include "GraphBuilder.h"
#include "LoweringHarness.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

namespace edgesplit::testing {
namespace {

Tensor randomTensor(std::initializer_list<int64_t> shape, uint32_t seed, float lo = -1.0f,
                    float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  Tensor tensor(DType::Float32, Shape(shape));
  for (float &x : tensor.mutableValues<float>()) x = dist(rng);
  return tensor;
}

// Conv (3x3, stride 2, pads, groups 2) + bias + Relu: the Relu fuses into the conv.
std::unique_ptr<Graph> convRelu() {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 4, 9, 7});
  Value *w = b.constant("w", randomTensor({6, 2, 3, 3}, 1));
  Value *bias = b.constant("b", randomTensor({6}, 2));
  Node *conv = b.node("Conv", {x, w, bias}, {"c"},
                      attrs({{"strides", std::vector<int64_t>{2, 1}},
                             {"pads", std::vector<int64_t>{1, 1, 1, 0}},
                             {"group", int64_t{2}}}));
  Node *relu = b.node("Relu", {conv->outputs[0]}, {"y"});
  b.output(relu->outputs[0]);
  return b.finish();
}

TEST_CASE("float32 conv lowering equals the reference and fuses the Relu", "[lowering]") {
  const LoweredRun run = runLowered(convRelu, {randomTensor({1, 4, 9, 7}, 3)}, Precision::Float32);
  CHECK(run.calls == 1);
  const auto expected = run.reference[0].values<float>();
  const auto actual = run.lowered[0].values<float>();
  REQUIRE(expected.size() == actual.size());
  for (size_t i = 0; i < expected.size(); ++i) CHECK(actual[i] == Approx(expected[i]).margin(1e-5));
}

TEST_CASE("int8 conv lowering stays within a few output steps of the reference", "[lowering]") {
  const LoweredRun run = runLowered(convRelu, {randomTensor({1, 4, 9, 7}, 3)}, Precision::Int8);
  CHECK(run.calls == 1);
  const auto expected = run.reference[0].values<float>();
  const auto actual = run.lowered[0].values<float>();
  REQUIRE(expected.size() == actual.size());
  for (size_t i = 0; i < expected.size(); ++i)
    CHECK(std::fabs(actual[i] - expected[i]) <= 3.0f * run.outputScales[0]);
}

} // namespace
} // namespace edgesplit::testing
