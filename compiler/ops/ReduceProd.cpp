#include "ops/Reduction.h"

namespace edgesplit::ops {
namespace {
// Opset 18 moved the axes from an attribute to an optional input.
constexpr int kAxesInputOpset = 18;

void infer(InferContext &ctx) { inferReduceOp(ctx, kAxesInputOpset); }
void run(KernelContext &ctx) { runReduceOp(ctx, kAxesInputOpset, Reduction::Prod); }
// float32 only: an int8 product has no fixed scale, and is refused (docs/errors.md).
void lower(LowerContext &ctx) { lowerReduceOp(ctx, kAxesInputOpset, Reduction::Prod); }
} // namespace

extern const OpDef kReduceProd{.name = "ReduceProd",
                               .maxInputs = 2,
                               .infer = infer,
                               .run = run,
                               .lower = lower,
                               .fusesActivation = true};

} // namespace edgesplit::ops
