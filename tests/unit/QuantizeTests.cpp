#include "GraphBuilder.h"
#include "ir/Verifier.h"
#include "quantize/Calibration.h"
#include "quantize/FoldRequantChains.h"
#include "quantize/QuantMath.h"

#include <catch.hpp>

#include <cmath>

using namespace edgesplit;
using namespace edgesplit::testing;

TEST_CASE("activation parameters cover the range and represent 0 exactly", "[quantize]") {
  const ActivationParams params = chooseActivationParams(-1.0, 3.0);
  CHECK(params.scale == Approx(4.0 / 255.0));
  CHECK(params.zeroPoint == -64); // round(-128 + 1 / (4/255)) = round(-64.25)
  // A positive-only range is widened to include 0: zero maps to -128.
  const ActivationParams relu = chooseActivationParams(0.5, 2.0);
  CHECK(relu.scale == Approx(2.0 / 255.0));
  CHECK(relu.zeroPoint == -128);
  // A constant zero tensor still gets a usable scale.
  const ActivationParams zero = chooseActivationParams(0.0, 0.0);
  CHECK(zero.scale == Approx(1.0 / 255.0));
  CHECK(zero.zeroPoint == -128);
}

TEST_CASE("real factors become multiplier and shift within one part in 2^31", "[quantize]") {
  for (double factor : {0.5, 0.75, 1.0, 3.9, 1e-3, 123.456, 0.0039215686}) {
    const FixedPointFactor fixed = quantizeMultiplier(factor);
    CHECK(fixed.multiplier >= (1 << 30));
    const double back = fixed.multiplier * std::ldexp(1.0, fixed.shift - 31);
    CHECK(std::fabs(back - factor) <= factor * std::ldexp(1.0, -30));
  }
  // Mantissas that round up to 2^31 move to the next exponent.
  const FixedPointFactor almostOne = quantizeMultiplier(1.0 - 1e-12);
  CHECK(almostOne.multiplier == (1 << 30));
  CHECK(almostOne.shift == 1);
  CHECK(quantizeMultiplier(0.0).multiplier == 0);
  CHECK(quantizeMultiplier(1e-12).multiplier == 0); // below 2^-32 the factor underflows to 0
}

TEST_CASE("weights quantise symmetrically per output channel", "[quantize]") {
  const Tensor weights = floats({2, 3}, {0.5f, -1.0f, 0.25f, 0.0f, 0.0f, 0.0f});
  const PerChannelWeights q = quantizeWeightsPerChannel(weights);
  REQUIRE(q.scales.size() == 2);
  CHECK(q.scales[0] == Approx(1.0 / 127.0));
  CHECK(q.scales[1] == 1.0); // an all-zero channel
  CHECK(q.values.values<int8_t>() == llvm::ArrayRef<int8_t>({64, -127, 32, 0, 0, 0}));
}

TEST_CASE("bias quantises to int32 at input scale times weight scale", "[quantize]") {
  const Tensor bias = floats({2}, {0.5f, -0.25f});
  const std::vector<double> weightScales{0.01, 0.02};
  const Tensor q = quantizeBias(bias, 0.1, weightScales);
  CHECK(q.values<int32_t>() == llvm::ArrayRef<int32_t>({500, -125}));
}

