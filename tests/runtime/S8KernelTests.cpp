// The int8 kernels of runtime-c against docs/int8.md: hand-computed cases, and randomized cases
// against references written here. The references redo each op's integer formula the plain way
// (sums in double, which are exact at these sizes, bounds checked per tap, the requantisation
// from its exact rational definition in 128-bit integers), so any difference is a kernel bug.
#include "es_s8.h"

#include <catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

extern "C" int es_s8_single_rounding; // runtime-c/src/s8_rounding.h

namespace {

using Int128 = __int128;
constexpr int32_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();

// ---- Reference arithmetic ------------------------------------------------------------------

Int128 floorDiv(Int128 numerator, Int128 denominator) { // denominator > 0
  Int128 quotient = numerator / denominator;
  if (numerator % denominator != 0 && numerator < 0) --quotient;
  return quotient;
}

Int128 clampInt32(Int128 x) { return std::clamp<Int128>(x, kInt32Min, kInt32Max); }

// The rescaling rule the kernels run with (runtime-c/src/s8_rounding.h: the test binary links
// the runtime built for the compiler, where it is a variable). EDGESPLIT_TEST_SINGLE_ROUNDING=1
// runs every test of this binary in single rounding (ctest's runtime_single_rounding).
const bool kSingleRoundingRun = [] {
  const char *value = std::getenv("EDGESPLIT_TEST_SINGLE_ROUNDING");
  es_s8_single_rounding = value != nullptr && std::string(value) == "1";
  return es_s8_single_rounding != 0;
}();

// Single rounding from its definition: x * multiplier / 2^(31 - shift) rounded to nearest, halves
// toward +infinity, saturated to int32.
int32_t referenceRequantizeOnce(int32_t x, es_requant_t m) {
  const Int128 product = Int128(x) * m.multiplier;
  const int right = 31 - m.shift;
  if (right <= 0) return static_cast<int32_t>(clampInt32(product * (Int128(1) << -right)));
  return static_cast<int32_t>(
      clampInt32(floorDiv(product + (Int128(1) << (right - 1)), Int128(1) << right)));
}

// requantize() from the rational values it rounds rather than from its bit manipulations:
// the doubling high multiply is p / 2^31 rounded to nearest with halves toward +infinity (that is
// what its nudge and truncating division amount to), and the power-of-two division rounds to
// nearest with halves away from zero. Two roundings, as documented; in a single-rounding run,
// referenceRequantizeOnce.
int32_t referenceRequantize(int32_t x, es_requant_t m) {
  if (es_s8_single_rounding) return referenceRequantizeOnce(x, m);
  const int left = std::max(m.shift, 0);
  const int right = std::max(-m.shift, 0);
  const Int128 scaled = clampInt32(Int128(x) * (Int128(1) << left));
  const Int128 high = scaled == kInt32Min && m.multiplier == kInt32Min
                          ? Int128(kInt32Max)
                          : floorDiv(scaled * m.multiplier + (Int128(1) << 30), Int128(1) << 31);
  if (right == 0) return static_cast<int32_t>(high);
  const Int128 magnitude = high < 0 ? -high : high;
  const Int128 rounded = floorDiv(magnitude + (Int128(1) << (right - 1)), Int128(1) << right);
  return static_cast<int32_t>(high < 0 ? -rounded : rounded);
}

// The spec's (multiplier, shift) of a real factor, as the compiler computes it.
es_requant_t quantizeMultiplier(double factor) {
  int exponent = 0;
  const double mantissa = std::frexp(factor, &exponent);
  int64_t multiplier = std::llround(mantissa * 2147483648.0);
  if (multiplier == (int64_t{1} << 31)) {
    multiplier = int64_t{1} << 30;
    ++exponent;
  }
  if (exponent < -31) return {0, 0};
  return {static_cast<int32_t>(multiplier), exponent};
}

// clamp(requantize(acc) + zp, lo, hi) with acc saturated to int32 first, as the header documents.
int referenceOutput(double acc, es_requant_t m, int zp, int lo, int hi) {
  const double saturated = std::clamp(acc, double(kInt32Min), double(kInt32Max));
  const int64_t shifted = int64_t{referenceRequantize(static_cast<int32_t>(saturated), m)} + zp;
  return static_cast<int>(std::clamp<int64_t>(shifted, lo, hi));
}

// The one-rounding rescale of the means and Concat from its rational definition:
// x * multiplier / 2^(31 - shift), x saturated to int32, rounded to nearest with ties to even.
int referenceRescaleOnceOutput(double x, es_requant_t m, int zp, int lo, int hi) {
  const Int128 numerator =
      clampInt32(Int128(std::clamp(x, double(kInt32Min), double(kInt32Max)))) * m.multiplier;
  const int right = 31 - m.shift;
  Int128 rounded = numerator;
  if (right > 0) {
    const Int128 denominator = Int128(1) << right;
    rounded = floorDiv(numerator, denominator);
    const Int128 twiceRemainder = 2 * (numerator - rounded * denominator);
    if (twiceRemainder > denominator || (twiceRemainder == denominator && rounded % 2 != 0))
      ++rounded;
  } else {
    rounded = numerator * (Int128(1) << -right);
  }
  return static_cast<int>(std::clamp<Int128>(rounded + zp, lo, hi));
}

// Identity and one half, exactly: 2^30 * 2^(1 - 31) = 1 and 2^30 * 2^(0 - 31) = 1/2.
constexpr es_requant_t kOne{1 << 30, 1};
constexpr es_requant_t kHalf{1 << 30, 0};

std::vector<int> ints(const std::vector<int8_t> &values) { return {values.begin(), values.end()}; }
std::vector<int8_t> int8s(const std::vector<int> &values) { return {values.begin(), values.end()}; }

// ---- Random cases ----------------------------------------------------------------------------

struct Random {
  std::mt19937 engine;
  explicit Random(uint32_t seed) : engine(seed) {}

