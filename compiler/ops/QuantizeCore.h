// The affine quantisation rules shared by QuantizeLinear, DequantizeLinear and QLinearMatMul:
//   q = saturate(round_half_to_even(x / scale) + zero_point),   x = (q - zero_point) * scale.
#pragma once

#include "ops/OpKit.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace edgesplit::ops {

// The element types a quantised tensor (and its zero point) may have.
inline bool isQuantizedType(DType type) { return type == DType::UInt8 || type == DType::Int8; }

// Clamps an already integral value into Q's range; NaN (a zero scale) becomes 0 rather than the
// undefined behaviour of converting it.
template <typename Q> Q saturateTo(double integral) {
  if (std::isnan(integral)) return Q{0};
  constexpr double lowest = std::numeric_limits<Q>::lowest(),
                   highest = std::numeric_limits<Q>::max();
  return static_cast<Q>(std::clamp(integral, lowest, highest));
}

// The quantised value of `real`. The division runs in `Real` so float32 inputs round exactly as
// the float32 reference does at halfway cases; nearbyint's default mode rounds half to even.
template <typename Q, typename Real> Q quantizeValue(Real real, Real scale, int32_t zeroPoint) {
  return saturateTo<Q>(static_cast<double>(std::nearbyint(real / scale)) + zeroPoint);
}

// Whether a scale and its zero point describe the same parameters: equal shapes, or single values
// of any rank (exporters mix [] and [1]).
bool matchingParamShapes(llvm::ArrayRef<int64_t> scale, llvm::ArrayRef<int64_t> zeroPoint);

// One scale and zero point for the whole tensor, or one per slice along an axis (opset 13+).
struct AffineParams {
  std::vector<float> scales;
  std::vector<int32_t> zeroPoints; // same length as scales; zeros when the model omits them
  int64_t sliceSize = 1;           // consecutive elements sharing one parameter pair, per axis

  size_t paramIndex(int64_t element) const {
    return scales.size() == 1 ? 0 : static_cast<size_t>(element / sliceSize) % scales.size();
  }
};

// Checks the (data, scale, optional zero point) inputs 0..2 of QuantizeLinear/DequantizeLinear:
// a float32 scale that is a scalar (or one element), or from opset 13 a vector as long as the
// data's `axis` dimension; a zero point of the scale's shape.
void checkAffineParams(const InferContext &ctx);

// The parameters checkAffineParams accepted, for a kernel.
AffineParams readAffineParams(const KernelContext &ctx);

} // namespace edgesplit::ops
