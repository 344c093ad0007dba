// The memory planner lets element-wise kernels write over an input that dies at that node
// (compiler/memory/BufferSharing.h); these tests hold the kernels to giving the same result then.
#include "es_f32.h"
#include "es_s8.h"

#include <catch.hpp>

#include <cmath>
#include <cstring>
#include <vector>

namespace {
std::vector<float> rampF32(int n) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = std::sin(0.7f * i) * 5.0f;
  return v;
}
std::vector<int8_t> rampS8(int n) {
  std::vector<int8_t> v(n);
  for (int i = 0; i < n; ++i) v[i] = static_cast<int8_t>((i * 37) % 256 - 128);
  return v;
}
} // namespace

TEST_CASE("float element-wise kernels give the same result in place", "[f32][in-place]") {
  const int n = 24;
  const std::vector<float> input = rampF32(n);
  const std::vector<float> other = rampF32(6);

  es_clip_f32_params_t clip{n, 0.0f, 3.0f};
  std::vector<float> separate(n), inPlace = input;
  es_clip_f32(&clip, input.data(), separate.data());
  es_clip_f32(&clip, inPlace.data(), inPlace.data());
  CHECK(inPlace == separate);

  es_unary_f32_params_t unary{ES_F32_HARD_SWISH, n, 0.0f, 0.0f};
  inPlace = input;
  es_unary_f32(&unary, input.data(), separate.data());
  es_unary_f32(&unary, inPlace.data(), inPlace.data());
  CHECK(inPlace == separate);

  // a has the output's shape and is written over; b broadcasts along the channel axis.
  es_binary_f32_params_t add{ES_F32_ADD,   {1, 1, 4, 6}, {1, 1, 1, 6},
                             {1, 1, 4, 6}, -INFINITY,    INFINITY};
  inPlace = input;
  es_binary_f32(&add, input.data(), other.data(), separate.data());
  es_binary_f32(&add, inPlace.data(), other.data(), inPlace.data());
  CHECK(inPlace == separate);
  // The fast kernel takes the same layouts in place, b a scalar too.
  inPlace = input;
  es_binary_fast_f32(&add, inPlace.data(), other.data(), inPlace.data());
  CHECK(inPlace == separate);
  es_binary_f32_params_t scale{ES_F32_MUL,   {1, 1, 4, 6}, {1, 1, 1, 1},
                               {1, 1, 4, 6}, -INFINITY,    INFINITY};
  inPlace = input;
  es_binary_f32(&scale, input.data(), other.data(), separate.data());
  es_binary_fast_f32(&scale, inPlace.data(), other.data(), inPlace.data());
  CHECK(inPlace == separate);
}

TEST_CASE("int8 element-wise kernels give the same result in place", "[s8][in-place]") {
  const int n = 24;
  const std::vector<int8_t> input = rampS8(n);
  const std::vector<int8_t> other = rampS8(6);

  int8_t table[256];
  for (int i = 0; i < 256; ++i) table[i] = static_cast<int8_t>(127 - i);
  std::vector<int8_t> separate(n), inPlace = input;
  es_lut_s8(table, input.data(), separate.data(), n);
  es_lut_s8(table, inPlace.data(), inPlace.data(), n);
  CHECK(inPlace == separate);

  es_binary_s8_params_t add{};
  add.op = ES_S8_ADD;
  const int32_t full[4] = {1, 1, 4, 6}, row[4] = {1, 1, 1, 6};
  std::memcpy(add.a_shape, full, sizeof full);
  std::memcpy(add.b_shape, row, sizeof row);
  std::memcpy(add.out_shape, full, sizeof full);
  add.a_zp = 3;
  add.b_zp = -5;
  add.output_zp = 1;
  add.a_requant = {1 << 30, 0};
  add.b_requant = {1 << 30, 0};
  add.output_requant = {1 << 30, -19};
  add.act_min = -128;
  add.act_max = 127;
  inPlace = input;
  es_binary_s8(&add, input.data(), other.data(), separate.data());
  es_binary_s8(&add, inPlace.data(), other.data(), inPlace.data());
  CHECK(inPlace == separate);
}
