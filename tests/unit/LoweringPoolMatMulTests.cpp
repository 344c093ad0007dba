// Lowering of the pools, the matrix products and ReduceMean: each case runs in both precisions
// against the float reference, and each unsupported form fails naming the node.
#include "GraphBuilder.h"
#include "LoweringHarness.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

namespace edgesplit::testing {
namespace {

using Build = std::function<std::unique_ptr<Graph>()>;
using Ints = std::vector<int64_t>;

Tensor randomTensor(const Shape &shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  Tensor tensor(DType::Float32, shape);
  for (float &x : tensor.mutableValues<float>()) x = dist(rng);
  return tensor;
}

Value *inputOf(GraphBuilder &b, const std::string &name, const Shape &shape) {
  Value *value = b.input(name, DType::Float32, {});
  value->shape = shape;
  return value;
}

// x -> opType(attributes) [-> Relu] -> y.
Build unary(const std::string &opType, const Shape &shape, AttributeMap attributes,
            bool relu = false) {
  return [=] {
    GraphBuilder b;
    Node *node = b.node(opType, {inputOf(b, "x", shape)}, {"op"}, attributes);
    Value *result = node->outputs[0];
    if (relu) result = b.node("Relu", {result}, {"y"})->outputs[0];
    b.output(result);
    return b.finish();
  };
}

void checkFloat32(const LoweredRun &run) {
  REQUIRE(run.reference.size() == run.lowered.size());
  for (size_t o = 0; o < run.reference.size(); ++o) {
    REQUIRE(run.reference[o].shape() == run.lowered[o].shape());
    const auto expected = run.reference[o].values<float>();
    const auto actual = run.lowered[o].values<float>();
    for (size_t i = 0; i < expected.size(); ++i)
      CHECK(actual[i] == Approx(expected[i]).margin(1e-5));
  }
}

void checkInt8(const LoweredRun &run, float steps) {
  REQUIRE(run.reference.size() == run.lowered.size());
  for (size_t o = 0; o < run.reference.size(); ++o) {
    REQUIRE(run.reference[o].shape() == run.lowered[o].shape());
    const auto expected = run.reference[o].values<float>();
    const auto actual = run.lowered[o].values<float>();
    for (size_t i = 0; i < expected.size(); ++i)
      CHECK(std::fabs(actual[i] - expected[i]) <= steps * run.outputScales[o]);
  }
}

// Float32 equals the reference and int8 stays within 3 output LSB of it (input rounding adds up
// in sums and means), each in one kernel call: a fused Relu adds none.
void checkLowering(const Build &build, const std::vector<Tensor> &inputs) {
  {
    INFO("float32");
    const LoweredRun run = runLowered(build, inputs, Precision::Float32);
    CHECK(run.calls == 1);
    checkFloat32(run);
  }
  {
    INFO("int8");
    const LoweredRun run = runLowered(build, inputs, Precision::Int8);
    CHECK(run.calls == 1);
    checkInt8(run, 3.0f);
  }
}

struct PoolCase {
  std::string name;
  Shape shape;
  AttributeMap attributes;
};

TEST_CASE("MaxPool lowers 1-D and 2-D windows in both precisions", "[lowering]") {
  const std::vector<PoolCase> cases = {
      {"3x3 stride 2 pads 1",
       {1, 3, 9, 8},
       attrs({{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}})},
      {"2x3 ceil_mode",
       {2, 2, 7, 8},
       attrs({{"kernel_shape", Ints{2, 3}}, {"strides", Ints{2, 2}}, {"ceil_mode", int64_t{1}}})},
      {"dilated, asymmetric pads",
       {1, 2, 8, 8},
       attrs(
           {{"kernel_shape", Ints{2, 2}}, {"dilations", Ints{2, 2}}, {"pads", Ints{1, 0, 0, 1}}})},
      {"1-D",
       {1, 3, 10},
       attrs({{"kernel_shape", Ints{3}}, {"strides", Ints{2}}, {"pads", Ints{1, 1}}})},
      {"SAME_UPPER",
       {1, 2, 7, 7},
       attrs({{"kernel_shape", Ints{3, 3}},
              {"strides", Ints{2, 2}},
              {"auto_pad", std::string("SAME_UPPER")}})},
  };
  uint32_t seed = 10;
  for (const PoolCase &c : cases) {
    INFO(c.name);
    checkLowering(unary("MaxPool", c.shape, c.attributes), {randomTensor(c.shape, ++seed)});
  }
}

TEST_CASE("MaxPool fuses a Relu in both precisions", "[lowering]") {
  const Shape shape{1, 2, 6, 6};
  const Build build =
      unary("MaxPool", shape, attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}),
            /*relu=*/true);
  const LoweredRun floatRun = runLowered(build, {randomTensor(shape, 20)}, Precision::Float32);
  CHECK(floatRun.calls == 1);
  checkFloat32(floatRun);
  // int8 fuses only when the Relu keeps the pool's parameters, i.e. for a non-negative input.
  const LoweredRun int8Run =
      runLowered(build, {randomTensor(shape, 21, 0.0f, 1.0f)}, Precision::Int8);
  CHECK(int8Run.calls == 1);
  checkInt8(int8Run, 1.0f);
}

