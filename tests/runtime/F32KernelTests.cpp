// The float32 kernels of runtime-c: small cases worked out by hand, then randomized geometries
// against naive double-precision implementations written here from the ONNX definitions.
#include "es_f32.h"

#include <catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr double kRelativeTolerance = 1e-5;
using Shape4 = std::array<int32_t, 4>;

// A reference result: the exact value, and the scale its float32 rounding error is relative to.
// For a sum that is the sum of the terms' magnitudes, since the float accumulator's error grows
// with them even when the result cancels to nearly 0.
struct Expected {
  double value;
  double scale;
};

Expected exact(double value) { return {value, std::abs(value)}; }

void requireClose(const std::vector<float> &got, const std::vector<Expected> &want) {
  REQUIRE(got.size() == want.size());
  size_t mismatches = 0;
  size_t first = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const bool close =
        std::isnan(want[i].value)
            ? std::isnan(got[i])
            : std::abs(got[i] - want[i].value) <=
                  kRelativeTolerance * std::max(std::abs(want[i].value), want[i].scale);
    if (!close && mismatches++ == 0) first = i;
  }
  if (mismatches != 0) {
    INFO("first of " << mismatches << " mismatches: element " << first << " is " << got[first]
                     << ", expected " << want[first].value);
    FAIL_CHECK();
  }
}

// Element-for-element equality for the kernels that only move or compare values.
void requireEqual(const std::vector<float> &got, const std::vector<float> &want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    if (std::isnan(want[i]))
      REQUIRE(std::isnan(got[i]));
    else
      REQUIRE(got[i] == want[i]);
  }
}

class Random {
public:
  explicit Random(uint32_t seed) : engine_(seed) {}
  int32_t integer(int32_t lo, int32_t hi) {
    return std::uniform_int_distribution<int32_t>(lo, hi)(engine_);
  }
  bool coin() { return integer(0, 1) == 1; }
  float real(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(engine_); }
  std::vector<float> reals(size_t count, float lo = -1.0f, float hi = 1.0f) {
    std::vector<float> values(count);
    for (float &value : values) value = real(lo, hi);
    return values;
  }
  template <typename T> void shuffle(T &values) {
    std::shuffle(values.begin(), values.end(), engine_);
  }

private:
  std::mt19937 engine_;
};

size_t elementCount(const Shape4 &shape) {
  return std::accumulate(shape.begin(), shape.end(), size_t{1}, std::multiplies<size_t>());
}

size_t flatIndex(const Shape4 &shape, const Shape4 &index) {
  size_t flat = 0;
  for (int axis = 0; axis < 4; ++axis) flat = flat * shape[axis] + index[axis];
  return flat;
}

// Every index of `shape` in row-major order.
std::vector<Shape4> allIndices(const Shape4 &shape) {
  std::vector<Shape4> indices;
  Shape4 index{};
  for (index[0] = 0; index[0] < shape[0]; ++index[0])
    for (index[1] = 0; index[1] < shape[1]; ++index[1])
      for (index[2] = 0; index[2] < shape[2]; ++index[2])
        for (index[3] = 0; index[3] < shape[3]; ++index[3]) indices.push_back(index);
  return indices;
}

std::string describe(const Shape4 &shape) {
  std::ostringstream text;
  text << '[' << shape[0] << ',' << shape[1] << ',' << shape[2] << ',' << shape[3] << ']';
  return text.str();
}

// A random fused activation: none, or a clamp that cuts into [-1, 1]-ish results.
std::pair<float, float> randomActivation(Random &random) {
  if (random.coin()) return {-kInf, kInf};
  return {random.real(-0.6f, -0.1f), random.real(0.1f, 0.6f)};
}

Expected clampExpected(Expected sum, float lo, float hi) {
  if (sum.value < lo) return exact(lo);
  if (sum.value > hi) return exact(hi);
  return sum;
}

// ---- Convolution --------------------------------------------------------------------------

std::vector<float> runConv(const es_conv2d_f32_params_t &p, const std::vector<float> &input,
                           const std::vector<float> &weights, const float *bias) {
  std::vector<float> output(static_cast<size_t>(p.batch * p.out_channels * p.out_h * p.out_w));
  es_conv2d_f32(&p, input.data(), weights.data(), bias, output.data());
  return output;
}

std::vector<Expected> referenceConv(const es_conv2d_f32_params_t &p,
                                    const std::vector<float> &input,
                                    const std::vector<float> &weights, const float *bias) {
  const int32_t inPerGroup = p.in_channels / p.groups;
  const int32_t outPerGroup = p.out_channels / p.groups;
  auto x = [&](int32_t n, int32_t c, int32_t y, int32_t xx) -> double {
    if (y < 0 || y >= p.in_h || xx < 0 || xx >= p.in_w) return 0.0;
    return input[((n * p.in_channels + c) * p.in_h + y) * p.in_w + xx];
  };
  std::vector<Expected> output;
  for (int32_t n = 0; n < p.batch; ++n)
    for (int32_t oc = 0; oc < p.out_channels; ++oc)
      for (int32_t oy = 0; oy < p.out_h; ++oy)
        for (int32_t ox = 0; ox < p.out_w; ++ox) {
          Expected sum{bias ? bias[oc] : 0.0, bias ? std::abs(bias[oc]) : 0.0};
          for (int32_t c = 0; c < inPerGroup; ++c)
            for (int32_t ky = 0; ky < p.kernel_h; ++ky)
              for (int32_t kx = 0; kx < p.kernel_w; ++kx) {
                const double w =
                    weights[((oc * inPerGroup + c) * p.kernel_h + ky) * p.kernel_w + kx];
                const double term = w * x(n, oc / outPerGroup * inPerGroup + c,
                                          oy * p.stride_h - p.pad_top + ky * p.dilation_h,
                                          ox * p.stride_w - p.pad_left + kx * p.dilation_w);
                sum.value += term;
                sum.scale += std::abs(term);
              }
          output.push_back(clampExpected(sum, p.act_min, p.act_max));
        }
  return output;
}

es_conv2d_f32_params_t conv3x3Image(int32_t out_h, int32_t out_w, int32_t kernel, int32_t stride,
                                    int32_t dilation, int32_t pad) {
  return {.batch = 1, .in_channels = 1, .in_h = 3, .in_w = 3, .out_channels = 1, .out_h = out_h,
          .out_w = out_w, .kernel_h = kernel, .kernel_w = kernel, .stride_h = stride,
          .stride_w = stride, .dilation_h = dilation, .dilation_w = dilation, .pad_top = pad,
          .pad_left = pad, .groups = 1, .act_min = -kInf, .act_max = kInf};
}

const std::vector<float> kOneToNine{1, 2, 3, 4, 5, 6, 7, 8, 9};

TEST_CASE("conv2d f32: hand-computed windows, bias and activation clamp", "[f32][conv]") {
  es_conv2d_f32_params_t p = conv3x3Image(2, 2, 2, 1, 1, 0);
  const std::vector<float> weights{1, 2, 3, 4};
  requireEqual(runConv(p, kOneToNine, weights, nullptr), {37, 47, 67, 77});
  const float bias = 1.0f;
  requireEqual(runConv(p, kOneToNine, weights, &bias), {38, 48, 68, 78});
  p.act_min = 40.0f;
  p.act_max = 70.0f;
  requireEqual(runConv(p, kOneToNine, weights, &bias), {40, 48, 68, 70});
}

TEST_CASE("conv2d f32: hand-computed stride, padding and dilation", "[f32][conv]") {
  const std::vector<float> ones(9, 1.0f);
  // Stride 2 with padding 1: 3x3 box sums centred on the four corners.
  requireEqual(runConv(conv3x3Image(2, 2, 3, 2, 1, 1), kOneToNine, ones, nullptr),
               {12, 16, 24, 28});
  // A 2x2 kernel dilated by 2 reads the four corners.
  requireEqual(runConv(conv3x3Image(1, 1, 2, 1, 2, 0), kOneToNine, {1, 1, 1, 1}, nullptr), {20});
  // 1-D (H = 1) with padding on the left only: windows start at x = -1, 0, 1.
  const es_conv2d_f32_params_t line{.batch = 1, .in_channels = 1, .in_h = 1, .in_w = 3,
                                    .out_channels = 1, .out_h = 1, .out_w = 3, .kernel_h = 1,
                                    .kernel_w = 2, .stride_h = 1, .stride_w = 1,
                                    .dilation_h = 1, .dilation_w = 1, .pad_top = 0,
                                    .pad_left = 1, .groups = 1, .act_min = -kInf,
                                    .act_max = kInf};
  requireEqual(runConv(line, {1, 2, 3}, {1, 10}, nullptr), {10, 21, 32});
}

