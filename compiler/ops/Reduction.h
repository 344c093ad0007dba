// Shared logic of the ops that collapse axes (ReduceSum, ReduceMean, ReduceMax, ArgMax, the global
// pools) and of the softmax family, which normalises along an axis with the same max and sum.
#pragma once

#include "ops/OpKit.h"

namespace edgesplit::ops {

enum class Reduction { Sum, Mean, Max };

// The shape of reducing `inputShape` over the axes flagged in `reduced`: they become 1 when
// `keepDims`, else they disappear.
Shape reducedShape(llvm::ArrayRef<int64_t> inputShape, llvm::ArrayRef<bool> reduced, bool keepDims);

// Reduces `input` over the axes flagged in `reduced` into `output`, which holds the reduced
// element count (keepdims only changes its shape). Floats of every precision accumulate in double
// and round once; integers accumulate in 64 bits and sums wrap to the element type like numpy. An
// empty reduction gives 0 for Sum, NaN (floats) or 0 (integers) for Mean, the lowest value for Max.
void reduce(const Tensor &input, llvm::ArrayRef<bool> reduced, Reduction kind, Tensor &output);

// The Reduce* operators: input 0 reduced over 'axes', read from the attribute before opset
// `axesInputOpset` and from the optional input 1 from then on, with keepdims and
// noop_with_empty_axes (no axes: every axis, or none when noop_with_empty_axes is set).
void inferReduceOp(InferContext &ctx, int axesInputOpset);
void runReduceOp(KernelContext &ctx, int axesInputOpset, Reduction kind);

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

// Half and BFloat16 have no C++ arithmetic. Kernels that compare or add elements compute on the
// tensor this returns: `input` itself, or its float32 copy (exact for both types) kept in
// `storage`. assignResult() then rounds the result once to the output's type.
const Tensor &arithmeticView(const Tensor &input, Tensor &storage);
void assignResult(Tensor &output, Tensor result);

// Softmax and LogSoftmax. Before opset 13 the input is coerced to 2-D at 'axis' (default 1) and
// normalised over the whole trailing block; from opset 13 over the single 'axis' (default -1).
void inferSoftmax(InferContext &ctx);
void runSoftmax(KernelContext &ctx, bool logarithm);

} // namespace edgesplit::ops
