// Slice and Gather lowered to es_strided_copy_f32/_s8 against the reference interpreter: ranks 1
// to 4, every axis (the first included), one call per Slice and one per run of Gather indices in
// arithmetic progression; 5-D data is refused with the kernels' limit.
#include "GraphBuilder.h"
#include "LoweringHarness.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>

namespace edgesplit::testing {
namespace {

using Catch::Matchers::Contains;

// Distinct values of both signs, so a misplaced element shows.
Tensor ramp(const Shape &shape) {
  Tensor tensor(DType::Float32, shape);
  auto values = tensor.mutableValues<float>();
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i % 97) / 32 - 1.5f;
  return tensor;
}

// Moved values: float32 equal to the reference, int8 within half a step (the input's rounding).
void checkMoved(const LoweredRun &run, Precision precision) {
  REQUIRE(run.reference.size() == run.lowered.size());
  for (size_t k = 0; k < run.reference.size(); ++k) {
    REQUIRE(run.reference[k].shape() == run.lowered[k].shape());
    const auto expected = run.reference[k].values<float>();
    const auto actual = run.lowered[k].values<float>();
    for (size_t i = 0; i < expected.size(); ++i) {
      if (precision == Precision::Float32)
        CHECK(actual[i] == expected[i]);
      else
        CHECK(std::fabs(actual[i] - expected[i]) <= 0.5f * run.outputScales[k] + 1e-6f);
    }
  }
}

LoweredRun lowerOne(const Shape &shape, const std::function<Node *(GraphBuilder &, Value *)> &add,
                    Precision precision) {
  return runLowered(
      [&] {
        GraphBuilder b;
        Value *x = b.input("x", DType::Float32, shape);
        b.output(add(b, x)->outputs[0]);
        return b.finish();
      },
      {ramp(shape)}, precision);
}

Tensor int64s(std::vector<int64_t> values, Shape shape = {}) {
  if (shape.empty()) shape = {static_cast<int64_t>(values.size())};
  return Tensor::fromVector<int64_t>(shape, values);
}

} // namespace

TEST_CASE("slice lowers to one strided copy on ranks 1 to 4", "[lowering]") {
  struct Case {
    Shape shape;
    std::vector<int64_t> starts, ends, axes, steps;
  };
  const Precision precision = GENERATE(Precision::Float32, Precision::Int8);
  const std::vector<Case> cases = {
      {{9}, {-2}, {-100}, {0}, {-3}},
      {{4, 6}, {1, 0}, {1000, 6}, {0, 1}, {2, 1}},
      {{3, 5, 4}, {-1, 3}, {-1000, 1}, {0, -1}, {-1, -1}},
      {{2, 3, 5, 4}, {1, 4, 0}, {3, -6, 4}, {1, 2, 3}, {1, -2, 3}},
  };
  for (const Case &c : cases) {
    CAPTURE(formatShape(c.shape), precisionName(precision));
    const LoweredRun run = lowerOne(
        c.shape,
        [&](GraphBuilder &b, Value *x) {
          return b.node("Slice",
                        {x, b.constant("starts", int64s(c.starts)),
                         b.constant("ends", int64s(c.ends)), b.constant("axes", int64s(c.axes)),
                         b.constant("steps", int64s(c.steps))},
                        {"y"});
        },
        precision);
    CHECK(run.functions == std::vector<std::string>{precision == Precision::Float32
                                                        ? "es_strided_copy_f32"
                                                        : "es_strided_copy_s8"});
    checkMoved(run, precision);
  }
}

TEST_CASE("gather lowers to one strided copy per run of indices", "[lowering]") {
  struct Case {
    Shape shape;
    int64_t axis;
    Tensor indices;
    size_t calls;
  };
  const Precision precision = GENERATE(Precision::Float32, Precision::Int8);
  const std::vector<Case> cases = {
      {{7}, 0, int64s({-1}, Shape{}), 1},         // a scalar index on a 1-D tensor
      {{5, 3}, 0, int64s({4, 2, 0, 1, 1}), 2},    // the first axis: a reversed range, a repeat
      {{2, 3, 5, 4}, 3, int64s({0, 1, 2, 3}), 1}, // the whole last axis as a range
      {{2, 3, 5, 4}, -2, int64s({0, 3, 1, -1}, Shape{2, 2}), 2}, // 2-D: runs {0, 3}, {1, 4}
  };
  for (const Case &c : cases) {
    CAPTURE(formatShape(c.shape), c.axis, precisionName(precision));
    const LoweredRun run = lowerOne(
        c.shape,
        [&](GraphBuilder &b, Value *x) {
          return b.node("Gather", {x, b.constant("indices", c.indices)}, {"y"},
                        attrs({{"axis", c.axis}}));
        },
        precision);
    CHECK(run.calls == c.calls);
    checkMoved(run, precision);
  }
  CHECK_THROWS_WITH(lowerOne({2, 1, 2, 3, 2},
                             [](GraphBuilder &b, Value *x) {
                               return b.node("Gather", {x, b.constant("i", int64s({1}))}, {"y"},
                                             attrs({{"axis", int64_t{4}}}));
                             },
                             precision),
                    Contains("up to 4 dimensions"));
}

} // namespace edgesplit::testing