TEST_CASE("conv2d f32: hand-computed groups and depthwise", "[f32][conv]") {
  // Two groups of two channels, 1x1 kernel: output 0 sees channels 0-1, output 1 channels 2-3.
  const es_conv2d_f32_params_t grouped{.batch = 1, .in_channels = 4, .in_h = 1, .in_w = 1,
                                       .out_channels = 2, .out_h = 1, .out_w = 1, .kernel_h = 1,
                                       .kernel_w = 1, .stride_h = 1, .stride_w = 1,
                                       .dilation_h = 1, .dilation_w = 1, .pad_top = 0,
                                       .pad_left = 0, .groups = 2, .act_min = -kInf,
                                       .act_max = kInf};
  requireEqual(runConv(grouped, {1, 2, 3, 4}, {1, 1, 1, -1}, nullptr), {3, -1});
  // Depthwise with channel multiplier 2: outputs 0-1 scale channel 0, outputs 2-3 channel 1.
  const es_conv2d_f32_params_t depthwise{.batch = 1, .in_channels = 2, .in_h = 1, .in_w = 2,
                                         .out_channels = 4, .out_h = 1, .out_w = 2,
                                         .kernel_h = 1, .kernel_w = 1, .stride_h = 1,
                                         .stride_w = 1, .dilation_h = 1, .dilation_w = 1,
                                         .pad_top = 0, .pad_left = 0, .groups = 2,
                                         .act_min = -kInf, .act_max = kInf};
  const std::vector<float> bias{0.5f, 0, 0, -0.5f};
  requireEqual(runConv(depthwise, {1, 2, 3, 4}, {10, -1, 100, 2}, bias.data()),
               {10.5f, 20.5f, -1, -2, 300, 400, 5.5f, 7.5f});
}

TEST_CASE("conv2d f32: random geometries against a double reference", "[f32][conv]") {
  Random random(1234);
  int tested = 0;
  while (tested < 300) {
    const bool depthwise = random.coin();
    const int32_t groups = depthwise ? random.integer(1, 4) : random.integer(1, 3);
    const int32_t inPerGroup = depthwise ? 1 : random.integer(1, 3);
    const int32_t outPerGroup = random.integer(1, 3);
    es_conv2d_f32_params_t p{};
    p.batch = random.integer(1, 2);
    p.in_channels = groups * inPerGroup;
    p.out_channels = groups * outPerGroup;
    p.groups = groups;
    p.in_h = random.coin() ? 1 : random.integer(1, 7); // 1-D convolutions are H = 1
    p.in_w = random.integer(1, 8);
    p.kernel_h = p.in_h == 1 ? 1 : random.integer(1, 3);
    p.kernel_w = random.integer(1, 4);
    p.stride_h = random.integer(1, 3);
    p.stride_w = random.integer(1, 3);
    p.dilation_h = random.integer(1, 2);
    p.dilation_w = random.integer(1, 3);
    const int32_t spanH = (p.kernel_h - 1) * p.dilation_h + 1;
    const int32_t spanW = (p.kernel_w - 1) * p.dilation_w + 1;
    p.pad_top = random.integer(0, spanH - 1);
    p.pad_left = random.integer(0, spanW - 1);
    const int32_t paddedH = p.pad_top + p.in_h + random.integer(0, spanH - 1);
    const int32_t paddedW = p.pad_left + p.in_w + random.integer(0, spanW - 1);
    if (paddedH < spanH || paddedW < spanW) continue;
    p.out_h = (paddedH - spanH) / p.stride_h + 1;
    p.out_w = (paddedW - spanW) / p.stride_w + 1;
    std::tie(p.act_min, p.act_max) = randomActivation(random);
    const std::vector<float> input = random.reals(p.batch * p.in_channels * p.in_h * p.in_w);
    const std::vector<float> weights =
        random.reals(p.out_channels * inPerGroup * p.kernel_h * p.kernel_w);
    const std::vector<float> bias = random.reals(p.out_channels);
    const float *biasOrNull = random.coin() ? bias.data() : nullptr;
    INFO("case " << tested << ": N" << p.batch << " C" << p.in_channels << "->" << p.out_channels
                 << " groups " << p.groups << " in " << p.in_h << "x" << p.in_w << " kernel "
                 << p.kernel_h << "x" << p.kernel_w << " stride " << p.stride_h << ","
                 << p.stride_w << " dilation " << p.dilation_h << "," << p.dilation_w
                 << " pads " << p.pad_top << "," << p.pad_left << " out " << p.out_h << "x"
                 << p.out_w << (biasOrNull ? " bias" : ""));
    requireClose(runConv(p, input, weights, biasOrNull),
                 referenceConv(p, input, weights, biasOrNull));
    ++tested;
  }
}

// ---- Transposed convolution --------------------------------------------------------------

// ConvTranspose as ONNX defines it, scattering each input element through its window: output
// o = i * stride + k * dilation - pad, weights [out_channels / groups, in_channels, kh, kw].
std::vector<Expected> referenceConvTranspose(const es_conv2d_f32_params_t &p,
                                             const std::vector<float> &input,
                                             const std::vector<float> &weights,
                                             const float *bias) {
  const int32_t inPerGroup = p.in_channels / p.groups, outPerGroup = p.out_channels / p.groups;
  std::vector<Expected> output;
  for (int32_t n = 0; n < p.batch; ++n)
    for (int32_t m = 0; m < p.out_channels; ++m)
      for (int32_t i = 0; i < p.out_h * p.out_w; ++i)
        output.push_back({bias ? bias[m] : 0.0, bias ? std::abs(bias[m]) : 0.0});
  for (int32_t n = 0; n < p.batch; ++n)
    for (int32_t c = 0; c < p.in_channels; ++c)
      for (int32_t iy = 0; iy < p.in_h; ++iy)
        for (int32_t ix = 0; ix < p.in_w; ++ix)
          for (int32_t j = 0; j < outPerGroup; ++j)
            for (int32_t ky = 0; ky < p.kernel_h; ++ky)
              for (int32_t kx = 0; kx < p.kernel_w; ++kx) {
                const int32_t oy = iy * p.stride_h + ky * p.dilation_h - p.pad_top;
                const int32_t ox = ix * p.stride_w + kx * p.dilation_w - p.pad_left;
                if (oy < 0 || oy >= p.out_h || ox < 0 || ox >= p.out_w) continue;
                const int32_t m = c / inPerGroup * outPerGroup + j;
                const double term =
                    double(input[((n * p.in_channels + c) * p.in_h + iy) * p.in_w + ix]) *
                    weights[((j * p.in_channels + c) * p.kernel_h + ky) * p.kernel_w + kx];
                Expected &sum = output[((n * p.out_channels + m) * p.out_h + oy) * p.out_w + ox];
                sum.value += term;
                sum.scale += std::abs(term);
              }
  for (Expected &sum : output) sum = clampExpected(sum, p.act_min, p.act_max);
  return output;
}

TEST_CASE("conv_transpose2d f32: random geometries against a scattering reference",
          "[f32][conv]") {
  Random random(4321);
  for (int trial = 0; trial < 300; ++trial) {
    es_conv2d_f32_params_t p{};
    p.groups = random.integer(1, 2);
    p.batch = random.integer(1, 2);
    p.in_channels = p.groups * random.integer(1, 3);
    p.out_channels = p.groups * random.integer(1, 3);
    p.in_h = random.coin() ? 1 : random.integer(1, 5);
    p.in_w = random.integer(1, 6);
    p.kernel_h = p.in_h == 1 ? 1 : random.integer(1, 3);
    p.kernel_w = random.integer(1, 4);
    p.stride_h = random.integer(1, 3);
    p.stride_w = random.integer(1, 3);
    p.dilation_h = random.integer(1, 2);
    p.dilation_w = random.integer(1, 2);
    // Pads from -1 (an output_shape past the natural size) to the kernel's span.
    p.pad_top = p.in_h == 1 ? 0 : random.integer(-1, p.kernel_h);
    p.pad_left = random.integer(-1, p.kernel_w);
    p.out_h = p.in_h == 1 ? 1 : p.stride_h * (p.in_h - 1) + (p.kernel_h - 1) * p.dilation_h + 1 -
                                     p.pad_top - random.integer(0, 1);
    p.out_w = p.stride_w * (p.in_w - 1) + (p.kernel_w - 1) * p.dilation_w + 1 - p.pad_left -
              random.integer(0, 1);
    if (p.out_h < 1 || p.out_w < 1) continue;
    std::tie(p.act_min, p.act_max) = randomActivation(random);
    const std::vector<float> input = random.reals(p.batch * p.in_channels * p.in_h * p.in_w);
    const std::vector<float> weights = random.reals(
        p.out_channels / p.groups * p.in_channels * p.kernel_h * p.kernel_w);
    const std::vector<float> bias = random.reals(p.out_channels);
    const float *biasOrNull = random.coin() ? bias.data() : nullptr;
    std::vector<float> output(static_cast<size_t>(p.batch * p.out_channels * p.out_h * p.out_w));
    es_conv_transpose2d_f32(&p, input.data(), weights.data(), biasOrNull, output.data());
    INFO("trial " << trial);
    requireClose(output, referenceConvTranspose(p, input, weights, biasOrNull));
  }
}

// ---- Fully connected and MatMul -----------------------------------------------------------

std::vector<float> runFullyConnected(const es_fully_connected_f32_params_t &p,
                                     const std::vector<float> &input,
                                     const std::vector<float> &weights, const float *bias) {
  std::vector<float> output(static_cast<size_t>(p.batch * p.out_features));
  es_fully_connected_f32(&p, input.data(), weights.data(), bias, output.data());
  return output;
}

