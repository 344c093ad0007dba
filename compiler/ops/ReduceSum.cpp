#include "ops/Reduction.h"

namespace edgesplit::ops {
namespace {
// Opset 13 moved the axes from an attribute to an optional input.
constexpr int kAxesInputOpset = 13;

void infer(InferContext &ctx) { inferReduceOp(ctx, kAxesInputOpset); }
void run(KernelContext &ctx) { runReduceOp(ctx, kAxesInputOpset, Reduction::Sum); }
void lower(LowerContext &ctx) { lowerReduceOp(ctx, kAxesInputOpset, Reduction::Sum); }
} // namespace

// int8: the output takes its calibrated parameters, as ReduceMean's (docs/int8.md).
extern const OpDef kReduceSum{.name = "ReduceSum", .maxInputs = 2, .infer = infer, .run = run,
                              .lower = lower, .fusesActivation = true};

} // namespace edgesplit::ops
