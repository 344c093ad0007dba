#include "GraphBuilder.h"
#include "LoweringHarness.h"

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <random>

namespace edgesplit::testing {
namespace {

Tensor randomTensor(llvm::ArrayRef<int64_t> shape, uint32_t seed, float lo = -1.0f,
                    float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  Tensor tensor(DType::Float32, Shape(shape.begin(), shape.end()));
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

// One int8 Conv (+ Relu) of each kind the kernel choice tells apart.
struct ConvCase {
  const char *name;
  std::vector<int64_t> input, weight;
  AttributeMap attributes;
  // es_s8.h kernel per instruction set: Plain, Dsp, Mve.
  std::array<const char *, 3> kernels;
};

std::vector<ConvCase> convCases() {
  auto ints = [](std::vector<int64_t> values) { return AttributeValue(std::move(values)); };
  return {
      {"1-D k5",
       {1, 3, 40},
       {8, 3, 5},
       {},
       {"es_conv1d_k5_s8", "es_conv1d_k5_s8", "es_conv2d_gemm_s8"}},
      {"1-D k4", {1, 3, 40}, {8, 3, 4}, {}, {"es_conv1d_s8", "es_conv1d_s8", "es_conv2d_gemm_s8"}},
      {"1-D k3 dilation 2",
       {1, 2, 30},
       {5, 2, 3},
       attrs({{"dilations", ints({2})}}),
       {"es_conv2d_gemm_s8", "es_conv2d_gemm_s8", "es_conv2d_gemm_s8"}},
      {"1x1",
       {1, 20, 5, 3},
       {9, 20, 1, 1},
       {},
       {"es_conv2d_gemm_s8", "es_conv2d_gemm_s8", "es_conv2d_gemm_s8"}},
      {"3x3 pad 1",
       {1, 5, 7, 6},
       {7, 5, 3, 3},
       attrs({{"pads", ints({1, 1, 1, 1})}}),
       {"es_conv2d_gemm_s8", "es_conv2d_gemm_s8", "es_conv2d_gemm_s8"}},
      {"10x4 stride 2 pads (4, 1, 5, 1)",
       {1, 1, 25, 10},
       {6, 1, 10, 4},
       attrs({{"strides", ints({2, 2})}, {"pads", ints({4, 1, 5, 1})}}),
       {"es_conv2d_gemm_s8", "es_conv2d_gemm_s8", "es_conv2d_gemm_s8"}},
      {"depthwise 3x3",
       {1, 6, 8, 5},
       {6, 1, 3, 3},
       attrs({{"pads", ints({1, 1, 1, 1})}, {"group", AttributeValue(int64_t{6})}}),
       {"es_depthwise_conv3x3_s8", "es_depthwise_conv3x3_s8", "es_depthwise_conv3x3_s8"}},
      {"grouped",
       {1, 4, 6, 6},
       {6, 2, 3, 3},
       attrs({{"group", AttributeValue(int64_t{2})}}),
       {"es_conv2d_s8", "es_conv2d_s8", "es_conv2d_s8"}},
  };
}

TEST_CASE("int8 convolutions take the kernel of their kind and instruction set, bit-exactly",
          "[lowering]") {
  for (const ConvCase &c : convCases()) {
    INFO(c.name);
    auto build = [&c] {
      GraphBuilder b;
      Value *x = b.input("x", DType::Float32, c.input);
      Value *w = b.constant("w", randomTensor(c.weight, 11, -0.5f, 0.5f));
      Value *bias = b.constant("b", randomTensor({c.weight[0]}, 12));
      Node *conv = b.node("Conv", {x, w, bias}, {"c"}, c.attributes);
      Node *relu = b.node("Relu", {conv->outputs[0]}, {"y"});
      b.output(relu->outputs[0]);
      return b.finish();
    };
    const std::vector<Tensor> inputs = {randomTensor(c.input, 13)};
    std::vector<LoweredRun> runs;
    for (KernelIsa isa : {KernelIsa::Plain, KernelIsa::Dsp, KernelIsa::Mve})
      runs.push_back(runLowered(build, inputs, Precision::Int8, isa));
    for (size_t i = 0; i < runs.size(); ++i) {
      INFO("instruction set " << i);
      REQUIRE(runs[i].functions.size() == 1);
      CHECK(runs[i].functions[0] == c.kernels[i]);
      // Only the matrix product gathers windows, into scratch the plan places in the arena.
      const bool gathers = runs[i].functions[0] == "es_conv2d_gemm_s8";
      CHECK((runs[i].scratchBytes > 0) == gathers);
      CHECK(runs[i].arenaBytes >= runs[i].scratchBytes);
      // Every kernel is exact to docs/int8.md: the same bytes whichever one runs.
      CHECK(runs[i].raw == runs[0].raw);
    }
    const auto expected = runs[0].reference[0].values<float>();
    const auto actual = runs[0].lowered[0].values<float>();
    REQUIRE(expected.size() == actual.size());
    for (size_t k = 0; k < expected.size(); ++k)
      CHECK(std::fabs(actual[k] - expected[k]) <= 3.0f * runs[0].outputScales[0]);
  }
}

} // namespace
} // namespace edgesplit::testing
