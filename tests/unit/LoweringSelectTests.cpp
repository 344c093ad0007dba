#include "GraphBuilder.h"
#include "LoweringHarness.h"

#include <catch2/catch.hpp>

namespace edgesplit::testing {
namespace {

Tensor ramp(llvm::ArrayRef<int64_t> shape, float lo, float hi) {
  Tensor tensor(DType::Float32, Shape(shape.begin(), shape.end()));
  const auto values = tensor.mutableValues<float>();
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = lo + (hi - lo) * static_cast<float>(i) / static_cast<float>(values.size() - 1);
  return tensor;
}

// x [256, 1] and y [1, 256] spanning every code of their (different) parameters, compared, the
// mask picking 1 or 0: the 65536 pairs of codes.
std::unique_ptr<Graph> comparisonOfEveryPair(const std::string &op) {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {256, 1});
  Value *y = b.input("y", DType::Float32, {1, 256});
  Node *compare = b.node(op, {x, y}, {"mask"});
  Value *one = b.constant("one", Tensor::fromVector<float>({}, {1.0f}));
  Value *zero = b.constant("zero", Tensor::fromVector<float>({}, {0.0f}));
  b.output(b.node("Where", {compare->outputs[0], one, zero}, {"picked"})->outputs[0]);
  return b.finish();
}

bool compare(const std::string &op, float a, float b) {
  if (op == "Greater") return a > b;
  if (op == "Less") return a < b;
  if (op == "GreaterOrEqual") return a >= b;
  if (op == "LessOrEqual") return a <= b;
  return a == b;
}

} // namespace

TEST_CASE("int8 comparisons compare the dequantised values of every pair of codes", "[lowering]") {
  const std::string op =
      GENERATE(as<std::string>(), "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "Equal");
  // Ranges with scales in the ratio 2 (so that many values coincide) and in an arbitrary one.
  const auto [yLo, yHi] = GENERATE(std::pair{-2.0f, 2.0f}, std::pair{-0.7f, 2.1f});
  CAPTURE(op, yLo, yHi);
  const std::vector<Tensor> inputs{ramp({256, 1}, -1.0f, 1.0f), ramp({1, 256}, yLo, yHi)};
  auto graph = comparisonOfEveryPair(op);
  prepareInt8(*graph, calibrate(*graph, {inputs}, ObserverOptions{}));
  CompiledDevice device =
      compileDevice(*graph, Precision::Int8, KernelIsa::Plain, S8Rounding::Single);
  Executor executor(device.program);
  const auto raw = executor.quantizeInputs(inputs);
  const auto output = executor.runRaw(raw);
  // What onnxruntime's DequantizeLinear gives: float32(q - Z) * S, one rounding.
  auto value = [&](size_t input, size_t i) {
    const QuantParams &params = *graph->inputs[input]->quant;
    const auto q = static_cast<int8_t>(raw[input][i]);
    return static_cast<float>(q - params.zeroPoints[0]) * params.scales[0];
  };
  const QuantParams &picked = *graph->outputs[0].value->quant;
  const auto oneCode =
      static_cast<int8_t>(std::lround(1.0 / picked.scales[0]) + picked.zeroPoints[0]);
  int64_t equalPairs = 0;
  for (size_t i = 0; i < 256; ++i)
    for (size_t j = 0; j < 256; ++j) {
      const bool expected = compare(op, value(0, i), value(1, j));
      const bool got = static_cast<int8_t>(output[0][i * 256 + j]) == oneCode;
      if (got != expected) FAIL_CHECK("codes " << i << ", " << j);
      equalPairs += value(0, i) == value(1, j);
    }
  // Both ranges hold exact ties, which the grid must place on b's codes themselves.
  CHECK(equalPairs > 0);
}

TEST_CASE("Where selects between activations and constants with broadcasting", "[lowering]") {
  const Precision precision = GENERATE(Precision::Float32, Precision::Int8);
  CAPTURE(precisionName(precision));
  auto build = [] {
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {2, 3, 4});
    Value *t = b.input("t", DType::Float32, {3, 1});
    Node *mask = b.node("Greater", {x, t}, {"mask"});
    Value *fill = b.constant("fill", Tensor::fromVector<float>({}, {-0.5f}));
    b.output(b.node("Where", {mask->outputs[0], x, fill}, {"y"})->outputs[0]);
    return b.finish();
  };
  const LoweredRun run =
      runLowered(build, {ramp({2, 3, 4}, -1.0f, 1.3f), ramp({3, 1}, -0.35f, 0.65f)}, precision);
  CHECK(run.functions.size() == 2);
  const auto expected = run.reference[0].values<float>();
  const auto actual = run.lowered[0].values<float>();
  for (size_t i = 0; i < expected.size(); ++i)
    CHECK(std::fabs(actual[i] - expected[i]) <=
          (precision == Precision::Int8 ? run.outputScales[0] + 1e-6f : 0.0f));
}

} // namespace edgesplit::testing
