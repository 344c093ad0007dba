// es_resize_*: the int8 linear and cubic kernels against docs/int8.md's rules computed
// independently (exact rational arithmetic in int64, ties to even), and against the real blend
// they stand for when the weights are dyadic; nearest against a plain gather.
#include "es_f32.h"
#include "es_s8.h"

#include <catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace {

struct Case {
  int32_t planes = 3, inH = 4, inW = 5, outH = 7, outW = 9;
  std::vector<int32_t> rows, cols;              // two taps per output coordinate
  std::vector<int32_t> rowWeights, colWeights;  // Q20, pairs summing to 2^20
  std::vector<int8_t> input;
};

Case randomCase(uint32_t seed, bool dyadic) {
  std::mt19937 rng(seed);
  Case c;
  auto taps = [&](int32_t out, int32_t in, std::vector<int32_t> &index, std::vector<int32_t> &w) {
    constexpr int32_t kOne = 1 << 20;
    std::uniform_int_distribution<int32_t> position(0, in - 1), weight(0, kOne);
    for (int32_t k = 0; k < out; ++k) {
      const int32_t first = position(rng);
      index.push_back(first);
      index.push_back(std::min(first + 1, in - 1));
      const int32_t second = dyadic ? kOne / 4 * (weight(rng) % 5) : weight(rng);
      w.push_back(kOne - second);
      w.push_back(second);
    }
  };
  taps(c.outH, c.inH, c.rows, c.rowWeights);
  taps(c.outW, c.inW, c.cols, c.colWeights);
  std::uniform_int_distribution<int32_t> value(-128, 127);
  for (int32_t i = 0; i < c.planes * c.inH * c.inW; ++i)
    c.input.push_back(static_cast<int8_t>(value(rng)));
  return c;
}

std::vector<int8_t> runLinear(const Case &c) {
  std::vector<int8_t> out(static_cast<size_t>(c.planes * c.outH * c.outW));
  es_resize_linear_s8(c.input.data(), out.data(), c.planes, c.inH, c.inW, c.outH, c.outW,
                      c.rows.data(), c.rowWeights.data(), c.cols.data(), c.colWeights.data());
  return out;
}

// x / 2^n rounded to nearest, ties to even, for any sign.
int64_t roundHalfEvenShift(int64_t x, int n) {
  const int64_t unit = int64_t{1} << n;
  int64_t floor = x >= 0 ? x / unit : -((-x + unit - 1) / unit);
  const int64_t remainder = x - floor * unit;
  if (remainder > unit / 2 || (remainder == unit / 2 && (floor & 1))) ++floor;
  return floor;
}

TEST_CASE("es_resize_linear_s8 is docs/int8.md's rounded Q20 blend", "[resize]") {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    const Case c = randomCase(seed, false);
    const std::vector<int8_t> out = runLinear(c);
    for (int32_t p = 0; p < c.planes; ++p)
      for (int32_t r = 0; r < c.outH; ++r)
        for (int32_t q = 0; q < c.outW; ++q) {
          int64_t sum = 0;
          for (int a = 0; a < 2; ++a)
            for (int b = 0; b < 2; ++b)
              sum += int64_t{c.rowWeights[2 * r + a]} * c.colWeights[2 * q + b] *
                     c.input[(p * c.inH + c.rows[2 * r + a]) * c.inW + c.cols[2 * q + b]];
          REQUIRE(out[(p * c.outH + r) * c.outW + q] == roundHalfEvenShift(sum, 40));
        }
  }
}

TEST_CASE("with dyadic weights es_resize_linear_s8 rounds the real blend to even", "[resize]") {
  // Weights of quarters: the float blend is exact, so nearbyint (ties to even) is the truth.
  const Case c = randomCase(99, true);
  const std::vector<int8_t> out = runLinear(c);
  std::vector<float> input(c.input.begin(), c.input.end());
  std::vector<float> rowWeights, colWeights, blended(out.size());
  for (int32_t w : c.rowWeights) rowWeights.push_back(std::ldexp(static_cast<float>(w), -20));
  for (int32_t w : c.colWeights) colWeights.push_back(std::ldexp(static_cast<float>(w), -20));
  es_resize_linear_f32(input.data(), blended.data(), c.planes, c.inH, c.inW, c.outH, c.outW,
                       c.rows.data(), rowWeights.data(), c.cols.data(), colWeights.data());
  for (size_t i = 0; i < out.size(); ++i) REQUIRE(out[i] == std::nearbyint(blended[i]));
}

// Four taps per output coordinate with Q30 weights summing to 2^30, some negative (Keys' lobes);
// `dyadic` keeps them multiples of 2^-3 so that the float blend is exact.
struct CubicCase {
  int32_t planes = 2, inH = 5, inW = 6, outH = 9, outW = 7;
  std::vector<int32_t> rows, cols, rowWeights, colWeights;
  std::vector<int8_t> input;
};

CubicCase randomCubicCase(uint32_t seed, bool dyadic) {
  std::mt19937 rng(seed);
  CubicCase c;
  auto taps = [&](int32_t out, int32_t in, std::vector<int32_t> &index, std::vector<int32_t> &w) {
    constexpr int32_t kOne = 1 << 30;
    std::uniform_int_distribution<int32_t> position(0, in - 1), lobe(-kOne / 5, 0), eighth(-1, 1);
    for (int32_t k = 0; k < out; ++k) {
      for (int t = 0; t < 4; ++t) index.push_back(position(rng));
      const int32_t a = dyadic ? kOne / 8 * eighth(rng) : lobe(rng);
      const int32_t d = dyadic ? -kOne / 8 : lobe(rng);
      const int32_t b = dyadic ? kOne / 2 : std::uniform_int_distribution<int32_t>(0, kOne)(rng);
      w.insert(w.end(), {a, b, kOne - a - b - d, d});
    }
  };
  taps(c.outH, c.inH, c.rows, c.rowWeights);
  taps(c.outW, c.inW, c.cols, c.colWeights);
  std::uniform_int_distribution<int32_t> value(-128, 127);
  for (int32_t i = 0; i < c.planes * c.inH * c.inW; ++i)
    c.input.push_back(static_cast<int8_t>(value(rng)));
  return c;
}

