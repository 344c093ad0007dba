#include "ops/Reduction.h"

namespace edgesplit::ops {
namespace {
// Opset 18 moved the axes from an attribute to an optional input.
constexpr int kAxesInputOpset = 18;

void infer(InferContext &ctx) { inferReduceOp(ctx, kAxesInputOpset); }
void run(KernelContext &ctx) { runReduceOp(ctx, kAxesInputOpset, Reduction::LogSumExp); }
// float32 only: int8 is refused (docs/errors.md, op-codegen-int8).
void lower(LowerContext &ctx) { lowerReduceOp(ctx, kAxesInputOpset, Reduction::LogSumExp); }
} // namespace

extern const OpDef kReduceLogSumExp{.name = "ReduceLogSumExp",
                                    .maxInputs = 2,
                                    .infer = infer,
                                    .run = run,
                                    .lower = lower,
                                    .fusesActivation = true};

} // namespace edgesplit::ops
