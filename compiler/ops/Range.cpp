#include "ops/OpKit.h"

#include <cmath>

namespace edgesplit::ops {
namespace {
// start, start + delta, ... up to (excluding) limit: ONNX's count max(ceil((limit - start) /
// delta), 0). PyTorch writes it for torch.arange over a size (positions, indices); with static
// shapes its scalar inputs are constants and it folds.
int64_t elementCount(const InferContext &ctx) {
  for (size_t i = 0; i < 3; ++i) {
    if (ctx.inputType(i) != ctx.inputType(0))
      ctx.fail("start, limit and delta must have one type (start is {}, input {} is {})",
               dtypeName(ctx.inputType(0)), i, dtypeName(ctx.inputType(i)));
    if (ctx.inputRank(i) != 0 && numElements(ctx.inputShape(i)) != 1)
      ctx.fail("input {} must be a scalar, got shape {}", i, formatShape(ctx.inputShape(i)));
  }
  const DType type = ctx.inputType(0);
  if (type == DType::Bool) ctx.fail("bool inputs are not supported");
  const double start = ctx.requireInputValue(0).elementAsDouble(0);
  const double limit = ctx.requireInputValue(1).elementAsDouble(0);
  const double delta = ctx.requireInputValue(2).elementAsDouble(0);
  if (delta == 0.0 || !std::isfinite(start) || !std::isfinite(limit) || !std::isfinite(delta))
    ctx.fail("start {}, limit {} and delta {} must be finite and delta not 0", start, limit, delta);
  const double count = std::ceil((limit - start) / delta);
  // Far above any tensor limit, and within int64: the allocation's own check names the limit.
  if (count > 0x1p62) ctx.fail("the range has {} elements, more than any tensor can hold", count);
  return count > 0.0 ? static_cast<int64_t>(count) : 0;
}

void infer(InferContext &ctx) { ctx.setOutput(0, ctx.inputType(0), {elementCount(ctx)}); }

void run(KernelContext &ctx) {
  Tensor &out = ctx.output(0);
  dispatchArithmetic(out.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_arithmetic_v<T>) {
      const T start = ctx.input(0).template data<T>()[0];
      const T delta = ctx.input(2).template data<T>()[0];
      T *values = out.data<T>();
      // start + i * delta, as onnxruntime computes each element (no accumulated rounding).
      for (int64_t i = 0; i < out.numElements(); ++i)
        values[i] = static_cast<T>(start + static_cast<T>(i) * delta);
    }
  });
}
} // namespace

extern const OpDef kRange{.name = "Range", .minInputs = 3, .maxInputs = 3, .infer = infer,
                          .run = run};

} // namespace edgesplit::ops