TEST_CASE("fully connected f32: hand-computed rows, bias and clamp", "[f32][fc]") {
  es_fully_connected_f32_params_t p{.batch = 2, .in_features = 2, .out_features = 3,
                                    .act_min = -kInf, .act_max = kInf};
  const std::vector<float> input{1, 2, -1, 0.5f};
  const std::vector<float> weights{1, 1, 2, -1, 0, 3};
  const std::vector<float> bias{0.5f, 0, -1};
  requireEqual(runFullyConnected(p, input, weights, nullptr), {3, 0, 6, -0.5f, -2.5f, 1.5f});
  requireEqual(runFullyConnected(p, input, weights, bias.data()),
               {3.5f, 0, 5, 0, -2.5f, 0.5f});
  p.act_min = 0.0f;
  p.act_max = 4.0f;
  requireEqual(runFullyConnected(p, input, weights, bias.data()), {3.5f, 0, 4, 0, 0, 0.5f});
}

TEST_CASE("fully connected f32: random sizes against a double reference", "[f32][fc]") {
  Random random(99);
  for (int trial = 0; trial < 100; ++trial) {
    es_fully_connected_f32_params_t p{};
    p.batch = random.integer(1, 3);
    p.in_features = random.integer(1, 64);
    p.out_features = random.integer(1, 12);
    std::tie(p.act_min, p.act_max) = randomActivation(random);
    const std::vector<float> input = random.reals(p.batch * p.in_features);
    const std::vector<float> weights = random.reals(p.out_features * p.in_features);
    const std::vector<float> bias = random.reals(p.out_features);
    const float *biasOrNull = random.coin() ? bias.data() : nullptr;
    std::vector<Expected> want;
    for (int32_t b = 0; b < p.batch; ++b)
      for (int32_t o = 0; o < p.out_features; ++o) {
        Expected sum{biasOrNull ? bias[o] : 0.0, biasOrNull ? std::abs(bias[o]) : 0.0};
        for (int32_t i = 0; i < p.in_features; ++i) {
          const double term = double(input[b * p.in_features + i]) * weights[o * p.in_features + i];
          sum.value += term;
          sum.scale += std::abs(term);
        }
        want.push_back(clampExpected(sum, p.act_min, p.act_max));
      }
    INFO("trial " << trial << ": batch " << p.batch << ", " << p.in_features << " -> "
                  << p.out_features);
    requireClose(runFullyConnected(p, input, weights, biasOrNull), want);
  }
}

// A MatMul of A [batch..., rows, inner] and B [batch..., inner, cols] with 4-D numpy shapes.
struct MatMulCase {
  Shape4 a;
  Shape4 b;
};

es_batch_matmul_f32_params_t matmulParams(const MatMulCase &c) {
  // What the code generator derives: an operand's batch stride is 0 along the axes it
  // broadcasts.
  const int32_t aMatrix = c.a[2] * c.a[3];
  const int32_t bMatrix = c.b[2] * c.b[3];
  return {.batch = {std::max(c.a[0], c.b[0]), std::max(c.a[1], c.b[1])},
          .a_batch_stride = {c.a[0] == 1 ? 0 : c.a[1] * aMatrix, c.a[1] == 1 ? 0 : aMatrix},
          .b_batch_stride = {c.b[0] == 1 ? 0 : c.b[1] * bMatrix, c.b[1] == 1 ? 0 : bMatrix},
          .rows = c.a[2], .inner = c.a[3], .cols = c.b[3], .act_min = -kInf, .act_max = kInf};
}

std::vector<float> runBatchMatmul(const es_batch_matmul_f32_params_t &p,
                                  const std::vector<float> &a, const std::vector<float> &b) {
  std::vector<float> output(static_cast<size_t>(p.batch[0] * p.batch[1] * p.rows * p.cols));
  es_batch_matmul_f32(&p, a.data(), b.data(), output.data());
  return output;
}

TEST_CASE("batch matmul f32: hand-computed products and a shared B", "[f32][matmul]") {
  const std::vector<float> a{1, 2, 3, 4, 2, 4, 6, 8};
  const std::vector<float> b{5, 6, 7, 8};
  es_batch_matmul_f32_params_t p = matmulParams({{1, 2, 2, 2}, {1, 1, 2, 2}});
  CHECK(p.b_batch_stride[1] == 0);
  requireEqual(runBatchMatmul(p, a, b), {19, 22, 43, 50, 38, 44, 86, 100});
  p.act_min = 20.0f;
  p.act_max = 90.0f;
  requireEqual(runBatchMatmul(p, a, b), {20, 22, 43, 50, 38, 44, 86, 90});
  // Non-square: [1, 3] x [3, 2].
  requireEqual(runBatchMatmul(matmulParams({{1, 1, 1, 3}, {1, 1, 3, 2}}), {1, 2, 3},
                              {1, -1, 0, 2, 10, 0}),
               {31, 3});
}

TEST_CASE("batch matmul f32: random broadcast batches against a double reference",
          "[f32][matmul]") {
  Random random(7);
  for (int trial = 0; trial < 100; ++trial) {
    const int32_t batch0 = random.integer(1, 3), batch1 = random.integer(1, 3);
    const int32_t rows = random.integer(1, 5), inner = random.integer(1, 9);
    const int32_t cols = random.integer(1, 5);
    const MatMulCase c{{random.coin() ? batch0 : 1, random.coin() ? batch1 : 1, rows, inner},
                       {random.coin() ? batch0 : 1, random.coin() ? batch1 : 1, inner, cols}};
    const std::vector<float> a = random.reals(elementCount(c.a));
    const std::vector<float> b = random.reals(elementCount(c.b));
    const es_batch_matmul_f32_params_t p = matmulParams(c);
    std::vector<Expected> want;
    for (int32_t i = 0; i < p.batch[0]; ++i)
      for (int32_t j = 0; j < p.batch[1]; ++j)
        for (int32_t r = 0; r < rows; ++r)
          for (int32_t col = 0; col < cols; ++col) {
            Expected sum{0.0, 0.0};
            for (int32_t k = 0; k < inner; ++k) {
              const Shape4 aIndex{c.a[0] == 1 ? 0 : i, c.a[1] == 1 ? 0 : j, r, k};
              const Shape4 bIndex{c.b[0] == 1 ? 0 : i, c.b[1] == 1 ? 0 : j, k, col};
              const double term = double(a[flatIndex(c.a, aIndex)]) * b[flatIndex(c.b, bIndex)];
              sum.value += term;
              sum.scale += std::abs(term);
            }
            want.push_back(sum);
          }
    INFO("trial " << trial << ": A " << describe(c.a) << " B " << describe(c.b));
    requireClose(runBatchMatmul(p, a, b), want);
  }
}

// ---- Pooling ------------------------------------------------------------------------------

std::vector<float> runPool(void (*kernel)(const es_pool2d_f32_params_t *, const float *, float *),
                           const es_pool2d_f32_params_t &p, const std::vector<float> &input) {
  std::vector<float> output(static_cast<size_t>(p.batch * p.channels * p.out_h * p.out_w));
  kernel(&p, input.data(), output.data());
  return output;
}

es_pool2d_f32_params_t squarePool(int32_t in, int32_t out, int32_t kernel, int32_t stride,
                                  int32_t pad) {
  return {.batch = 1, .channels = 1, .in_h = in, .in_w = in, .out_h = out, .out_w = out,
          .kernel_h = kernel, .kernel_w = kernel, .stride_h = stride, .stride_w = stride,
          .dilation_h = 1, .dilation_w = 1, .pad_top = pad, .pad_left = pad, .pad_bottom = pad,
          .pad_right = pad, .count_include_pad = 0, .act_min = -kInf, .act_max = kInf};
}

TEST_CASE("pool2d f32: hand-computed max and average windows, activation clamp", "[f32][pool]") {
  std::vector<float> image(16);
  std::iota(image.begin(), image.end(), 1.0f);
  es_pool2d_f32_params_t p = squarePool(4, 2, 2, 2, 0);
  requireEqual(runPool(es_max_pool2d_f32, p, image), {6, 8, 14, 16});
  requireEqual(runPool(es_avg_pool2d_f32, p, image), {3.5f, 5.5f, 11.5f, 13.5f});
  p.act_min = 5.0f;
  p.act_max = 12.0f;
  requireEqual(runPool(es_max_pool2d_f32, p, image), {6, 8, 12, 12});
  requireEqual(runPool(es_avg_pool2d_f32, p, image), {5, 5.5f, 11.5f, 12});
}

TEST_CASE("pool2d f32: padding is skipped by max and counted only with count_include_pad",
          "[f32][pool]") {
  const std::vector<float> image{1, 2, 3, 4};
  es_pool2d_f32_params_t p = squarePool(2, 3, 2, 1, 1);
  requireEqual(runPool(es_max_pool2d_f32, p, {-1, -2, -3, -4}),
               {-1, -1, -2, -1, -1, -2, -3, -3, -4});
  requireEqual(runPool(es_avg_pool2d_f32, p, image), {1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4});
  p.count_include_pad = 1;
  requireEqual(runPool(es_avg_pool2d_f32, p, image),
               {0.25f, 0.75f, 0.5f, 1, 2.5f, 1.5f, 0.75f, 1.75f, 1});
}