TEST_CASE("calibration records min/max and percentile ranges of every tensor", "[quantize]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 4});
  b.node("Relu", {x}, {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();
  std::vector<std::vector<Tensor>> samples = {{floats({1, 4}, {-2, 1, 3, 0})},
                                              {floats({1, 4}, {-1, 5, 0.5f, 2})}};
  size_t progressCalls = 0;
  auto ranges = calibrate(*graph, samples, {}, [&](size_t, size_t) { ++progressCalls; });
  CHECK(progressCalls == 2);
  CHECK(ranges[graph->inputs[0]].lo == -2.0);
  CHECK(ranges[graph->inputs[0]].hi == 5.0);
  const Value *y = graph->findValue("y");
  CHECK(ranges[y].lo == 0.0);
  CHECK(ranges[y].hi == 5.0);

  // 1000 values 0..999 plus one outlier: the 99th percentile range ignores the outlier.
  std::vector<float> many(1000);
  for (int i = 0; i < 1000; ++i) many[i] = static_cast<float>(i);
  many[500] = 1e6f;
  GraphBuilder wide;
  Value *input = wide.input("x", DType::Float32, {1, 1000});
  wide.node("Relu", {input}, {"y"});
  wide.output(wide.value("y"));
  auto wideGraph = wide.finish();
  ObserverOptions percentile{ObserverOptions::Kind::Percentile, 99.0};
  auto robust = calibrate(*wideGraph, {{Tensor::fromVector<float>({1, 1000}, many)}}, percentile);
  CHECK(robust[wideGraph->inputs[0]].hi < 1000.0);
  CHECK(robust[wideGraph->inputs[0]].lo <= 10.0);
  auto plain = calibrate(*wideGraph, {{Tensor::fromVector<float>({1, 1000}, many)}}, {});
  CHECK(plain[wideGraph->inputs[0]].hi == 1e6);
}

TEST_CASE("zero shares count every activation's exact zeros over the samples", "[quantize]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1, 4});
  b.node("Relu", {x}, {"y"});
  Value *scale = b.constant("s", Tensor::scalar<float>(1.0f));
  Value *zero = b.constant("z", Tensor::scalar<uint8_t>(0));
  b.node("QuantizeLinear", {b.value("y"), scale, zero}, {"yq"});
  b.node("DequantizeLinear", {b.value("yq"), scale, zero}, {"yd"});
  b.node("Neg", {b.value("yd")}, {"n"});
  b.output(b.value("n"));
  auto graph = b.finish();
  const std::vector<std::vector<Tensor>> samples = {{floats({1, 4}, {-2, 1, 0.3f, 3})},
                                                    {floats({1, 4}, {-1, 2, 5, -0.2f})}};
  const llvm::StringMap<double> shares = zeroShares(*graph, samples);
  CHECK(shares.lookup("x") == 0.0);
  // -0 counts as a zero too (Neg of the pair's zeros).
  CHECK(shares.lookup("n") == 0.5);
  CHECK(shares.lookup("yd") == 0.5);
  // The Relu gives three zeros of eight, but the pair rounds 0.3 to 0 as well, and absorbQdq
  // makes the pair the Relu output's fake quantisation in place: it takes the pair's share.
  CHECK(shares.lookup("y") == 0.5);
  // Integer values are not counted.
  CHECK(shares.count("yq") == 0);
}

TEST_CASE("calibration rejects an empty set and a bad percentile", "[quantize]") {
  GraphBuilder b;
  Value *x = b.input("x", DType::Float32, {1});
  b.node("Relu", {x}, {"y"});
  b.output(b.value("y"));
  auto graph = b.finish();
  CHECK_THROWS_AS(calibrate(*graph, {}, {}), Error);
  ObserverOptions bad{ObserverOptions::Kind::Percentile, 20.0};
  CHECK_THROWS_AS(calibrate(*graph, {{floats({1}, {1})}}, bad), UsageError);
}

TEST_CASE("requantisation chains fold into the layer on the integer grid the Clip allows",
          "[quantize]") {
  struct Case {
    float lo, hi;
    bool folds;
    int32_t zeroPoint;
  };
  for (const Case &c : {Case{0, 255, true, -128}, Case{1, 200, true, -128},
                        Case{-200, -100, true, 72}, Case{-300, -100, false, 0},
                        Case{0, 256, false, 0}, Case{0.5f, 100, false, 0}}) {
    INFO("Clip(" << c.lo << ", " << c.hi << ")");
    GraphBuilder b;
    Value *x = b.input("x", DType::Float32, {1, 3});
    b.node("MatMul", {x, b.constant("w", Tensor::fromVector<float>({3, 2}, {1, -2, 3, 4, -5, 6}))},
           {"acc"});
    b.node("Mul", {b.value("acc"), b.constant("m", Tensor::scalar(45.0f))}, {"scaled"});
    b.node("Div", {b.value("scaled"), b.constant("d", Tensor::scalar(256.0f))}, {"shifted"});
    b.node("Floor", {b.value("shifted")}, {"floored"});
    b.node("Clip", {b.value("floored"), b.constant("lo", Tensor::scalar(c.lo)),
                    b.constant("hi", Tensor::scalar(c.hi))},
           {"y"});
    b.output(b.value("y"));
    auto graph = b.finish();
    foldRequantChains(*graph);
    verifyGraph(*graph);
    const Value *y = graph->findValue("y");
    REQUIRE(y);
    if (!c.folds) {
      CHECK(graph->nodes().size() == 5);
      CHECK(!y->quant);
      continue;
    }
    // Gemm (the MatMul with the chain's factor and the floor's bias) -> Clip.
    REQUIRE(graph->nodes().size() == 2);
    CHECK(graph->nodes()[0]->opType == "Gemm");
    REQUIRE(y->quant);
    CHECK(y->quant->scales[0] == 1.0f);
    CHECK(y->quant->zeroPoints[0] == c.zeroPoint);
    // Whole weights keep their values as int8: scale 45 / 256.
    const Value *weights = graph->nodes()[0]->inputs[1];
    REQUIRE(weights->quant);
    CHECK(weights->quant->scales[0] == Approx(45.0 / 256.0));
  }
}
