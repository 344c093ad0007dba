// Shared machinery of the one-input elementwise ops (Abs, Neg, Exp, Sigmoid, Elu, Clip, ...).
#pragma once

#include "codegen/LowerContext.h"
#include "ops/OpKit.h"

#include "es_f32.h"

#include <algorithm>
#include <cstdint>

namespace edgesplit::ops {

// Output = input type and shape, for ops defined on floating-point types only.
void inferFloatUnary(InferContext &ctx);
// The same for ops defined on every numeric type (anything but bool).
void inferNumericUnary(InferContext &ctx);
// The same for ops defined on signed numbers (floats and signed integers).
void inferSignedUnary(InferContext &ctx);

// Applies an elementwise op to a numeric tensor: floating-point types through mapFloat with
// `floatOp(double)`, integer types natively with `intOp(T)`.
template <typename FloatOp, typename IntOp>
void mapNumeric(const Tensor &input, Tensor &output, FloatOp floatOp, IntOp intOp) {
  if (isFloatingPoint(input.dtype())) {
    mapFloat(input, output, floatOp);
    return;
  }
  dispatchArithmetic(input.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_integral_v<T>) {
      auto in = input.values<T>();
      auto out = output.mutableValues<T>();
      for (size_t i = 0; i < in.size(); ++i) out[i] = intOp(in[i]);
    }
  });
}

// -value modulo 2^bits, as numpy wraps (so -INT_MIN == INT_MIN), without signed-overflow UB.
template <typename T> T wrappingNegate(T value) {
  return static_cast<T>(uint64_t{0} - static_cast<uint64_t>(value));
}

// max(0, min(1, alpha * x + beta)): HardSigmoid, and HardSwish's gate.
inline double hardSigmoid(double x, double alpha, double beta) {
  return std::clamp(alpha * x + beta, 0.0, 1.0);
}

// --- Code generation ---

// The entries of an int8 table (docs/int8.md "Element-wise functions of one input"): the
// function's float32 values at the 256 dequantised inputs, quantised to `output` by the build's
// rule. Single rounding quantises as onnxruntime's QuantizeLinear does (float32 division, ties to
// even, NaN to -128), double rounding in double with ties away from zero (NaN to the zero point).
std::vector<int8_t> quantizeLookupTable(llvm::ArrayRef<float> values, const TensorQuant &output,
                                        S8Rounding rounding);

// int8: the op as a lookup table (es_lut_s8) that its own reference kernel fills from the 256
// dequantised input values, its other inputs read as constants (docs/int8.md).
void lowerLookupTable(LowerContext &ctx);
// The same table into the given output parameters (an output that has none of its own: the
// integer result of a truncating Cast, docs/int8.md).
void lowerLookupTable(LowerContext &ctx, double outputScale, int32_t outputZeroPoint);
// An es_unary_f32 activation in float32, a table in int8.
void lowerActivation(LowerContext &ctx, es_unary_f32_op_t function, float alpha = 0.0f,
                     float beta = 0.0f);
// Relu and Clip: es_clip_f32 to [lo, hi] in float32, a table in int8.
void lowerClamp(LowerContext &ctx, float lo, float hi);

} // namespace edgesplit::ops
