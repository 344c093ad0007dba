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

// max(0, min(1, alpha * x + beta)): HardSigmoid, and HardSwish's gate, in the type of x.
template <typename T> T hardSigmoid(T x, T alpha, T beta) {
  return std::clamp(alpha * x + beta, T(0), T(1));
}

// As mapFloat, but `f`, generic, computes in the tensor's own type (other floating-point types
// in float32). For the piecewise-linear ops that onnxruntime computes step by step in float32:
// their values at the 256 inputs of an int8 table are then those of the emitted QDQ file, where
// the same steps in double round the other way for some inputs (HardSwish: 1 LSB in 5,000).
template <typename F> void mapFloatInOwnType(const Tensor &input, Tensor &output, F f) {
  if (input.dtype() != DType::Float32 && input.dtype() != DType::Float64) {
    Tensor narrow = input.castTo(DType::Float32);
    Tensor narrowOut(DType::Float32, input.shape());
    mapFloatInOwnType(narrow, narrowOut, f);
    output = narrowOut.castTo(input.dtype());
    return;
  }
  dispatchDType(input.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
      const T *in = input.data<T>();
      T *out = output.data<T>();
      for (int64_t i = 0; i < input.numElements(); ++i) out[i] = f(in[i]);
    }
  });
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