TEST_CASE("pool2d f32: a ceil_mode window past the declared padding counts only real taps",
          "[f32][pool]") {
  // [1, 2, 3], kernel 2, stride 2, ceil_mode: the second window is {3, beyond the end}. The
  // output size implies one column of end padding, but none is declared, so it never counts.
  es_pool2d_f32_params_t p{.batch = 1, .channels = 1, .in_h = 1, .in_w = 3, .out_h = 1,
                           .out_w = 2, .kernel_h = 1, .kernel_w = 2, .stride_h = 1,
                           .stride_w = 2, .dilation_h = 1, .dilation_w = 1, .pad_top = 0,
                           .pad_left = 0, .pad_bottom = 0, .pad_right = 0,
                           .count_include_pad = 1, .act_min = -kInf, .act_max = kInf};
  requireEqual(runPool(es_avg_pool2d_f32, p, {1, 2, 3}), {1.5f, 3});
  requireEqual(runPool(es_max_pool2d_f32, p, {1, 2, 3}), {2, 3});
  // Declared end padding does count: the second window becomes (3 + 0) / 2.
  p.pad_right = 1;
  requireEqual(runPool(es_avg_pool2d_f32, p, {1, 2, 3}), {1.5f, 1.5f});
}

TEST_CASE("pool2d f32: dilated windows and NaN propagation in max", "[f32][pool]") {
  const es_pool2d_f32_params_t dilated{.batch = 1, .channels = 1, .in_h = 1, .in_w = 5,
                                       .out_h = 1, .out_w = 1, .kernel_h = 1, .kernel_w = 3,
                                       .stride_h = 1, .stride_w = 1, .dilation_h = 1,
                                       .dilation_w = 2, .pad_top = 0, .pad_left = 0,
                                       .pad_bottom = 0, .pad_right = 0, .count_include_pad = 0,
                                       .act_min = -kInf, .act_max = kInf};
  requireEqual(runPool(es_max_pool2d_f32, dilated, {1, 100, 5, 100, 3}), {5});
  requireEqual(runPool(es_avg_pool2d_f32, dilated, {1, 100, 5, 100, 3}), {3});
  requireEqual(runPool(es_max_pool2d_f32, dilated, {1, 100, kNaN, 100, 3}), {kNaN});
  requireEqual(runPool(es_max_pool2d_f32, dilated, {kNaN, 100, 5, 100, 3}), {kNaN});
}

// One random pool axis, resolved as the compiler does (ceil_mode drops a window that would
// start in the end padding). Empty when some window covers padding only, which ONNX rejects.
struct PoolAxis {
  int32_t in, kernel, stride, dilation, padBegin, padEnd, out;
};

std::optional<PoolAxis> randomPoolAxis(Random &random, bool ceilMode, bool oneD) {
  PoolAxis axis{};
  axis.in = oneD ? 1 : random.integer(1, 8);
  axis.kernel = oneD ? 1 : random.integer(1, 3);
  axis.stride = random.integer(1, 3);
  axis.dilation = random.integer(1, 2);
  const int32_t span = (axis.kernel - 1) * axis.dilation + 1;
  axis.padBegin = random.integer(0, span - 1);
  axis.padEnd = random.integer(0, span - 1);
  const int32_t room = axis.in + axis.padBegin + axis.padEnd - span;
  if (room < 0) return std::nullopt;
  axis.out = (ceilMode ? (room + axis.stride - 1) / axis.stride : room / axis.stride) + 1;
  if (ceilMode && (axis.out - 1) * axis.stride >= axis.in + axis.padBegin) --axis.out;
  for (int32_t position = 0; position < axis.out; ++position) {
    bool reachesInput = false;
    for (int32_t tap = 0; tap < axis.kernel; ++tap) {
      const int32_t at = position * axis.stride - axis.padBegin + tap * axis.dilation;
      reachesInput = reachesInput || (at >= 0 && at < axis.in);
    }
    if (!reachesInput) return std::nullopt;
  }
  return axis;
}

// The taps of window `position` along `axis`, as input coordinates (padding included).
std::vector<int32_t> windowTaps(const PoolAxis &axis, int32_t position) {
  std::vector<int32_t> taps;
  for (int32_t tap = 0; tap < axis.kernel; ++tap)
    taps.push_back(position * axis.stride - axis.padBegin + tap * axis.dilation);
  return taps;
}

TEST_CASE("pool2d f32: random geometries against a double reference", "[f32][pool]") {
  Random random(2024);
  int tested = 0;
  while (tested < 300) {
    const bool ceilMode = random.coin();
    const auto [actMin, actMax] = randomActivation(random);
    const bool oneD = random.integer(0, 3) == 0;
    const std::optional<PoolAxis> rows = randomPoolAxis(random, ceilMode, oneD);
    const std::optional<PoolAxis> cols = randomPoolAxis(random, ceilMode, false);
    if (!rows || !cols) continue;
    const es_pool2d_f32_params_t p{
        .batch = random.integer(1, 2), .channels = random.integer(1, 3), .in_h = rows->in,
        .in_w = cols->in, .out_h = rows->out, .out_w = cols->out, .kernel_h = rows->kernel,
        .kernel_w = cols->kernel, .stride_h = rows->stride, .stride_w = cols->stride,
        .dilation_h = rows->dilation, .dilation_w = cols->dilation, .pad_top = rows->padBegin,
        .pad_left = cols->padBegin, .pad_bottom = rows->padEnd, .pad_right = cols->padEnd,
        .count_include_pad = random.integer(0, 1), .act_min = actMin, .act_max = actMax};
    const std::vector<float> input = random.reals(p.batch * p.channels * p.in_h * p.in_w);
    std::vector<float> wantMax;
    std::vector<Expected> wantMean;
    for (int32_t plane = 0; plane < p.batch * p.channels; ++plane)
      for (int32_t oy = 0; oy < p.out_h; ++oy)
        for (int32_t ox = 0; ox < p.out_w; ++ox) {
          double largest = -std::numeric_limits<double>::infinity();
          Expected sum{0.0, 0.0};
          int32_t inside = 0, insidePadded = 0;
          for (int32_t y : windowTaps(*rows, oy))
            for (int32_t x : windowTaps(*cols, ox)) {
              const bool inPaddedInput = y >= -p.pad_top && y < p.in_h + p.pad_bottom &&
                                         x >= -p.pad_left && x < p.in_w + p.pad_right;
              insidePadded += inPaddedInput ? 1 : 0;
              if (y < 0 || y >= p.in_h || x < 0 || x >= p.in_w) continue;
              const double value = input[(plane * p.in_h + y) * p.in_w + x];
              largest = std::max(largest, value);
              sum.value += value;
              sum.scale += std::abs(value);
              ++inside;
            }
          wantMax.push_back(std::clamp(static_cast<float>(largest), actMin, actMax));
          const double divisor = p.count_include_pad ? insidePadded : inside;
          wantMean.push_back(
              clampExpected({sum.value / divisor, sum.scale / divisor}, actMin, actMax));
        }
    INFO("case " << tested << ": N" << p.batch << " C" << p.channels << " in " << p.in_h << "x"
                 << p.in_w << " kernel " << p.kernel_h << "x" << p.kernel_w << " stride "
                 << p.stride_h << "," << p.stride_w << " dilation " << p.dilation_h << ","
                 << p.dilation_w << " pads " << p.pad_top << "," << p.pad_left << ","
                 << p.pad_bottom << "," << p.pad_right << " out " << p.out_h << "x" << p.out_w
                 << (ceilMode ? " ceil" : "") << (p.count_include_pad ? " count_pad" : ""));
    requireEqual(runPool(es_max_pool2d_f32, p, input), wantMax);
    requireClose(runPool(es_avg_pool2d_f32, p, input), wantMean);
    ++tested;
  }
}

std::vector<float> runGlobalPool(
    void (*kernel)(const es_global_pool_f32_params_t *, const float *, float *),
    const es_global_pool_f32_params_t &p, const std::vector<float> &input) {
  std::vector<float> output(static_cast<size_t>(p.batch * p.channels));
  kernel(&p, input.data(), output.data());
  return output;
}

TEST_CASE("global pools f32: hand-computed planes", "[f32][pool]") {
  es_global_pool_f32_params_t p{.batch = 2, .channels = 2, .size = 4, .act_min = -kInf,
                                .act_max = kInf};
  const std::vector<float> input{1, 2, 3, 4, -1, -2, -3, -6, 0, 0, 0, 8, 5, kNaN, 1, 1};
  requireEqual(runGlobalPool(es_global_avg_pool_f32, p, input), {2.5f, -3, 2, kNaN});
  requireEqual(runGlobalPool(es_global_max_pool_f32, p, input), {4, -1, 8, kNaN});
  p.act_min = 0.0f;
  p.act_max = 6.0f;
  requireEqual(runGlobalPool(es_global_avg_pool_f32, p, input), {2.5f, 0, 2, kNaN});
  requireEqual(runGlobalPool(es_global_max_pool_f32, p, input), {4, 0, 6, kNaN});
}

TEST_CASE("global pools f32: random planes against a double reference", "[f32][pool]") {
  Random random(31);
  for (int trial = 0; trial < 50; ++trial) {
    const auto [actMin, actMax] = randomActivation(random);
    const es_global_pool_f32_params_t p{.batch = random.integer(1, 2),
                                        .channels = random.integer(1, 4),
                                        .size = random.integer(1, 100), .act_min = actMin,
                                        .act_max = actMax};
    const std::vector<float> input = random.reals(p.batch * p.channels * p.size, -4.0f, 4.0f);
    std::vector<Expected> wantMean;
    std::vector<float> wantMax;
    for (int32_t plane = 0; plane < p.batch * p.channels; ++plane) {
      const auto first = input.begin() + plane * p.size;
      Expected sum{0.0, 0.0};
      for (auto it = first; it != first + p.size; ++it) {
        sum.value += *it;
        sum.scale += std::abs(*it);
      }
      wantMean.push_back(clampExpected({sum.value / p.size, sum.scale / p.size}, actMin, actMax));
      wantMax.push_back(std::clamp(*std::max_element(first, first + p.size), actMin, actMax));
    }
    INFO("trial " << trial << ": N" << p.batch << " C" << p.channels << " size " << p.size);
    requireClose(runGlobalPool(es_global_avg_pool_f32, p, input), wantMean);
    requireEqual(runGlobalPool(es_global_max_pool_f32, p, input), wantMax);
  }
}