TEST_CASE("AveragePool lowers padding, ceil_mode and count_include_pad in both precisions",
          "[lowering]") {
  const std::vector<PoolCase> cases = {
      {"3x3 stride 2 pads 1",
       {1, 3, 9, 8},
       attrs({{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}})},
      {"3x3 stride 2 pads 1, count_include_pad",
       {1, 3, 9, 8},
       attrs({{"kernel_shape", Ints{3, 3}},
              {"strides", Ints{2, 2}},
              {"pads", Ints{1, 1, 1, 1}},
              {"count_include_pad", int64_t{1}}})},
      {"ceil_mode, count_include_pad, asymmetric pads",
       {1, 2, 8, 7},
       attrs({{"kernel_shape", Ints{3, 2}},
              {"strides", Ints{2, 2}},
              {"pads", Ints{0, 1, 1, 0}},
              {"ceil_mode", int64_t{1}},
              {"count_include_pad", int64_t{1}}})},
      {"ceil_mode",
       {2, 2, 7, 8},
       attrs({{"kernel_shape", Ints{2, 3}}, {"strides", Ints{2, 2}}, {"ceil_mode", int64_t{1}}})},
      {"1-D, count_include_pad",
       {1, 3, 11},
       attrs({{"kernel_shape", Ints{4}},
              {"strides", Ints{3}},
              {"pads", Ints{2, 1}},
              {"count_include_pad", int64_t{1}}})},
      {"SAME_LOWER",
       {1, 2, 6, 7},
       attrs({{"kernel_shape", Ints{2, 3}}, {"auto_pad", std::string("SAME_LOWER")}})},
  };
  uint32_t seed = 30;
  for (const PoolCase &c : cases) {
    INFO(c.name);
    checkLowering(unary("AveragePool", c.shape, c.attributes), {randomTensor(c.shape, ++seed)});
  }
  INFO("fused Relu");
  const Shape shape{1, 2, 6, 6};
  checkLowering(unary("AveragePool", shape, attrs({{"kernel_shape", Ints{3, 3}}}), /*relu=*/true),
                {randomTensor(shape, 40)});
}

TEST_CASE("GlobalAveragePool and GlobalMaxPool lower in both precisions", "[lowering]") {
  uint32_t seed = 50;
  for (const std::string opType : {"GlobalAveragePool", "GlobalMaxPool"})
    for (const Shape &shape : {Shape{2, 3, 5, 6}, Shape{1, 4, 7}, Shape{1, 2, 3, 4, 5}}) {
      INFO(opType << " of " << formatShape(shape));
      checkLowering(unary(opType, shape, {}), {randomTensor(shape, ++seed)});
    }
  INFO("GlobalAveragePool with a fused Relu");
  const Shape shape{1, 3, 4, 4};
  checkLowering(unary("GlobalAveragePool", shape, {}, /*relu=*/true),
                {randomTensor(shape, 60, -0.5f, 1.0f)});
}

