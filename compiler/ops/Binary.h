// Shared machinery of the numpy-broadcasting binary arithmetic ops (Add, Sub, Mul, Div, ...).
#pragma once

#include "ops/OpKit.h"

namespace edgesplit::ops {

// Both inputs of one type, output of that type with the broadcast shape.
void inferBroadcastBinary(InferContext &ctx);

// out = f(a, b) elementwise with broadcasting. Floats compute in double and round once; Half and
// BFloat16 go through double too; integers use the op's own integer rule.
template <typename FloatOp, typename IntOp>
void runBroadcastBinary(KernelContext &ctx, FloatOp floatOp, IntOp intOp) {
  const Tensor &a = ctx.input(0);
  const Tensor &b = ctx.input(1);
  Tensor &out = ctx.output(0);
  BroadcastIndexer indexA(a.shape(), out.shape()), indexB(b.shape(), out.shape());
  if (isFloatingPoint(a.dtype()) && a.dtype() != DType::Float32 && a.dtype() != DType::Float64) {
    Tensor wideA = a.castTo(DType::Float64), wideB = b.castTo(DType::Float64);
    Tensor wideOut(DType::Float64, out.shape());
    for (int64_t i = 0; i < out.numElements(); ++i)
      wideOut.data<double>()[i] =
          floatOp(wideA.data<double>()[indexA(i)], wideB.data<double>()[indexB(i)]);
    out = wideOut.castTo(a.dtype());
    return;
  }
  dispatchArithmetic(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T *pa = a.data<T>();
    const T *pb = b.data<T>();
    T *po = out.data<T>();
    for (int64_t i = 0; i < out.numElements(); ++i) {
      if constexpr (std::is_floating_point_v<T>)
        po[i] = static_cast<T>(floatOp(static_cast<double>(pa[indexA(i)]),
                                       static_cast<double>(pb[indexB(i)])));
      else
        po[i] = intOp(pa[indexA(i)], pb[indexB(i)]);
    }
  });
}

} // namespace edgesplit::ops
