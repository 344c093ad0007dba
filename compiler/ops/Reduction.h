// Shared logic of the ops that collapse axes (ReduceSum, ReduceMean, ReduceMax, ArgMax, the global
// pools) and of the softmax family, which normalises along an axis with the same max and sum.
#pragma once

#include "ops/Layout.h"
#include "ops/OpKit.h"

namespace edgesplit {
class LowerContext;
}

namespace edgesplit::ops {

// L2: the square root of the sum of squares (ReduceL2); SumSquare: the sum of squares; L1: the
// sum of magnitudes; LogSumExp: the log of the sum of exponentials; Prod: the product.
enum class Reduction { Sum, Mean, Max, Min, L2, SumSquare, L1, LogSumExp, Prod };

// The shape of reducing `inputShape` over the axes flagged in `reduced`: they become 1 when
// `keepDims`, else they disappear.
Shape reducedShape(llvm::ArrayRef<int64_t> inputShape, llvm::ArrayRef<bool> reduced, bool keepDims);

// Reduces `input` over the axes flagged in `reduced` into `output`, which holds the reduced
// element count (keepdims only changes its shape). Floats of every precision accumulate in double
// and round once; integers accumulate in 64 bits and sums and products wrap to the element type
// like numpy (LogSumExp computes in double). An empty reduction gives 0 for Sum, L2, SumSquare and
// L1, NaN (floats) or 0 (integers) for Mean, the lowest value for Max, the highest for Min, 1 for
// Prod and -infinity for LogSumExp.
void reduce(const Tensor &input, llvm::ArrayRef<bool> reduced, Reduction kind, Tensor &output);

// The Reduce* operators: input 0 reduced over 'axes', read from the attribute before opset
// `axesInputOpset` and from the optional input 1 from then on, with keepdims and
// noop_with_empty_axes (no axes: every axis, or none when noop_with_empty_axes is set).
void inferReduceOp(InferContext &ctx, int axesInputOpset);
void runReduceOp(KernelContext &ctx, int axesInputOpset, Reduction kind);
// Their code generation: the input as the kernels' [outer, reduce, inner] (the reduced axes
// adjacent, axes of size 1 aside, the axes input a constant), one es_reduce_*_f32 call, or in
// int8 es_reduce_mean_s8 (Mean, and Sum with the factor Sx / Sy), es_reduce_max_s8,
// es_reduce_min_s8, es_reduce_l2_s8, es_reduce_sum_square_s8 or es_reduce_l1_s8 (docs/int8.md);
// int8 LogSumExp and Prod are refused.
void lowerReduceOp(LowerContext &ctx, int axesInputOpset, Reduction kind);

// A tensor seen as [outer, length, inner] around one axis, for ops that walk along that axis.
struct AxisSplit {
  int64_t outer = 1;
  int64_t length = 1;
  int64_t inner = 1;
};
AxisSplit splitAtAxis(llvm::ArrayRef<int64_t> shape, int64_t axis);

// The order max-like ops pick by: the usual one, with NaN above every number so that it
// propagates as in numpy's max and argmax.
template <typename T> bool ranksAbove(T candidate, T best) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(best)) return false;
    if (std::isnan(candidate)) return true;
  }
  return candidate > best;
}
// The order min-like ops pick by: NaN below every number, so that it propagates as in numpy's min.
template <typename T> bool ranksBelow(T candidate, T best) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(best)) return false;
    if (std::isnan(candidate)) return true;
  }
  return candidate < best;
}

// Half and BFloat16 have no C++ arithmetic. Kernels that compare or add elements compute on the
// tensor this returns: `input` itself, or its float32 copy (exact for both types) kept in
// `storage`. assignResult() then rounds the result once to the output's type.
const Tensor &arithmeticView(const Tensor &input, Tensor &storage);
void assignResult(Tensor &output, Tensor result);

// Softmax and LogSoftmax. Before opset 13 the input is coerced to 2-D at 'axis' (default 1) and
// normalised over the whole trailing block; from opset 13 over the single 'axis' (default -1).
void inferSoftmax(InferContext &ctx);
void runSoftmax(KernelContext &ctx, bool logarithm);
// The lines a softmax normalises as [outer, length, inner]: the whole trailing block from 'axis'
// before opset 13, the single 'axis' from then on.
AxisSplit softmaxSplit(const NodeContext &ctx, llvm::ArrayRef<int64_t> shape);
// A softmax kernel's parameter struct with its lines filled in.
template <typename P> P softmaxParams(const NodeContext &ctx, llvm::ArrayRef<int64_t> shape) {
  const AxisSplit lines = softmaxSplit(ctx, shape);
  P p{};
  p.outer = kernelInt(ctx, lines.outer, "size");
  p.length = kernelInt(ctx, lines.length, "softmax length");
  p.inner = kernelInt(ctx, lines.inner, "size");
  return p;
}
// The int8 softmax kernels' table e[d] = round_half_away(2^16 exp(Sx (d - 255))), d in [0, 255]
// (docs/int8.md "Softmax / LogSoftmax"); fails for lines longer than its uint32 sum allows.
std::vector<uint32_t> softmaxExpTable(const NodeContext &ctx, double inputScale,
                                      int64_t lineLength);

} // namespace edgesplit::ops
