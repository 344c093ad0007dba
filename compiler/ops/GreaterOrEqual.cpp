#include "ops/Binary.h"

namespace edgesplit::ops {
namespace {
// Opset 12's a >= b (PyTorch's x >= t from opset 12).
void run(KernelContext &ctx) {
  runComparison(ctx, [](auto a, auto b) { return a >= b; });
}

void lower(LowerContext &ctx) { lowerArithmetic(ctx, ArithmeticKind::GreaterOrEqual); }
} // namespace

extern const OpDef kGreaterOrEqual{.name = "GreaterOrEqual",
                                   .minInputs = 2,
                                   .maxInputs = 2,
                                   .infer = inferComparison,
                                   .run = run,
                                   .quantize = quantizeArithmetic,
                                   .lower = lower};

} // namespace edgesplit::ops