// Sx / Sy = multiplier * 2^(shift - 31).
struct Rescale {
  int32_t inputZp = 0, outputZp = 0, multiplier = 1 << 30, shift = 1;
};

std::vector<int8_t> runCubic(const CubicCase &c, const Rescale &m) {
  std::vector<int8_t> out(static_cast<size_t>(c.planes * c.outH * c.outW));
  es_resize_cubic_s8(c.input.data(), out.data(), c.planes, c.inH, c.inW, c.outH, c.outW,
                     c.rows.data(), c.rowWeights.data(), c.cols.data(), c.colWeights.data(),
                     m.inputZp, m.outputZp, m.multiplier, m.shift);
  return out;
}

TEST_CASE("es_resize_cubic_s8 is docs/int8.md's rounded, rescaled, clamped Q30 blend",
          "[resize]") {
  int clamped = 0;
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    const CubicCase c = randomCubicCase(seed, false);
    std::mt19937 rng(seed + 100);
    Rescale m;
    m.inputZp = std::uniform_int_distribution<int32_t>(-128, 127)(rng);
    m.outputZp = std::uniform_int_distribution<int32_t>(-128, 127)(rng);
    m.multiplier = std::uniform_int_distribution<int32_t>(1 << 30, INT32_MAX)(rng);
    m.shift = seed == 1 ? 44 : (seed == 2 ? -17 : std::uniform_int_distribution<int32_t>(-2, 2)(rng));
    const std::vector<int8_t> out = runCubic(c, m);
    for (int32_t p = 0; p < c.planes; ++p)
      for (int32_t r = 0; r < c.outH; ++r)
        for (int32_t q = 0; q < c.outW; ++q) {
          int64_t sum = 0;
          for (int a = 0; a < 4; ++a) {
            int64_t across = 0;
            for (int b = 0; b < 4; ++b)
              across += int64_t{c.colWeights[4 * q + b]} *
                        (c.input[(p * c.inH + c.rows[4 * r + a]) * c.inW + c.cols[4 * q + b]] -
                         m.inputZp);
            sum += roundHalfEvenShift(across, 11) * c.rowWeights[4 * r + a];
          }
          const int64_t t = roundHalfEvenShift(sum, 35);
          const int64_t unclamped = roundHalfEvenShift(t * m.multiplier, 45 - m.shift) + m.outputZp;
          const int64_t expected = std::clamp<int64_t>(unclamped, -128, 127);
          clamped += expected != unclamped;
          REQUIRE(out[(p * c.outH + r) * c.outW + q] == expected);
        }
  }
  CHECK(clamped > 0); // the negative lobes overshoot the int8 range somewhere
}

TEST_CASE("with dyadic weights es_resize_cubic_s8 rounds the real blend to even", "[resize]") {
  // The factor 1 and zero points 0: the output is the blend itself.
  const CubicCase c = randomCubicCase(77, true);
  const std::vector<int8_t> out = runCubic(c, Rescale{});
  std::vector<float> input(c.input.begin(), c.input.end());
  std::vector<float> rowWeights, colWeights, blended(out.size());
  for (int32_t w : c.rowWeights) rowWeights.push_back(std::ldexp(static_cast<float>(w), -30));
  for (int32_t w : c.colWeights) colWeights.push_back(std::ldexp(static_cast<float>(w), -30));
  es_resize_cubic_f32(input.data(), blended.data(), c.planes, c.inH, c.inW, c.outH, c.outW,
                      c.rows.data(), rowWeights.data(), c.cols.data(), colWeights.data());
  for (size_t i = 0; i < out.size(); ++i)
    REQUIRE(out[i] == std::clamp(std::nearbyint(blended[i]), -128.0f, 127.0f));
}

TEST_CASE("es_resize_nearest copies the tabled rows and columns", "[resize]") {
  const int32_t rows[] = {0, 0, 1, 2, 2}, cols[] = {1, 0, 3};
  std::vector<int8_t> in8(2 * 3 * 4);
  std::vector<float> in32(in8.size());
  for (size_t i = 0; i < in8.size(); ++i) {
    in8[i] = static_cast<int8_t>(i * 5 - 60);
    in32[i] = static_cast<float>(i) * 0.5f;
  }
  std::vector<int8_t> out8(2 * 5 * 3);
  std::vector<float> out32(out8.size());
  es_resize_nearest_s8(in8.data(), out8.data(), 2, 3, 4, 5, 3, rows, cols);
  es_resize_nearest_f32(in32.data(), out32.data(), 2, 3, 4, 5, 3, rows, cols);
  for (int32_t p = 0; p < 2; ++p)
    for (int32_t r = 0; r < 5; ++r)
      for (int32_t c = 0; c < 3; ++c) {
        const size_t from = static_cast<size_t>((p * 3 + rows[r]) * 4 + cols[c]);
        const size_t to = static_cast<size_t>((p * 5 + r) * 3 + c);
        CHECK(out8[to] == in8[from]);
        CHECK(out32[to] == in32[from]);
      }
}

} // namespace
