// int8 LayerNormalization (docs/int8.md "LayerNormalization"): runtime-c's es_layer_norm_s8
// against the compiler's integer reference, bit for bit, and both against the real-valued
// normalisation of the dequantised input.
#include "ops/LayerNormalization.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace edgesplit;
using namespace edgesplit::ops;

namespace {
std::vector<int8_t> runKernel(const es_layer_norm_s8_params_t &p,
                              const std::vector<es_requant_t> &scale,
                              const std::vector<int32_t> &bias, const std::vector<int8_t> &x) {
  std::vector<int8_t> y(x.size());
  es_layer_norm_s8(&p, scale.data(), bias.data(), x.data(), y.data());
  return y;
}

std::vector<int8_t> runReference(const es_layer_norm_s8_params_t &p,
                                 const std::vector<es_requant_t> &scale,
                                 const std::vector<int32_t> &bias, const std::vector<int8_t> &x) {
  std::vector<int8_t> y(x.size());
  referenceLayerNormS8(p, scale, bias, x, y);
  return y;
}
} // namespace

TEST_CASE("es_layer_norm_s8 equals the integer reference on random rows", "[layernorm]") {
  std::mt19937_64 rng(15);
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const int32_t lengths[] = {1, 2, 3, 7, 16, 64, 255, 1000, ES_S8_LAYER_NORM_MAX_LENGTH};
  int checked = 0;
  for (int32_t length : lengths) {
    for (int trial = 0; trial < (length > 1000 ? 2 : 12); ++trial) {
      es_layer_norm_s8_params_t p{};
      p.outer = static_cast<int32_t>(uniform(1, length > 1000 ? 2 : 4));
      p.length = length;
      p.input_zp = static_cast<int32_t>(uniform(-128, 127));
      // From no epsilon through one that outweighs any spread to the saturated 2^61.
      const int64_t epsilons[] = {0, uniform(0, 1000), uniform(0, int64_t{1} << 40),
                                  int64_t{1} << 61};
      p.epsilon = epsilons[trial % 4];
      p.act_min = trial % 5 == 0 ? static_cast<int32_t>(uniform(-128, 0)) : -128;
      p.act_max = 127;
      std::vector<es_requant_t> scale;
      std::vector<int32_t> bias;
      for (int32_t k = 0; k < length; ++k) {
        const int32_t magnitude = static_cast<int32_t>(uniform(int64_t{1} << 30, (int64_t{1} << 31) - 1));
        const int64_t kind = uniform(0, 9);
        scale.push_back({kind == 0 ? 0 : (kind < 4 ? -magnitude : magnitude),
                         kind == 0 ? 0 : static_cast<int32_t>(uniform(-16, 40))});
        bias.push_back(static_cast<int32_t>(uniform(-(int64_t{1} << 31) + 1, (int64_t{1} << 31) - 1)));
      }
      std::vector<int8_t> x(static_cast<size_t>(p.outer) * static_cast<size_t>(length));
      const int64_t spread = trial % 3 == 0 ? 127 : uniform(0, 4); // full range or near-constant
      const int64_t centre = uniform(-128 + spread, 127 - spread);
      for (int8_t &v : x) v = static_cast<int8_t>(uniform(centre - spread, centre + spread));
      if (trial == 1) std::fill(x.begin(), x.end(), static_cast<int8_t>(centre)); // c = 0
      if (trial == 2) // the largest spread: half at each end
        for (size_t i = 0; i < x.size(); ++i) x[i] = i % 2 ? 127 : -128;
      INFO("length " << length << ", trial " << trial);
      CHECK(runKernel(p, scale, bias, x) == runReference(p, scale, bias, x));
      ++checked;
    }
  }
  CHECK(checked > 90);
}