  int32_t between(int32_t lo, int32_t hi) {
    return std::uniform_int_distribution<int32_t>(lo, hi)(engine);
  }
  double real(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(engine);
  }
  bool chance() { return between(0, 1) == 1; }
  std::vector<int8_t> int8s(int32_t count, int lo = -128, int hi = 127) {
    std::vector<int8_t> values(count);
    for (int8_t &value : values) value = static_cast<int8_t>(between(lo, hi));
    return values;
  }
  // A per-channel-style factor whose outputs land across the int8 range for the sums the kernel
  // tests produce, and past it often enough to exercise the clamp.
  es_requant_t requant(int shiftLo, int shiftHi) {
    return {between(1 << 30, kInt32Max), between(shiftLo, shiftHi)};
  }
  // The full int8 range or one narrowed like a fused Relu/Clip.
  void activationRange(int32_t &lo, int32_t &hi) {
    lo = -128;
    hi = 127;
    if (chance()) {
      lo = between(-128, 0);
      hi = between(lo, 127);
    }
  }
};

// =============================================================================================
// Fixed-point primitives
// =============================================================================================

TEST_CASE("rounding_doubling_high_mul: nudge, truncation and the one saturating product",
          "[s8][requant]") {
  CHECK(es_rounding_doubling_high_mul(kInt32Min, kInt32Min) == kInt32Max);
  CHECK(es_rounding_doubling_high_mul(kInt32Max, kInt32Max) == kInt32Max - 1);
  CHECK(es_rounding_doubling_high_mul(kInt32Min, kInt32Max) == kInt32Min + 1);
  CHECK(es_rounding_doubling_high_mul(1 << 30, 1 << 30) == 1 << 29);
  // 1 * 2^30 / 2^31 = 0.5 rounds up; -0.5 rounds to 0 (the negative nudge is 1 - 2^30 and the
  // division truncates), -1.5 to -1: halves go toward +infinity.
  CHECK(es_rounding_doubling_high_mul(1, 1 << 30) == 1);
  CHECK(es_rounding_doubling_high_mul(-1, 1 << 30) == 0);
  CHECK(es_rounding_doubling_high_mul(-3, 1 << 30) == -1);
  CHECK(es_rounding_doubling_high_mul(3, 1 << 30) == 2);
  CHECK(es_rounding_doubling_high_mul(0, kInt32Min) == 0);
}

TEST_CASE("rounding_divide_by_pot rounds to nearest, halves away from zero", "[s8][requant]") {
  CHECK(es_rounding_divide_by_pot(5, 1) == 3);
  CHECK(es_rounding_divide_by_pot(-5, 1) == -3);
  CHECK(es_rounding_divide_by_pot(3, 1) == 2);
  CHECK(es_rounding_divide_by_pot(-3, 1) == -2);
  CHECK(es_rounding_divide_by_pot(-4, 1) == -2);
  CHECK(es_rounding_divide_by_pot(7, 2) == 2);   // 1.75
  CHECK(es_rounding_divide_by_pot(-7, 2) == -2); // -1.75
  CHECK(es_rounding_divide_by_pot(-6, 2) == -2); // -1.5
  CHECK(es_rounding_divide_by_pot(-5, 2) == -1); // -1.25
  CHECK(es_rounding_divide_by_pot(-2, 2) == -1); // -0.5
  CHECK(es_rounding_divide_by_pot(2, 2) == 1);   // 0.5
  CHECK(es_rounding_divide_by_pot(kInt32Min, 31) == -1);
  CHECK(es_rounding_divide_by_pot(kInt32Max, 31) == 1);
  CHECK(es_rounding_divide_by_pot(1 << 29, 31) == 0);     // 0.25
  CHECK(es_rounding_divide_by_pot(-(1 << 30), 31) == -1); // -0.5
  CHECK(es_rounding_divide_by_pot(kInt32Min, 0) == kInt32Min);
  CHECK(es_rounding_divide_by_pot(kInt32Max, 0) == kInt32Max);

  Random random(11);
  for (int i = 0; i < 20000; ++i) {
    const int32_t x = random.between(kInt32Min, kInt32Max);
    const int32_t exponent = random.between(0, 31);
    const Int128 magnitude = x < 0 ? -Int128(x) : Int128(x);
    const Int128 rounded =
        exponent == 0 ? magnitude
                      : floorDiv(magnitude + (Int128(1) << (exponent - 1)), Int128(1) << exponent);
    INFO("x = " << x << ", exponent = " << exponent);
    CHECK(es_rounding_divide_by_pot(x, exponent) ==
          static_cast<int32_t>(x < 0 ? -rounded : rounded));
  }
}

TEST_CASE("requantize matches the exact two-rounding reference on edge and random inputs",
          "[s8][requant]") {
  std::vector<int32_t> edgeInputs = {kInt32Min,
                                     kInt32Min + 1,
                                     -(1 << 30) - 1,
                                     -(1 << 30),
                                     -65536,
                                     -255,
                                     -3,
                                     -2,
                                     -1,
                                     0,
                                     1,
                                     2,
                                     3,
                                     255,
                                     65535,
                                     1 << 30,
                                     kInt32Max - 1,
                                     kInt32Max};
  std::vector<int32_t> multipliers = {1 << 30, (1 << 30) + 1, 1518500250, kInt32Max - 1, kInt32Max};
  Random random(12);
  for (int i = 0; i < 4; ++i) multipliers.push_back(random.between(1 << 30, kInt32Max));
  for (int i = 0; i < 6; ++i) edgeInputs.push_back(random.between(kInt32Min, kInt32Max));
  // Shifts past 30 only saturate, which the left shift must do without overflowing.
  for (int32_t shift = -31; shift <= 33; ++shift)
    for (int32_t multiplier : multipliers)
      for (int32_t x : edgeInputs) {
        const es_requant_t m{multiplier, shift};
        INFO("x = " << x << ", multiplier = " << multiplier << ", shift = " << shift);
        CHECK(es_requantize(x, m) == referenceRequantize(x, m));
      }

  for (int i = 0; i < 100000; ++i) {
    const int32_t x = i % 2 ? random.between(-70000, 70000) : random.between(kInt32Min, kInt32Max);
    const es_requant_t m{random.between(1 << 30, kInt32Max), random.between(-31, 30)};
    INFO("x = " << x << ", multiplier = " << m.multiplier << ", shift = " << m.shift);
    CHECK(es_requantize(x, m) == referenceRequantize(x, m));
  }
}

TEST_CASE("single-rounding requantize rounds the exact product once, halves up",
          "[s8][requant]") {
  const int saved = es_s8_single_rounding;
  es_s8_single_rounding = 1;
  // x / 4: one rounding of 0.25 gives 0, of 0.5 gives 1 (half up), of -0.5 gives 0, of -0.75 -1.
  const es_requant_t quarter{1 << 30, -1};
  CHECK(es_requantize(1, quarter) == 0);
  CHECK(es_requantize(2, quarter) == 1);
  CHECK(es_requantize(-2, quarter) == 0);
  CHECK(es_requantize(-3, quarter) == -1);
  CHECK(es_requantize(6, quarter) == 2);
  // Where the two rules part: 14.49963 steps (layer_norm_keras' Dense output), factor 0.00315
  // with shift -8. The high multiply rounds it to exactly 14.5, which double rounding sends to
  // 15; one rounding gives 14.
  const es_requant_t factor = quantizeMultiplier(0.00315);
  const int32_t acc = static_cast<int32_t>(std::floor(14.49963 / 0.00315));
  const long double exact = std::ldexp(static_cast<long double>(acc) * factor.multiplier,
                                       factor.shift - 31);
  CHECK(es_requantize(acc, factor) == std::lround(static_cast<double>(exact)));
  // Saturation instead of the left shift's: a factor of 2^20 on +-2^20 and on 2^8.
  CHECK(es_requantize(1 << 20, es_requant_t{1 << 30, 21}) == kInt32Max);
  CHECK(es_requantize(-(1 << 20), es_requant_t{1 << 30, 21}) == kInt32Min);
  CHECK(es_requantize(1 << 8, es_requant_t{1 << 30, 21}) == 1 << 28);
  CHECK(es_requantize(-1, es_requant_t{kInt32Max, 31}) == -kInt32Max);
  CHECK(es_requantize(5, es_requant_t{kInt32Max, 33}) == kInt32Max);
  CHECK(es_requantize(kInt32Max, quantizeMultiplier(std::ldexp(1.0, -40))) == 0);
  for (int32_t x = -300; x <= 300; ++x) CHECK(es_requantize(x, kOne) == x);

  Random random(14);
  for (int32_t shift = -31; shift <= 33; ++shift)
    for (int i = 0; i < 400; ++i) {
      const es_requant_t m{random.between(1 << 30, kInt32Max), shift};
      const int32_t x = i % 2 ? random.between(-70000, 70000) : random.between(kInt32Min, kInt32Max);
      INFO("x = " << x << ", multiplier = " << m.multiplier << ", shift = " << m.shift);
      CHECK(es_requantize(x, m) == referenceRequantizeOnce(x, m));
    }
  es_s8_single_rounding = saved;
}

TEST_CASE("requantize stays within 1 of the real product and rounds twice as documented",
          "[s8][requant]") {
  if (kSingleRoundingRun) return; // double rounding's cases; single rounding has its own
  // x * 0.25 with M = 2^30 * 2^(-1 - 31): the high multiply gives x / 2 rounded (halves toward
  // +infinity), the shift halves that again rounding away from zero. One rounding of 0.25 would
  // give 0; the documented two give 1.
  const es_requant_t quarter{1 << 30, -1};
  CHECK(es_requantize(1, quarter) == 1);
  CHECK(es_requantize(-1, quarter) == 0);
  CHECK(es_requantize(-3, quarter) == -1);
  CHECK(es_requantize(2, quarter) == 1);
  CHECK(es_requantize(-2, quarter) == -1);
  CHECK(es_requantize(6, quarter) == 2);
  // x * 2^left saturates before the multiply.
  CHECK(es_requantize(kInt32Max, kOne) == 1 << 30);
  CHECK(es_requantize(kInt32Min, kOne) == -(1 << 30));
  CHECK(es_requantize(1 << 20, es_requant_t{1 << 30, 20}) == 1 << 30);
  // -2^30 * (2^31 - 1) / 2^31 = -2^30 + 1/2: a half, rounded toward +infinity.
  CHECK(es_requantize(-1, es_requant_t{kInt32Max, 30}) == -(1 << 30) + 1);
  // An underflowed factor is stored as 0 and gives 0.
  CHECK(es_requantize(kInt32Max, quantizeMultiplier(std::ldexp(1.0, -40))) == 0);
  for (int32_t x = -300; x <= 300; ++x) CHECK(es_requantize(x, kOne) == x);

  Random random(13);
  for (int i = 0; i < 50000; ++i) {
    const es_requant_t m{random.between(1 << 30, kInt32Max), random.between(-31, 8)};
    const int32_t x = random.between(-(1 << 22), 1 << 22);
    const long double exact = std::ldexp(static_cast<long double>(x) * m.multiplier, m.shift - 31);
    INFO("x = " << x << ", multiplier = " << m.multiplier << ", shift = " << m.shift);
    if (std::fabs(exact) < 2e9L) CHECK(std::fabs(es_requantize(x, m) - exact) <= 1.0L);
  }
}

// =============================================================================================
// Convolution
// =============================================================================================

std::vector<int8_t> referenceConv(const es_conv2d_s8_params_t &p, const std::vector<int8_t> &x,
                                  const std::vector<int8_t> &w, const int32_t *bias,
                                  const std::vector<es_requant_t> &perChannel) {
  std::vector<int8_t> y;
  const int inPerGroup = p.in_channels / p.groups;
  const int outPerGroup = p.out_channels / p.groups;
  for (int n = 0; n < p.batch; ++n)
    for (int m = 0; m < p.out_channels; ++m)
      for (int oy = 0; oy < p.out_h; ++oy)
        for (int ox = 0; ox < p.out_w; ++ox) {
          double acc = bias ? bias[m] : 0;
          for (int c = 0; c < inPerGroup; ++c)
            for (int ky = 0; ky < p.kernel_h; ++ky)
              for (int kx = 0; kx < p.kernel_w; ++kx) {
                const int iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
                const int ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
                if (iy < 0 || iy >= p.in_h || ix < 0 || ix >= p.in_w) continue;
                const int channel = m / outPerGroup * inPerGroup + c;
                const int xq = x[((n * p.in_channels + channel) * p.in_h + iy) * p.in_w + ix];
                const int wq = w[((m * inPerGroup + c) * p.kernel_h + ky) * p.kernel_w + kx];
                acc += double(xq - p.input_zp) * wq;
              }
          y.push_back(static_cast<int8_t>(
              referenceOutput(acc, perChannel[m], p.output_zp, p.act_min, p.act_max)));
        }
  return y;
}

es_conv2d_s8_params_t convParams(int inChannels, int inH, int inW, int outChannels, int kernel,
                                 int outH, int outW) {
  es_conv2d_s8_params_t p{};
  p.batch = 1;
  p.in_channels = inChannels;
  p.in_h = inH;
  p.in_w = inW;
  p.out_channels = outChannels;
  p.out_h = outH;
  p.out_w = outW;
  p.kernel_h = p.kernel_w = kernel;
  p.stride_h = p.stride_w = 1;
  p.dilation_h = p.dilation_w = 1;
  p.groups = 1;
  p.act_min = -128;
  p.act_max = 127;
  return p;
}

TEST_CASE("conv2d: hand-computed sums with zero points, bias, padding, stride and clamp",
          "[s8][conv]") {
  const std::vector<int8_t> x = int8s({1, 2, 3, 4, 5, 6, 7, 8, 9}); // 1x1x3x3
  SECTION("diagonal 2x2 kernel, input zero point, bias, output zero point") {
    es_conv2d_s8_params_t p = convParams(1, 3, 3, 1, 2, 2, 2);
    p.input_zp = 1;
    p.output_zp = -2;
    const std::vector<int8_t> w = int8s({1, 0, 0, 1});
    const int32_t bias[] = {10};
    const es_requant_t one[] = {kOne};
    std::vector<int8_t> y(4);
    es_conv2d_s8(&p, x.data(), w.data(), bias, one, y.data());
    // (x - 1) on the diagonal: 0+4, 1+5, 3+7, 4+8; + 10, then - 2.
    CHECK(ints(y) == std::vector<int>{12, 14, 18, 20});
  }
  SECTION("3x3 ones, pad 1, stride 2, factor 1/2 and a Relu6-like act_max") {
    es_conv2d_s8_params_t p = convParams(1, 3, 3, 1, 3, 2, 2);
    p.pad_top = p.pad_left = 1;
    p.stride_h = p.stride_w = 2;
    p.act_max = 10;
    const std::vector<int8_t> w(9, 1);
    const es_requant_t half[] = {kHalf};
    std::vector<int8_t> y(4);
    es_conv2d_s8(&p, x.data(), w.data(), nullptr, half, y.data());
    // Window sums 12, 16, 24, 28 halved, the last two clamped to 10.
    CHECK(ints(y) == std::vector<int>{6, 8, 10, 10});
  }
  SECTION("dilation 2 reads the corners") {
    es_conv2d_s8_params_t p = convParams(1, 3, 3, 1, 2, 1, 1);
    p.dilation_h = p.dilation_w = 2;
    const std::vector<int8_t> w = int8s({1, -1, 2, -2});
    const es_requant_t one[] = {kOne};
    std::vector<int8_t> y(1);
    es_conv2d_s8(&p, x.data(), w.data(), nullptr, one, y.data());
    CHECK(ints(y) == std::vector<int>{1 - 3 + 2 * 7 - 2 * 9});
  }
  SECTION("depthwise with channel multiplier 2 and per-channel factors") {
    es_conv2d_s8_params_t p = convParams(2, 1, 2, 4, 1, 1, 2);
    p.groups = 2;
    const std::vector<int8_t> input = int8s({10, 20, -30, 40}); // channels: (10 20), (-30 40)
    const std::vector<int8_t> w = int8s({1, -2, 3, 1});
    const es_requant_t factors[] = {kOne, kOne, kHalf, kOne};
    std::vector<int8_t> y(8);
    es_conv2d_s8(&p, input.data(), w.data(), nullptr, factors, y.data());
    // Output channels 0, 1 read input channel 0; 2, 3 read channel 1. -90 / 2 = -45, 120 / 2 = 60.
    CHECK(ints(y) == std::vector<int>{10, 20, -20, -40, -45, 60, -30, 40});
  }
  SECTION("a window entirely in the padding is its bias") {
    es_conv2d_s8_params_t p = convParams(1, 1, 1, 1, 1, 1, 3);
    p.pad_left = 1;
    p.input_zp = 7;
    const std::vector<int8_t> input = int8s({9});
    const std::vector<int8_t> w = int8s({5});
    const int32_t bias[] = {-4};
    const es_requant_t one[] = {kOne};
    std::vector<int8_t> y(3);
    es_conv2d_s8(&p, input.data(), w.data(), bias, one, y.data());
    CHECK(ints(y) == std::vector<int>{-4, 6, -4});
  }
}

TEST_CASE("conv2d: random geometries match the reference exactly", "[s8][conv]") {
  Random random(21);
  int depthwise = 0, grouped = 0, clamped = 0;
  for (int trial = 0; trial < 400; ++trial) {
    es_conv2d_s8_params_t p{};
    p.batch = random.between(1, 2);
    p.groups = random.between(1, 3);
    const bool isDepthwise = random.between(0, 3) == 0;
    p.in_channels = isDepthwise ? p.groups : p.groups * random.between(1, 3);
    p.out_channels = p.groups * random.between(1, 3);
    p.in_h = random.between(1, 7);
    p.in_w = random.between(1, 7);
    p.kernel_h = random.between(1, 3);
    p.kernel_w = random.between(1, 3);
    p.stride_h = random.between(1, 3);
    p.stride_w = random.between(1, 3);
    p.dilation_h = random.between(1, 2);
    p.dilation_w = random.between(1, 2);
    p.pad_top = random.between(0, 2);
    p.pad_left = random.between(0, 2);
    const int padBottom = random.between(0, 2), padRight = random.between(0, 2);
    const int spanH = p.in_h + p.pad_top + padBottom - ((p.kernel_h - 1) * p.dilation_h + 1);
    const int spanW = p.in_w + p.pad_left + padRight - ((p.kernel_w - 1) * p.dilation_w + 1);
    if (spanH < 0 || spanW < 0) continue;
    p.out_h = spanH / p.stride_h + 1;
    p.out_w = spanW / p.stride_w + 1;
    p.input_zp = random.between(-128, 127);
    p.output_zp = random.between(-128, 127);
    random.activationRange(p.act_min, p.act_max);

    const auto x = random.int8s(p.batch * p.in_channels * p.in_h * p.in_w);
    const auto w = random.int8s(
        p.out_channels * (p.in_channels / p.groups) * p.kernel_h * p.kernel_w, -127, 127);
    std::vector<int32_t> bias(p.out_channels);
    for (int32_t &b : bias) b = random.between(-20000, 20000);
    std::vector<es_requant_t> perChannel(p.out_channels);
    for (es_requant_t &m : perChannel) m = random.requant(-12, -6);
    const int32_t *biasOrNull = random.chance() ? bias.data() : nullptr;

    std::vector<int8_t> y(p.batch * p.out_channels * p.out_h * p.out_w);
    es_conv2d_s8(&p, x.data(), w.data(), biasOrNull, perChannel.data(), y.data());
    const auto expected = referenceConv(p, x, w, biasOrNull, perChannel);
    INFO("trial " << trial);
    CHECK(ints(y) == ints(expected));
    depthwise += isDepthwise && p.groups > 1;
    grouped += p.groups > 1;
    clamped += std::count_if(expected.begin(), expected.end(),
                             [&](int8_t v) { return v == p.act_min || v == p.act_max; }) > 0;
  }
  // The random cases did reach the paths they are meant to cover.
  CHECK(depthwise > 20);
  CHECK(grouped > 100);
  CHECK(clamped > 50);
}

TEST_CASE("conv_transpose2d: random geometries match a scattering reference", "[s8][conv]") {
  Random random(23);
  int tested = 0;
  for (int trial = 0; trial < 300; ++trial) {
    es_conv2d_s8_params_t p{};
    p.groups = 1;
    p.batch = random.between(1, 2);
    p.in_channels = random.between(1, 3);
    p.out_channels = random.between(1, 3);
    p.in_h = random.between(1, 5);
    p.in_w = random.between(1, 6);
    p.kernel_h = random.between(1, 3);
    p.kernel_w = random.between(1, 4);
    p.stride_h = random.between(1, 3);
    p.stride_w = random.between(1, 3);
    p.dilation_h = random.between(1, 2);
    p.dilation_w = random.between(1, 2);
    p.pad_top = random.between(-1, p.kernel_h);
    p.pad_left = random.between(-1, p.kernel_w);
    p.out_h = p.stride_h * (p.in_h - 1) + (p.kernel_h - 1) * p.dilation_h + 1 - p.pad_top -
              random.between(0, 1);
    p.out_w = p.stride_w * (p.in_w - 1) + (p.kernel_w - 1) * p.dilation_w + 1 - p.pad_left -
              random.between(0, 1);
    if (p.out_h < 1 || p.out_w < 1) continue;
    p.input_zp = random.between(-128, 127);
    p.output_zp = random.between(-128, 127);
    random.activationRange(p.act_min, p.act_max);
    const auto x = random.int8s(p.batch * p.in_channels * p.in_h * p.in_w);
    const auto w =
        random.int8s(p.out_channels * p.in_channels * p.kernel_h * p.kernel_w, -127, 127);
    std::vector<int32_t> bias(p.out_channels);
    for (int32_t &b : bias) b = random.between(-20000, 20000);
    std::vector<es_requant_t> perChannel(p.out_channels);
    for (es_requant_t &m : perChannel) m = random.requant(-12, -6);
    const int32_t *biasOrNull = random.chance() ? bias.data() : nullptr;

    // Scatter every input element through its window (weights [out, in, kh, kw]).
    const int plane = p.out_h * p.out_w;
    std::vector<double> acc(p.batch * p.out_channels * plane);
    for (int n = 0; n < p.batch; ++n)
      for (int m = 0; m < p.out_channels; ++m)
        for (int o = 0; o < plane; ++o)
          acc[(n * p.out_channels + m) * plane + o] = biasOrNull ? biasOrNull[m] : 0;
    for (int n = 0; n < p.batch; ++n)
      for (int c = 0; c < p.in_channels; ++c)
        for (int iy = 0; iy < p.in_h; ++iy)
          for (int ix = 0; ix < p.in_w; ++ix)
            for (int m = 0; m < p.out_channels; ++m)
              for (int ky = 0; ky < p.kernel_h; ++ky)
                for (int kx = 0; kx < p.kernel_w; ++kx) {
                  const int oy = iy * p.stride_h + ky * p.dilation_h - p.pad_top;
                  const int ox = ix * p.stride_w + kx * p.dilation_w - p.pad_left;
                  if (oy < 0 || oy >= p.out_h || ox < 0 || ox >= p.out_w) continue;
                  acc[(n * p.out_channels + m) * plane + oy * p.out_w + ox] +=
                      double(x[((n * p.in_channels + c) * p.in_h + iy) * p.in_w + ix] -
                             p.input_zp) *
                      w[((m * p.in_channels + c) * p.kernel_h + ky) * p.kernel_w + kx];
                }
    std::vector<int> expected;
    for (size_t i = 0; i < acc.size(); ++i)
      expected.push_back(referenceOutput(acc[i], perChannel[i / plane % p.out_channels],
                                         p.output_zp, p.act_min, p.act_max));
    std::vector<int8_t> y(acc.size());
    es_conv_transpose2d_s8(&p, x.data(), w.data(), biasOrNull, perChannel.data(), y.data());
    INFO("trial " << trial);
    CHECK(ints(y) == expected);
    ++tested;
  }
  CHECK(tested > 200);
}

// =============================================================================================
// Fully connected and batch MatMul
// =============================================================================================

TEST_CASE("fully_connected: hand-computed rows and random shapes", "[s8][fc]") {
  SECTION("hand") {
    es_fully_connected_s8_params_t p{2, 3, 2, -1, 3, -128, 127};
    const std::vector<int8_t> x = int8s({0, 1, 2, -1, -1, -1}); // x - zx: (1,2,3), (0,0,0)
    const std::vector<int8_t> w = int8s({1, 1, 1, 10, -20, 30});
    const int32_t bias[] = {100, -5};
    const es_requant_t factors[] = {kOne, kHalf};
    std::vector<int8_t> y(4);
    es_fully_connected_s8(&p, x.data(), w.data(), bias, factors, y.data());
    // Row 0: 100 + 6 + 3 = 109; (-5 + 10 - 40 + 90) / 2 = 27.5 -> 28, + 3 = 31. Row 1: bias only:
    // 103, and -5 / 2 = -2.5 -> -2 (halves toward +infinity in the high multiply), + 3 = 1.
    CHECK(ints(y) == std::vector<int>{109, 31, 103, 1});
    p.act_min = 0;
    p.act_max = 100;
    es_fully_connected_s8(&p, x.data(), w.data(), nullptr, factors, y.data());
    CHECK(ints(y) == std::vector<int>{9, 33, 3, 3});
  }
  SECTION("random") {
    Random random(31);
    for (int trial = 0; trial < 200; ++trial) {
      es_fully_connected_s8_params_t p{};
      p.batch = random.between(1, 3);
      p.in_features = random.between(1, 40);
      p.out_features = random.between(1, 8);
      p.input_zp = random.between(-128, 127);
      p.output_zp = random.between(-128, 127);
      random.activationRange(p.act_min, p.act_max);
      const auto x = random.int8s(p.batch * p.in_features);
      const auto w = random.int8s(p.out_features * p.in_features, -127, 127);
      std::vector<int32_t> bias(p.out_features);
      for (int32_t &b : bias) b = random.between(-50000, 50000);
      std::vector<es_requant_t> perChannel(p.out_features);
      for (es_requant_t &m : perChannel) m = random.requant(-13, -6);
      const int32_t *biasOrNull = random.chance() ? bias.data() : nullptr;
      std::vector<int8_t> y(p.batch * p.out_features);
      es_fully_connected_s8(&p, x.data(), w.data(), biasOrNull, perChannel.data(), y.data());
      std::vector<int> expected;
      for (int n = 0; n < p.batch; ++n)
        for (int m = 0; m < p.out_features; ++m) {
          double acc = biasOrNull ? biasOrNull[m] : 0;
          for (int k = 0; k < p.in_features; ++k)
            acc += double(x[n * p.in_features + k] - p.input_zp) * w[m * p.in_features + k];
          expected.push_back(
              referenceOutput(acc, perChannel[m], p.output_zp, p.act_min, p.act_max));
        }
      INFO("trial " << trial);
      CHECK(ints(y) == expected);
    }
  }
}

TEST_CASE("fully_connected: an accumulator past int32 saturates instead of wrapping", "[s8][fc]") {
  es_fully_connected_s8_params_t p{1, 2, 1, 0, 0, -128, 127};
  const std::vector<int8_t> x = int8s({127, 127});
  const std::vector<int8_t> w = int8s({127, 127});
  const int32_t bias[] = {kInt32Max - 100};
  const es_requant_t tiny[] = {{1 << 30, -24}}; // 2^-25: INT32_MAX -> 64
  std::vector<int8_t> y(1);
  es_fully_connected_s8(&p, x.data(), w.data(), bias, tiny, y.data());
  CHECK(int(y[0]) == 64);
}

TEST_CASE("batch_matmul: hand-computed product and broadcast batches", "[s8][matmul]") {
  SECTION("hand") {
    es_batch_matmul_s8_params_t p{};
    p.batch[0] = 1;
    p.batch[1] = 2;
    p.a_batch_stride[1] = 4; // two A matrices
    p.b_batch_stride[1] = 0; // one B shared
    p.rows = 2;
    p.inner = 2;
    p.cols = 1;
    p.a_zp = 1;
    p.b_zp = -1;
    p.output_zp = 5;
    p.requant = kOne;
    p.act_min = -128;
    p.act_max = 127;
    // a - 1: [1 2; 0 0] and [10 0; 0 -10]; b + 1: [1; 3].
    const std::vector<int8_t> a = int8s({2, 3, 1, 1, 11, 1, 1, -9});
    const std::vector<int8_t> b = int8s({0, 2});
    std::vector<int8_t> y(4);
    es_batch_matmul_s8(&p, a.data(), b.data(), y.data());
    CHECK(ints(y) == std::vector<int>{7 + 5, 0 + 5, 10 + 5, -30 + 5});
  }
  SECTION("random") {
    Random random(32);
    for (int trial = 0; trial < 200; ++trial) {
      es_batch_matmul_s8_params_t p{};
      p.rows = random.between(1, 5);
      p.inner = random.between(1, 12);
      p.cols = random.between(1, 5);
      const int32_t matrixA = p.rows * p.inner, matrixB = p.inner * p.cols;
      p.batch[0] = random.between(1, 2);
      p.batch[1] = random.between(1, 3);
      // Each operand either has every batch matrix or broadcasts along an axis (stride 0).
      const bool aAxis0 = random.chance(), aAxis1 = random.chance();
      const bool bAxis0 = random.chance(), bAxis1 = random.chance();
      const int32_t aCount1 = aAxis1 ? p.batch[1] : 1, bCount1 = bAxis1 ? p.batch[1] : 1;
      p.a_batch_stride[1] = aAxis1 ? matrixA : 0;
      p.a_batch_stride[0] = aAxis0 ? matrixA * aCount1 : 0;
      p.b_batch_stride[1] = bAxis1 ? matrixB : 0;
      p.b_batch_stride[0] = bAxis0 ? matrixB * bCount1 : 0;
      p.a_zp = random.between(-128, 127);
      p.b_zp = random.between(-128, 127);
      p.output_zp = random.between(-128, 127);
      p.requant = random.requant(-14, -8);
      random.activationRange(p.act_min, p.act_max);
      const auto a = random.int8s(matrixA * aCount1 * (aAxis0 ? p.batch[0] : 1));
      const auto b = random.int8s(matrixB * bCount1 * (bAxis0 ? p.batch[0] : 1));
      std::vector<int8_t> y(p.batch[0] * p.batch[1] * p.rows * p.cols);
      es_batch_matmul_s8(&p, a.data(), b.data(), y.data());
      std::vector<int> expected;
      for (int i = 0; i < p.batch[0]; ++i)
        for (int j = 0; j < p.batch[1]; ++j)
          for (int r = 0; r < p.rows; ++r)
            for (int c = 0; c < p.cols; ++c) {
              const int aStart = (aAxis0 ? i : 0) * matrixA * aCount1 + (aAxis1 ? j : 0) * matrixA;
              const int bStart = (bAxis0 ? i : 0) * matrixB * bCount1 + (bAxis1 ? j : 0) * matrixB;
              double acc = 0;
              for (int k = 0; k < p.inner; ++k)
                acc += double(a[aStart + r * p.inner + k] - p.a_zp) *
                       (b[bStart + k * p.cols + c] - p.b_zp);
              expected.push_back(
                  referenceOutput(acc, p.requant, p.output_zp, p.act_min, p.act_max));
            }
      INFO("trial " << trial);
      CHECK(ints(y) == expected);
    }
  }
}

// =============================================================================================
// Pooling
// =============================================================================================

es_pool2d_s8_params_t poolParams(int inH, int inW, int kernel, int stride, int outH, int outW) {
  es_pool2d_s8_params_t p{};
  p.batch = p.channels = 1;
  p.in_h = inH;
  p.in_w = inW;
  p.out_h = outH;
  p.out_w = outW;
  p.kernel_h = p.kernel_w = kernel;
  p.stride_h = p.stride_w = stride;
  p.dilation_h = p.dilation_w = 1;
  p.act_min = -128;
  p.act_max = 127;
  return p;
}

// Sx / (n * Sy) for n = 1 .. kernel area, as the compiler tabulates it.
std::vector<es_requant_t> perCountFactors(int area, double inputOverOutputScale) {
  std::vector<es_requant_t> factors;
  for (int n = 1; n <= area; ++n) factors.push_back(quantizeMultiplier(inputOverOutputScale / n));
  return factors;
}

TEST_CASE("max_pool2d: hand-computed windows, padding ignored, activation clamp", "[s8][pool]") {
  const std::vector<int8_t> x =
      int8s({1, -5, 3, 0, -2, 8, -1, 4, 7, 2, -128, -128, 0, 6, -128, -7});
  SECTION("2x2 stride 2") {
    es_pool2d_s8_params_t p = poolParams(4, 4, 2, 2, 2, 2);
    std::vector<int8_t> y(4);
    es_max_pool2d_s8(&p, x.data(), y.data());
    CHECK(ints(y) == std::vector<int>{8, 4, 7, -7});
    p.act_min = 0;
    p.act_max = 5;
    es_max_pool2d_s8(&p, x.data(), y.data());
    CHECK(ints(y) == std::vector<int>{5, 4, 5, 0});
  }
  SECTION("padding is never a candidate, even below every element") {
    es_pool2d_s8_params_t p = poolParams(1, 2, 2, 1, 1, 3);
    p.kernel_h = 1;
    p.pad_left = p.pad_right = 1;
    const std::vector<int8_t> row = int8s({-100, -128});
    std::vector<int8_t> y(3);
    es_max_pool2d_s8(&p, row.data(), y.data());
    CHECK(ints(y) == std::vector<int>{-100, -100, -128});
  }
}

TEST_CASE("avg_pool2d with one scale rounds the sum's division as TFLite does", "[s8][pool]") {
  // 1x4 input, kernel 2, stride 2: sums -255 and 17 over 2; -127.5 rounds to -128 (a fixed-point
  // rescaling of sum - n * Zx with Zx = -128 would give 0.5 -> 1 - 128 = -127), 8.5 to 9.
  es_pool2d_s8_params_t p = poolParams(1, 4, 2, 2, 1, 2);
  p.kernel_h = 1;
  p.input_zp = p.output_zp = -128;
  const std::vector<int8_t> x = int8s({-128, -127, 8, 9});
  std::vector<int8_t> y(2);
  es_avg_pool2d_same_scale_s8(&p, x.data(), y.data());
  CHECK(ints(y) == std::vector<int>{-128, 9});
  p.act_max = 5;
  es_avg_pool2d_same_scale_s8(&p, x.data(), y.data());
  CHECK(ints(y) == std::vector<int>{-128, 5});
}

TEST_CASE("avg_pool2d: divisors with and without padding, ceil_mode windows", "[s8][pool]") {
  // 3x3 input, 2x2 kernel, stride 1, pad 1: 4x4 windows holding 1 (corners), 2 (edges) or 4
  // elements. Zero point 2: x - zx = 1..9 * 6.
  const std::vector<int8_t> x = int8s({8, 14, 20, 26, 32, 38, 44, 50, 56});
  es_pool2d_s8_params_t p = poolParams(3, 3, 2, 1, 4, 4);
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  p.input_zp = 2;
  p.output_zp = -3;
  const auto perCount = perCountFactors(4, 1.0);
  std::vector<int8_t> y(16);
  SECTION("padding excluded") {
    es_avg_pool2d_s8(&p, perCount.data(), x.data(), y.data());
    // Means of (x - 2): 6 | 9 15 | 12 ... then - 3.
    CHECK(ints(y) ==
          std::vector<int>{3, 6, 12, 15, 12, 15, 21, 24, 30, 33, 39, 42, 39, 42, 48, 51});
  }
  SECTION("padding counted") {
    p.count_include_pad = 1;
    es_avg_pool2d_s8(&p, perCount.data(), x.data(), y.data());
    // Every window now divides by 4, halves to even: corner 6 / 4 = 1.5 -> 2 and 18 / 4 = 4.5 -> 4,
    // edge (6 + 12) / 4 = 4.5 -> 4, (24 + 42) / 4 = 16.5 -> 16, ...
    CHECK(ints(y) == std::vector<int>{-1, 1, 5, 1, 5, 15, 21, 11, 13, 33, 39, 19, 7, 19, 23, 11});
  }
  SECTION("ceil_mode window past the end padding counts only up to it") {
    // 1x3 input, kernel 2, stride 2, no padding, ceil_mode: windows [0, 1] and [2, 3), the second
    // reaching one element; with count_include_pad its divisor is still 1.
    es_pool2d_s8_params_t q = poolParams(1, 3, 2, 2, 1, 2);
    q.kernel_h = 1;
    q.count_include_pad = 1;
    const std::vector<int8_t> row = int8s({10, 20, 31});
    const auto factors = perCountFactors(2, 1.0);
    std::vector<int8_t> out(2);
    es_avg_pool2d_s8(&q, factors.data(), row.data(), out.data());
    CHECK(ints(out) == std::vector<int>{15, 31});
  }
}

// Pools every window the long way: each tap checked against the input and, for the
// count_include_pad divisor, against the declared padding.
// perCount null: max pool; perCount empty: TFLite's same-scale average (rounded division of the
// sum of qx, padded taps reading Zx); else the fixed-point average.
std::vector<int> referencePool(const es_pool2d_s8_params_t &p, const std::vector<int8_t> &x,
                               const std::vector<es_requant_t> *perCount) {
  std::vector<int> y;
  for (int plane = 0; plane < p.batch * p.channels; ++plane)
    for (int oy = 0; oy < p.out_h; ++oy)
      for (int ox = 0; ox < p.out_w; ++ox) {
        int largest = -1000, inside = 0, padded = 0;
        double sum = 0;
        for (int ky = 0; ky < p.kernel_h; ++ky)
          for (int kx = 0; kx < p.kernel_w; ++kx) {
            const int iy = oy * p.stride_h - p.pad_top + ky * p.dilation_h;
            const int ix = ox * p.stride_w - p.pad_left + kx * p.dilation_w;
            padded += iy >= -p.pad_top && iy < p.in_h + p.pad_bottom && ix >= -p.pad_left &&
                      ix < p.in_w + p.pad_right;
            if (iy < 0 || iy >= p.in_h || ix < 0 || ix >= p.in_w) continue;
            const int q = x[(plane * p.in_h + iy) * p.in_w + ix];
            ++inside;
            largest = std::max(largest, q);
            sum += q - p.input_zp;
          }
        if (!perCount) {
          y.push_back(std::clamp(largest, p.act_min, p.act_max));
          continue;
        }
        const int n = p.count_include_pad ? padded : inside;
        if (perCount->empty()) {
          const double mean = (sum + n * p.input_zp) / n;
          y.push_back(std::clamp(static_cast<int>(std::round(mean)), p.act_min, p.act_max));
          continue;
        }
        y.push_back(
            referenceRescaleOnceOutput(sum, (*perCount)[n - 1], p.output_zp, p.act_min, p.act_max));
      }
  return y;
}

bool everyWindowReachesInput(const es_pool2d_s8_params_t &p) {
  auto axisReaches = [](int outputs, int stride, int pad, int kernel, int dilation, int size) {
    for (int o = 0; o < outputs; ++o) {
      bool reaches = false;
      for (int k = 0; k < kernel; ++k) {
        const int coordinate = o * stride - pad + k * dilation;
        reaches = reaches || (coordinate >= 0 && coordinate < size);
      }
      if (!reaches) return false;
    }
    return true;
  };
  return axisReaches(p.out_h, p.stride_h, p.pad_top, p.kernel_h, p.dilation_h, p.in_h) &&
         axisReaches(p.out_w, p.stride_w, p.pad_left, p.kernel_w, p.dilation_w, p.in_w);
}

TEST_CASE("max/avg_pool2d: random geometries match the reference exactly", "[s8][pool]") {
  Random random(41);
  int cases = 0, ceilCases = 0;
  while (cases < 300) {
    es_pool2d_s8_params_t p{};
    p.batch = random.between(1, 2);
    p.channels = random.between(1, 3);
    p.in_h = random.between(1, 7);
    p.in_w = random.between(1, 7);
    p.kernel_h = random.between(1, 3);
    p.kernel_w = random.between(1, 3);
    p.stride_h = random.between(1, 3);
    p.stride_w = random.between(1, 3);
    p.dilation_h = random.between(1, 2);
    p.dilation_w = random.between(1, 2);
    p.pad_top = random.between(0, 2);
    p.pad_left = random.between(0, 2);
    p.pad_bottom = random.between(0, 2);
    p.pad_right = random.between(0, 2);
    p.count_include_pad = random.chance();
    const bool ceilMode = random.chance();
    // The output size the compiler's pool geometry gives (ceil_mode drops a window that would
    // start in the end padding).
    auto outputSize = [&](int in, int kernel, int stride, int dilation, int begin, int end) {
      const int span = in + begin + end - ((kernel - 1) * dilation + 1);
      if (span < 0) return 0;
      int out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
      if (ceilMode && (out - 1) * stride >= in + begin) --out;
      return out;
    };
    p.out_h = outputSize(p.in_h, p.kernel_h, p.stride_h, p.dilation_h, p.pad_top, p.pad_bottom);
    p.out_w = outputSize(p.in_w, p.kernel_w, p.stride_w, p.dilation_w, p.pad_left, p.pad_right);
    if (p.out_h == 0 || p.out_w == 0) continue;
    p.input_zp = random.between(-128, 127);
    p.output_zp = random.between(-128, 127);
    random.activationRange(p.act_min, p.act_max);
    const auto x = random.int8s(p.batch * p.channels * p.in_h * p.in_w);
    if (!everyWindowReachesInput(p)) continue; // the compiler rejects such geometries
    ++cases;
    ceilCases += ceilMode;

    const auto perCount = perCountFactors(p.kernel_h * p.kernel_w, random.real(0.5, 3.0));
    std::vector<int8_t> y(p.batch * p.channels * p.out_h * p.out_w);
    INFO("case " << cases);
    es_max_pool2d_s8(&p, x.data(), y.data());
    CHECK(ints(y) == referencePool(p, x, nullptr));
    es_avg_pool2d_s8(&p, perCount.data(), x.data(), y.data());
    CHECK(ints(y) == referencePool(p, x, &perCount));
    es_avg_pool2d_same_scale_s8(&p, x.data(), y.data());
    const std::vector<es_requant_t> sameScale;
    CHECK(ints(y) == referencePool(p, x, &sameScale));
  }
  CHECK(ceilCases > 50);
}

TEST_CASE("global_avg_pool: per-channel means, hand and random", "[s8][pool]") {
  SECTION("hand") {
    es_global_avg_pool_s8_params_t p{1, 2, 4, 1, 0, quantizeMultiplier(1.0 / 4), -128, 127};
    const std::vector<int8_t> x = int8s({1, 2, 3, 4, -9, -9, -9, -10});
    std::vector<int8_t> y(2);
    es_global_avg_pool_s8(&p, x.data(), y.data());
    // (0 + 1 + 2 + 3) / 4 = 1.5 -> 2; (-10 * 3 - 11) / 4 = -10.25 -> -10.
    CHECK(ints(y) == std::vector<int>{2, -10});
  }
  SECTION("random") {
    Random random(42);
    for (int trial = 0; trial < 100; ++trial) {
      es_global_avg_pool_s8_params_t p{};
      p.batch = random.between(1, 2);
      p.channels = random.between(1, 4);
      p.size = random.between(1, 50);
      p.input_zp = random.between(-128, 127);
      p.output_zp = random.between(-128, 127);
      p.requant = quantizeMultiplier(random.real(0.3, 3.0) / p.size);
      random.activationRange(p.act_min, p.act_max);
      const auto x = random.int8s(p.batch * p.channels * p.size);
      std::vector<int8_t> y(p.batch * p.channels);
      es_global_avg_pool_s8(&p, x.data(), y.data());
      std::vector<int> expected;
      for (int plane = 0; plane < p.batch * p.channels; ++plane) {
        double sum = 0;
        for (int i = 0; i < p.size; ++i) sum += x[plane * p.size + i] - p.input_zp;
        expected.push_back(
            referenceRescaleOnceOutput(sum, p.requant, p.output_zp, p.act_min, p.act_max));
      }
      CHECK(ints(y) == expected);
    }
  }
}

// =============================================================================================
// Element-wise
// =============================================================================================

es_binary_s8_params_t binaryParams(es_binary_s8_op_t op, std::array<int32_t, 4> aShape,
                                   std::array<int32_t, 4> bShape, std::array<int32_t, 4> outShape) {
  es_binary_s8_params_t p{};
  p.op = op;
  std::copy(aShape.begin(), aShape.end(), p.a_shape);
  std::copy(bShape.begin(), bShape.end(), p.b_shape);
  std::copy(outShape.begin(), outShape.end(), p.out_shape);
  p.act_min = -128;
  p.act_max = 127;
  return p;
}

// The Add/Sub factors of docs/int8.md from the three scales.
void setAddFactors(es_binary_s8_params_t &p, double sa, double sb, double sy) {
  const double twiceMax = 2 * std::max(sa, sb);
  p.a_requant = quantizeMultiplier(sa / twiceMax);
  p.b_requant = quantizeMultiplier(sb / twiceMax);
  p.output_requant = quantizeMultiplier(twiceMax / (std::ldexp(1.0, ES_S8_ADD_LEFT_SHIFT) * sy));
}

TEST_CASE("binary: hand-computed Add, Sub and Mul with broadcasting and zero points",
          "[s8][elementwise]") {
  const std::vector<int8_t> a = int8s({1, 2, 3, 4, 5, 6}); // [2, 3]
  SECTION("Add, equal scales: exact sums, row broadcast, saturation") {
    es_binary_s8_params_t p = binaryParams(ES_S8_ADD, {1, 1, 2, 3}, {1, 1, 1, 3}, {1, 1, 2, 3});
    setAddFactors(p, 0.5, 0.5, 0.5);
    const std::vector<int8_t> b = int8s({10, 120, -20});
    std::vector<int8_t> y(6);
    es_binary_s8(&p, a.data(), b.data(), y.data());
    CHECK(ints(y) == std::vector<int>{11, 122, -17, 14, 125, -14});
    p.b_zp = -10; // b - zb: 20, 130, -10
    p.output_zp = 1;
    p.act_max = 100;
    es_binary_s8(&p, a.data(), b.data(), y.data());
    CHECK(ints(y) == std::vector<int>{22, 100, -6, 25, 100, -3});
  }
  SECTION("Sub, column broadcast, different scales") {
    es_binary_s8_params_t p = binaryParams(ES_S8_SUB, {1, 1, 2, 3}, {1, 1, 2, 1}, {1, 1, 2, 3});
    setAddFactors(p, 1.0, 2.0, 1.0); // y = a - 2 b
    const std::vector<int8_t> b = int8s({1, -2});
    std::vector<int8_t> y(6);
    es_binary_s8(&p, a.data(), b.data(), y.data());
    CHECK(ints(y) == std::vector<int>{-1, 0, 1, 8, 9, 10});
  }
  SECTION("Mul, both operands broadcast to an outer product") {
    es_binary_s8_params_t p = binaryParams(ES_S8_MUL, {1, 1, 3, 1}, {1, 1, 1, 2}, {1, 1, 3, 2});
    p.output_requant = kHalf;
    p.a_zp = 1;  // a - za: 0, 1, 2
    p.b_zp = -1; // b - zb: 11, 60
    p.output_zp = -5;
    const std::vector<int8_t> b = int8s({10, 59});
    std::vector<int8_t> y(6);
    es_binary_s8(&p, a.data(), b.data(), y.data());
    // Products 0 0 11 60 22 120, halved (5.5 -> 6), minus 5.
    CHECK(ints(y) == std::vector<int>{-5, -5, 1, 25, 6, 55});
  }
}

TEST_CASE("binary: random broadcasts and scales match the reference and the real result",
          "[s8][elementwise]") {
  Random random(51);
  for (int trial = 0; trial < 300; ++trial) {
    const es_binary_s8_op_t op = static_cast<es_binary_s8_op_t>(random.between(0, 2));
    std::array<int32_t, 4> out{}, aShape{}, bShape{};
    for (int axis = 0; axis < 4; ++axis) {
      out[axis] = random.between(1, 3);
      aShape[axis] = random.chance() ? out[axis] : 1;
      bShape[axis] = random.chance() ? out[axis] : 1;
    }
    es_binary_s8_params_t p = binaryParams(op, aShape, bShape, out);
    const double sa = random.real(0.01, 0.2), sb = random.real(0.01, 0.2);
    const double sy = op == ES_S8_MUL ? random.real(0.05, 0.5) * sa * sb * 100
                                      : random.real(0.5, 2.0) * std::max(sa, sb) * 2;
    p.a_zp = random.between(-128, 127);
    p.b_zp = random.between(-128, 127);
    p.output_zp = random.between(-128, 127);
    random.activationRange(p.act_min, p.act_max);
    if (op == ES_S8_MUL)
      p.output_requant = quantizeMultiplier(sa * sb / sy);
    else
      setAddFactors(p, sa, sb, sy);

    auto count = [](const std::array<int32_t, 4> &s) { return s[0] * s[1] * s[2] * s[3]; };
    const auto a = random.int8s(count(aShape));
    const auto b = random.int8s(count(bShape));
    std::vector<int8_t> y(count(out));
    es_binary_s8(&p, a.data(), b.data(), y.data());

    std::vector<int> expected;
    int farFromReal = 0;
    for (int i0 = 0; i0 < out[0]; ++i0)
      for (int i1 = 0; i1 < out[1]; ++i1)
        for (int i2 = 0; i2 < out[2]; ++i2)
          for (int i3 = 0; i3 < out[3]; ++i3) {
            auto at = [&](const std::array<int32_t, 4> &s) {
              const int j0 = s[0] == 1 ? 0 : i0, j1 = s[1] == 1 ? 0 : i1;
              const int j2 = s[2] == 1 ? 0 : i2, j3 = s[3] == 1 ? 0 : i3;
              return ((j0 * s[1] + j1) * s[2] + j2) * s[3] + j3;
            };
            const int da = a[at(aShape)] - p.a_zp, db = b[at(bShape)] - p.b_zp;
            double combined = double(da) * db;
            double real = sa * da * sb * db;
            if (op != ES_S8_MUL) {
              const int32_t ra = referenceRequantize(da * (1 << ES_S8_ADD_LEFT_SHIFT), p.a_requant);
              const int32_t rb = referenceRequantize(db * (1 << ES_S8_ADD_LEFT_SHIFT), p.b_requant);
              combined = op == ES_S8_ADD ? double(ra) + rb : double(ra) - rb;
              real = op == ES_S8_ADD ? sa * da + sb * db : sa * da - sb * db;
            }
            const int q =
                referenceOutput(combined, p.output_requant, p.output_zp, p.act_min, p.act_max);
            expected.push_back(q);
            const double ideal = std::clamp(std::round(real / sy) + p.output_zp, double(p.act_min),
                                            double(p.act_max));
            farFromReal += std::fabs(q - ideal) > 1;
          }
    INFO("trial " << trial << ", op " << op);
    CHECK(ints(y) == expected);
    CHECK(farFromReal == 0); // the fixed-point scheme stays within one step of the real result
  }
}

TEST_CASE("binary: Max, Min and PRelu match the reference and the real result",
          "[s8][elementwise]") {
  Random random(53);
  const es_binary_s8_op_t ops[] = {ES_S8_MAX, ES_S8_MIN, ES_S8_PRELU};
  for (int trial = 0; trial < 300; ++trial) {
    const es_binary_s8_op_t op = ops[trial % 3];
    std::array<int32_t, 4> out{}, bShape{};
    for (int axis = 0; axis < 4; ++axis) {
      out[axis] = random.between(1, 3);
      bShape[axis] = random.chance() ? out[axis] : 1;
    }
    // a has the output's shape (PRelu's x); b broadcasts (the slope, or Max's other operand).
    es_binary_s8_params_t p = binaryParams(op, out, bShape, out);
    const double sa = random.real(0.01, 0.2), sb = random.real(0.01, 0.2);
    const double sy = random.real(0.5, 2.0) * std::max(sa, sb);
    p.a_zp = random.between(-128, 127);
    p.b_zp = random.between(-128, 127);
    p.output_zp = random.between(-128, 127);
    random.activationRange(p.act_min, p.act_max);
    p.a_requant = quantizeMultiplier(sa / sy);
    if (op == ES_S8_PRELU) p.output_requant = quantizeMultiplier(sa * sb / sy);
    else p.b_requant = quantizeMultiplier(sb / sy);

    auto count = [](const std::array<int32_t, 4> &s) { return s[0] * s[1] * s[2] * s[3]; };
    const auto a = random.int8s(count(out));
    const auto b = random.int8s(count(bShape));
    std::vector<int8_t> y(count(out));
    es_binary_s8(&p, a.data(), b.data(), y.data());

    std::vector<int> expected;
    int farFromReal = 0;
    for (int i = 0; i < count(out); ++i) {
      int rest = i, bIndex = 0, stride = 1;
      for (int axis = 3; axis >= 0; --axis) {
        const int position = rest % out[axis];
        rest /= out[axis];
        bIndex += (bShape[axis] == 1 ? 0 : position) * stride;
        stride *= bShape[axis];
      }
      const int da = a[i] - p.a_zp, db = b[bIndex] - p.b_zp;
      int q;
      double real;
      if (op == ES_S8_PRELU) {
        q = da >= 0 ? referenceOutput(da, p.a_requant, p.output_zp, p.act_min, p.act_max)
                    : referenceOutput(double(da) * db, p.output_requant, p.output_zp, p.act_min,
                                      p.act_max);
        real = da >= 0 ? sa * da : sa * da * sb * db;
      } else {
        const int qa = referenceRescaleOnceOutput(da, p.a_requant, p.output_zp, p.act_min,
                                                  p.act_max);
        const int qb = referenceRescaleOnceOutput(db, p.b_requant, p.output_zp, p.act_min,
                                                  p.act_max);
        q = op == ES_S8_MAX ? std::max(qa, qb) : std::min(qa, qb);
        real = op == ES_S8_MAX ? std::max(sa * da, sb * db) : std::min(sa * da, sb * db);
      }
      expected.push_back(q);
      const double ideal = std::clamp(std::round(real / sy) + p.output_zp, double(p.act_min),
                                      double(p.act_max));
      farFromReal += std::fabs(q - ideal) > 1;
    }
    INFO("trial " << trial << ", op " << op);
    CHECK(ints(y) == expected);
    CHECK(farFromReal == 0);
  }
}

// round(da * 2^23 / db) from the rationals, for the reference of ES_S8_DIV.
int64_t referenceScaledQuotient(int da, int db) {
  const Int128 numerator = Int128(da) * (Int128(1) << ES_S8_DIV_SHIFT);
  const Int128 magnitude = numerator < 0 ? -numerator : numerator;
  const Int128 divisor = db < 0 ? -db : db;
  const int64_t rounded = static_cast<int64_t>(floorDiv(2 * magnitude + divisor, 2 * divisor));
  return (da < 0) != (db < 0) ? -rounded : rounded;
}

TEST_CASE("binary: hand-computed Div, and division by the zero point", "[s8][elementwise]") {
  // a - za: -3, 0, 7 (rows); b - zb: 2, 0, -5 (columns); y = 2 a / b (Sa = 1, Sb = 1, Sy = 1/2).
  es_binary_s8_params_t p = binaryParams(ES_S8_DIV, {1, 1, 3, 1}, {1, 1, 1, 3}, {1, 1, 3, 3});
  p.a_zp = 1;
  p.b_zp = -2;
  p.output_zp = 5;
  p.output_requant = quantizeMultiplier(2.0 / std::ldexp(1.0, ES_S8_DIV_SHIFT));
  const std::vector<int8_t> a = int8s({-2, 1, 8}), b = int8s({0, -2, -7});
  std::vector<int8_t> y(9);
  es_binary_s8(&p, a.data(), b.data(), y.data());
  // Quotients -3, -inf, 1.2; 0, 0 / 0 (Zy), 0; 7, +inf, -2.8: the infinities saturate.
  CHECK(ints(y) == std::vector<int>{2, -128, 6, 5, 5, 5, 12, 127, 2});
  // A fused activation's range bounds the saturated results, and 0 / 0 clamps into it.
  p.act_min = 6;
  p.act_max = 10;
  es_binary_s8(&p, a.data(), b.data(), y.data());
  CHECK(ints(y) == std::vector<int>{6, 6, 6, 6, 6, 6, 10, 10, 6});
}

TEST_CASE("binary: Div over every pair of codes matches the reference and the nearest code",
          "[s8][elementwise]") {
  // Every (qa, qb): a as rows [1, 1, 256, 1], b as columns [1, 1, 1, 256].
  Random random(57);
  std::vector<int8_t> a(256), b(256), y(256 * 256);
  for (int q = 0; q < 256; ++q) a[q] = b[q] = static_cast<int8_t>(q - 128);
  for (int trial = 0; trial < 12; ++trial) {
    es_binary_s8_params_t p = binaryParams(ES_S8_DIV, {1, 1, 256, 1}, {1, 1, 1, 256},
                                           {1, 1, 256, 256});
    const double sa = random.real(0.01, 0.2), sb = random.real(0.01, 0.2);
    // Quotients of about 1 land from a few to a few hundred steps from the zero point.
    const double sy = random.real(0.004, 0.2) * sa / sb;
    p.a_zp = random.between(-128, 127);
    p.b_zp = random.between(-128, 127);
    p.output_zp = random.between(-128, 127);
    if (trial % 2) random.activationRange(p.act_min, p.act_max);
    p.output_requant = quantizeMultiplier(sa / (sb * sy * std::ldexp(1.0, ES_S8_DIV_SHIFT)));
    es_binary_s8(&p, a.data(), b.data(), y.data());

    int mismatches = 0, notNearest = 0, nearHalf = 0;
    for (int i = 0; i < 256; ++i)
      for (int j = 0; j < 256; ++j) {
        const int da = a[i] - p.a_zp, db = b[j] - p.b_zp;
        const int got = y[i * 256 + j];
        if (db == 0) {
          const int limit = da > 0 ? p.act_max : (da < 0 ? p.act_min : p.output_zp);
          mismatches += got != std::clamp(limit, p.act_min, p.act_max);
          continue;
        }
        mismatches += got != referenceOutput(double(referenceScaledQuotient(da, db)),
                                             p.output_requant, p.output_zp, p.act_min,
                                             p.act_max);
        // docs/int8.md "Div": the code nearest the real quotient except within 2^-7 of a half.
        const double real = sa * da / (sb * db) / sy;
        if (std::fabs(real - std::floor(real) - 0.5) < 1.0 / 128) {
          ++nearHalf;
          continue;
        }
        const double ideal = std::clamp(std::round(real) + p.output_zp, double(p.act_min),
                                        double(p.act_max));
        notNearest += got != ideal;
      }
    INFO("trial " << trial << ", " << nearHalf << " quotients near a half");
    CHECK(mismatches == 0);
    CHECK(notNearest == 0);
  }
}

TEST_CASE("lut: every int8 value reads its table entry", "[s8][lut]") {
  int8_t table[256];
  for (int i = 0; i < 256; ++i) table[i] = static_cast<int8_t>(127 - i); // q -> -1 - q
  std::vector<int8_t> in(256), out(256, 0);
  for (int i = 0; i < 256; ++i) in[i] = static_cast<int8_t>(i - 128);
  es_lut_s8(table, in.data(), out.data(), 256);
  for (int i = 0; i < 256; ++i) CHECK(int(out[i]) == -1 - in[i]);
  std::vector<int8_t> untouched = int8s({9, 9});
  es_lut_s8(table, in.data(), untouched.data(), 1);
  CHECK(ints(untouched) == std::vector<int>{127, 9});
}

// =============================================================================================
// Softmax
// =============================================================================================

std::array<uint32_t, 256> expTable(double inputScale) {
  std::array<uint32_t, 256> table{};
  for (int d = 0; d < 256; ++d)
    table[d] = static_cast<uint32_t>(std::llround(65536.0 * std::exp(inputScale * (d - 255))));
  return table;
}

TEST_CASE("softmax: hand-computed rows", "[s8][softmax]") {
  const auto table = expTable(0.1);
  SECTION("equal elements share 256 evenly; a single element saturates at 127") {
    const es_softmax_s8_params_t rows{2, 4, 1};
    const std::vector<int8_t> x = int8s({5, 5, 5, 5, -128, -128, -128, -128});
    std::vector<int8_t> y(8);
    es_softmax_s8(&rows, table.data(), x.data(), y.data());
    // (65536 * 256 + 131072) / 262144 = 64.5 -> 64, - 128.
    CHECK(ints(y) == std::vector<int>(8, -64));
    const es_softmax_s8_params_t single{1, 1, 1};
    es_softmax_s8(&single, table.data(), x.data(), y.data());
    CHECK(int(y[0]) == 127);
  }
  SECTION("a far larger maximum takes everything") {
    const es_softmax_s8_params_t rows{1, 3, 1};
    const std::vector<int8_t> x = int8s({127, -128, -128});
    std::vector<int8_t> y(3);
    es_softmax_s8(&rows, expTable(1.0).data(), x.data(), y.data());
    // e[0] = round(65536 * e^-255) = 0.
    CHECK(ints(y) == std::vector<int>{127, -128, -128});
  }
  SECTION("two elements one step apart, along a strided axis") {
    // [outer 1, length 2, inner 2]: lines (0, 2) and (1, 3).
    const es_softmax_s8_params_t p{1, 2, 2};
    const std::vector<int8_t> x = int8s({10, 0, 9, 0});
    std::vector<int8_t> y(4);
    es_softmax_s8(&p, table.data(), x.data(), y.data());
    // e = 65536 and round(65536 e^-0.1) = 59299, sum 124835: 134.9 -> 134 and 122.1 -> 122; the
    // second line's equal pair: 128.5 -> 128.
    CHECK(ints(y) == std::vector<int>{134 - 128, 0, 122 - 128, 0});
  }
}

TEST_CASE("softmax: random lines match the integer formula and the real softmax", "[s8][softmax]") {
  Random random(61);
  for (int trial = 0; trial < 200; ++trial) {
    const es_softmax_s8_params_t p{random.between(1, 3), random.between(1, 40),
                                   random.between(1, 3)};
    const double scale = random.real(0.005, 0.3);
    const auto table = expTable(scale);
    const auto x = random.int8s(p.outer * p.length * p.inner);
    std::vector<int8_t> y(x.size());
    es_softmax_s8(&p, table.data(), x.data(), y.data());
    std::vector<int> expected(x.size());
    int farFromReal = 0;
    for (int o = 0; o < p.outer; ++o)
      for (int i = 0; i < p.inner; ++i) {
        auto at = [&](int k) { return (o * p.length + k) * p.inner + i; };
        int largest = -128;
        for (int k = 0; k < p.length; ++k) largest = std::max(largest, int(x[at(k)]));
        uint64_t sum = 0;
        double realSum = 0;
        for (int k = 0; k < p.length; ++k) {
          sum += table[x[at(k)] - largest + 255];
          realSum += std::exp(scale * (x[at(k)] - largest));
        }
        for (int k = 0; k < p.length; ++k) {
          const uint64_t e = table[x[at(k)] - largest + 255];
          expected[at(k)] = std::clamp(int((e * 256 + sum / 2) / sum) - 128, -128, 127);
          const double real = std::exp(scale * (x[at(k)] - largest)) / realSum;
          const double ideal = std::clamp(std::round(real * 256) - 128, -128.0, 127.0);
          farFromReal += std::fabs(expected[at(k)] - ideal) > 1;
        }
      }
    INFO("trial " << trial);
    CHECK(ints(y) == expected);
    CHECK(farFromReal == 0);
  }
}

// =============================================================================================
// Layout: concat, pad, transpose
// =============================================================================================

TEST_CASE("concat: copies and rescaled inputs land in their slices", "[s8][concat]") {
  SECTION("hand") {
    // [2, 2] and [2, 1] along axis 1 -> [2, 3]; the second is rescaled by 1/2 from zp 4 to zp -1.
    const std::vector<int8_t> first = int8s({1, 2, 3, 4});
    const std::vector<int8_t> second = int8s({14, -124});
    const es_concat_s8_input_t inputs[] = {{2, 0, 0, {0, 0}}, {1, 1, 4, kHalf}};
    const es_concat_s8_params_t p{2, 1, 2, inputs, -1};
    const int8_t *data[] = {first.data(), second.data()};
    std::vector<int8_t> y(6);
    es_concat_s8(&p, data, y.data());
    // (14 - 4) / 2 - 1 = 4; (-124 - 4) / 2 - 1 = -65.
    CHECK(ints(y) == std::vector<int>{1, 2, 4, 3, 4, -65});
  }
  SECTION("rescaling saturates to int8") {
    const std::vector<int8_t> only = int8s({100, -100});
    const es_concat_s8_input_t inputs[] = {{2, 1, 0, quantizeMultiplier(3.0)}};
    const es_concat_s8_params_t p{1, 1, 1, inputs, 0};
    const int8_t *data[] = {only.data()};
    std::vector<int8_t> y(2);
    es_concat_s8(&p, data, y.data());
    CHECK(ints(y) == std::vector<int>{127, -128});
  }
  SECTION("random") {
    Random random(71);
    for (int trial = 0; trial < 200; ++trial) {
      const int outer = random.between(1, 3), inner = random.between(1, 4);
      const int count = random.between(1, 4);
      std::vector<es_concat_s8_input_t> inputs(count);
      std::vector<std::vector<int8_t>> values(count);
      std::vector<const int8_t *> data(count);
      int total = 0;
      for (int k = 0; k < count; ++k) {
        inputs[k] = {random.between(1, 3), random.chance(), random.between(-128, 127),
                     quantizeMultiplier(random.real(0.3, 2.5))};
        values[k] = random.int8s(outer * inputs[k].axis_size * inner);
        data[k] = values[k].data();
        total += inputs[k].axis_size;
      }
      const es_concat_s8_params_t p{outer, inner, count, inputs.data(), random.between(-128, 127)};
      std::vector<int8_t> y(outer * total * inner);
      es_concat_s8(&p, data.data(), y.data());
      std::vector<int> expected(y.size());
      for (int o = 0; o < outer; ++o) {
        int axisOffset = 0;
        for (int k = 0; k < count; ++k) {
          for (int a = 0; a < inputs[k].axis_size; ++a)
            for (int i = 0; i < inner; ++i) {
              const int q = values[k][(o * inputs[k].axis_size + a) * inner + i];
              expected[(o * total + axisOffset + a) * inner + i] =
                  inputs[k].rescale
                      ? referenceRescaleOnceOutput(q - inputs[k].input_zp, inputs[k].requant,
                                                   p.output_zp, -128, 127)
                      : q;
            }
          axisOffset += inputs[k].axis_size;
        }
      }
      INFO("trial " << trial);
      CHECK(ints(y) == expected);
    }
  }
}

TEST_CASE("means round once: random sums and counts give round(sum * Sx / (n * Sy)) + Zy",
          "[s8][reduce][pool]") {
  // What onnxruntime computes on the emitted QDQ file (DequantizeLinear, float mean,
  // QuantizeLinear with ties to even), from the real factor rather than its stored multiplier.
  // Sums whose real quotient lies within 1e-6 of a half are left out: there the multiplier's
  // 2^-31 relative rounding decides. Rounding twice (requantize()) misses a few percent of
  // these, up to one in eight for factors in [1/8, 1/4) where its high multiply keeps 2 bits.
  Random random(2026);
  int checked = 0, mismatches = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    const int n = random.between(1, 64);
    const double inputOverOutputScale = random.real(0.2, 12.0);
    es_reduce_mean_s8_params_t p{1,
                                 n,
                                 1,
                                 random.between(-128, 127),
                                 random.between(-128, 127),
                                 quantizeMultiplier(inputOverOutputScale / n),
                                 -128,
                                 127};
    const auto x = random.int8s(n);
    long double sum = 0;
    for (int8_t q : x) sum += q - p.input_zp;
    const long double real = sum * inputOverOutputScale / n;
    if (std::fabs(real - std::floor(real) - 0.5L) < 1e-6L) continue;
    int8_t y = 0;
    es_reduce_mean_s8(&p, x.data(), &y);
    const long double expected =
        std::clamp<long double>(std::nearbyint(real) + p.output_zp, -128, 127);
    ++checked;
    mismatches += y != expected;
    INFO("n " << n << " sum " << static_cast<double>(sum) << " factor " << inputOverOutputScale);
    CHECK(y == expected);
  }
  CHECK(checked > 1900);
  CHECK(mismatches == 0);
}

