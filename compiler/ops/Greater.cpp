#include "ops/Binary.h"

namespace edgesplit::ops {
namespace {
// torch.where(x > t, ...), ReLU-like masks: a bool mask that a Where reads.
void run(KernelContext &ctx) {
  runComparison(ctx, [](auto a, auto b) { return a > b; });
}

void lower(LowerContext &ctx) { lowerArithmetic(ctx, ArithmeticKind::Greater); }
} // namespace

extern const OpDef kGreater{.name = "Greater",
                            .minInputs = 2,
                            .maxInputs = 2,
                            .infer = inferComparison,
                            .run = run,
                            .quantize = quantizeArithmetic,
                            .lower = lower};

} // namespace edgesplit::ops