// ---- Element-wise -------------------------------------------------------------------------

std::vector<float> runBinary(const es_binary_f32_params_t &p, const std::vector<float> &a,
                             const std::vector<float> &b) {
  std::vector<float> output(elementCount(Shape4{p.out_shape[0], p.out_shape[1], p.out_shape[2],
                                                p.out_shape[3]}));
  es_binary_f32(&p, a.data(), b.data(), output.data());
  return output;
}

es_binary_f32_params_t binaryParams(es_binary_f32_op_t op, const Shape4 &a, const Shape4 &b) {
  es_binary_f32_params_t p{.op = op, .a_shape = {}, .b_shape = {}, .out_shape = {},
                           .act_min = -kInf, .act_max = kInf};
  for (int axis = 0; axis < 4; ++axis) {
    p.a_shape[axis] = a[axis];
    p.b_shape[axis] = b[axis];
    p.out_shape[axis] = std::max(a[axis], b[axis]);
  }
  return p;
}

TEST_CASE("binary f32: hand-computed broadcasting of each operation", "[f32][elementwise]") {
  const std::vector<float> oneToSix{1, 2, 3, 4, 5, 6};
  // [2, 3] + [3]: the row is added to each row.
  requireEqual(runBinary(binaryParams(ES_F32_ADD, {1, 1, 2, 3}, {1, 1, 1, 3}), oneToSix,
                         {10, 20, 30}),
               {11, 22, 33, 14, 25, 36});
  // [2, 3] - [2, 1]: the column is subtracted from each column.
  requireEqual(runBinary(binaryParams(ES_F32_SUB, {1, 1, 2, 3}, {1, 1, 2, 1}), oneToSix,
                         {10, 20}),
               {-9, -8, -7, -16, -15, -14});
  // [2, 1] * [1, 3]: both operands broadcast into an outer product.
  requireEqual(runBinary(binaryParams(ES_F32_MUL, {1, 1, 2, 1}, {1, 1, 1, 3}), {1, 2}, {1, 2, 3}),
               {1, 2, 3, 2, 4, 6});
  // A scalar divisor, and a scalar dividend over a [2, 1, 1, 2] divisor on the outermost axis.
  requireEqual(runBinary(binaryParams(ES_F32_DIV, {1, 1, 1, 2}, {1, 1, 1, 1}), {6, 3}, {2}),
               {3, 1.5f});
  requireEqual(runBinary(binaryParams(ES_F32_DIV, {1, 1, 1, 1}, {2, 1, 1, 2}), {8}, {1, 2, 4, 8}),
               {8, 4, 2, 1});
  es_binary_f32_params_t clamped = binaryParams(ES_F32_ADD, {1, 1, 2, 3}, {1, 1, 1, 3});
  clamped.act_min = 12.0f;
  clamped.act_max = 30.0f;
  requireEqual(runBinary(clamped, oneToSix, {10, 20, 30}), {12, 22, 30, 14, 25, 30});
}

double applyBinary(es_binary_f32_op_t op, double a, double b) {
  switch (op) {
  case ES_F32_ADD: return a + b;
  case ES_F32_SUB: return a - b;
  case ES_F32_MUL: return a * b;
  case ES_F32_DIV: return a / b;
  case ES_F32_MAX: return std::max(a, b);
  case ES_F32_MIN: return std::min(a, b);
  case ES_F32_PRELU: return a < 0.0 ? a * b : a;
  }
  return std::nan("");
}

TEST_CASE("binary f32: random broadcast shapes against a double reference",
          "[f32][elementwise]") {
  Random random(5);
  const es_binary_f32_op_t ops[] = {ES_F32_ADD, ES_F32_SUB, ES_F32_MUL,  ES_F32_DIV,
                                    ES_F32_MAX, ES_F32_MIN, ES_F32_PRELU};
  for (int trial = 0; trial < 350; ++trial) {
    const es_binary_f32_op_t op = ops[trial % 7];
    Shape4 out, a, b;
    for (int axis = 0; axis < 4; ++axis) {
      out[axis] = random.integer(1, 4);
      a[axis] = random.coin() ? out[axis] : 1;
      b[axis] = random.coin() ? out[axis] : 1;
      out[axis] = std::max(a[axis], b[axis]);
    }
    es_binary_f32_params_t p = binaryParams(op, a, b);
    std::tie(p.act_min, p.act_max) = randomActivation(random);
    const std::vector<float> aValues = random.reals(elementCount(a));
    // Divisors of magnitude [0.5, 2] keep the quotients in range.
    std::vector<float> bValues = random.reals(elementCount(b), 0.5f, 2.0f);
    for (float &value : bValues) value = random.coin() ? value : -value;
    std::vector<Expected> want;
    for (const Shape4 &index : allIndices(out)) {
      Shape4 aIndex, bIndex;
      for (int axis = 0; axis < 4; ++axis) {
        aIndex[axis] = a[axis] == 1 ? 0 : index[axis];
        bIndex[axis] = b[axis] == 1 ? 0 : index[axis];
      }
      const double x = aValues[flatIndex(a, aIndex)], y = bValues[flatIndex(b, bIndex)];
      Expected result = exact(applyBinary(op, x, y));
      // A sum or difference is rounded once, relative to its operands.
      if (op == ES_F32_ADD || op == ES_F32_SUB) result.scale = std::abs(x) + std::abs(y);
      want.push_back(clampExpected(result, p.act_min, p.act_max));
    }
    INFO("trial " << trial << ": op " << op << " A " << describe(a) << " B " << describe(b));
    requireClose(runBinary(p, aValues, bValues), want);
  }
}

TEST_CASE("clip f32: bounds, Relu and NaN", "[f32][elementwise]") {
  const std::vector<float> input{-2, -0.5f, 0.5f, 2, kNaN, -kInf, kInf};
  std::vector<float> output(input.size());
  const es_clip_f32_params_t clip{.size = 7, .min = -1, .max = 1};
  es_clip_f32(&clip, input.data(), output.data());
  requireEqual(output, {-1, -0.5f, 0.5f, 1, kNaN, -1, 1});
  const es_clip_f32_params_t relu{.size = 7, .min = 0, .max = kInf};
  es_clip_f32(&relu, input.data(), output.data());
  requireEqual(output, {0, 0, 0.5f, 2, kNaN, 0, kInf});
}

std::vector<float> runUnary(es_unary_f32_op_t op, float alpha, float beta,
                            const std::vector<float> &input) {
  const es_unary_f32_params_t p{.op = op, .size = static_cast<int32_t>(input.size()),
                                .alpha = alpha, .beta = beta};
  std::vector<float> output(input.size());
  es_unary_f32(&p, input.data(), output.data());
  return output;
}

