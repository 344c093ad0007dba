#include "ops/Binary.h"

namespace edgesplit::ops {
namespace {
// PyTorch writes Equal in its shape arithmetic (expand(-1, ...) compares the requested sizes with
// -1, then Where picks), which folds to a constant with static shapes, and in masks on data
// (x == y feeding a Where), which code generation computes.
void run(KernelContext &ctx) {
  runComparison(ctx, [](auto a, auto b) { return a == b; });
}

void lower(LowerContext &ctx) { lowerArithmetic(ctx, ArithmeticKind::Equal); }
} // namespace

extern const OpDef kEqual{.name = "Equal", .minInputs = 2, .maxInputs = 2,
                          .infer = inferComparison, .run = run, .quantize = quantizeArithmetic,
                          .lower = lower};

} // namespace edgesplit::ops
