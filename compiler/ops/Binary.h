// Shared machinery of the numpy-broadcasting elementwise ops: the binary arithmetic ops (Add, Sub,
// Mul, Div), PRelu, and the variadic Max and Min, which fold their inputs left with a binary op.
#pragma once

#include "ops/OpKit.h"

#include <cstdint>

namespace edgesplit::ops {

// Every input of one (non-bool) type; the output has that type and the broadcast shape.
void inferBroadcastBinary(InferContext &ctx);

// The shape that input `index` (of shape `shape`) broadcasts from when input 0 has rank
// `firstRank`. Before opset 7, Add/Sub/Mul/Div with broadcast=1 aligned input 1 with input 0
// starting at attribute `axis` rather than at the last dimension: appending ones makes numpy
// broadcasting do the same.
Shape broadcastOperandShape(const NodeContext &ctx, size_t index, llvm::ArrayRef<int64_t> shape,
                            size_t firstRank);

// Integer arithmetic modulo 2^bits, as numpy wraps. Computing in uint64 keeps it free of undefined
// behaviour: no signed overflow, and no promotion of narrow unsigned types to (overflowing) int.
template <typename T, typename Op> T wrapping(Op op, T a, T b) {
  return static_cast<T>(op(static_cast<uint64_t>(a), static_cast<uint64_t>(b)));
}

namespace detail {
// out = op(...op(op(in0, in1), in2)..., inN) elementwise, every input broadcast to out's shape.
template <typename T, typename Op>
void foldBroadcast(const NodeContext &ctx, llvm::ArrayRef<const Tensor *> inputs, Tensor &out,
                   Op op) {
  T *result = out.data<T>();
  const size_t firstRank = inputs[0]->rank();
  for (size_t k = 0; k < inputs.size(); ++k) {
    const T *in = inputs[k]->data<T>();
    const BroadcastIndexer index(broadcastOperandShape(ctx, k, inputs[k]->shape(), firstRank),
                                 out.shape());
    for (int64_t i = 0; i < out.numElements(); ++i)
      result[i] = k == 0 ? in[index(i)] : op(result[i], in[index(i)]);
  }
}
} // namespace detail

// out = f(a, b) elementwise with broadcasting; with more inputs, f folds them from the left. Floats
// compute in double and round once per step (Half and BFloat16 round once at the end); integers
// use the op's own integer rule.
template <typename FloatOp, typename IntOp>
void runBroadcastBinary(KernelContext &ctx, FloatOp floatOp, IntOp intOp) {
  llvm::SmallVector<const Tensor *, 4> inputs;
  for (size_t k = 0; k < ctx.numInputs(); ++k) inputs.push_back(&ctx.input(k));
  Tensor &out = ctx.output(0);
  const DType type = out.dtype();
  if (isFloatingPoint(type) && type != DType::Float32 && type != DType::Float64) {
    llvm::SmallVector<Tensor, 4> wide;
    llvm::SmallVector<const Tensor *, 4> wideInputs;
    for (const Tensor *input : inputs) wide.push_back(input->castTo(DType::Float64));
    for (const Tensor &input : wide) wideInputs.push_back(&input);
    Tensor wideOut(DType::Float64, out.shape());
    detail::foldBroadcast<double>(ctx, wideInputs, wideOut, floatOp);
    out = wideOut.castTo(type);
    return;
  }
  dispatchArithmetic(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>)
      detail::foldBroadcast<T>(ctx, inputs, out, [&](T a, T b) {
        return static_cast<T>(floatOp(static_cast<double>(a), static_cast<double>(b)));
      });
    else
      detail::foldBroadcast<T>(ctx, inputs, out, intOp);
  });
}

// Mean's 1/n as a scalar of `type`: what its reference kernel and the Mul that normalisation
// writes for it (passes/SumMeanToAdds.cpp) multiply the sum by, as onnxruntime does.
Tensor meanFactor(size_t count, DType type);

// The comparisons (Equal, Greater, Less, GreaterOrEqual, LessOrEqual): two inputs of one type, a
// bool output of their broadcast shape.
void inferComparison(InferContext &ctx);

// out = compare(a, b) elementwise with broadcasting. Floats compare as doubles (exact for every
// narrower type); integers and bools as int64, which keeps uint64's equality (its order only
// below 2^63, where ONNX models keep their integers).
template <typename Compare> void runComparison(KernelContext &ctx, Compare compare) {
  const DType common = isFloatingPoint(ctx.input(0).dtype()) ? DType::Float64 : DType::Int64;
  const Tensor a = ctx.input(0).castTo(common), b = ctx.input(1).castTo(common);
  Tensor &out = ctx.output(0);
  const BroadcastIndexer indexA(a.shape(), out.shape()), indexB(b.shape(), out.shape());
  bool *result = out.data<bool>();
  dispatchDType(common, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, double> || std::is_same_v<T, int64_t>) {
      const T *x = a.data<T>(), *y = b.data<T>();
      for (int64_t i = 0; i < out.numElements(); ++i)
        result[i] = compare(x[indexA(i)], y[indexB(i)]);
    }
  });
}

// --- Code generation ---

enum class ArithmeticKind {
  Add,
  Sub,
  Mul,
  Div,
  Max,
  Min,
  PRelu,
  // Comparisons: a bool result, which generated code keeps as one element of the program's type
  // per value (float32 1.0f / 0.0f, int8 codes 1 / 0) for Where to read (docs/int8.md
  // "Comparisons").
  Greater,
  Less,
  GreaterOrEqual,
  LessOrEqual,
  Equal
};

// Add, Sub, Mul, Div (int8: by a constant scalar a table, docs/int8.md), two-input Max and Min,
// and PRelu as es_binary_f32 / es_binary_s8: numpy broadcasting within the kernels' 4-D, the fused activation's clamp,
// constant operands as constant arrays (int8 in their own parameters).
void lowerArithmetic(LowerContext &ctx, ArithmeticKind kind);
// int8 rule of Add, Sub, Mul, Max, Min, PRelu and the comparisons: the output from its range (a
// comparison's bool output has none), a constant operand in its own.
void quantizeArithmetic(QuantizeContext &ctx);
// int8 rule of Mul and Div: by a positive constant scalar the output keeps the input's int8
// values and zero point, its scale multiplied (divided) by the constant, so the rescaling is exact
// (docs/int8.md); otherwise the output's calibrated range.
void annotateScalarScaling(QuantizeContext &ctx, ArithmeticKind kind);

} // namespace edgesplit::ops