TEST_CASE("unary f32: hand-computed values of each function", "[f32][elementwise]") {
  requireEqual(runUnary(ES_F32_SIGMOID, 0, 0, {0, kInf, -kInf, kNaN}), {0.5f, 1, 0, kNaN});
  requireEqual(runUnary(ES_F32_TANH, 0, 0, {0, kInf, -kInf}), {0, 1, -1});
  requireEqual(runUnary(ES_F32_HARD_SIGMOID, 0.25f, 0.5f, {-3, -1, 0, 1, 3}),
               {0, 0.25f, 0.5f, 0.75f, 1});
  requireEqual(runUnary(ES_F32_HARD_SWISH, 0, 0, {-4, -3, 0, 1.5f, 3, 5}),
               {0, 0, 0, 1.125f, 3, 5});
  requireEqual(runUnary(ES_F32_LEAKY_RELU, 0.5f, 0, {-2, 0, 3}), {-1, 0, 3});
  requireEqual(runUnary(ES_F32_ELU, 2.0f, 0, {-kInf, 0, 1.5f}), {-2, 0, 1.5f});
  requireEqual(runUnary(ES_F32_SELU, 2.0f, 3.0f, {-kInf, 0, 1.5f}), {-6, 0, 4.5f});
  requireEqual(runUnary(ES_F32_EXP, 0, 0, {-kInf, 0, kInf}), {0, 1, kInf});
  requireEqual(runUnary(ES_F32_FLOOR, 0, 0, {-1.5f, -0.0f, 0.5f, 2, kInf}), {-2, -0.0f, 0, 2, kInf});
  requireEqual(runUnary(ES_F32_ERF, 0, 0, {0, kInf, -kInf, 10}), {0, 1, -1, 1});
  requireEqual(runUnary(ES_F32_SQRT, 0, 0, {0, 4, 2.25f, kInf}), {0, 2, 1.5f, kInf});
  requireEqual(runUnary(ES_F32_POW, 2, 0, {-3, 0.5f, kInf}), {9, 0.25f, kInf});
  requireEqual(runUnary(ES_F32_POW, 0.5f, 0, {4, 0, 2.25f}), {2, 0, 1.5f});
  requireEqual(runUnary(ES_F32_RECIPROCAL, 0, 0, {4, -0.5f, kInf, 0}), {0.25f, -2, 0, kInf});
  // No overflow of e^x: softplus(x) = x for large x, 0 at -inf.
  requireEqual(runUnary(ES_F32_SOFTPLUS, 0, 0, {-kInf, 200, kInf}), {0, 200, kInf});
  requireEqual(runUnary(ES_F32_ABS, 0, 0, {-1.5f, -0.0f, 2, -kInf}), {1.5f, 0, 2, kInf});
  requireEqual(runUnary(ES_F32_NEG, 0, 0, {-1.5f, 0, 2, -kInf}), {1.5f, -0.0f, -2, kInf});
  // Log as onnxruntime: -inf at 0 (either sign), NaN below.
  requireEqual(runUnary(ES_F32_LOG, 0, 0, {1, 0, -0.0f, -1, kInf}), {0, -kInf, -kInf, kNaN, kInf});
  requireEqual(runUnary(ES_F32_CEIL, 0, 0, {-1.5f, 0.25f, 2, -kInf}), {-1, 1, 2, -kInf});
  // Halves to even, also between 2^22 and 2^23 where floats are halves.
  requireEqual(runUnary(ES_F32_ROUND, 0, 0, {0.5f, 1.5f, 2.5f, -2.5f, 2.6f, 4194305.5f, kInf, kNaN}),
               {0, 2, 2, -2, 3, 4194306.0f, kInf, kNaN});
  requireEqual(runUnary(ES_F32_SIGN, 0, 0, {-3, 0, 2e-30f, -kInf, kNaN}), {-1, 0, 1, -1, kNaN});
  requireEqual(runUnary(ES_F32_SOFTSIGN, 0, 0, {-1, 0, 3}), {-0.5f, 0, 0.75f});
  requireEqual(runUnary(ES_F32_THRESHOLDED_RELU, 0.5f, 0, {0.5f, 0.75f, -2}), {0, 0.75f, 0});
  requireEqual(runUnary(ES_F32_CELU, 2, 0, {-kInf, 0, 1.5f}), {-2, 0, 1.5f});
  // Shrink with lambd 1, bias 0.5; a NaN gives 0 as in onnxruntime.
  requireEqual(runUnary(ES_F32_SHRINK, 1, 0.5f, {-2, -1, 0.5f, 1, 3, kNaN}), {-1.5f, 0, 0, 0, 2.5f, 0});
  requireEqual(runUnary(ES_F32_SIN, 0, 0, {0, kInf}), {0, kNaN});
  requireEqual(runUnary(ES_F32_COS, 0, 0, {0, kInf}), {1, kNaN});
  // An int8 round trip: toward zero, saturated, NaN to 0.
  requireEqual(runUnary(ES_F32_TRUNC, -128, 127, {-1.5f, 2.9f, -0.5f, 300, -kInf, kNaN}),
               {-1, 2, -0.0f, 127, -128, 0});
  // The far tail keeps its relative precision: e^-80 / (1 + e^-80) ~= 1.8e-35.
  requireClose(runUnary(ES_F32_SIGMOID, 0, 0, {-80}), {exact(std::exp(-80.0))});
}

double hardSigmoid(double x, double alpha, double beta) {
  return std::clamp(alpha * x + beta, 0.0, 1.0);
}

// f(x) and the scale of its rounding error: |alpha x| + |beta| where the hard functions cancel
// near their kinks, |f(x)| elsewhere.
Expected referenceUnary(es_unary_f32_op_t op, double alpha, double beta, double x) {
  switch (op) {
  case ES_F32_SIGMOID: return exact(1.0 / (1.0 + std::exp(-x)));
  case ES_F32_TANH: return exact(std::tanh(x));
  case ES_F32_HARD_SIGMOID:
    return {hardSigmoid(x, alpha, beta), std::abs(alpha * x) + std::abs(beta)};
  case ES_F32_HARD_SWISH:
    return {x * hardSigmoid(x, 1.0 / 6.0, 0.5), std::abs(x) * (std::abs(x / 6.0) + 0.5)};
  case ES_F32_LEAKY_RELU: return exact(x >= 0.0 ? x : alpha * x);
  case ES_F32_ELU: return exact(x >= 0.0 ? x : alpha * (std::exp(x) - 1.0));
  case ES_F32_SELU: return exact(beta * (x > 0.0 ? x : alpha * (std::exp(x) - 1.0)));
  case ES_F32_EXP: return exact(std::exp(x));
  case ES_F32_FLOOR: return exact(std::floor(x));
  case ES_F32_ERF: return exact(std::erf(x));
  case ES_F32_TRUNC: return exact(std::clamp(std::trunc(x), alpha, beta));
  case ES_F32_SQRT: return exact(std::sqrt(x));
  case ES_F32_POW: return exact(std::pow(x, alpha));
  case ES_F32_RECIPROCAL: return exact(1.0 / x);
  case ES_F32_SOFTPLUS: return exact(std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))));
  case ES_F32_ABS: return exact(std::abs(x));
  case ES_F32_NEG: return exact(-x);
  case ES_F32_LOG: return exact(std::log(x));
  case ES_F32_CEIL: return exact(std::ceil(x));
  case ES_F32_ROUND: return exact(std::nearbyint(x));
  case ES_F32_SIGN: return exact(x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : 0.0);
  case ES_F32_SOFTSIGN: return exact(x / (1.0 + std::abs(x)));
  case ES_F32_THRESHOLDED_RELU: return exact(x > alpha ? x : 0.0);
  case ES_F32_CELU: return exact(x > 0.0 ? x : alpha * std::expm1(x / alpha));
  case ES_F32_SHRINK: return exact(x < -alpha ? x + beta : x > alpha ? x - beta : 0.0);
  case ES_F32_SIN: return exact(std::sin(x));
  case ES_F32_COS: return exact(std::cos(x));
  }
  return exact(std::nan(""));
}

TEST_CASE("unary f32: random inputs against a double reference", "[f32][elementwise]") {
  Random random(11);
  const es_unary_f32_op_t ops[] = {ES_F32_SIGMOID,    ES_F32_TANH,       ES_F32_HARD_SIGMOID,
                                   ES_F32_HARD_SWISH, ES_F32_LEAKY_RELU, ES_F32_ELU,
                                   ES_F32_SELU,       ES_F32_EXP,        ES_F32_FLOOR,
                                   ES_F32_ERF,        ES_F32_TRUNC,      ES_F32_SQRT,
                                   ES_F32_POW,        ES_F32_RECIPROCAL, ES_F32_SOFTPLUS,
                                   ES_F32_ABS,        ES_F32_NEG,        ES_F32_LOG,
                                   ES_F32_CEIL,       ES_F32_ROUND,      ES_F32_SIGN,
                                   ES_F32_SOFTSIGN,   ES_F32_THRESHOLDED_RELU, ES_F32_CELU,
                                   ES_F32_SHRINK,     ES_F32_SIN,        ES_F32_COS};
  for (es_unary_f32_op_t op : ops) {
    float alpha = random.real(0.05f, 2.0f), beta = random.real(0.0f, 1.0f);
    // TRUNC's bounds are an integer type's range, within which most inputs fall.
    if (op == ES_F32_TRUNC) alpha = -8.0f, beta = 7.0f;
    std::vector<float> input = random.reals(500, -10.0f, 10.0f);
    // Near 0, where e^x - 1 and the kinks of the hard functions are delicate.
    for (float value : random.reals(100, -1e-3f, 1e-3f)) input.push_back(value);
    // Square roots, real powers and logarithms of non-negative numbers.
    if (op == ES_F32_SQRT || op == ES_F32_POW || op == ES_F32_LOG)
      for (float &x : input) x = std::abs(x);
    std::vector<Expected> want;
    for (float x : input) want.push_back(referenceUnary(op, alpha, beta, x));
    INFO("op " << op << " alpha " << alpha << " beta " << beta);
    requireClose(runUnary(op, alpha, beta, input), want);
  }
}

// ---- Softmax ------------------------------------------------------------------------------

std::vector<float> runSoftmax(void (*kernel)(const es_softmax_f32_params_t *, const float *,
                                             float *),
                              const es_softmax_f32_params_t &p, const std::vector<float> &input) {
  std::vector<float> output(input.size());
  kernel(&p, input.data(), output.data());
  return output;
}

TEST_CASE("softmax f32: hand-computed rows, large values stay finite", "[f32][softmax]") {
  const es_softmax_f32_params_t rows{.outer = 4, .length = 2, .inner = 1};
  // Without subtracting the maximum, e^1000 overflows and the rows become NaN.
  const std::vector<float> input{1, 1, 1000, 1000, 1000, -1000, -3e38f, -3e38f};
  requireEqual(runSoftmax(es_softmax_f32, rows, input), {0.5f, 0.5f, 0.5f, 0.5f, 1, 0, 0.5f, 0.5f});
  const float minusLog2 = -std::log(2.0f);
  requireClose(runSoftmax(es_log_softmax_f32, rows, input),
               {exact(minusLog2), exact(minusLog2), exact(minusLog2), exact(minusLog2), exact(0),
                exact(-2000), exact(minusLog2), exact(minusLog2)});
  // [1, 2, 2] along the middle axis: columns (1000, 1000) and (0, ln 3).
  const es_softmax_f32_params_t columns{.outer = 1, .length = 2, .inner = 2};
  requireClose(runSoftmax(es_softmax_f32, columns, {1000, 0, 1000, std::log(3.0f)}),
               {exact(0.5), exact(0.25), exact(0.5), exact(0.75)});
}