TEST_CASE("int8 layer normalisation rounds the real normalisation of its input",
          "[layernorm]") {
  // The tables of docs/int8.md on calibrated-like parameters: every output is the nearest int8
  // value of the normalisation of the dequantised input, but within 2^-10 of a half.
  std::mt19937_64 rng(17);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (int32_t length : {4, 16, 48, 384}) {
    const double inputScale = 0.05, outputScale = 4.0 / 127;
    const int32_t inputZp = 3, outputZp = -2;
    const double epsilon = 1e-5;
    std::vector<double> gamma, beta;
    for (int32_t k = 0; k < length; ++k) {
      gamma.push_back(0.2 + std::fabs(normal(rng)) * (k % 7 == 0 ? -1 : 1));
      beta.push_back(0.3 * normal(rng));
    }
    std::string why;
    const auto tables =
        layerNormS8Tables(inputScale, outputScale, outputZp, epsilon, gamma, beta, why);
    REQUIRE(tables);
    es_layer_norm_s8_params_t p{3, length, inputZp, tables->epsilon, -128, 127};
    std::vector<int8_t> x;
    for (int32_t i = 0; i < 3 * length; ++i)
      x.push_back(static_cast<int8_t>(std::clamp(std::lround(normal(rng) * 40), -128L, 127L)));
    const std::vector<int8_t> y = runKernel(p, tables->scale, tables->bias, x);
    CHECK(y == runReference(p, tables->scale, tables->bias, x));
    int rounded = 0;
    for (int32_t row = 0; row < 3; ++row) {
      double mean = 0, variance = 0;
      for (int32_t k = 0; k < length; ++k) mean += inputScale * (x[row * length + k] - inputZp);
      mean /= length;
      for (int32_t k = 0; k < length; ++k) {
        const double d = inputScale * (x[row * length + k] - inputZp) - mean;
        variance += d * d;
      }
      variance /= length;
      for (int32_t k = 0; k < length; ++k) {
        const double real = (inputScale * (x[row * length + k] - inputZp) - mean) /
                                std::sqrt(variance + epsilon) * gamma[k] + beta[k];
        const double exact = real / outputScale + outputZp;
        const double wanted = std::clamp(exact, -128.0, 127.0);
        INFO("length " << length << ", row " << row << ", element " << k << ": " << exact);
        const double distance = std::fabs(y[row * length + k] - wanted);
        CHECK(distance <= 0.5 + 1e-3);
        const double fraction = exact - std::floor(exact);
        if (std::fabs(fraction - 0.5) > 0x1p-10 || wanted != exact) {
          CHECK(y[row * length + k] == std::nearbyint(wanted));
          ++rounded;
        }
      }
    }
    CHECK(rounded >= 3 * length * 98 / 100);
  }
}

TEST_CASE("int8 layer normalisation tables refuse what the kernel cannot hold", "[layernorm]") {
  std::string why;
  CHECK_FALSE(layerNormS8Tables(0.1, 1e-12, 0, 1e-5, {1.0, 2.0}, {0.0, 0.0}, why));
  CHECK(why.find("Scale[0]") != std::string::npos);
  CHECK_FALSE(layerNormS8Tables(0.1, 0.01, 0, 1e-5, {1.0, 2.0}, {0.0, 400.0}, why));
  CHECK(why.find("B[1]") != std::string::npos);
  // A tiny factor is dropped (its output moves by less than 2^-17 of a step), not refused.
  const auto tiny = layerNormS8Tables(0.1, 1.0, 0, 1e-5, {1e-9, 1.0}, {0.0, 0.0}, why);
  REQUIRE(tiny);
  CHECK(tiny->scale[0].multiplier == 0);
  CHECK(tiny->scale[1].multiplier > 0);
}

TEST_CASE("per-channel rows (InstanceNormalization): kernel, reference and the real result agree",
          "[layernorm]") {
  // [N = 2, C = 3] rows of a plane each, one Scale and B per channel (row % 3), the tables built
  // for the plane's length rather than the number of entries.
  std::mt19937_64 rng(17);
  std::normal_distribution<double> normal(0.0, 1.0);
  const int32_t channels = 3, rows = 6;
  for (int32_t length : {4, 25, 100}) {
    const double inputScale = 0.04, outputScale = 5.0 / 127, epsilon = 1e-5;
    const int32_t inputZp = -7, outputZp = 4;
    const std::vector<double> gamma{0.7, -1.2, 1.5}, beta{0.1, -0.4, 0.25};
    std::string why;
    const auto tables = layerNormS8Tables(inputScale, outputScale, outputZp, epsilon, gamma, beta,
                                          why, length);
    REQUIRE(tables);
    REQUIRE(tables->scale.size() == 3);
    es_layer_norm_s8_params_t p{rows, length, inputZp, tables->epsilon, -128, 127, channels};
    std::vector<int8_t> x;
    for (int32_t i = 0; i < rows * length; ++i)
      x.push_back(static_cast<int8_t>(std::clamp(std::lround(normal(rng) * 40), -128L, 127L)));
    const std::vector<int8_t> y = runKernel(p, tables->scale, tables->bias, x);
    CHECK(y == runReference(p, tables->scale, tables->bias, x));
    for (int32_t row = 0; row < rows; ++row) {
      double mean = 0, variance = 0;
      for (int32_t k = 0; k < length; ++k) mean += inputScale * (x[row * length + k] - inputZp);
      mean /= length;
      for (int32_t k = 0; k < length; ++k) {
        const double d = inputScale * (x[row * length + k] - inputZp) - mean;
        variance += d * d;
      }
      variance /= length;
      for (int32_t k = 0; k < length; ++k) {
        const double real = (inputScale * (x[row * length + k] - inputZp) - mean) /
                                std::sqrt(variance + epsilon) * gamma[row % channels] +
                            beta[row % channels];
        const double wanted = std::clamp(real / outputScale + outputZp, -128.0, 127.0);
        INFO("length " << length << ", row " << row << ", element " << k);
        CHECK(std::fabs(y[row * length + k] - wanted) <= 0.5 + 1e-3);
      }
    }
  }
}
