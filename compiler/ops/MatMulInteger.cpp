#include "ops/MatMulCore.h"
#include "ops/QuantizeCore.h"

namespace edgesplit::ops {
namespace {
enum Input { kA, kB, kAZeroPoint, kBZeroPoint };

void infer(InferContext &ctx) {
  for (size_t operand : {kA, kB})
    if (!isQuantizedType(ctx.inputType(operand)))
      ctx.fail("input {} must be uint8 or int8, got {}", operand,
               dtypeName(ctx.inputType(operand)));
  checkZeroPoint(ctx, kAZeroPoint, kA, QuantAxis::Rows);
  checkZeroPoint(ctx, kBZeroPoint, kB, QuantAxis::Columns);
  ctx.setOutput(0, DType::Int32, matMulShape(ctx, ctx.inputShape(kA), ctx.inputShape(kB)).output);
}

void run(KernelContext &ctx) {
  const MatMulShape shape = matMulShape(ctx, ctx.input(kA).shape(), ctx.input(kB).shape());
  auto optionalInput = [&](size_t index) {
    return ctx.hasInput(index) ? &ctx.input(index) : nullptr;
  };
  const Tensor a =
      subtractZeroPoint(ctx, ctx.input(kA), optionalInput(kAZeroPoint), QuantAxis::Rows);
  const Tensor b =
      subtractZeroPoint(ctx, ctx.input(kB), optionalInput(kBZeroPoint), QuantAxis::Columns);
  int32_t *result = ctx.output(0).data<int32_t>();
  // The spec lets only the 32-bit accumulation overflow: sum exactly, then wrap to int32.
  batchedMatMul<int64_t>(
      shape, a.data<int32_t>(), b.data<int32_t>(),
      [&](int64_t index, int64_t sum) { result[index] = static_cast<int32_t>(sum); });
}
} // namespace

extern const OpDef kMatMulInteger{.name = "MatMulInteger", .minInputs = 2, .maxInputs = 4,
                                  .infer = infer, .run = run, .macs = matMulMacs};

} // namespace edgesplit::ops