TEST_CASE("means round once: exact halves go to the even neighbour", "[s8][reduce][pool]") {
  // Sx == Sy over 4 elements: the factor 1/4 is exact, so sums 2, 6, -2, -6 are exact halves
  // 0.5, 1.5, -0.5, -1.5 and round to 0, 2, 0, -2 (onnxruntime's QuantizeLinear); a sum of 10
  // (2.5) rounds to 2. The same factor in a GlobalAveragePool and a padded AveragePool.
  es_reduce_mean_s8_params_t p{5, 4, 1, 0, 0, quantizeMultiplier(1.0 / 4), -128, 127};
  const std::vector<int8_t> x =
      int8s({2, 0, 0, 0, 3, 3, 0, 0, -1, -1, 0, 0, -3, -3, 0, 0, 5, 5, 0, 0});
  std::vector<int8_t> y(5);
  es_reduce_mean_s8(&p, x.data(), y.data());
  CHECK(ints(y) == std::vector<int>{0, 2, 0, -2, 2});
  es_global_avg_pool_s8_params_t g{1, 5, 4, 0, 0, p.requant, -128, 127};
  es_global_avg_pool_s8(&g, x.data(), y.data());
  CHECK(ints(y) == std::vector<int>{0, 2, 0, -2, 2});
}

