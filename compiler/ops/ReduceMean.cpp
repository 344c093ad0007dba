#include "ops/Reduction.h"

namespace edgesplit::ops {
namespace {
// Opset 18 moved the axes from an attribute to an optional input.
constexpr int kAxesInputOpset = 18;

void infer(InferContext &ctx) { inferReduceOp(ctx, kAxesInputOpset); }
void run(KernelContext &ctx) { runReduceOp(ctx, kAxesInputOpset, Reduction::Mean); }
void lower(LowerContext &ctx) { lowerReduceOp(ctx, kAxesInputOpset, Reduction::Mean); }
} // namespace

extern const OpDef kReduceMean{.name = "ReduceMean", .maxInputs = 2, .infer = infer, .run = run,
                               .lower = lower, .fusesActivation = true};

} // namespace edgesplit::ops
