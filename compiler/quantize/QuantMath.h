// Compile-time parameter choices of docs/int8.md: activation scale/zero point from a range,
// per-channel symmetric weights, int32 bias, and real factors as (multiplier, shift) pairs.
#pragma once

#include "ir/Graph.h"

#include <cstdint>

namespace edgesplit {

// round_half_away of docs/int8.md (C's round), saturated into [lo, hi].
int64_t roundHalfAway(double value, int64_t lo, int64_t hi);

struct ActivationParams {
  double scale = 1.0;
  int32_t zeroPoint = 0;
};
// The range is widened to contain 0; a zero-width range uses scale 1/255.
ActivationParams chooseActivationParams(double lo, double hi);
// A constant operand of an element-wise op, per tensor in its own range.
ActivationParams chooseConstantOperandParams(const Tensor &constant);

// M ~= multiplier * 2^(shift - 31), multiplier in [2^30, 2^31); a factor below 2^-32 becomes 0.
struct FixedPointFactor {
  int32_t multiplier = 0;
  int32_t shift = 0;
};
FixedPointFactor quantizeMultiplier(double factor);

struct PerChannelWeights {
  Tensor values;              // int8, same shape as the float weights, in [-127, 127]
  std::vector<double> scales; // one per output channel (axis 0)
};
// Symmetric per-output-channel quantisation along axis 0 (Conv [M, C/g, k...], Gemm B^T [N, K]).
PerChannelWeights quantizeWeightsPerChannel(const Tensor &weights);

// Symmetric per-channel scales max|w| / 127 (1 for an all-zero channel) along `channelAxis`.
std::vector<double> symmetricChannelScales(const Tensor &weights, int64_t channelAxis);

// int32 bias with scale inputScale * weightScales[c].
Tensor quantizeBias(const Tensor &bias, double inputScale, llvm::ArrayRef<double> weightScales);

} // namespace edgesplit
