#include "GraphBuilder.h"
#include "quantize/FoldQuantizedBias.h"

#include <catch2/catch.hpp>

#include <cmath>

namespace edgesplit::testing {
namespace {

QuantParams params(std::vector<float> scales, int64_t axis = -1, DType storage = DType::Int8) {
  QuantParams p;
  p.scales.assign(scales.begin(), scales.end());
  p.zeroPoints.assign(scales.size(), 0);
  p.axis = axis;
  p.storage = storage;
  return p;
}

// After absorbQdq: x (Sx = 0.5) -> Conv (Sw = 0.25, 0.125 per channel, int32 bias steps 0.125 and
// 0.0625) -> Add(constant) -> quantised z; `quantisedConv` also quantises the Conv's own output.
std::unique_ptr<Graph> convAdd(Tensor constant, bool quantisedConv, const std::string &op = "Add") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 2, 3, 3});
  x->quant = params({0.5f});
  Value *w = b.constant("w", floats({2, 2, 1, 1}, {0.25f, -0.5f, 0.125f, 0.375f}));
  w->quant = params({0.25f, 0.125f}, 0);
  Value *bias = b.constant("b", floats({2}, {1.25f, -0.5f}));
  bias->quant = params({0.125f, 0.0625f}, 0, DType::Int32);
  b.node("Conv", {x, w, bias}, {"conv"});
  b.node(op, {b.value("conv"), b.constant("c", std::move(constant))}, {"z"});
  b.value("z")->quant = params({0.1f});
  if (quantisedConv) b.value("conv")->quant = params({0.2f});
  b.output(b.value("z"));
  return b.finish();
}

TEST_CASE("fold-quantized-bias adds a whole number of bias steps to the int32 bias",
          "[quantize]") {
  // 0.375 = 3 steps of 0.125 and -0.25 = -4 steps of 0.0625.
  auto graph = convAdd(floats({2, 1, 1}, {0.375f, -0.25f}), false);
  foldQuantizedBias(*graph);
  verifyGraph(*graph);
  REQUIRE(graph->nodes().size() == 1);
  const Node &conv = *graph->nodes()[0];
  CHECK(conv.opType == "Conv");
  const Value *bias = conv.input(2);
  REQUIRE(bias->quant);
  CHECK(bias->quant->storage == DType::Int32);
  CHECK(bias->quant->scales == llvm::SmallVector<float, 1>{0.125f, 0.0625f});
  // (10 + 3) * 0.125 and (-8 - 4) * 0.0625
  CHECK(bias->constant->values<float>() == llvm::ArrayRef<float>({1.625f, -0.75f}));
  REQUIRE(conv.input(1)->quant);
  CHECK(conv.input(1)->quant->scales == llvm::SmallVector<float, 1>{0.25f, 0.125f});
  REQUIRE(conv.outputs[0]->quant);
  CHECK(conv.outputs[0]->quant->scales[0] == 0.1f);
  CHECK(graph->outputs[0].name == "z");
}

TEST_CASE("fold-quantized-bias subtracts a scalar that is whole steps of every channel",
          "[quantize]") {
  auto graph = convAdd(floats({}, {0.5f}), false, "Sub");
  foldQuantizedBias(*graph);
  REQUIRE(graph->nodes().size() == 1);
  CHECK(graph->nodes()[0]->input(2)->constant->values<float>() ==
        llvm::ArrayRef<float>({0.75f, -1.0f}));
}

TEST_CASE("fold-quantized-bias leaves inexact constants and quantised layer outputs alone",
          "[quantize]") {
  // 0.3 is no whole number of 0.125 steps.
  auto between = convAdd(floats({2, 1, 1}, {0.3f, 0.25f}), false);
  foldQuantizedBias(*between);
  CHECK(between->nodes().size() == 2);
  // The Conv's result is rounded to its own parameters before the Add: folding would drop that.
  auto quantised = convAdd(floats({2, 1, 1}, {0.375f, -0.25f}), true);
  foldQuantizedBias(*quantised);
  CHECK(quantised->nodes().size() == 2);
  // Varies along the width, not per channel.
  auto spatial = convAdd(floats({3}, {0.125f, 0.25f, 0.5f}), false);
  foldQuantizedBias(*spatial);
  CHECK(spatial->nodes().size() == 2);
}

} // namespace
} // namespace edgesplit::testing