es_pad_s8_params_t padParams(es_pad_mode_t mode, std::array<int32_t, 4> shape,
                             std::array<int32_t, 4> begin, std::array<int32_t, 4> end,
                             int32_t value) {
  es_pad_s8_params_t p{};
  p.mode = mode;
  std::copy(shape.begin(), shape.end(), p.in_shape);
  std::copy(begin.begin(), begin.end(), p.pads_begin);
  std::copy(end.begin(), end.end(), p.pads_end);
  p.value = value;
  return p;
}

TEST_CASE("pad: constant, edge and reflect, wide and negative pads", "[s8][pad]") {
  const std::vector<int8_t> x = int8s({1, 2, 3});
  auto pad1d = [&](es_pad_mode_t mode, int begin, int end) {
    const es_pad_s8_params_t p = padParams(mode, {1, 1, 1, 3}, {0, 0, 0, begin}, {0, 0, 0, end}, 5);
    std::vector<int8_t> y(3 + begin + end);
    es_pad_s8(&p, x.data(), y.data());
    return ints(y);
  };
  CHECK(pad1d(ES_PAD_CONSTANT, 2, 2) == std::vector<int>{5, 5, 1, 2, 3, 5, 5});
  CHECK(pad1d(ES_PAD_EDGE, 2, 2) == std::vector<int>{1, 1, 1, 2, 3, 3, 3});
  CHECK(pad1d(ES_PAD_REFLECT, 2, 2) == std::vector<int>{3, 2, 1, 2, 3, 2, 1});
  // Wider than the input: numpy reflects periodically.
  CHECK(pad1d(ES_PAD_REFLECT, 5, 0) == std::vector<int>{2, 1, 2, 3, 2, 1, 2, 3});
  CHECK(pad1d(ES_PAD_CONSTANT, -1, 1) == std::vector<int>{2, 3, 5});
  CHECK(pad1d(ES_PAD_REFLECT, -2, 0) == std::vector<int>{3});

  // 2-D: a [2, 2] input padded by one all around in edge mode.
  const std::vector<int8_t> square = int8s({1, 2, 3, 4});
  const es_pad_s8_params_t p = padParams(ES_PAD_EDGE, {1, 1, 2, 2}, {0, 0, 1, 1}, {0, 0, 1, 1}, 0);
  std::vector<int8_t> y(16);
  es_pad_s8(&p, square.data(), y.data());
  CHECK(ints(y) == std::vector<int>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
}

TEST_CASE("pad: random shapes and pads match the reference", "[s8][pad]") {
  Random random(81);
  for (int trial = 0; trial < 300; ++trial) {
    const es_pad_mode_t mode = static_cast<es_pad_mode_t>(random.between(0, 2));
    std::array<int32_t, 4> shape{}, begin{}, end{}, out{};
    for (int axis = 0; axis < 4; ++axis) {
      shape[axis] = random.between(1, 3);
      do {
        begin[axis] = random.between(-2, 5);
        end[axis] = random.between(-2, 5);
        out[axis] = shape[axis] + begin[axis] + end[axis];
      } while (out[axis] < 1);
    }
    const es_pad_s8_params_t p = padParams(mode, shape, begin, end, random.between(-128, 127));
    const auto x = random.int8s(shape[0] * shape[1] * shape[2] * shape[3]);
    std::vector<int8_t> y(out[0] * out[1] * out[2] * out[3]);
    es_pad_s8(&p, x.data(), y.data());

    // Reflect by bouncing off the ends until inside, rather than by the kernel's modulo.
    auto source = [&](int position, int length) {
      if (position >= 0 && position < length) return position;
      if (mode == ES_PAD_CONSTANT) return -1;
      if (mode == ES_PAD_EDGE) return std::clamp(position, 0, length - 1);
      if (length == 1) return 0;
      while (position < 0 || position >= length)
        position = position < 0 ? -position : 2 * (length - 1) - position;
      return position;
    };
    std::vector<int> expected;
    for (int i0 = 0; i0 < out[0]; ++i0)
      for (int i1 = 0; i1 < out[1]; ++i1)
        for (int i2 = 0; i2 < out[2]; ++i2)
          for (int i3 = 0; i3 < out[3]; ++i3) {
            const int j0 = source(i0 - begin[0], shape[0]), j1 = source(i1 - begin[1], shape[1]);
            const int j2 = source(i2 - begin[2], shape[2]), j3 = source(i3 - begin[3], shape[3]);
            const bool inside = j0 >= 0 && j1 >= 0 && j2 >= 0 && j3 >= 0;
            expected.push_back(inside ? x[((j0 * shape[1] + j1) * shape[2] + j2) * shape[3] + j3]
                                      : p.value);
          }
    INFO("trial " << trial << ", mode " << mode);
    CHECK(ints(y) == expected);
  }
}

TEST_CASE("transpose: hand-computed matrix and random 4-D permutations (rows of 1 to 6: the four-element passes and their remainder)", "[s8][transpose]") {
  const std::vector<int8_t> matrix = int8s({1, 2, 3, 4, 5, 6}); // [2, 3]
  es_transpose_s8_params_t p{{1, 1, 2, 3}, {0, 1, 3, 2}};
  std::vector<int8_t> y(6);
  es_transpose_s8(&p, matrix.data(), y.data());
  CHECK(ints(y) == std::vector<int>{1, 4, 2, 5, 3, 6});

  Random random(91);
  for (int trial = 0; trial < 200; ++trial) {
    std::array<int32_t, 4> shape{}, perm{0, 1, 2, 3};
    for (int32_t &d : shape) d = random.between(1, 6);
    std::shuffle(perm.begin(), perm.end(), random.engine);
    es_transpose_s8_params_t q{};
    std::copy(shape.begin(), shape.end(), q.in_shape);
    std::copy(perm.begin(), perm.end(), q.perm);
    const auto x = random.int8s(shape[0] * shape[1] * shape[2] * shape[3]);
    std::vector<int8_t> out(x.size());
    es_transpose_s8(&q, x.data(), out.data());
    std::vector<int> expected(x.size());
    // Scatter each input element to where the permutation sends it.
    for (int flat = 0; flat < int(x.size()); ++flat) {
      std::array<int, 4> index{};
      for (int axis = 3, rest = flat; axis >= 0; --axis) {
        index[axis] = rest % shape[axis];
        rest /= shape[axis];
      }
      int target = 0;
      for (int axis = 0; axis < 4; ++axis) target = target * shape[perm[axis]] + index[perm[axis]];
      expected[target] = x[flat];
    }
    INFO("trial " << trial);
    CHECK(ints(out) == expected);
  }
}

// =============================================================================================
// ReduceMean
// =============================================================================================

TEST_CASE("reduce_mean: hand-computed middle-axis mean and random blocks", "[s8][reduce]") {
  SECTION("hand") {
    // [outer 1, reduce 3, inner 2], mean over the middle axis with factor 1/3.
    es_reduce_mean_s8_params_t p{1, 3, 2, -2, 1, quantizeMultiplier(1.0 / 3), -128, 127};
    const std::vector<int8_t> x = int8s({-2, 0, 1, 3, 3, -2}); // x + 2: 0 2 | 3 5 | 5 0
    std::vector<int8_t> y(2);
    es_reduce_mean_s8(&p, x.data(), y.data());
    // 8 / 3 = 2.67 -> 3, 7 / 3 = 2.33 -> 2, then + 1. Double-rounding requantize() would give 3
    // for 7: 1/3 is (1431655765, -1), its high multiply rounds 4.67 to 5 and its shift 2.5 to 3.
    CHECK(es_requantize(7, p.requant) == (kSingleRoundingRun ? 2 : 3));
    CHECK(ints(y) == std::vector<int>{4, 3});
    p.act_max = 3;
    es_reduce_mean_s8(&p, x.data(), y.data());
    CHECK(ints(y) == std::vector<int>{3, 3});
  }
  SECTION("random") {
    Random random(101);
    for (int trial = 0; trial < 200; ++trial) {
      es_reduce_mean_s8_params_t p{};
      p.outer = random.between(1, 3);
      p.reduce = random.between(1, 30);
      p.inner = random.between(1, 4);
      p.input_zp = random.between(-128, 127);
      p.output_zp = random.between(-128, 127);
      p.requant = quantizeMultiplier(random.real(0.3, 3.0) / p.reduce);
      random.activationRange(p.act_min, p.act_max);
      const auto x = random.int8s(p.outer * p.reduce * p.inner);
      std::vector<int8_t> y(p.outer * p.inner);
      es_reduce_mean_s8(&p, x.data(), y.data());
      std::vector<int> expected;
      for (int o = 0; o < p.outer; ++o)
        for (int i = 0; i < p.inner; ++i) {
          double sum = 0;
          for (int r = 0; r < p.reduce; ++r)
            sum += x[(o * p.reduce + r) * p.inner + i] - p.input_zp;
          expected.push_back(
              referenceRescaleOnceOutput(sum, p.requant, p.output_zp, p.act_min, p.act_max));
        }
      INFO("trial " << trial);
      CHECK(ints(y) == expected);
    }
  }
}

TEST_CASE("reduce_max and argmax: hand-computed blocks, ties, clamp", "[s8][reduce]") {
  // [outer 2, reduce 3, inner 2].
  const std::vector<int8_t> x = int8s({-5, 7, 3, 7, -128, 2, 0, 0, 127, -1, 127, -1});
  SECTION("reduce_max keeps the codes, clamped to a fused activation") {
    es_reduce_max_s8_params_t p{2, 3, 2, -128, 127};
    std::vector<int8_t> y(4);
    es_reduce_max_s8(&p, x.data(), y.data());
    CHECK(ints(y) == std::vector<int>{3, 7, 127, 0});
    p.act_min = 1;
    p.act_max = 100;
    es_reduce_max_s8(&p, x.data(), y.data());
    CHECK(ints(y) == std::vector<int>{3, 7, 100, 1});
  }
  SECTION("argmax: the first of equal codes, or the last, written k + zero point") {
    es_argmax_s8_params_t p{2, 3, 2, 0, -128};
    std::vector<int8_t> y(4);
    es_argmax_s8(&p, x.data(), y.data());
    CHECK(ints(y) == std::vector<int>{1 - 128, 0 - 128, 1 - 128, 0 - 128});
    p.select_last_index = 1;
    es_argmax_s8(&p, x.data(), y.data());
    CHECK(ints(y) == std::vector<int>{1 - 128, 1 - 128, 2 - 128, 0 - 128});
    // 256 elements: the last index is code 127.
    std::vector<int8_t> line(256, 0);
    line[255] = 1;
    const es_argmax_s8_params_t longest{1, 256, 1, 0, -128};
    es_argmax_s8(&longest, line.data(), y.data());
    CHECK(int(y[0]) == 127);
  }
}

TEST_CASE("reduce_l2: the nearest code of the real norm, rescaled once", "[s8][reduce]") {
  SECTION("hand") {
    // [outer 1, reduce 2, inner 2] with Zx = 1: (3, 4) and (0, 0) from the zero point.
    es_reduce_mean_s8_params_t p{1, 2, 2, 1, -3, quantizeMultiplier(1.0 / 65536), -128, 127};
    const std::vector<int8_t> x = int8s({4, 1, 5, 1});
    std::vector<int8_t> y(2);
    es_reduce_l2_s8(&p, x.data(), y.data());
    CHECK(ints(y) == std::vector<int>{5 - 3, 0 - 3});
  }
  SECTION("random") {
    Random random(71);
    int total = 0, exact = 0;
    for (int trial = 0; trial < 300; ++trial) {
      es_reduce_mean_s8_params_t p{};
      p.outer = random.between(1, 3);
      p.reduce = trial == 0 ? ES_S8_REDUCE_L2_MAX_LENGTH : random.between(1, 60);
      p.inner = random.between(1, 3);
      p.input_zp = random.between(-128, 127);
      p.output_zp = random.between(-128, 127);
      const double factor = random.real(0.005, 0.3);
      p.requant = quantizeMultiplier(factor / 65536);
      p.act_min = -128;
      p.act_max = 127;
      const auto x = random.int8s(p.outer * p.reduce * p.inner);
      std::vector<int8_t> y(p.outer * p.inner);
      es_reduce_l2_s8(&p, x.data(), y.data());
      for (int o = 0; o < p.outer; ++o)
        for (int i = 0; i < p.inner; ++i) {
          double squares = 0;
          for (int r = 0; r < p.reduce; ++r) {
            const double d = x[(o * p.reduce + r) * p.inner + i] - p.input_zp;
            squares += d * d;
          }
          const double real = factor * std::sqrt(squares) + p.output_zp;
          const double ideal = std::clamp(std::nearbyint(real), -128.0, 127.0);
          const int got = y[o * p.inner + i];
          INFO("trial " << trial << " real " << real);
          CHECK(std::fabs(got - ideal) <= 1);
          // The root truncated to 2^-16 and the factor's 31 bits: only that close to a half may
          // round the other way.
          if (std::fabs(real - std::floor(real) - 0.5) > 1e-4) CHECK(got == ideal);
          exact += got == ideal;
          ++total;
        }
    }
    CHECK(exact >= total * 99 / 100);
  }
}

// docs/int8.md "Softmax / LogSoftmax": the log-softmax of the dequantised line in units of Sy.
double realLogSoftmax(const std::vector<int8_t> &x, const std::vector<int> &line, int k,
                      double scale) {
  int largest = -128;
  for (int at : line) largest = std::max(largest, int(x[at]));
  double sum = 0;
  for (int at : line) sum += std::exp(scale * (x[at] - largest));
  return scale * (x[line[k]] - largest) - std::log(sum);
}

TEST_CASE("log_softmax: random lines are the nearest code of the real log-softmax",
          "[s8][softmax]") {
  Random random(67);
  int total = 0, exact = 0;
  for (int trial = 0; trial < 300; ++trial) {
    es_log_softmax_s8_params_t p{random.between(1, 3), random.between(1, 300),
                                 random.between(1, 3), 0, 0};
    const double inputScale = random.real(0.002, 0.3);
    const double outputScale = trial % 3 == 0 ? random.real(0.01, 0.2) : 16.0 / 256;
    p.output_zp = trial % 3 == 0 ? random.between(0, 127) : 127;
    p.log_factor = static_cast<int32_t>(std::llround(65536.0 * std::log(2.0) / outputScale));
    const auto table = expTable(inputScale);
    std::array<int32_t, 256> shifts{};
    for (int d = 0; d < 256; ++d)
      shifts[d] = static_cast<int32_t>(std::max<double>(
          std::llround(65536.0 * inputScale * (d - 255) / outputScale), -(1 << 30)));
    const auto x = random.int8s(p.outer * p.length * p.inner);
    std::vector<int8_t> y(x.size());
    es_log_softmax_s8(&p, table.data(), shifts.data(), x.data(), y.data());
    for (int o = 0; o < p.outer; ++o)
      for (int i = 0; i < p.inner; ++i) {
        std::vector<int> line;
        for (int k = 0; k < p.length; ++k) line.push_back((o * p.length + k) * p.inner + i);
        for (int k = 0; k < p.length; ++k) {
          const double real = realLogSoftmax(x, line, k, inputScale) / outputScale + p.output_zp;
          const double ideal = std::clamp(std::floor(real + 0.5), -128.0, 127.0);
          INFO("trial " << trial << " real " << real);
          CHECK(std::fabs(y[line[k]] - ideal) <= 1);
          // The table's sum is within length * 2^-17 of the exact one relative to it (each entry
          // within 1/2 of 2^16 e^..., the sum at least 2^16), the logarithm within 2^-16: only a
          // value that close to a half (in steps of Sy) may round the other way.
          const double margin = (p.length * std::ldexp(1.0, -17) + std::ldexp(1.0, -15)) /
                                outputScale;
          if (std::fabs(real - std::floor(real) - 0.5) > margin) CHECK(y[line[k]] == ideal);
          exact += y[line[k]] == ideal;
          ++total;
        }
      }
  }
  CHECK(total > 10000);
  INFO(exact << " of " << total);
  CHECK(exact >= total * 99 / 100);
}

TEST_CASE("log_softmax: a single element is log(1) = 0, equal elements log(1/n)", "[s8][softmax]") {
  const auto table = expTable(0.05);
  std::array<int32_t, 256> shifts{};
  for (int d = 0; d < 256; ++d)
    shifts[d] = static_cast<int32_t>(std::llround(65536.0 * 0.05 * (d - 255) * 16));
  const int32_t factor = static_cast<int32_t>(std::llround(65536.0 * std::log(2.0) * 16));
  es_log_softmax_s8_params_t p{1, 1, 1, factor, 127};
  const std::vector<int8_t> x = int8s({-7, -7, -7, -7});
  std::vector<int8_t> y(4);
  es_log_softmax_s8(&p, table.data(), shifts.data(), x.data(), y.data());
  CHECK(int(y[0]) == 127);
  p.length = 4;
  es_log_softmax_s8(&p, table.data(), shifts.data(), x.data(), y.data());
  // ln(1/4) * 16 = -22.18: 127 - 22 = 105.
  CHECK(ints(y) == std::vector<int>(4, 105));
}

} // namespace