// A [M, K] times constant B, plus an optional constant C, then an optional Relu.
Build gemm(const Shape &aShape, const Shape &bShape, std::optional<Shape> cShape,
           AttributeMap attributes, bool relu = false) {
  return [=] {
    GraphBuilder b;
    Value *a = inputOf(b, "a", aShape);
    Value *weights = b.constant("w", randomTensor(bShape, 70));
    Value *bias = cShape ? b.constant("c", randomTensor(*cShape, 71)) : nullptr;
    Node *node = bias ? b.node("Gemm", {a, weights, bias}, {"g"}, attributes)
                      : b.node("Gemm", {a, weights}, {"g"}, attributes);
    Value *result = node->outputs[0];
    if (relu) result = b.node("Relu", {result}, {"y"})->outputs[0];
    b.output(result);
    return b.finish();
  };
}

TEST_CASE("Gemm lowers to the fully connected kernels in both precisions", "[lowering]") {
  const Tensor a = randomTensor({3, 8}, 80);
  SECTION("transB = 0 with a [N] bias") { checkLowering(gemm({3, 8}, {8, 5}, Shape{5}, {}), {a}); }
  SECTION("transB = 1 with a [1, N] bias") {
    checkLowering(gemm({3, 8}, {5, 8}, Shape{1, 5}, attrs({{"transB", int64_t{1}}})), {a});
  }
  SECTION("no bias") { checkLowering(gemm({3, 8}, {8, 5}, std::nullopt, {}), {a}); }
  SECTION("a fused Relu") {
    checkLowering(gemm({3, 8}, {5, 8}, Shape{5}, attrs({{"transB", int64_t{1}}}), true), {a});
  }
}

TEST_CASE("int8 Gemm with a row of near-zero weights takes the folded kernel", "[lowering]") {
  // Weight decay leaves rows of about 1e-10 (and their bias near 0, as in examples/har): the
  // channel's factor underflows to multiplier 0, whose outputs are the zero point whatever the
  // shift; the layer stays on the folded kernel.
  const Build build = [] {
    GraphBuilder b;
    Tensor weights = randomTensor({5, 8}, 72), bias = randomTensor({5}, 73);
    for (int k = 0; k < 8; ++k) weights.mutableValues<float>()[2 * 8 + k] *= 1e-10f;
    bias.mutableValues<float>()[2] *= 1e-10f;
    Node *node =
        b.node("Gemm", {inputOf(b, "a", {3, 8}), b.constant("w", weights), b.constant("c", bias)},
               {"g"}, attrs({{"transB", int64_t{1}}}));
    b.output(node->outputs[0]);
    return b.finish();
  };
  const LoweredRun run = runLowered(build, {randomTensor({3, 8}, 74)}, Precision::Int8);
  REQUIRE(run.functions == std::vector<std::string>{"es_fully_connected_folded_s8"});
  checkInt8(run, 3.0f);
}

TEST_CASE("float32 Gemm folds alpha and beta into the constants", "[lowering]") {
  const Build build = gemm({3, 8}, {8, 5}, Shape{5}, attrs({{"alpha", 0.5f}, {"beta", 2.0f}}));
  const LoweredRun run = runLowered(build, {randomTensor({3, 8}, 81)}, Precision::Float32);
  CHECK(run.calls == 1);
  checkFloat32(run);
}

TEST_CASE("Gemm forms without a kernel fail naming the node", "[lowering]") {
  using Catch::Contains;
  const Tensor a = randomTensor({3, 8}, 82);
  CHECK_THROWS_WITH(
      runLowered(gemm({3, 8}, {8, 5}, Shape{5}, attrs({{"alpha", 0.5f}})), {a}, Precision::Int8),
      Contains("node 'Gemm_0'") && Contains("alpha"));
  CHECK_THROWS_WITH(
      runLowered(gemm({3, 8}, {8, 5}, Shape{5}, attrs({{"beta", 2.0f}})), {a}, Precision::Int8),
      Contains("node 'Gemm_0'") && Contains("beta"));
  CHECK_THROWS_WITH(runLowered(gemm({3, 8}, {8, 5}, Shape{3, 5}, {}), {a}, Precision::Float32),
                    Contains("node 'Gemm_0'") && Contains("bias C of shape [N] or [1, N]"));
  CHECK_THROWS_WITH(runLowered(gemm({8, 3}, {8, 5}, std::nullopt, attrs({{"transA", int64_t{1}}})),
                               {randomTensor({8, 3}, 83)}, Precision::Float32),
                    Contains("node 'Gemm_0'") && Contains("transA"));
  const Build activationB = [] {
    GraphBuilder b;
    Node *node = b.node("Gemm", {inputOf(b, "a", {3, 8}), inputOf(b, "b", {8, 5})}, {"y"});
    b.output(node->outputs[0]);
    return b.finish();
  };
  CHECK_THROWS_WITH(runLowered(activationB, {a, randomTensor({8, 5}, 84)}, Precision::Float32),
                    Contains("node 'Gemm_0'") && Contains("must be a constant"));
}

