// es_strided_copy_f32/_s8 (Slice and Gather) against Python-style slicing written out directly:
// random 4-D slices with any steps, and gathers that write runs of indices into their places.
#include "es_f32.h"
#include "es_s8.h"

#include <catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <vector>

namespace {

using Shape4 = std::array<int32_t, 4>;

// The positions Python's range(start, stop, step) gives along an axis of `dim`, with ONNX
// Slice's clamping of start and stop.
std::vector<int32_t> slicePositions(int32_t dim, int32_t start, int32_t stop, int32_t step) {
  if (start < 0) start += dim;
  if (stop < 0) stop += dim;
  std::vector<int32_t> positions;
  if (step > 0) {
    start = std::clamp(start, 0, dim), stop = std::clamp(stop, 0, dim);
    for (int32_t i = start; i < stop; i += step) positions.push_back(i);
  } else {
    start = std::clamp(start, -1, dim - 1), stop = std::clamp(stop, -1, dim - 1);
    for (int32_t i = start; i > stop; i += step) positions.push_back(i);
  }
  return positions;
}

template <typename T> void copy(const es_strided_copy_params_t &p, const T *in, T *out);
template <> void copy(const es_strided_copy_params_t &p, const float *in, float *out) {
  es_strided_copy_f32(&p, in, out);
}
template <> void copy(const es_strided_copy_params_t &p, const int8_t *in, int8_t *out) {
  es_strided_copy_s8(&p, in, out);
}

template <typename T> void checkRandomSlices() {
  std::mt19937 random(15);
  auto between = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(random); };
  for (int trial = 0; trial < 200; ++trial) {
    Shape4 shape, strides;
    for (int &dim : shape) dim = between(1, 5);
    strides[3] = 1;
    for (int axis = 2; axis >= 0; --axis) strides[axis] = strides[axis + 1] * shape[axis + 1];
    std::vector<T> input(static_cast<size_t>(strides[0] * shape[0]));
    for (size_t i = 0; i < input.size(); ++i)
      input[i] = static_cast<T>(static_cast<int>(i % 251) - 125);

    std::array<std::vector<int32_t>, 4> positions;
    es_strided_copy_params_t p{};
    bool empty = false;
    for (int axis = 0; axis < 4; ++axis) {
      int32_t step = between(-3, 3);
      if (step == 0) step = 1;
      positions[axis] = slicePositions(shape[axis], between(-7, 7), between(-7, 7), step);
      empty = empty || positions[axis].empty();
      if (empty) break;
      p.shape[axis] = static_cast<int32_t>(positions[axis].size());
      p.in_offset += positions[axis][0] * strides[axis];
      p.in_strides[axis] = step * strides[axis];
    }
    if (empty) continue;
    p.out_strides[3] = 1;
    for (int axis = 2; axis >= 0; --axis)
      p.out_strides[axis] = p.out_strides[axis + 1] * p.shape[axis + 1];

    std::vector<T> want;
    for (int32_t a : positions[0])
      for (int32_t b : positions[1])
        for (int32_t c : positions[2])
          for (int32_t d : positions[3])
            want.push_back(input[static_cast<size_t>(a * strides[0] + b * strides[1] +
                                                     c * strides[2] + d * strides[3])]);
    std::vector<T> got(want.size());
    copy<T>(p, input.data(), got.data());
    INFO("trial " << trial);
    REQUIRE(got == want);
  }
}

} // namespace

TEST_CASE("strided copy: random 4-D slices with negative and larger steps", "[f32][s8][slice]") {
  checkRandomSlices<float>();
  checkRandomSlices<int8_t>();
}

TEST_CASE("strided copy: gather runs written into their places in the output", "[s8][gather]") {
  // data [2, 5] gathered on axis 1 with indices {4, 3, 2, 1, 1, 1}: two runs, a reversed range
  // (stride -1) and a repeat (stride 0), each written at its position of the [2, 6] output.
  const std::vector<int8_t> data = {0, 1, 2, 3, 4, 10, 11, 12, 13, 14};
  std::vector<int8_t> out(12, -1);
  es_strided_copy_params_t reversed{.shape = {1, 1, 2, 4}, .in_offset = 4,
                                    .in_strides = {0, 0, 5, -1}, .out_offset = 0,
                                    .out_strides = {0, 0, 6, 1}};
  es_strided_copy_params_t repeat{.shape = {1, 1, 2, 2}, .in_offset = 1,
                                  .in_strides = {0, 0, 5, 0}, .out_offset = 4,
                                  .out_strides = {0, 0, 6, 1}};
  es_strided_copy_s8(&reversed, data.data(), out.data());
  es_strided_copy_s8(&repeat, data.data(), out.data());
  REQUIRE(out == std::vector<int8_t>{4, 3, 2, 1, 1, 1, 14, 13, 12, 11, 11, 11});
}
