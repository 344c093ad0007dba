#include "quantize/QuantMath.h"

#include <algorithm>
#include <cmath>

namespace edgesplit {

int64_t roundHalfAway(double value, int64_t lo, int64_t hi) {
  if (std::isnan(value)) return std::clamp<int64_t>(0, lo, hi);
  const double rounded = std::round(value);
  if (rounded <= static_cast<double>(lo)) return lo;
  if (rounded >= static_cast<double>(hi)) return hi;
  return static_cast<int64_t>(rounded);
}

ActivationParams chooseActivationParams(double lo, double hi) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  ActivationParams params;
  params.scale = hi > lo ? (hi - lo) / 255.0 : 1.0 / 255.0;
  params.zeroPoint = static_cast<int32_t>(roundHalfAway(-128.0 - lo / params.scale, -128, 127));
  return params;
}

ActivationParams chooseConstantOperandParams(const Tensor &constant) {
  double lo = 0.0, hi = 0.0;
  for (double x : constant.castTo(DType::Float64).toDoubleVector())
    lo = std::min(lo, x), hi = std::max(hi, x);
  return chooseActivationParams(lo, hi);
}

FixedPointFactor quantizeMultiplier(double factor) {
  if (!(factor > 0.0)) return {};
  int exponent = 0;
  const double mantissa = std::frexp(factor, &exponent); // factor = mantissa * 2^exponent
  int64_t multiplier = static_cast<int64_t>(std::round(mantissa * 2147483648.0));
  if (multiplier == (int64_t{1} << 31)) {
    multiplier /= 2;
    ++exponent;
  }
  if (exponent < -31) return {};
  return {static_cast<int32_t>(multiplier), exponent};
}

PerChannelWeights quantizeWeightsPerChannel(const Tensor &weights) {
  const Tensor wide = weights.castTo(DType::Float64);
  const int64_t channels = weights.rank() == 0 ? 1 : weights.dim(0);
  const int64_t perChannel = channels == 0 ? 0 : weights.numElements() / channels;
  PerChannelWeights result{Tensor(DType::Int8, weights.shape()), {}};
  const double *w = wide.data<double>();
  int8_t *q = result.values.data<int8_t>();
  for (int64_t c = 0; c < channels; ++c) {
    double maxAbs = 0.0;
    for (int64_t k = 0; k < perChannel; ++k) maxAbs = std::max(maxAbs, std::fabs(w[c * perChannel + k]));
    const double scale = maxAbs > 0.0 ? maxAbs / 127.0 : 1.0;
    result.scales.push_back(scale);
    for (int64_t k = 0; k < perChannel; ++k)
      q[c * perChannel + k] = static_cast<int8_t>(roundHalfAway(w[c * perChannel + k] / scale, -127, 127));
  }
  return result;
}

std::vector<double> symmetricChannelScales(const Tensor &weights, int64_t channelAxis) {
  const Tensor wide = weights.castTo(DType::Float64);
  const llvm::ArrayRef<int64_t> shape = weights.shape();
  const int64_t channels = shape.empty() ? 1 : shape[channelAxis];
  int64_t inner = 1;
  for (size_t i = channelAxis + 1; i < shape.size(); ++i) inner *= shape[i];
  std::vector<double> maxAbs(static_cast<size_t>(channels), 0.0);
  const double *w = wide.data<double>();
  for (int64_t i = 0; i < weights.numElements(); ++i) {
    const size_t channel = static_cast<size_t>((i / inner) % channels);
    maxAbs[channel] = std::max(maxAbs[channel], std::fabs(w[i]));
  }
  for (double &scale : maxAbs) scale = scale > 0.0 ? scale / 127.0 : 1.0;
  return maxAbs;
}

Tensor quantizeBias(const Tensor &bias, double inputScale, llvm::ArrayRef<double> weightScales) {
  const Tensor wide = bias.castTo(DType::Float64);
  Tensor result(DType::Int32, bias.shape());
  for (int64_t c = 0; c < bias.numElements(); ++c)
    result.data<int32_t>()[c] = static_cast<int32_t>(
        roundHalfAway(wide.data<double>()[c] / (inputScale * weightScales[c]), INT32_MIN, INT32_MAX));
  return result;
}

} // namespace edgesplit