TEST_CASE("softmax f32: random lines against a double reference", "[f32][softmax]") {
  Random random(17);
  for (int trial = 0; trial < 100; ++trial) {
    const es_softmax_f32_params_t p{.outer = random.integer(1, 3), .length = random.integer(1, 20),
                                    .inner = random.integer(1, 3)};
    // Offsets far from 0 exercise the max subtraction: e^(x) alone would overflow.
    const float offset = trial % 3 == 0 ? 0.0f : random.real(-1e4f, 1e4f);
    std::vector<float> input = random.reals(p.outer * p.length * p.inner, -10.0f, 10.0f);
    for (float &value : input) value += offset;
    std::vector<Expected> wantSoftmax(input.size()), wantLogSoftmax(input.size());
    for (int32_t o = 0; o < p.outer; ++o)
      for (int32_t i = 0; i < p.inner; ++i) {
        auto at = [&](int32_t k) { return size_t((o * p.length + k) * p.inner + i); };
        double largest = input[at(0)];
        for (int32_t k = 0; k < p.length; ++k) largest = std::max<double>(largest, input[at(k)]);
        double sum = 0.0;
        for (int32_t k = 0; k < p.length; ++k) sum += std::exp(input[at(k)] - largest);
        for (int32_t k = 0; k < p.length; ++k) {
          const double shifted = input[at(k)] - largest;
          wantSoftmax[at(k)] = exact(std::exp(shifted) / sum);
          wantLogSoftmax[at(k)] = {shifted - std::log(sum),
                                   std::abs(shifted) + std::abs(std::log(sum))};
        }
      }
    INFO("trial " << trial << ": [" << p.outer << "," << p.length << "," << p.inner
                  << "] offset " << offset);
    requireClose(runSoftmax(es_softmax_f32, p, input), wantSoftmax);
    requireClose(runSoftmax(es_log_softmax_f32, p, input), wantLogSoftmax);
  }
}

// ---- Layout -------------------------------------------------------------------------------

std::vector<float> runConcat(int32_t outer, int32_t inner, const std::vector<int32_t> &axisSizes,
                             const std::vector<std::vector<float>> &inputs) {
  const es_concat_f32_params_t p{.outer = outer, .inner = inner,
                                 .input_count = static_cast<int32_t>(inputs.size()),
                                 .axis_sizes = axisSizes.data()};
  std::vector<const float *> pointers;
  size_t total = 0;
  for (const std::vector<float> &input : inputs) {
    pointers.push_back(input.data());
    total += input.size();
  }
  std::vector<float> output(total);
  es_concat_f32(&p, pointers.data(), output.data());
  return output;
}

TEST_CASE("concat f32: hand-computed axes", "[f32][concat]") {
  // [2, 1] and [2, 2] on axis 1.
  requireEqual(runConcat(2, 1, {1, 2}, {{1, 2}, {10, 11, 12, 13}}), {1, 10, 11, 2, 12, 13});
  // [1, 2] and [2, 2] on axis 0.
  requireEqual(runConcat(1, 2, {1, 2}, {{1, 2}, {3, 4, 5, 6}}), {1, 2, 3, 4, 5, 6});
  // Three [2, 1, 2] tensors on axis 1.
  requireEqual(runConcat(2, 2, {1, 1, 1}, {{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}}),
               {1, 2, 5, 6, 9, 10, 3, 4, 7, 8, 11, 12});
}

TEST_CASE("concat f32: random inputs against index arithmetic", "[f32][concat]") {
  Random random(3);
  for (int trial = 0; trial < 50; ++trial) {
    const int32_t outer = random.integer(1, 3), inner = random.integer(1, 4);
    std::vector<int32_t> axisSizes(static_cast<size_t>(random.integer(1, 4)));
    std::vector<std::vector<float>> inputs;
    for (int32_t &size : axisSizes) {
      size = random.integer(1, 3);
      inputs.push_back(random.reals(outer * size * inner));
    }
    const int32_t total = std::accumulate(axisSizes.begin(), axisSizes.end(), 0);
    std::vector<float> want(static_cast<size_t>(outer * total * inner));
    int32_t axisStart = 0;
    for (size_t k = 0; k < inputs.size(); ++k) {
      for (int32_t o = 0; o < outer; ++o)
        for (int32_t a = 0; a < axisSizes[k]; ++a)
          for (int32_t i = 0; i < inner; ++i)
            want[(o * total + axisStart + a) * inner + i] =
                inputs[k][(o * axisSizes[k] + a) * inner + i];
      axisStart += axisSizes[k];
    }
    INFO("trial " << trial);
    requireEqual(runConcat(outer, inner, axisSizes, inputs), want);
  }
}

std::vector<float> runPad(const es_pad_f32_params_t &p, const std::vector<float> &input) {
  size_t count = 1;
  for (int axis = 0; axis < 4; ++axis)
    count *= p.in_shape[axis] + p.pads_begin[axis] + p.pads_end[axis];
  std::vector<float> output(count);
  es_pad_f32(&p, input.data(), output.data());
  return output;
}

es_pad_f32_params_t padParams(es_pad_mode_t mode, const Shape4 &shape, const Shape4 &begin,
                              const Shape4 &end, float value) {
  es_pad_f32_params_t p{.mode = mode, .in_shape = {}, .pads_begin = {}, .pads_end = {},
                        .value = value};
  for (int axis = 0; axis < 4; ++axis) {
    p.in_shape[axis] = shape[axis];
    p.pads_begin[axis] = begin[axis];
    p.pads_end[axis] = end[axis];
  }
  return p;
}

TEST_CASE("pad f32: hand-computed constant, edge and reflect", "[f32][pad]") {
  const std::vector<float> row{1, 2, 3};
  const Shape4 shape{1, 1, 1, 3};
  requireEqual(runPad(padParams(ES_PAD_CONSTANT, shape, {0, 0, 0, 2}, {0, 0, 0, 2}, 9), row),
               {9, 9, 1, 2, 3, 9, 9});
  requireEqual(runPad(padParams(ES_PAD_EDGE, shape, {0, 0, 0, 2}, {0, 0, 0, 2}, 9), row),
               {1, 1, 1, 2, 3, 3, 3});
  requireEqual(runPad(padParams(ES_PAD_REFLECT, shape, {0, 0, 0, 2}, {0, 0, 0, 2}, 9), row),
               {3, 2, 1, 2, 3, 2, 1});
  // Reflecting further than the input is wide keeps going back and forth, as numpy does.
  requireEqual(runPad(padParams(ES_PAD_REFLECT, shape, {0, 0, 0, 5}, {0, 0, 0, 4}, 9), row),
               {2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3});
  // Negative pads crop.
  requireEqual(runPad(padParams(ES_PAD_CONSTANT, shape, {0, 0, 0, -1}, {0, 0, 0, 1}, 0), row),
               {2, 3, 0});
  // 2-D: [[1, 2], [3, 4]] grown by one row on top and one column on the right.
  const Shape4 square{1, 1, 2, 2};
  const std::vector<float> image{1, 2, 3, 4};
  requireEqual(runPad(padParams(ES_PAD_CONSTANT, square, {0, 0, 1, 0}, {0, 0, 0, 1}, -1),
                      image),
               {-1, -1, -1, 1, 2, -1, 3, 4, -1});
  requireEqual(runPad(padParams(ES_PAD_EDGE, square, {0, 0, 1, 0}, {0, 0, 0, 1}, -1), image),
               {1, 2, 2, 1, 2, 2, 3, 4, 4});
  requireEqual(runPad(padParams(ES_PAD_REFLECT, square, {0, 0, 1, 0}, {0, 0, 0, 1}, -1),
                      image),
               {3, 4, 3, 1, 2, 1, 3, 4, 3});
  // The outer (batch and channel) axes pad too.
  requireEqual(runPad(padParams(ES_PAD_EDGE, {2, 1, 1, 1}, {1, 0, 0, 0}, {0, 1, 0, 0}, 0),
                      {5, 6}),
               {5, 5, 5, 5, 6, 6});
}

// Where output position `position` reads along an axis of `length`, or -1 for the constant:
// reflect folds the position back into range one mirror at a time.
int32_t referencePadSource(int32_t position, int32_t length, es_pad_mode_t mode) {
  if (position >= 0 && position < length) return position;
  if (mode == ES_PAD_CONSTANT) return -1;
  if (mode == ES_PAD_EDGE || length == 1) return std::clamp(position, 0, length - 1);
  while (position < 0 || position >= length) {
    if (position < 0) position = -position;
    if (position >= length) position = 2 * (length - 1) - position;
  }
  return position;
}