// A times constant B [K, N], then an optional Relu.
Build matMulConstant(const Shape &aShape, const Shape &bShape, bool relu = false) {
  return [=] {
    GraphBuilder b;
    Node *node = b.node(
        "MatMul", {inputOf(b, "a", aShape), b.constant("w", randomTensor(bShape, 90))}, {"m"});
    Value *result = node->outputs[0];
    if (relu) result = b.node("Relu", {result}, {"y"})->outputs[0];
    b.output(result);
    return b.finish();
  };
}

// The product of two activations, then an optional Relu.
Build batchMatMul(const Shape &aShape, const Shape &bShape, bool relu = false) {
  return [=] {
    GraphBuilder b;
    Node *node = b.node("MatMul", {inputOf(b, "a", aShape), inputOf(b, "b", bShape)}, {"m"});
    Value *result = node->outputs[0];
    if (relu) result = b.node("Relu", {result}, {"y"})->outputs[0];
    b.output(result);
    return b.finish();
  };
}

TEST_CASE("MatMul with a constant B lowers to the fully connected kernels", "[lowering]") {
  SECTION("batched A") {
    checkLowering(matMulConstant({2, 3, 6}, {6, 4}), {randomTensor({2, 3, 6}, 91)});
  }
  SECTION("1-D A") { checkLowering(matMulConstant({6}, {6, 4}), {randomTensor({6}, 92)}); }
  SECTION("a fused Relu") {
    checkLowering(matMulConstant({4, 6}, {6, 5}, true), {randomTensor({4, 6}, 93)});
  }
}

TEST_CASE("MatMul of two activations lowers with batch broadcasting", "[lowering]") {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{4, 5}, {5, 3}},                   // no batch
      {{2, 3, 4, 5}, {3, 5, 6}},          // B broadcast along the outer batch
      {{4, 5}, {2, 5, 3}},                // A broadcast
      {{2, 1, 4, 5}, {1, 3, 5, 2}},       // both broadcast, on different axes
      {{2, 3, 2, 4, 5}, {2, 3, 2, 5, 3}}, // three batch axes that merge into one
      {{3, 1, 4, 5}, {1, 5, 2}},          // size-1 batch axes drop out
      {{5}, {2, 5, 3}},                   // 1-D A
      {{2, 4, 5}, {5}},                   // 1-D B
  };
  uint32_t seed = 100;
  for (const auto &[aShape, bShape] : shapes) {
    INFO(formatShape(aShape) << " x " << formatShape(bShape));
    checkLowering(batchMatMul(aShape, bShape),
                  {randomTensor(aShape, ++seed), randomTensor(bShape, ++seed)});
  }
  INFO("fused Relu");
  checkLowering(batchMatMul({2, 4, 5}, {2, 5, 3}, true),
                {randomTensor({2, 4, 5}, 120), randomTensor({2, 5, 3}, 121)});
}

TEST_CASE("MatMul forms without a kernel fail naming the node", "[lowering]") {
  using Catch::Contains;
  const Build threeBatchAxes = batchMatMul({2, 1, 3, 4, 5}, {1, 2, 3, 5, 6});
  CHECK_THROWS_WITH(
      runLowered(threeBatchAxes,
                 {randomTensor({2, 1, 3, 4, 5}, 130), randomTensor({1, 2, 3, 5, 6}, 131)},
                 Precision::Float32),
      Contains("node 'MatMul_0'") && Contains("two batch dimensions"));
  CHECK_THROWS_WITH(runLowered(matMulConstant({2, 4, 5}, {2, 5, 3}), {randomTensor({2, 4, 5}, 132)},
                               Precision::Float32),
                    Contains("node 'MatMul_0'") && Contains("matrix [K, N]"));
}

