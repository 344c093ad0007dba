#include "ops/Binary.h"

namespace edgesplit::ops {
namespace {
// a < b as a bool mask (PyTorch writes x >= t as Not(Less) before opset 12).
void run(KernelContext &ctx) {
  runComparison(ctx, [](auto a, auto b) { return a < b; });
}

void lower(LowerContext &ctx) { lowerArithmetic(ctx, ArithmeticKind::Less); }
} // namespace

extern const OpDef kLess{.name = "Less",
                         .minInputs = 2,
                         .maxInputs = 2,
                         .infer = inferComparison,
                         .run = run,
                         .quantize = quantizeArithmetic,
                         .lower = lower};

} // namespace edgesplit::ops
