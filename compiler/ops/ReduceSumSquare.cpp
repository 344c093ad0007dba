#include "ops/Reduction.h"

namespace edgesplit::ops {
namespace {
// Opset 18 moved the axes from an attribute to an optional input.
constexpr int kAxesInputOpset = 18;

void infer(InferContext &ctx) { inferReduceOp(ctx, kAxesInputOpset); }
void run(KernelContext &ctx) { runReduceOp(ctx, kAxesInputOpset, Reduction::SumSquare); }
// int8: the exact sum of squares rescaled once, the output in its calibrated parameters
// (docs/int8.md).
void lower(LowerContext &ctx) { lowerReduceOp(ctx, kAxesInputOpset, Reduction::SumSquare); }
} // namespace

extern const OpDef kReduceSumSquare{.name = "ReduceSumSquare",
                                    .maxInputs = 2,
                                    .infer = infer,
                                    .run = run,
                                    .lower = lower,
                                    .fusesActivation = true};

} // namespace edgesplit::ops
