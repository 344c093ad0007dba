#include "ops/Reduction.h"

#include "quantize/Annotate.h"

namespace edgesplit::ops {
namespace {
// Opset 18 moved the axes from an attribute to an optional input.
constexpr int kAxesInputOpset = 18;

void infer(InferContext &ctx) { inferReduceOp(ctx, kAxesInputOpset); }
void run(KernelContext &ctx) { runReduceOp(ctx, kAxesInputOpset, Reduction::Min); }
void lower(LowerContext &ctx) { lowerReduceOp(ctx, kAxesInputOpset, Reduction::Min); }

// The smallest code is the smallest value: the output keeps the input's parameters (docs/int8.md).
void quantize(QuantizeContext &ctx) { ctx.annotateOutputSameAsInput(0, 0); }
} // namespace

extern const OpDef kReduceMin{.name = "ReduceMin",
                              .maxInputs = 2,
                              .infer = infer,
                              .run = run,
                              .quantize = quantize,
                              .lower = lower,
                              .fusesActivation = true};

} // namespace edgesplit::ops