TEST_CASE("ReduceMean lowers adjacent reduced axes in both precisions", "[lowering]") {
  struct ReduceCase {
    std::string name;
    Shape shape;
    AttributeMap attributes;
  };
  const std::vector<ReduceCase> cases = {
      {"spatial axes, keepdims", {2, 3, 4, 5}, attrs({{"axes", Ints{2, 3}}})},
      {"middle axis, no keepdims",
       {2, 3, 4, 5},
       attrs({{"axes", Ints{1}}, {"keepdims", int64_t{0}}})},
      {"last axis, negative", {3, 4, 6}, attrs({{"axes", Ints{-1}}})},
      {"every axis", {3, 4, 5}, attrs({{"keepdims", int64_t{0}}})},
      {"axes around a size-1 axis", {2, 1, 3, 4}, attrs({{"axes", Ints{0, 2}}})},
  };
  uint32_t seed = 140;
  for (const ReduceCase &c : cases) {
    INFO(c.name);
    checkLowering(unary("ReduceMean", c.shape, c.attributes), {randomTensor(c.shape, ++seed)});
  }
  INFO("fused Relu");
  checkLowering(unary("ReduceMean", {2, 3, 4}, attrs({{"axes", Ints{1}}}), /*relu=*/true),
                {randomTensor({2, 3, 4}, 150, -0.5f, 1.0f)});
}

TEST_CASE("ReduceMean reads its axes from a constant input from opset 18", "[lowering]") {
  const Shape shape{2, 3, 4};
  auto build = [&](std::optional<Ints> axes, AttributeMap attributes) -> Build {
    return [=] {
      GraphBuilder b;
      Value *x = inputOf(b, "x", shape);
      Node *node =
          axes ? b.node("ReduceMean",
                        {x, b.constant("axes", Tensor::fromVector<int64_t>(
                                                   {static_cast<int64_t>(axes->size())}, *axes))},
                        {"y"}, attributes)
               : b.node("ReduceMean", {x}, {"y"}, attributes);
      node->opset = 18;
      b.output(node->outputs[0]);
      return b.finish();
    };
  };
  SECTION("axes input") {
    checkLowering(build(Ints{1, 2}, attrs({{"keepdims", int64_t{0}}})), {randomTensor(shape, 160)});
  }
  SECTION("no axes with noop_with_empty_axes") {
    checkLowering(build(std::nullopt, attrs({{"noop_with_empty_axes", int64_t{1}}})),
                  {randomTensor(shape, 161)});
  }
}

TEST_CASE("Pool and reduction forms without a kernel fail naming the node", "[lowering]") {
  using Catch::Contains;
  const Shape volume{1, 2, 4, 4, 4};
  CHECK_THROWS_WITH(runLowered(unary("MaxPool", volume, attrs({{"kernel_shape", Ints{2, 2, 2}}})),
                               {randomTensor(volume, 170)}, Precision::Float32),
                    Contains("node 'MaxPool_0'") && Contains("1-D and 2-D pools"));
  CHECK_THROWS_WITH(
      runLowered(unary("AveragePool", volume, attrs({{"kernel_shape", Ints{2, 2, 2}}})),
                 {randomTensor(volume, 171)}, Precision::Int8),
      Contains("node 'AveragePool_0'") && Contains("1-D and 2-D pools"));
  // The int64 Indices output has no generated code (lowering rejects it before the op's hook).
  const Build withIndices = [] {
    GraphBuilder b;
    Node *node = b.node("MaxPool", {inputOf(b, "x", {1, 2, 4, 4})}, {"y", "indices"},
                        attrs({{"kernel_shape", Ints{2, 2}}}));
    b.output(node->outputs[0]);
    return b.finish();
  };
  CHECK_THROWS_WITH(runLowered(withIndices, {randomTensor({1, 2, 4, 4}, 172)}, Precision::Float32),
                    Contains("node 'MaxPool_0'"));
  CHECK_THROWS_WITH(runLowered(unary("ReduceMean", {2, 3, 4}, attrs({{"axes", Ints{0, 2}}})),
                               {randomTensor({2, 3, 4}, 173)}, Precision::Float32),
                    Contains("node 'ReduceMean_0'") && Contains("adjacent"));
}

} // namespace
} // namespace edgesplit::testing