TEST_CASE("pad f32: random shapes, pads and crops in every mode", "[f32][pad]") {
  Random random(23);
  const es_pad_mode_t modes[] = {ES_PAD_CONSTANT, ES_PAD_EDGE, ES_PAD_REFLECT};
  for (int trial = 0; trial < 150; ++trial) {
    const es_pad_mode_t mode = modes[trial % 3];
    Shape4 shape, begin, end, outShape;
    for (int axis = 0; axis < 4; ++axis) {
      shape[axis] = random.integer(1, 4);
      // Up to twice the input's size (reflect then wraps), or a crop.
      do {
        begin[axis] = random.integer(-2, 2 * shape[axis]);
        end[axis] = random.integer(-2, 2 * shape[axis]);
        outShape[axis] = shape[axis] + begin[axis] + end[axis];
      } while (outShape[axis] < 1);
    }
    const float value = random.real(-5.0f, 5.0f);
    const std::vector<float> input = random.reals(elementCount(shape));
    std::vector<float> want;
    for (const Shape4 &index : allIndices(outShape)) {
      Shape4 source;
      bool constant = false;
      for (int axis = 0; axis < 4; ++axis) {
        source[axis] = referencePadSource(index[axis] - begin[axis], shape[axis], mode);
        constant = constant || source[axis] < 0;
      }
      want.push_back(constant ? value : input[flatIndex(shape, source)]);
    }
    INFO("trial " << trial << ": mode " << mode << " shape " << describe(shape) << " begin "
                  << describe(begin) << " end " << describe(end));
    requireEqual(runPad(padParams(mode, shape, begin, end, value), input), want);
  }
}

std::vector<float> runTranspose(const Shape4 &shape, const Shape4 &perm,
                                const std::vector<float> &input) {
  es_transpose_f32_params_t p{.in_shape = {}, .perm = {}};
  for (int axis = 0; axis < 4; ++axis) {
    p.in_shape[axis] = shape[axis];
    p.perm[axis] = perm[axis];
  }
  std::vector<float> output(input.size());
  es_transpose_f32(&p, input.data(), output.data());
  return output;
}

// Scatters each input element to the output position its index maps to, the inverse direction
// of the kernel's gather.
std::vector<float> referenceTranspose(const Shape4 &shape, const Shape4 &perm,
                                      const std::vector<float> &input) {
  Shape4 outShape;
  for (int axis = 0; axis < 4; ++axis) outShape[axis] = shape[perm[axis]];
  std::vector<float> output(input.size());
  for (const Shape4 &index : allIndices(shape)) {
    Shape4 outIndex;
    for (int axis = 0; axis < 4; ++axis) outIndex[axis] = index[perm[axis]];
    output[flatIndex(outShape, outIndex)] = input[flatIndex(shape, index)];
  }
  return output;
}

TEST_CASE("transpose f32: hand-computed matrix and NCHW -> NHWC", "[f32][transpose]") {
  requireEqual(runTranspose({1, 1, 2, 3}, {0, 1, 3, 2}, {1, 2, 3, 4, 5, 6}), {1, 4, 2, 5, 3, 6});
  // [1, 2 channels, 1, 2] to [1, 1, 2, 2 channels]: the channels become innermost.
  requireEqual(runTranspose({1, 2, 1, 2}, {0, 2, 3, 1}, {1, 2, 10, 20}), {1, 10, 2, 20});
}

TEST_CASE("transpose f32: every permutation of a 4-D tensor, and random shapes",
          "[f32][transpose]") {
  const Shape4 shape{2, 3, 4, 5};
  std::vector<float> input(elementCount(shape));
  std::iota(input.begin(), input.end(), 0.0f);
  Shape4 perm{0, 1, 2, 3};
  int permutations = 0;
  do {
    INFO("perm " << describe(perm));
    requireEqual(runTranspose(shape, perm, input), referenceTranspose(shape, perm, input));
    ++permutations;
  } while (std::next_permutation(perm.begin(), perm.end()));
  CHECK(permutations == 24);

  Random random(29);
  for (int trial = 0; trial < 50; ++trial) {
    Shape4 randomShape;
    for (int32_t &dim : randomShape) dim = random.integer(1, 4);
    random.shuffle(perm);
    const std::vector<float> values = random.reals(elementCount(randomShape));
    INFO("shape " << describe(randomShape) << " perm " << describe(perm));
    requireEqual(runTranspose(randomShape, perm, values),
                 referenceTranspose(randomShape, perm, values));
  }
}

// ---- Reduction ----------------------------------------------------------------------------

std::vector<float> runReduceMean(const es_reduce_mean_f32_params_t &p,
                                 const std::vector<float> &input) {
  std::vector<float> output(static_cast<size_t>(p.outer * p.inner));
  es_reduce_mean_f32(&p, input.data(), output.data());
  return output;
}

es_reduce_mean_f32_params_t reduceMeanParams(int32_t outer, int32_t reduce, int32_t inner) {
  return {.outer = outer, .reduce = reduce, .inner = inner, .act_min = -kInf, .act_max = kInf};
}

TEST_CASE("reduce sum, max, l2 and argmax f32: hand-computed blocks", "[f32][reduce]") {
  const std::vector<float> x{1, -2, 3, 4, -5, 6};
  std::vector<float> y(3);
  const es_reduce_mean_f32_params_t rows = reduceMeanParams(2, 3, 1);
  es_reduce_sum_f32(&rows, x.data(), y.data());
  requireEqual({y[0], y[1]}, {2, 5});
  es_reduce_max_f32(&rows, x.data(), y.data());
  requireEqual({y[0], y[1]}, {3, 6});
  const es_reduce_mean_f32_params_t columns = reduceMeanParams(1, 2, 3);
  es_reduce_l2_f32(&columns, x.data(), y.data());
  requireClose(y, {exact(std::sqrt(17.0)), exact(std::sqrt(29.0)), exact(std::sqrt(45.0))});
  es_reduce_mean_f32_params_t relu = rows;
  relu.act_min = 0.0f;
  relu.act_max = 5.5f;
  es_reduce_sum_f32(&relu, std::vector<float>{-1, -2, 0, 3, 3, 3}.data(), y.data());
  requireEqual({y[0], y[1]}, {0, 5.5f});
  // NaN propagates through max and is the largest for argmax.
  es_reduce_max_f32(&rows, std::vector<float>{1, kNaN, 3, -kInf, -kInf, -kInf}.data(), y.data());
  CHECK(std::isnan(y[0]));
  CHECK(y[1] == -kInf);
  // ArgMax along the middle axis of [1, 3, 2]: ties to the first, or the last.
  const std::vector<float> ties{5, 1, 5, 7, 2, 7};
  es_argmax_f32_params_t argmax{1, 3, 2, 0};
  es_argmax_f32(&argmax, ties.data(), y.data());
  requireEqual({y[0], y[1]}, {0, 1});
  argmax.select_last_index = 1;
  es_argmax_f32(&argmax, ties.data(), y.data());
  requireEqual({y[0], y[1]}, {1, 2});
  const es_argmax_f32_params_t line{1, 3, 1, 0};
  es_argmax_f32(&line, std::vector<float>{1, kNaN, 2}.data(), y.data());
  CHECK(y[0] == 1);
}

TEST_CASE("reduce mean f32: hand-computed axes and activation clamp", "[f32][reduce]") {
  const std::vector<float> oneToSix{1, 2, 3, 4, 5, 6};
  // [2, 3] over axis 1, over axis 0, over both.
  requireEqual(runReduceMean(reduceMeanParams(2, 3, 1), oneToSix), {2, 5});
  requireEqual(runReduceMean(reduceMeanParams(1, 2, 3), oneToSix), {2.5f, 3.5f, 4.5f});
  requireEqual(runReduceMean(reduceMeanParams(1, 6, 1), oneToSix), {3.5f});
  // [1, 2, 2, 2] over H and W: one mean per channel.
  requireEqual(runReduceMean(reduceMeanParams(2, 4, 1), {1, 2, 3, 6, -1, -1, -1, -5}), {3, -2});
  es_reduce_mean_f32_params_t relu = reduceMeanParams(2, 3, 1);
  relu.act_min = 0.0f;
  requireEqual(runReduceMean(relu, {1, 2, 3, -4, -5, -6}), {2, 0});
}

TEST_CASE("reduce mean f32: random blocks against a double reference", "[f32][reduce]") {
  Random random(41);
  for (int trial = 0; trial < 100; ++trial) {
    es_reduce_mean_f32_params_t p =
        reduceMeanParams(random.integer(1, 4), random.integer(1, 40), random.integer(1, 4));
    std::tie(p.act_min, p.act_max) = randomActivation(random);
    const std::vector<float> input = random.reals(p.outer * p.reduce * p.inner);
    std::vector<Expected> want;
    for (int32_t o = 0; o < p.outer; ++o)
      for (int32_t i = 0; i < p.inner; ++i) {
        Expected sum{0.0, 0.0};
        for (int32_t r = 0; r < p.reduce; ++r) {
          const double value = input[(o * p.reduce + r) * p.inner + i];
          sum.value += value;
          sum.scale += std::abs(value);
        }
        want.push_back(
            clampExpected({sum.value / p.reduce, sum.scale / p.reduce}, p.act_min, p.act_max));
      }
    INFO("trial " << trial << ": [" << p.outer << "," << p.reduce << "," << p.inner << "]");
    requireClose(runReduceMean(p, input), want);
  }
}

} // namespace

TEST_CASE("fake quantisation f32: half to even, saturation, in place", "[f32][elementwise]") {
  const es_fake_quant_f32_params_t p{6, 0.5f, -1};
  // x / 0.5 = 0.5 -> 0 (even), 1.5 -> 2, -2.5 -> -2, 300 -> clamps to 127, -300 -> -128.
  std::vector<float> values = {0.25f, 0.75f, -1.25f, 150.0f, -150.0f, 1.0f};
  es_fake_quant_f32(&p, values.data(), values.data());
  CHECK(values == std::vector<float>{0.0f, 1.0f, -1.0f, 64.0f, -63.5f, 1.0f});
}
